#!/usr/bin/env bash
# Scale benchmark of kubectl-drainwatch on a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) whose nodes and pods are simulated by kwok.
#
# For each Deployment size it rolls out a Deployment behind a Service in a namespace that also
# holds unrelated pods and a steady stream of unrelated Events, and measures side by side:
#   drainwatch      kubectl-drainwatch deploy/web --json --until-done (built from this tree)
#   informer-scoped the floor: bench/informer on the resources drainwatch watches, with its
#                   server-side selectors and no-op handlers; the ratios and targets are taken
#                   against it
#   informer        the same on the whole namespace, as a plain informer would watch
#   kubectl         kubectl get pods -w -o json, for reference, in a second rollout of the same
#                   size that it watches alone (its CPU would otherwise move the others' lag)
# and writes bench/results.json and bench/results.md (see bench/README.md for the method).
#
#   bench/scale.sh                     # make bench-scale
#   BENCH_SIZES="500 2000 5000"        Deployment sizes, run in this order (default)
#   BENCH_UNRELATED=5000               unrelated pods in the namespace
#   BENCH_NODES=25                     kwok nodes
#   BENCH_EVENT_RATE=25                unrelated Events per second
#   BENCH_RECORD=1                     diagnostics: also run drainwatch with --record and a bare
#                                      informer that stamps pod changes (receive lag per change);
#                                      they add load, so the headline figures come from runs without
#   BENCH_SERVE=1                      also run `kubectl-drainwatch serve` on the whole cluster (its JSON
#                                      lines are stamped like drainwatch's: lag from the etcd delete)
#   BENCH_PROFILE=1                    diagnostics: run drainwatch under bench/profile, which writes
#                                      CPU and heap profiles into the run directory (with BENCH_KEEP)
#   BENCH_RESULTS=bench/results.json   where to write the results (.md next to it)
#   DRAINWATCH_BENCH_DIR=/tmp/drainwatch-bench   state directory (removed at the end)
#   BENCH_KEEP=1                       keep the state directory (logs, raw stamps) at the end
#   BENCH_KUBECTL="2000"               the sizes at which kubectl gets its rollout (0: none; large
#                                      runs: it holds every pod as JSON)
#   BENCH_ROLLOUT_MINUTES=15           how long a rollout may take before the run fails
#   BENCH_DW_ARGS="--flag ..."         experiments: extra arguments for the measured drainwatch,
#   BENCH_DW_ENV="GOGC=50 ..."         and extra environment
#   BENCH_FLOOR_ENV="GOMAXPROCS=1"     experiments: extra environment for informer-scoped
#   DRAINWATCH_CLUSTER_BIN=/dir        use these cluster binaries instead of test/cluster/build.sh's
#
# It uses its own ports (etcd 22379/22380, API server 16443, controller-manager 20257,
# scheduler 20259, kwok 10347) and state directory, so it runs next to test/cluster/up.sh's
# cluster. It needs no root. It stops exactly the processes it started, by PID, also on failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export DRAINWATCH_CLUSTER_DIR=${DRAINWATCH_BENCH_DIR:-/tmp/drainwatch-bench}
# The process helpers of the test cluster (start, stop, stop_all, pid_of, wait_for) work on
# CLUSTER_DIR, which is now this benchmark's state directory.
# shellcheck source=../test/cluster/lib.sh
source "$repo/test/cluster/lib.sh"
log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

STATE=$CLUSTER_DIR
BENCH_MARKER=$STATE/.drainwatch-bench
SIZES=${BENCH_SIZES:-500 2000 5000}
UNRELATED=${BENCH_UNRELATED:-5000}
NODE_COUNT=${BENCH_NODES:-25}
EVENT_RATE=${BENCH_EVENT_RATE:-25}
RESULTS=${BENCH_RESULTS:-$here/results.json}
ROLLOUT_MINUTES=${BENCH_ROLLOUT_MINUTES:-15}
NS=bench
ETCD_PORT=22379
ETCD_PEER_PORT=22380
API_PORT=16443
KCM_PORT=20257
SCHED_PORT=20259
KWOK_PORT=10347
began=$SECONDS

