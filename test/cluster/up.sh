#!/usr/bin/env bash
# Starts a real two-node Kubernetes cluster on this machine (root, Linux, no Docker):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy (iptables mode) and
# two kubelets, node-1 and node-2, each with its own containerd, cgroup root, CNI bridge and pod
# subnet. All state, logs and kubeconfigs live in one directory. Prints the admin kubeconfig
# path as the last line of stdout; an RBAC-limited kubeconfig (may read pods, EndpointSlices
# and workloads, not Events) is written next to it as kubeconfig-limited.
#
#   test/cluster/up.sh
#   DRAINWATCH_CLUSTER_DIR=/tmp/x   state directory (default /tmp/drainwatch-cluster)
#   DRAINWATCH_CLUSTER_BIN=/dir     use these binaries instead of test/cluster/build.sh's
#   DRAINWATCH_CLUSTER_EVENT_TTL=10m  how long the API server keeps Events (its default: 1h)
#   DRAINWATCH_CLUSTER_PROXY=1      also start Traefik (test/cluster/build.sh traefik) as a host
#                                   process: the Gateway API CRDs, IngressClass and GatewayClass
#                                   "traefik", Gateway default/traefik; HTTP on 127.0.0.1:18080,
#                                   /ping on 127.0.0.1:18081, a JSON access log in logs/; what the
#                                   tests need to find it is in proxy.env in the state directory
#   DRAINWATCH_CLUSTER_OBSERVE=1    also start, as host processes, an OpenTelemetry Collector
#                                   (test/cluster/build.sh otelcol) that receives OTLP/HTTP from
#                                   the pods on node-1's IP, port 4318, into a JSON-lines file,
#                                   and Prometheus (build.sh prometheus) on 127.0.0.1:19090 that
#                                   scrapes the "metrics" port of every pod labelled
#                                   app.kubernetes.io/name=kubectl-drainwatch; observe.env in the
#                                   state directory says where they are
#
# Pods reach the API server as in any cluster, through the kubernetes Service (10.96.0.1:443):
# its EndpointSlice points at node-1's IP, where the API server listens too; a filter chain
# (DRAINWATCH-API) lets only loopback and the pod network connect to its port.
#
# Stop it with test/cluster/down.sh. A cluster left behind by a crashed run in the same state
# directory is torn down first.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "must run as root (it starts kubelets, mounts and network bridges)"
[ "$(uname -s)" = Linux ] || die "needs Linux"
began=$SECONDS

if [ -e "$CLUSTER_DIR" ]; then
  log "found state from an earlier run in $CLUSTER_DIR, tearing it down first"
  "$here/down.sh" >&2 || die "could not clean up $CLUSTER_DIR; remove it by hand"
fi
for n in "${NODES[@]}"; do
  if ip link show "${BRIDGE[$n]}" >/dev/null 2>&1; then
    die "network bridge ${BRIDGE[$n]} exists but no state directory owns it; is another cluster running? (DRAINWATCH_CLUSTER_DIR=<its dir> test/cluster/down.sh)"
  fi
done
if iptables -w -S "$API_CHAIN" >/dev/null 2>&1; then
  die "iptables chain $API_CHAIN exists but no state directory owns it; is another cluster running? (DRAINWATCH_CLUSTER_DIR=<its dir> test/cluster/down.sh)"
fi
proxy=${DRAINWATCH_CLUSTER_PROXY:-0}
[ "$proxy" = 1 ] && PORTS+=("$PROXY_PORT" "$PROXY_ADMIN_PORT")
observe=${DRAINWATCH_CLUSTER_OBSERVE:-0}
[ "$observe" = 1 ] && PORTS+=("$OTLP_PORT" "$PROMETHEUS_PORT")
for p in "${PORTS[@]}"; do
  if ss -Htln "sport = :$p" | grep -q .; then
    die "TCP port $p is in use; another cluster running? ($(ss -Htlnp "sport = :$p" | head -n1))"
  fi
