#!/usr/bin/env bash
# Stops the local test cluster started by up.sh and removes everything it made: the processes
# it started (by their pid files) and the containers they started, mounts under the state
# directory, the CNI bridges and their veths, kube-proxy's and the kubelets' iptables chains,
# its cgroups, and finally the state directory. Safe to run twice or after a crash.
#
#   test/cluster/down.sh
#   DRAINWATCH_CLUSTER_DIR=/tmp/x          state directory (default /tmp/drainwatch-cluster)
#   DRAINWATCH_CLUSTER_KEEP_LOGS=/dir      copy the component logs there before deleting
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "must run as root"
began=$SECONDS
if [ ! -e "$CLUSTER_DIR" ]; then
  log "nothing to do: $CLUSTER_DIR does not exist"
  exit 0
fi
[ -f "$MARKER" ] || die "$CLUSTER_DIR was not made by up.sh (no $(basename "$MARKER")); not touching it"
[ -f "$CLUSTER_DIR/cgroup" ] && CGROUP_NAME=$(cat "$CLUSTER_DIR/cgroup")
log "stopping the cluster in $CLUSTER_DIR"

ctr_bin=$(command -v ctr || true)
# The proxy and the observers first: they watch the API server.
stop_all 10 traefik prometheus otelcol
stop_all 10 kube-proxy "${NODES[@]/#/kubelet-}"

log "stopped kube-proxy and the kubelets"