# Watchers and load generators first, then kwok, then the control plane, etcd last.
stop_everything() {
  local -a mine=()
  local f n
  for f in "$STATE"/pids/*.pid; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .pid)
    case $n in
    etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kwok) ;;
    *) mine+=("$n") ;;
    esac
  done
  ((${#mine[@]} == 0)) || stop_all 15 "${mine[@]}"
  stop_all 10 kwok kube-scheduler kube-controller-manager
  stop_all 5 kube-apiserver
  stop etcd
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -f "$BENCH_MARKER" ] || exit "$rc"
  if ((rc != 0)); then
    log "failed (exit $rc); last lines of the logs:"
    for f in "$STATE"/logs/*.log "$STATE"/runs/*/*.stderr; do
      [ -s "$f" ] && { echo "--- $f" >&2; tail -n 8 "$f" >&2; }
    done
  fi
  stop_everything
  if [ -n "${BENCH_KEEP:-}" ]; then
    log "kept $STATE"
  else
    rm -rf "$STATE"
  fi
  log "stopped everything it started (total $((SECONDS - began))s)"
  exit "$rc"
}

for tool in go curl openssl ss awk; do
  command -v "$tool" >/dev/null || die "needs $tool"
done
if [ -e "$STATE" ]; then
  [ -f "$BENCH_MARKER" ] || die "$STATE exists but was not made by bench/scale.sh; not touching it"
  log "cleaning up after an earlier run in $STATE"
  stop_everything
  rm -rf "$STATE"
fi
for p in $ETCD_PORT $ETCD_PEER_PORT $API_PORT $KCM_PORT $SCHED_PORT $KWOK_PORT; do
  if ss -Htln "sport = :$p" | grep -q .; then
    die "TCP port $p is in use ($(ss -Htlnp "sport = :$p" | head -n1)); is another benchmark running?"
  fi
