#!/usr/bin/env bash
# Soak of `kubectl-drainwatch serve` on the real local cluster (test/cluster/up.sh, root): serve
# watches the whole cluster while a Deployment is rolled out again and again for SOAK_MINUTES;
# every SOAK_SAMPLE seconds it records the terminations exported so far, serve's resident memory
# and its Go heap (from its own /metrics). Memory that stays flat while the terminations pile up
# shows that nothing is kept per finished timeline.
#
#   bench/soak.sh                       # 30 minutes, 10 replicas
#   SOAK_MINUTES=30 SOAK_REPLICAS=10 SOAK_SAMPLE=30
#   SOAK_OUT=bench/soak.tsv             where the samples go (tab-separated)
#   SOAK_EVENT_TTL=10m                  how long the API server keeps Events (default 1h): serve's
#                                       Events informers hold every Event of that window, so memory
#                                       levels off only after it
#   SOAK_PROFILE=DIR                    run serve under bench/profile: its in-use heap every 5 minutes
#                                       in DIR/heap.pprof.N (and at the end in DIR/heap.pprof), one
#                                       sample per 4 KiB allocated, to compare with
#                                       `go tool pprof -diff_base`
#
# It starts its own cluster and always stops it, and stops serve by its PID.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
minutes=${SOAK_MINUTES:-30}
replicas=${SOAK_REPLICAS:-10}
every=${SOAK_SAMPLE:-30}
out=${SOAK_OUT:-$here/soak.tsv}
port=19477
[ -z "${SOAK_EVENT_TTL:-}" ] || export DRAINWATCH_CLUSTER_EVENT_TTL=$SOAK_EVENT_TTL
log() { printf '%s soak: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root (it starts the local cluster)"; exit 1; }
work=$(mktemp -d)
serve_pid=
cleanup() {
  trap - EXIT INT TERM
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  "$repo/test/cluster/down.sh" >&2 || log "down.sh failed"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$repo" && go build -tags "$(cat hack/dist/build-tags)" -o "$work/kubectl-drainwatch" ./cmd/kubectl-drainwatch)
run_serve=("$work/kubectl-drainwatch")
if [ -n "${SOAK_PROFILE:-}" ]; then
  mkdir -p "$SOAK_PROFILE"
  (cd "$repo" && go build -tags "$(cat hack/dist/build-tags)" -o "$work/profile" ./bench/profile)
  run_serve=("$work/profile" -heap "$SOAK_PROFILE/heap.pprof" -heap-every 5m -mem-rate 4096 --)
fi
kubeconfig=$("$repo/test/cluster/up.sh" | tail -n1)
bin=$("$repo/test/cluster/build.sh" | tail -n1)
kc() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

kc create namespace soak >/dev/null
kc apply -n soak -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: $replicas
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 50%}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10
      automountServiceAccountToken: false
      enableServiceLinks: false
      containers:
      - name: app
        image: drainwatch.test/app:e2e
        imagePullPolicy: Never
        args: ["--on-sigterm=exit"]
        readinessProbe: {httpGet: {path: /readyz, port: 8080}, periodSeconds: 1}
        lifecycle: {preStop: {sleep: {seconds: 1}}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
EOF
kc rollout status -n soak deployment/web --timeout 180s >/dev/null

"${run_serve[@]}" serve --kubeconfig "$kubeconfig" --metrics-addr "127.0.0.1:$port" \
  >"$work/serve.ndjson" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { log "serve is not ready:"; cat "$work/serve.log" >&2; exit 1; }

metric() { curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
sample() {
  local rss heap
  rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$serve_pid/status")
  heap=$(metric go_memstats_heap_inuse_bytes | awk '{ printf "%.1f", $1 / 1048576 }')
  printf '%d\t%d\t%s\t%s\n' "$((SECONDS - began))" "$(wc -l <"$work/serve.ndjson")" "$rss" "$heap" | tee -a "$out" >&2
}
printf 'seconds\tterminations\trss_mib\theap_inuse_mib\n' >"$out"
began=$SECONDS
next=0
rollouts=0
log "rolling deployment/web ($replicas replicas) out again and again for $minutes minutes; samples in $out"
while ((SECONDS - began < minutes * 60)); do
  kill -0 "$serve_pid" 2>/dev/null || { log "serve exited:"; cat "$work/serve.log" >&2; exit 1; }
  if ((SECONDS - began >= next)); then
    sample
    next=$((next + every))
  fi
  kc rollout restart -n soak deployment/web >/dev/null
  kc rollout status -n soak deployment/web --timeout 180s >/dev/null
  rollouts=$((rollouts + 1))
done
sleep 15 # the last old pods finish terminating
sample
log "$rollouts rollouts, $(wc -l <"$work/serve.ndjson") terminations exported"
