# shellcheck shell=bash
# Shared settings and helpers of the local test cluster scripts (up.sh, down.sh, restart.sh).
# Everything the cluster creates lives in one state directory, or is named after it, so that
# down.sh can remove exactly that and nothing else.

CLUSTER_DIR=${DRAINWATCH_CLUSTER_DIR:-/tmp/drainwatch-cluster}
CLUSTER_DIR=${CLUSTER_DIR%/}
# The marker down.sh looks for before it deletes a directory: it never removes a directory
# that up.sh did not create.
MARKER=$CLUSTER_DIR/.drainwatch-cluster

NODES=(node-1 node-2)
# Per node: bridge, pod subnet, gateway (= node IP), kubelet port, kubelet healthz port.
declare -A BRIDGE=([node-1]=dwcni0 [node-2]=dwcni1)
declare -A SUBNET=([node-1]=10.244.0.0/24 [node-2]=10.244.1.0/24)
declare -A NODE_IP=([node-1]=10.244.0.1 [node-2]=10.244.1.1)
declare -A KUBELET_PORT=([node-1]=10250 [node-2]=11250)
declare -A KUBELET_HEALTHZ=([node-1]=10248 [node-2]=11248)
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
API_PORT=6443
# TCP ports the cluster listens on (all on 127.0.0.1 or the node IPs).
PORTS=(2379 2380 "$API_PORT" 10257 10259 10249 10256 10250 10248 11250 11248)

# The reverse proxy (Traefik) that up.sh starts with DRAINWATCH_CLUSTER_PROXY=1: HTTP for the
# Ingresses and HTTPRoutes on PROXY_PORT, /ping on PROXY_ADMIN_PORT, both on 127.0.0.1.
PROXY_PORT=18080
PROXY_ADMIN_PORT=18081

# With DRAINWATCH_CLUSTER_OBSERVE=1: the OpenTelemetry Collector's OTLP/HTTP port (on node-1's
# IP, for the pods) and Prometheus's port (on 127.0.0.1).
OTLP_PORT=4318
PROMETHEUS_PORT=19090

# The filter chain that lets only loopback and the pod network reach the API server.
API_CHAIN=DRAINWATCH-API

APP_IMAGE=drainwatch.test/app:e2e
DRAINWATCH_IMAGE=drainwatch.test/kubectl-drainwatch:e2e
PAUSE_IMAGE=drainwatch.test/pause:e2e

# Kubelets and containerds of the two nodes must not see each other's pod cgroups (a kubelet
# removes pod cgroups it does not know about), so each node gets its own cgroup root, named
# after the state directory.
CGROUP_NAME=drainwatch-$(printf '%s' "$CLUSTER_DIR" | sha256sum | cut -c1-8)

log() { printf '%s cluster: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# cgroup_mounts prints the mount points of every cgroup hierarchy (v1 controllers and the
# unified v2 mount of a hybrid setup, or the single v2 mount).
cgroup_mounts() {
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts
}

# pidfile_alive NAME: true when the process of NAME's pid file still runs the binary it was
# started as (guards against PID reuse after a crash).
pid_of() {
  local name=$1 pid exe
  [ -f "$CLUSTER_DIR/pids/$name.pid" ] || return 1
  pid=$(cat "$CLUSTER_DIR/pids/$name.pid")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  exe=$(cat "$CLUSTER_DIR/pids/$name.exe" 2>/dev/null || true)
  if [ -n "$exe" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$exe" ]; then
    return 1
  fi
  echo "$pid"
}

# start NAME CGROUP BINARY ARGS...: runs BINARY in the background with its output in
# logs/NAME.log, records its PID, and keeps the command in cmd/NAME.sh so restart.sh can run it
# again. CGROUP ("" for none) is a cgroup path, relative to each hierarchy, to start it in.
# START_ENV (an array of NAME=VALUE) is exported to it.
start() {
  local name=$1 cg=$2 bin=$3 kv
  shift 3
  local script=$CLUSTER_DIR/cmd/$name.sh
  {
    echo '#!/usr/bin/env bash'
    for kv in ${START_ENV[@]+"${START_ENV[@]}"}; do
      printf 'export %q\n' "$kv"
    done
    if [ -n "$cg" ]; then
      echo "for m in $(cgroup_mounts | tr '\n' ' '); do"
      echo "  [ -d \"\$m/$cg\" ] && echo \$\$ > \"\$m/$cg/cgroup.procs\""
      echo 'done'
    fi
    printf 'exec'
    printf ' %q' "$bin" "$@"
    echo
  } >"$script"
  chmod +x "$script"
  setsid "$script" >>"$CLUSTER_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$CLUSTER_DIR/pids/$name.pid"
  readlink -f "$bin" >"$CLUSTER_DIR/pids/$name.exe"
}

# stop NAME [TIMEOUT]: SIGTERM, then SIGKILL after TIMEOUT seconds (default 10).
stop() {
  local name=$1 timeout=${2:-10} pid i
  if pid=$(pid_of "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    if [ -d "/proc/$pid" ]; then
      log "$name (pid $pid) did not stop within ${timeout}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        [ -d "/proc/$pid" ] || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$CLUSTER_DIR/pids/$name.pid" "$CLUSTER_DIR/pids/$name.exe"
}

# stop_all TIMEOUT NAME...: like stop, for several processes at once.
stop_all() {
  local timeout=$1 name pid i alive
  shift
  local -a pids=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for ((i = 0; i < timeout * 10; i++)); do
    alive=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if [ -d "/proc/$pid" ]; then
      log "pid $pid did not stop within ${timeout}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for name in "$@"; do stop "$name" 5; done
}

# wait_for WHAT TIMEOUT COMMAND...: retries COMMAND every 0.5s, printing progress every 10s.
wait_for() {
  local what=$1 timeout=$2 start=$SECONDS next=10
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start >= timeout)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    if ((SECONDS - start >= next)); then
      log "still waiting for $what ($((SECONDS - start))s)"
      next=$((next + 10))
    fi
    sleep 0.5
  done
  log "$what ready after $((SECONDS - start))s"
}

# resolve_bin sets BIN to the directory of the pinned cluster binaries, building them if needed.
resolve_bin() {
  if [ -n "${DRAINWATCH_CLUSTER_BIN:-}" ]; then
    BIN=$DRAINWATCH_CLUSTER_BIN
  else
    BIN=$("$(dirname "${BASH_SOURCE[0]}")/build.sh" | tail -n1)
  fi
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy runc; do
    [ -x "$BIN/$b" ] || die "missing $BIN/$b (run test/cluster/build.sh)"
  done
}