# Containers: kill every task of each containerd (they would survive it), then the daemon.
for n in "${NODES[@]}"; do
  sock=$CLUSTER_DIR/$n/containerd.sock
  if pid_of "containerd-$n" >/dev/null && [ -n "$ctr_bin" ]; then
    # Remember the sandboxes and containers: the CNI cache under /var/lib/cni names them.
    timeout 10 ctr --address "$sock" -n k8s.io containers ls -q >>"$CLUSTER_DIR/container-ids" 2>/dev/null || true
    for id in $(timeout 10 ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      timeout 10 ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 &
    done
    wait
    for id in $(timeout 10 ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      timeout 10 ctr --address "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 &
    done
    wait
  fi
done
stop_all 10 "${NODES[@]/#/containerd-}"

log "stopped the containers and containerd"

# Whatever still runs in the cluster's cgroups (shims, container processes) was started by it.
for ((round = 0; round < 20; round++)); do
  left=0
  for m in $(cgroup_mounts); do
    [ -d "$m/$CGROUP_NAME" ] || continue
    while read -r procs; do
      while read -r pid; do
        [ -n "$pid" ] || continue
        kill -KILL "$pid" 2>/dev/null && left=1
      done <"$procs"
    done < <(find "$m/$CGROUP_NAME" -name cgroup.procs 2>/dev/null)
  done
  ((left)) || break
  sleep 0.2
done
for m in $(cgroup_mounts); do
  [ -d "$m/$CGROUP_NAME" ] && find "$m/$CGROUP_NAME" -depth -type d -exec rmdir {} \; 2>/dev/null
  [ -d "$m/$CGROUP_NAME" ] && log "could not remove cgroup $m/$CGROUP_NAME"
done

# kube-apiserver stops serving at once but can take long to exit; nothing of it is kept.
stop_all 5 kube-scheduler kube-controller-manager kube-apiserver
stop etcd
log "stopped the control plane"

# iptables: kube-proxy removes its own chains; the kubelets leave canary chains behind.
if [ -f "$CLUSTER_DIR/cmd/kube-proxy.sh" ]; then
  proxy=$(sed -n 's/^exec \([^ ]*\) .*/\1/p' "$CLUSTER_DIR/cmd/kube-proxy.sh")
  if [ -x "$proxy" ]; then
    "$proxy" --cleanup >>"$CLUSTER_DIR/logs/kube-proxy-cleanup.log" 2>&1 || log "kube-proxy --cleanup failed (see logs/kube-proxy-cleanup.log)"
  fi
fi
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  for table in mangle nat filter; do
    for chain in KUBE-KUBELET-CANARY KUBE-PROXY-CANARY KUBE-IPTABLES-HINT KUBE-FIREWALL "$API_CHAIN"; do
      if "$ipt" -w -t "$table" -S "$chain" >/dev/null 2>&1; then
        # Remove the jumps into the chain before the chain itself.
        "$ipt" -w -t "$table" -S | grep -E -- "-j $chain( |\$)" | sed 's/^-A /-D /' | while read -r rule; do
          # shellcheck disable=SC2086
          "$ipt" -w -t "$table" $rule 2>/dev/null || true
        done
        "$ipt" -w -t "$table" -F "$chain" 2>/dev/null || true
        "$ipt" -w -t "$table" -X "$chain" 2>/dev/null || true
      fi
    done
  done
done

log "removed iptables chains"

# Mounts (kubelet volumes and its rshared root, container rootfs, shm, netns), deepest first.
for ((round = 0; round < 5; round++)); do
  mapfile -t mounts < <(awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1 || $5 == substr(d, 1, length(d) - 1) { print $5 }' /proc/self/mountinfo | sort -r)
  ((${#mounts[@]})) || break
  for mnt in "${mounts[@]}"; do
    mnt=$(printf '%b' "${mnt//\\/\\0}")
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  done
done
[ -z "$(awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)" ] || log "some mounts under $CLUSTER_DIR remain"

log "unmounted everything under $CLUSTER_DIR"

# Network: the veths of pods whose network namespaces are gone vanished with them; remove any
# still attached, then the bridges.
for n in "${NODES[@]}"; do
  br=${BRIDGE[$n]}
  ip link show "$br" >/dev/null 2>&1 || continue
  for veth in $(ip -o link show master "$br" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$veth" 2>/dev/null || true
  done
  ip link delete "$br" 2>/dev/null || log "could not delete bridge $br"
  rm -f "/var/lib/cni/results/dw-$n-"* 2>/dev/null
done
# After a crash containerd cannot list them: its directories still name them.
for n in "${NODES[@]}"; do
  for dir in "$CLUSTER_DIR/$n/containerd/root/io.containerd.grpc.v1.cri/sandboxes" "$CLUSTER_DIR/$n/containerd/root/io.containerd.grpc.v1.cri/containers"; do
    [ -d "$dir" ] && ls "$dir" >>"$CLUSTER_DIR/container-ids"
  done
done
if [ -f "$CLUSTER_DIR/container-ids" ] && [ -d /var/lib/cni/results ]; then
  while read -r id; do
    [ -n "$id" ] && rm -f /var/lib/cni/results/*-"$id"-*
  done <"$CLUSTER_DIR/container-ids"
fi
# Kubelets link every container log into /var/log/containers (a fixed path).
if [ -d /var/log/containers ]; then
  find /var/log/containers -maxdepth 1 -type l -lname "$CLUSTER_DIR/*" -delete 2>/dev/null
fi
# Containerd keeps shim sockets under /run/containerd/s whatever its state directory is; shims
# killed above leave theirs behind. Remove sockets nobody listens on any more.
if [ -d /run/containerd/s ]; then
  listening=$(ss -xlnH 2>/dev/null | awk '{print $5}')
  for sock in /run/containerd/s/*; do
    [ -S "$sock" ] || continue
    grep -qxF "$sock" <<<"$listening" || rm -f "$sock"
  done
fi
if [ -f "$CLUSTER_DIR/created-dirs" ]; then
  while read -r dir; do
    [ -d "$dir" ] && find "$dir" -depth -type d -empty -delete 2>/dev/null
  done <"$CLUSTER_DIR/created-dirs"
fi

if [ -f "$CLUSTER_DIR/sysctl.saved" ]; then
  while read -r key value; do
    [ -f "/proc/sys/$key" ] && echo "$value" >"/proc/sys/$key" 2>/dev/null
  done <"$CLUSTER_DIR/sysctl.saved"
fi

if [ -n "${DRAINWATCH_CLUSTER_KEEP_LOGS:-}" ] && [ -d "$CLUSTER_DIR/logs" ]; then
  mkdir -p "$DRAINWATCH_CLUSTER_KEEP_LOGS"
  cp -r "$CLUSTER_DIR/logs/." "$DRAINWATCH_CLUSTER_KEEP_LOGS/"
  for n in "${NODES[@]}"; do
    [ -d "$CLUSTER_DIR/$n/pod-logs" ] && cp -r "$CLUSTER_DIR/$n/pod-logs" "$DRAINWATCH_CLUSTER_KEEP_LOGS/pod-logs-$n" 2>/dev/null
  done
  log "logs copied to $DRAINWATCH_CLUSTER_KEEP_LOGS"
fi

if [ -n "$(awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)" ]; then
  die "mounts remain under $CLUSTER_DIR; not deleting it"
fi
rm -rf --one-file-system "$CLUSTER_DIR"
log "cluster stopped and removed in $((SECONDS - began))s"
