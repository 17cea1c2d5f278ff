#!/usr/bin/env bash
# Restarts one component of the running local test cluster with the command it was started
# with, and waits until it answers again (used by the e2e test of an API server restart).
#
#   test/cluster/restart.sh kube-apiserver [DOWNTIME_SECONDS]
# The component gets SIGTERM and, if still running 5 seconds later, SIGKILL (a kube-apiserver
# stops serving at once but can take much longer to exit).
# Components: etcd kube-apiserver kube-controller-manager kube-scheduler kube-proxy
# kubelet-node-1 kubelet-node-2, and traefik when up.sh started it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

name=${1:?usage: restart.sh COMPONENT [DOWNTIME_SECONDS]}
downtime=${2:-0}
[ -f "$MARKER" ] || die "no cluster in $CLUSTER_DIR"
script=$CLUSTER_DIR/cmd/$name.sh
[ -x "$script" ] || die "unknown component $name (no $script)"

began=$SECONDS
pid_of "$name" >/dev/null || log "$name was not running"
stop "$name" 5
log "$name stopped"
sleep "$downtime"
exe=$(sed -n 's/^exec \([^ ]*\) .*/\1/p' "$script")
setsid "$script" >>"$CLUSTER_DIR/logs/$name.log" 2>&1 </dev/null &
echo $! >"$CLUSTER_DIR/pids/$name.pid"
readlink -f "$exe" >"$CLUSTER_DIR/pids/$name.exe"

token=$(awk -F, '$2 == "admin" { print $1 }' "$CLUSTER_DIR/pki/tokens.csv")
case $name in
kube-apiserver) wait_for kube-apiserver 120 curl -fsSk -H "Authorization: Bearer $token" "https://127.0.0.1:$API_PORT/readyz" ;;
etcd) wait_for etcd 60 curl -fsS http://127.0.0.1:2379/health ;;
kube-proxy) wait_for kube-proxy 60 curl -fsS http://127.0.0.1:10256/healthz ;;
traefik) wait_for traefik 60 curl -fsS "http://127.0.0.1:$PROXY_ADMIN_PORT/ping" ;;
kubelet-*) wait_for "$name" 60 curl -fsS "http://127.0.0.1:${KUBELET_HEALTHZ[${name#kubelet-}]}/healthz" ;;
*) sleep 1 ;;
esac
log "$name restarted in $((SECONDS - began))s"