done
# Unix socket paths are limited to 108 bytes.
((${#CLUSTER_DIR} <= 60)) || die "DRAINWATCH_CLUSTER_DIR is too long for unix socket paths (max 60 characters)"

resolve_bin
log "binaries: $BIN"
if [ "$proxy" = 1 ]; then
  traefik_bin=$("$here/build.sh" traefik | tail -n1)
  [ -x "$traefik_bin/traefik" ] || die "no traefik in $traefik_bin (test/cluster/build.sh traefik)"
  gateway_crds=$("$here/build.sh" gateway-crds | tail -n1)
  log "traefik: $traefik_bin/traefik, Gateway API CRDs: $gateway_crds"
fi
if [ "$observe" = 1 ]; then
  otelcol_bin=$("$here/build.sh" otelcol | tail -n1)
  prometheus_bin=$("$here/build.sh" prometheus | tail -n1)
  [ -x "$otelcol_bin/otelcol" ] || die "no otelcol in $otelcol_bin (test/cluster/build.sh otelcol)"
  [ -x "$prometheus_bin/prometheus" ] || die "no prometheus in $prometheus_bin (test/cluster/build.sh prometheus)"
  log "otelcol: $otelcol_bin/otelcol, prometheus: $prometheus_bin/prometheus"
fi

mkdir -p "$CLUSTER_DIR"/{pids,cmd,logs,pki,images}
touch "$MARKER"
echo "$CGROUP_NAME" >"$CLUSTER_DIR/cgroup"
export PATH=$BIN:$PATH

# If anything below fails, leave nothing running.
trap 'rc=$?; if ((rc != 0)); then log "start failed (exit $rc); component logs:"; for f in "$CLUSTER_DIR"/logs/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done; "$here/down.sh" >&2 || true; fi' EXIT
# Interrupted: exit so that the EXIT trap cleans up (the components run in their own sessions
# and do not get the signal).
trap 'exit 130' INT TERM

# Kernel settings the data plane changes; down.sh restores them.
# Directories outside the state directory that the kubelets write to; down.sh removes them again
# when this run created them.
for dir in /var/log/containers /var/lib/cni /run/containerd; do
  [ -e "$dir" ] || echo "$dir" >>"$CLUSTER_DIR/created-dirs"
done
for s in net/ipv4/ip_forward net/ipv4/conf/all/route_localnet net/bridge/bridge-nf-call-iptables; do
  [ -f "/proc/sys/$s" ] && echo "$s $(cat "/proc/sys/$s")" >>"$CLUSTER_DIR/sysctl.saved"
done
modprobe br_netfilter 2>/dev/null || true
modprobe overlay 2>/dev/null || true
[ -f /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
echo 1 >/proc/sys/net/ipv4/ip_forward

# Cgroups: one root per node for the kubelet's pods, one per node for containerd and its shims.
for m in $(cgroup_mounts); do
  for n in "${NODES[@]}"; do
    mkdir -p "$m/$CGROUP_NAME/$n" "$m/$CGROUP_NAME/$n-runtime"
  done
  # A new cpuset cgroup has no CPUs or memory nodes until given its parent's.
  if [ -f "$m/cpuset.cpus" ]; then
    for d in "$m/$CGROUP_NAME" "$m/$CGROUP_NAME"/*/; do
      cat "$m/cpuset.cpus" >"$d/cpuset.cpus"
      cat "$m/cpuset.mems" >"$d/cpuset.mems"
    done
  fi
done

# The bridges exist before the kubelets start so that their gateway addresses can serve as the
# node IPs (a kubelet refuses a loopback node IP); the CNI bridge plugin adopts them.
for n in "${NODES[@]}"; do
  ip link add "${BRIDGE[$n]}" type bridge
  ip addr add "${NODE_IP[$n]}/${SUBNET[$n]#*/}" dev "${BRIDGE[$n]}"
  ip link set "${BRIDGE[$n]}" up
done

# Credentials: static tokens, a service account key pair, one kubeconfig per identity.
pki=$CLUSTER_DIR/pki
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
tok() { openssl rand -hex 16; }
admin_token=$(tok) limited_token=$(tok) proxy_token=$(tok)
{
  echo "$admin_token,admin,admin,\"system:masters\""
  echo "$limited_token,drainwatch-limited,drainwatch-limited"
  echo "$proxy_token,system:kube-proxy,kube-proxy"
} >"$pki/tokens.csv"
declare -A node_token
for n in "${NODES[@]}"; do
  node_token[$n]=$(tok)
  echo "${node_token[$n]},system:node:$n,$n,\"system:nodes\"" >>"$pki/tokens.csv"
done
chmod 600 "$pki"/*

kubeconfig() { # FILE USER TOKEN
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: drainwatch-e2e
  cluster:
    server: https://127.0.0.1:$API_PORT
    insecure-skip-tls-verify: true
users:
- name: $2
  user:
    token: $3
contexts:
- name: drainwatch-e2e
  context:
    cluster: drainwatch-e2e
    user: $2
    namespace: default
current-context: drainwatch-e2e
EOF
  chmod 600 "$1"
}
KUBECONFIG_ADMIN=$CLUSTER_DIR/kubeconfig
kubeconfig "$KUBECONFIG_ADMIN" admin "$admin_token"
kubeconfig "$CLUSTER_DIR/kubeconfig-limited" drainwatch-limited "$limited_token"
kubeconfig "$pki/kubeconfig-proxy" system:kube-proxy "$proxy_token"
for n in "${NODES[@]}"; do
  kubeconfig "$pki/kubeconfig-$n" "system:node:$n" "${node_token[$n]}"
done
kc() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

log "building test images"
"$here/images.sh" "$CLUSTER_DIR/images" >/dev/null

t=$SECONDS
log "starting etcd"
start etcd "" "$BIN/etcd" --name default --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster default=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn
wait_for etcd 60 curl -fsS http://127.0.0.1:2379/health

# The API server listens on every address so that pods reach it at node-1's IP; only loopback
# and the pod network may connect.
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  "$ipt" -w -N "$API_CHAIN"
  if [ "$ipt" = iptables ]; then
    "$ipt" -w -A "$API_CHAIN" -s 127.0.0.0/8 -j ACCEPT
    "$ipt" -w -A "$API_CHAIN" -s "$CLUSTER_CIDR" -j ACCEPT
  else
    "$ipt" -w -A "$API_CHAIN" -s ::1 -j ACCEPT
  fi
  "$ipt" -w -A "$API_CHAIN" -j DROP
  "$ipt" -w -I INPUT -p tcp --dport "$API_PORT" -j "$API_CHAIN"
done
log "starting kube-apiserver"
start kube-apiserver "" "$BIN/kube-apiserver" \
  --etcd-servers http://127.0.0.1:2379 --bind-address 0.0.0.0 --advertise-address 127.0.0.1 \
  --secure-port "$API_PORT" --endpoint-reconciler-type none --cert-dir "$pki/apiserver" \
  --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC,Node \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range "$SERVICE_CIDR" \
  --kubelet-preferred-address-types InternalIP --profiling=false --v=1 \
  ${DRAINWATCH_CLUSTER_EVENT_TTL:+--event-ttl "$DRAINWATCH_CLUSTER_EVENT_TTL"}
wait_for kube-apiserver 120 curl -fsSk -H "Authorization: Bearer $admin_token" "https://127.0.0.1:$API_PORT/readyz"

# No endpoint reconciler runs (the advertised address is loopback): the kubernetes Service's
# endpoint is node-1's IP, which the API server also listens on.
kc apply -f - >/dev/null <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: drainwatch-test-cluster
addressType: IPv4
endpoints:
- addresses: ["${NODE_IP[node-1]}"]
  conditions: {ready: true}
ports:
- name: https
  protocol: TCP
  port: $API_PORT
EOF

log "starting kube-controller-manager and kube-scheduler"
start kube-controller-manager "" "$BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_ADMIN" \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/apiserver/apiserver.crt" \
  --controllers '*' --leader-elect=false --bind-address 127.0.0.1 --secure-port 10257 \
  --profiling=false --v=1
start kube-scheduler "" "$BIN/kube-scheduler" --kubeconfig "$KUBECONFIG_ADMIN" \
  --leader-elect=false --bind-address 127.0.0.1 --secure-port 10259 --profiling=false --v=1

# The limited user for permission tests: reads what drainwatch watches, except Events.
kc apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: drainwatch-limited
rules:
- apiGroups: [""]
  resources: [pods, nodes, services, namespaces]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, replicasets, statefulsets, daemonsets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: drainwatch-limited
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: drainwatch-limited
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: drainwatch-limited
EOF

for n in "${NODES[@]}"; do
  d=$CLUSTER_DIR/$n
  mkdir -p "$d"/{containerd/root,containerd/state,containerd/opt,cni,cni-ipam,kubelet,pod-logs,volume-plugins}
  sock=$d/containerd.sock
  cat >"$d/cni/10-dw.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "dw-$n",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${BRIDGE[$n]}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "${SUBNET[$n]}", "gateway": "${NODE_IP[$n]}"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$d/cni-ipam"
      }
    }
  ]
}
EOF
  cat >"$d/containerd.toml" <<EOF
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$d/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$BIN/runc"
        Root = "$d/containerd/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
    max_conf_num = 1
EOF
  log "starting containerd for $n"
  start "containerd-$n" "$CGROUP_NAME/$n-runtime" "$(command -v containerd)" --config "$d/containerd.toml"
done
for n in "${NODES[@]}"; do
  sock=$CLUSTER_DIR/$n/containerd.sock
  wait_for "containerd of $n" 60 ctr --address "$sock" version
  for img in pause app drainwatch; do
    ctr --address "$sock" -n k8s.io images import "$CLUSTER_DIR/images/$img.tar" >/dev/null
  done
done
log "imported $APP_IMAGE, $PAUSE_IMAGE and $DRAINWATCH_IMAGE into both containerds"

for n in "${NODES[@]}"; do
  d=$CLUSTER_DIR/$n
  cat >"$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP[$n]}
port: ${KUBELET_PORT[$n]}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${KUBELET_HEALTHZ[$n]}
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_NAME/$n
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$d/containerd.sock
podLogsDir: $d/pod-logs
volumePluginDir: $d/volume-plugins
resolvConf: /etc/resolv.conf
# Images are imported, never pulled: never garbage-collect them, and keep evicting out of the way.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
EOF
  log "starting kubelet $n"
  start "kubelet-$n" "" "$BIN/kubelet" --config "$d/kubelet.yaml" --kubeconfig "$CLUSTER_DIR/pki/kubeconfig-$n" \
    --hostname-override "$n" --node-ip "${NODE_IP[$n]}" --root-dir "$d/kubelet" --cert-dir "$d/kubelet-pki" --v=2
done

log "starting kube-proxy"
start kube-proxy "" "$BIN/kube-proxy" --kubeconfig "$pki/kubeconfig-proxy" --proxy-mode iptables \
  --cluster-cidr "$CLUSTER_CIDR" --hostname-override node-1 --bind-address 127.0.0.1 \
  --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256 \
  --conntrack-max-per-core 0 --v=1

for n in "${NODES[@]}"; do
  wait_for "node $n Ready" 120 sh -c "kubectl --kubeconfig '$KUBECONFIG_ADMIN' get node $n -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
done
wait_for "default service account" 60 kc get serviceaccount default -n default
wait_for "kube-proxy" 60 curl -fsS http://127.0.0.1:10256/healthz
if [ "$proxy" = 1 ]; then
  log "installing the Gateway API CRDs"
  kc apply --server-side -f "$gateway_crds" >/dev/null
  wait_for "Gateway API CRDs" 60 kc wait --for condition=Established --timeout 5s \
    crd/gatewayclasses.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io crd/httproutes.gateway.networking.k8s.io
  d=$CLUSTER_DIR/traefik
  mkdir -p "$d"
  access_log=$CLUSTER_DIR/logs/traefik-access.log
  # The Kubernetes providers run outside the cluster with the admin kubeconfig (KUBECONFIG);
  # the access log has the upstream address (ServiceAddr) of every request, unbuffered.
  cat >"$d/traefik.yaml" <<EOF
global:
  checkNewVersion: false
  sendAnonymousUsage: false
log:
  level: INFO
entryPoints:
  web:
    address: "127.0.0.1:$PROXY_PORT"
    transport:
      lifeCycle:
        graceTimeOut: 1s
  traefik:
    address: "127.0.0.1:$PROXY_ADMIN_PORT"
ping:
  entryPoint: traefik
accessLog:
  filePath: "$access_log"
  format: json
  bufferingSize: 0
providers:
  kubernetesIngress: {}
  kubernetesGateway: {}
EOF
  log "starting traefik"
  START_ENV=("KUBECONFIG=$KUBECONFIG_ADMIN")
  start traefik "" "$traefik_bin/traefik" --configFile="$d/traefik.yaml"
  START_ENV=()
  wait_for traefik 60 curl -fsS "http://127.0.0.1:$PROXY_ADMIN_PORT/ping"
  kc apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: traefik
spec:
  controller: traefik.io/ingress-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: traefik
spec:
  controllerName: traefik.io/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: traefik
  namespace: default
spec:
  gatewayClassName: traefik
  listeners:
  - name: web
    protocol: HTTP
    port: $PROXY_PORT
    allowedRoutes:
      namespaces:
        from: All
EOF
  wait_for "Gateway default/traefik programmed" 60 sh -c "kubectl --kubeconfig '$KUBECONFIG_ADMIN' get gateway traefik -n default -o jsonpath='{.status.conditions[?(@.type==\"Programmed\")].status}' | grep -qx True"
  # What the e2e tests read to find the proxy.
  cat >"$CLUSTER_DIR/proxy.env" <<EOF
PROXY_URL=http://127.0.0.1:$PROXY_PORT
PROXY_ACCESS_LOG=$access_log
PROXY_INGRESS_CLASS=traefik
PROXY_GATEWAY_CLASS=traefik
PROXY_GATEWAY=default/traefik
EOF
fi
if [ "$observe" = 1 ]; then
  d=$CLUSTER_DIR/otelcol
  mkdir -p "$d"
  traces=$d/traces.jsonl
  cat >"$d/config.yaml" <<EOF
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${NODE_IP[node-1]}:$OTLP_PORT
exporters:
  file:
    path: $traces
    format: json
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
EOF
  log "starting otelcol"
  start otelcol "" "$otelcol_bin/otelcol" --config "$d/config.yaml"
  wait_for otelcol 60 grep -q "Everything is ready" "$CLUSTER_DIR/logs/otelcol.log"
  d=$CLUSTER_DIR/prometheus
  mkdir -p "$d/data"
  cat >"$d/prometheus.yaml" <<EOF
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
- job_name: kubectl-drainwatch
  kubernetes_sd_configs:
  - role: pod
    kubeconfig_file: $KUBECONFIG_ADMIN
  relabel_configs:
  - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name, __meta_kubernetes_pod_container_port_name]
    regex: kubectl-drainwatch;metrics
    action: keep
  - source_labels: [__meta_kubernetes_pod_name]
    target_label: pod
EOF
  log "starting prometheus"
  start prometheus "" "$prometheus_bin/prometheus" --config.file "$d/prometheus.yaml" \
    --web.listen-address "127.0.0.1:$PROMETHEUS_PORT" --storage.tsdb.path "$d/data" --log.level warn
  wait_for prometheus 60 curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
  # What the e2e tests read to find them.
  cat >"$CLUSTER_DIR/observe.env" <<EOF
PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
OTLP_ENDPOINT=http://${NODE_IP[node-1]}:$OTLP_PORT
OTLP_TRACES_FILE=$traces
DRAINWATCH_IMAGE=$DRAINWATCH_IMAGE
EOF
fi
log "cluster up in $((SECONDS - began))s (components started in $((SECONDS - t))s); logs in $CLUSTER_DIR/logs"
trap - EXIT INT TERM
echo "$KUBECONFIG_ADMIN"
