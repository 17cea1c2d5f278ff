#!/usr/bin/env bash
# A live demo: starts the local cluster (unless one is running), deploys a web app whose pods
# stop serving the moment they get SIGTERM (no preStop), opens drainwatch on it and starts a
# rollout a few seconds later, so you can watch the pods turn "at-risk".
#
#   make demo         (then make cluster-down when done)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

resolve_bin
export DRAINWATCH_CLUSTER_BIN=$BIN
kubeconfig=$CLUSTER_DIR/kubeconfig
if ! [ -f "$kubeconfig" ] || ! "$BIN/kubectl" --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  kubeconfig=$("$here/up.sh" | tail -n1)
fi
kc() { "$BIN/kubectl" --kubeconfig "$kubeconfig" "$@"; }

mkdir -p "$CLUSTER_DIR/demo"
plugin=$CLUSTER_DIR/demo/kubectl-drainwatch
(cd "$repo" && go build -tags "$(cat hack/dist/build-tags)" -o "$plugin" ./cmd/kubectl-drainwatch)

kc apply -f "$here/demo.yaml" >/dev/null
kc -n demo rollout status deploy/web --timeout 120s >/dev/null

cat >&2 <<MSG

  drainwatch opens on deploy/web in namespace demo; a rollout restart starts in 3 seconds.
  The app exits as soon as it gets SIGTERM and has no preStop hook: watch its pods end at-risk.

  Quit drainwatch with q or Ctrl+C. Run it again:
    PATH=$CLUSTER_DIR/demo:$BIN:\$PATH KUBECONFIG=$kubeconfig kubectl drainwatch deploy/web -n demo
  and restart the rollout in another terminal:
    KUBECONFIG=$kubeconfig $BIN/kubectl -n demo rollout restart deploy/web
  Stop the cluster: make cluster-down

MSG
sleep 2
(sleep 3 && kc -n demo rollout restart deploy/web >/dev/null) &
PATH=$CLUSTER_DIR/demo:$BIN:$PATH KUBECONFIG=$kubeconfig kubectl drainwatch deploy/web -n demo || true
wait
echo "The cluster is still running (KUBECONFIG=$kubeconfig). Stop it with: make cluster-down" >&2