done
((${#STATE} <= 60)) || die "DRAINWATCH_BENCH_DIR is too long"
mkdir -p "$STATE"/{pids,cmd,logs,pki,bin,runs} "$(dirname "$RESULTS")"
touch "$BENCH_MARKER"
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- binaries ---------------------------------------------------------------------------------
BIN=${DRAINWATCH_CLUSTER_BIN:-$("$repo/test/cluster/build.sh" | tail -n1)}
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$BIN/$b" ] || die "missing $BIN/$b (run test/cluster/build.sh)"
done
KWOK=$("$repo/test/cluster/build.sh" kwok | tail -n1)/kwok
[ -x "$KWOK" ] || die "missing $KWOK"
# The Stages kwok ships (node start-up and heartbeat, pod start-up) come from its module.
KWOK_DIR=$(cd "$repo/test/cluster/tools/kwok" && go mod download -json sigs.k8s.io/kwok | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -f "$KWOK_DIR/kustomize/stage/pod/fast/pod-ready.yaml" ] || die "cannot find kwok's Stages (module directory: '$KWOK_DIR')"
log "building kubectl-drainwatch, the floor informer and the rig"
# The watchers are built the way releases are (hack/dist): static, no cgo, stripped, with
# hack/dist's build tags. A cgo build of drainwatch is dynamically linked and exports every
# symbol (a dependency imports package plugin), which alone adds about 11 MiB of resident memory.
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -tags "$(cat hack/dist/build-tags)" -ldflags '-s -w' -o "$STATE/bin/" \
  ./cmd/kubectl-drainwatch ./bench/informer ./bench/profile ./bench/rig)
RIG=$STATE/bin/rig
DW=$STATE/bin/kubectl-drainwatch

# --- control plane ----------------------------------------------------------------------------
pki=$STATE/pki
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
token=$(openssl rand -hex 16)
echo "$token,admin,admin,\"system:masters\"" >"$pki/tokens.csv"
chmod 600 "$pki"/*
KC=$STATE/kubeconfig
cat >"$KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: https://127.0.0.1:$API_PORT
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: $token
contexts:
- name: bench
  context:
    cluster: bench
    user: admin
    namespace: $NS
current-context: bench
EOF
chmod 600 "$KC"
kc() { "$BIN/kubectl" --kubeconfig "$KC" "$@"; }

log "starting etcd"
start etcd "" "$BIN/etcd" --name bench --data-dir "$STATE/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "bench=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level warn
wait_for etcd 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

log "starting kube-apiserver"
# Events live 5 minutes (instead of an hour) so the unrelated event stream does not pile up
# across sizes.
start kube-apiserver "" "$BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --secure-port "$API_PORT" --endpoint-reconciler-type none --cert-dir "$pki/apiserver" \
  --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC,Node \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.96.0.0/16 \
  --event-ttl 5m --profiling=false --v=1
wait_for kube-apiserver 120 curl -fsSk -H "Authorization: Bearer $token" "https://127.0.0.1:$API_PORT/readyz"

log "starting kube-controller-manager, kube-scheduler and kwok"
# Client rate limits well above the defaults (20/s): thousands of pods are created and deleted.
start kube-controller-manager "" "$BIN/kube-controller-manager" --kubeconfig "$KC" \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/apiserver/apiserver.crt" \
  --controllers '*' --leader-elect=false --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
  --kube-api-qps 300 --kube-api-burst 600 --profiling=false --v=1
cat >"$STATE/scheduler.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $KC
  qps: 300
  burst: 600
leaderElection:
  leaderElect: false
# Without the default topology spread constraints: with them every pod's scheduling counts the
# pods of its Service and ReplicaSet on every node, which made kube-scheduler place fewer than 7
# pods a second once 20,000 of them shared one selector.
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints: []
EOF
start kube-scheduler "" "$BIN/kube-scheduler" --config "$STATE/scheduler.yaml" \
  --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --profiling=false --v=1
start kwok "" "$KWOK" --kubeconfig "$KC" \
  --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake --node-lease-duration-seconds 40 \
  --server-address "127.0.0.1:$KWOK_PORT" \
  -c "$here/kwok/kwok.yaml" \
  -c "$KWOK_DIR/kustomize/stage/node/fast/node-initialize.yaml" \
  -c "$KWOK_DIR/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
  -c "$KWOK_DIR/kustomize/stage/pod/fast/pod-ready.yaml" \
  -c "$here/kwok/pod-terminate.yaml"

{
  for ((i = 0; i < NODE_COUNT; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
spec:
  podCIDR: 10.128.$((i * 8)).0/21
  taints:
  - key: kwok.x-k8s.io/node
    value: fake
    effect: NoSchedule
EOF
  done
  cat <<EOF
---
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
EOF
} >"$STATE/nodes.yaml"
((NODE_COUNT <= 32)) || die "BENCH_NODES must be at most 32 (pod CIDRs)"
wait_for "controllers" 60 kc get --raw /readyz
kc apply -f "$STATE/nodes.yaml" >/dev/null
nodes_ready() {
  local n
  n=$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)
  ((n == NODE_COUNT))
}
wait_for "$NODE_COUNT kwok nodes" 120 nodes_ready
wait_for "default service account" 60 kc get serviceaccount default -n "$NS"

log "creating $UNRELATED unrelated pods"
"$RIG" pods -kubeconfig "$KC" -n "$NS" -count "$UNRELATED" -nodes "$NODE_COUNT"
"$RIG" wait -kubeconfig "$KC" -n "$NS" -l app=other -count "$UNRELATED" -timeout $((10 + UNRELATED / 2000))m
start events "" "$RIG" events -kubeconfig "$KC" -n "$NS" -l app=other -rate "$EVENT_RATE"

first_size=${SIZES%% *}
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: $NS
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: $NS
spec:
  replicas: $first_size
  selector:
    matchLabels:
      app: web
  strategy:
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 50%
  template:
    metadata:
      labels:
        app: web
    spec:
      nodeSelector:
        type: kwok
      tolerations:
      - key: kwok.x-k8s.io/node
        operator: Exists
        effect: NoSchedule
      terminationGracePeriodSeconds: 15
      containers:
      - name: app
        image: registry.invalid/web:1
        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
          periodSeconds: 5
        lifecycle:
          preStop:
            sleep:
              seconds: 5
EOF

# proc_cpu NAME prints the CPU seconds (user+system) the named component has used so far.
proc_cpu() {
  local pid tck
  pid=$(pid_of "$1") || { echo 0; return; }
  tck=$(getconf CLK_TCK)
  awk -v t="$tck" '{ print ($14 + $15) / t }' "/proc/$pid/stat"
}

# running NAME: the process started as NAME is still there. (pid_of also checks the binary,
# which fails in the moment between starting NAME's script and its exec.)
running() {
  local pid
  pid=$(cat "$STATE/pids/$1.pid" 2>/dev/null) && [ -n "$pid" ] && [ -d "/proc/$pid" ]
}

# wait_ready NAME TIMEOUT waits until the watcher run by `rig run` as NAME has reported its
# first output, failing early if it exits.
wait_ready() {
  local name=$1 timeout=$2 start=$SECONDS
  until grep -q "ready after" "$STATE/logs/$name.log" 2>/dev/null; do
    running "$name" || die "$name exited before it was ready (see $STATE/logs/$name.log and $run)"
    ((SECONDS - start < timeout)) || die "$name not ready after ${timeout}s"
    sleep 0.2
  done
}

for size in $SIZES; do
  run=$STATE/runs/$size
  mkdir -p "$run"
  log "=== $size pods: scaling the Deployment"
  kc scale deployment/web -n "$NS" --replicas "$size" >/dev/null
  t=$SECONDS
  # kube-scheduler places about 14 pods a second here when tens of thousands of pods load the
  # machine: a minute and a half per thousand, on top.
  "$RIG" wait -kubeconfig "$KC" -n "$NS" -l app=web -count "$size" -timeout $((12 + size * 3 / 2000))m
  kc rollout status deployment/web -n "$NS" --timeout 5m >/dev/null
  scale_s=$((SECONDS - t))
  ns_pods=$(kc get pods -n "$NS" --no-headers 2>/dev/null | wc -l)
  ns_events=$(kc get events -n "$NS" --no-headers 2>/dev/null | wc -l)

  start "etcdwatch-$size" "" "$RIG" etcdwatch -endpoint "http://127.0.0.1:$ETCD_PORT" \
    -prefix "/registry/pods/$NS/" -out "$run/etcd.ndjson"
  wait_for "etcd watch" 30 grep -q watching "$STATE/logs/etcdwatch-$size.log"

  # One watcher at a time reaches its first output, so start-up times are not inflated by the
  # others' initial lists; all of them then see the same rollout.
  log "starting the watchers ($ns_pods pods and $ns_events events in the namespace)"
  dw=("$DW")
  if [ -n "${BENCH_PROFILE:-}" ]; then
    dw=("$STATE/bin/profile" -cpu "$run/drainwatch.cpu.pprof" -heap "$run/drainwatch.heap.pprof" -heap-every 10s --)
  fi
  # Start-up with every pod of the namespace in scope (no target), for the first-output target;
  # it only starts and is stopped before the rollout.
  start "drainwatch-namespace-$size" "" "$RIG" run -name drainwatch-namespace -out "$run/drainwatch-namespace.json" \
    -stdout discard -ready "(caches synced)" -stderr "$run/drainwatch-namespace.stderr" -- \
    "$DW" -n "$NS" --kubeconfig "$KC" --json
  wait_ready "drainwatch-namespace-$size" 120
  stop "drainwatch-namespace-$size" 15
  read -r -a dw_args <<<"${BENCH_DW_ARGS:-}"
  read -r -a START_ENV <<<"${BENCH_DW_ENV:-}"
  start "drainwatch-$size" "" "$RIG" run -name drainwatch -out "$run/drainwatch.json" \
    -stamps "$run/drainwatch.stamps" -copy "$run/drainwatch.ndjson" -stdout lines -ready "(caches synced)" \
    -stderr "$run/drainwatch.stderr" -- \
    "${dw[@]}" deploy/web -n "$NS" --kubeconfig "$KC" --json --until-done --timeout ${ROLLOUT_MINUTES}m ${dw_args[@]+"${dw_args[@]}"}
  START_ENV=()
  wait_ready "drainwatch-$size" 120
  if [ -n "${BENCH_RECORD:-}" ]; then
    start "drainwatch-record-$size" "" "$RIG" run -name drainwatch-record -out "$run/drainwatch-record.json" \
      -stamps "$run/drainwatch-record.stamps" -stdout lines -ready "(caches synced)" -stderr "$run/drainwatch-record.stderr" -- \
      "$DW" deploy/web -n "$NS" --kubeconfig "$KC" --json --until-done --timeout ${ROLLOUT_MINUTES}m --record "$run/drainwatch-record.recording.ndjson"
    wait_ready "drainwatch-record-$size" 120
    start "informer-stamped-$size" "" "$RIG" run -name informer-stamped -out "$run/informer-stamped.json" -stdout discard \
      -ready "synced in" -stderr "$run/informer-stamped.stderr" -- "$STATE/bin/informer" -kubeconfig "$KC" -n "$NS" \
      -pod-selector app=web -drainwatch-events -stamps "$run/informer-stamped.recording.ndjson"
    wait_ready "informer-stamped-$size" 120
  fi
  if [ -n "${BENCH_SERVE:-}" ]; then
    start "serve-$size" "" "$RIG" run -name serve -out "$run/serve.json" -stamps "$run/serve.stamps" \
      -stdout lines -ready "(caches synced)" -stderr "$run/serve.stderr" -- \
      "$DW" serve --kubeconfig "$KC" --metrics-addr 127.0.0.1:0
    wait_ready "serve-$size" 120
  fi
  start "informer-$size" "" "$RIG" run -name informer -out "$run/informer.json" -stdout discard \
    -ready "synced in" -stderr "$run/informer.stderr" -- "$STATE/bin/informer" -kubeconfig "$KC" -n "$NS" \
    -deployment '*'
  wait_ready "informer-$size" 120
  read -r -a START_ENV <<<"${BENCH_FLOOR_ENV:-}"
  start "informer-scoped-$size" "" "$RIG" run -name informer-scoped -out "$run/informer-scoped.json" -stdout discard \
    -ready "synced in" -stderr "$run/informer-scoped.stderr" -- "$STATE/bin/informer" -kubeconfig "$KC" -n "$NS" \
    -pod-selector app=web -drainwatch-events -deployment web
  START_ENV=()
  wait_ready "informer-scoped-$size" 120
  sleep 3

  declare -A cpu0=()
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok events; do cpu0[$c]=$(proc_cpu "$c"); done
  log "rolling out $size pods"
  rollout_start=$(date +%s.%N)
  kc rollout restart deployment/web -n "$NS" >/dev/null
  t=$SECONDS
  while running "drainwatch-$size"; do
    ((SECONDS - t < ROLLOUT_MINUTES * 60)) || die "drainwatch did not finish the rollout within $ROLLOUT_MINUTES minutes"
    sleep 0.5
  done
  rollout_end=$(date +%s.%N)
  if [ -n "${BENCH_RECORD:-}" ]; then
    while running "drainwatch-record-$size" && ((SECONDS - t < ROLLOUT_MINUTES * 60 + 60)); do sleep 0.5; done
  fi
  log "drainwatch finished after $((SECONDS - t))s; stopping the other watchers"
  # serve writes a pod's line when drainwatch does; a second covers the last ones.
  [ -n "${BENCH_SERVE:-}" ] && sleep 1
  stop_all 15 "serve-$size" "informer-$size" "informer-scoped-$size" "drainwatch-record-$size" "informer-stamped-$size"
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  component_cpu=
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok events; do
    component_cpu+="${component_cpu:+, }\"$c\": $(awk -v a="$(proc_cpu "$c")" -v b="${cpu0[$c]}" 'BEGIN { printf "%.2f", a - b }')"
  done

  # kubectl's CPU is 8 to 15 times drainwatch's: on a 2-core machine it would compete with the
  # API server that delivers to the others, so it watches a rollout of its own.
  kubectl_start=0
  if [[ " ${BENCH_KUBECTL:-2000} " == *" $size "* ]]; then
    log "kubectl: rolling out $size pods again, watched by kubectl alone"
    start "kubectl-$size" "" "$RIG" run -name kubectl -out "$run/kubectl.json" -stamps "$run/kubectl.stamps" \
      -stdout json -stderr "$run/kubectl.stderr" -- "$BIN/kubectl" --kubeconfig "$KC" get pods -n "$NS" -w -o json
    wait_ready "kubectl-$size" 120
    sleep 3
    kubectl_start=$(date +%s.%N)
    kc rollout restart deployment/web -n "$NS" >/dev/null
    kc rollout status deployment/web -n "$NS" --timeout ${ROLLOUT_MINUTES}m >/dev/null
    # The rollout is complete once the old pods are gone too.
    "$RIG" wait -kubeconfig "$KC" -n "$NS" -l app=web -count "$size" -timeout ${ROLLOUT_MINUTES}m
    stop "kubectl-$size" 15
  fi
  printf '{"size": %d, "namespacePods": %d, "namespaceEvents": %d, "scaleSeconds": %d, "rolloutStart": %s, "rolloutEnd": %s, "loadAverage": "%s", "componentCPUSeconds": {%s}, "kubectlRolloutStart": %s}\n' \
    "$size" "$ns_pods" "$ns_events" "$scale_s" "$rollout_start" "$rollout_end" "$load" "$component_cpu" "$kubectl_start" >"$run/meta.json"
  stop "etcdwatch-$size" 10
  log "=== $size pods done"
done

stop events 10
log "analysing"
"$RIG" analyze -dir "$STATE/runs" -results "$RESULTS" -md "${RESULTS%.json}.md" \
  -source "$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
cat "${RESULTS%.json}.md"
