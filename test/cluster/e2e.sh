#!/usr/bin/env bash
# Runs the end-to-end tests against a fresh local cluster: starts it (up.sh, with the Traefik
# reverse proxy unless DRAINWATCH_CLUSTER_PROXY=0, and Prometheus and an OpenTelemetry Collector
# unless DRAINWATCH_CLUSTER_OBSERVE=0), runs
# `go test -tags e2e ./test/e2e`, and always stops it (down.sh), also when interrupted. On
# failure the component logs are kept in $DRAINWATCH_E2E_LOGS
# (default /tmp/drainwatch-e2e-logs-<time>). Extra arguments go to go test (e.g. -run NAME).
#
#   test/cluster/e2e.sh [-run TestDrainNodeWithPDB]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

[ "$(id -u)" = 0 ] || die "the e2e tests start a real cluster and must run as root"
resolve_bin
export DRAINWATCH_CLUSTER_BIN=$BIN

# The scenarios that drain behind Ingresses and HTTPRoutes need the reverse proxy; serve's
# need Prometheus and the OpenTelemetry Collector.
export DRAINWATCH_CLUSTER_PROXY=${DRAINWATCH_CLUSTER_PROXY:-1}
export DRAINWATCH_CLUSTER_OBSERVE=${DRAINWATCH_CLUSTER_OBSERVE:-1}

t0=$SECONDS
kubeconfig=$("$here/up.sh" | tail -n1) || die "the local cluster did not start; the e2e tests cannot run"
up_seconds=$((SECONDS - t0))

status=1
teardown() {
  trap - EXIT INT TERM
  local t=$SECONDS
  [ -z "${work:-}" ] || rm -rf "$work"
  if ((status != 0)); then
    export DRAINWATCH_CLUSTER_KEEP_LOGS=${DRAINWATCH_E2E_LOGS:-/tmp/drainwatch-e2e-logs-$(date +%Y%m%d-%H%M%S)}
  fi
  "$here/down.sh" || log "down.sh failed"
  log "timings: cluster up ${up_seconds}s, tests ${test_seconds:-?}s, cluster down $((SECONDS - t))s"
  exit "$status"
}
trap teardown EXIT
trap 'log "interrupted"; exit 130' INT TERM

t1=$SECONDS
cd "$repo"
# A scenario that failed while the whole machine stood still (the suite logs "STALL") is run
# once more; any other failure, or a second one, fails the run.
work=$(mktemp -d /tmp/drainwatch-e2e-run.XXXXXX)
export DRAINWATCH_E2E_STALLED=$work/stalled
e2e_test() { DRAINWATCH_E2E_KUBECONFIG=$kubeconfig go test -tags e2e -count=1 -v ./test/e2e "$@"; }
set +e
e2e_test -timeout 45m "$@" 2>&1 | tee "$work/out"
status=${PIPESTATUS[0]}
if ((status != 0)) && [ -s "$DRAINWATCH_E2E_STALLED" ]; then
  failed=$(sed -n 's/^--- FAIL: \([^ ]*\).*/\1/p' "$work/out" | sort -u)
  stalled=$(sort -u "$DRAINWATCH_E2E_STALLED")
  if [ -n "$failed" ] && [ -z "$(comm -23 <(echo "$failed") <(echo "$stalled"))" ]; then
    log "the machine stalled while $(echo "$failed" | paste -sd, -) failed: their timings are void; running them once more"
    : >"$DRAINWATCH_E2E_STALLED"
    e2e_test -timeout 20m "$@" -run "^($(echo "$failed" | paste -sd'|' -))\$"
    status=$?
  fi
fi
set -e
test_seconds=$((SECONDS - t1))
