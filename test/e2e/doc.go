// Package e2e holds the end-to-end tests of kubectl-drainwatch. They run against a real local
// two-node cluster (test/cluster/up.sh), drive real rollouts and drains, and compare
// drainwatch's JSON output with ground truth: the pods' real shutdown behaviour and the
// requests that really failed (test/traffic).
//
// The tests carry the build tag e2e:
//
//	make test-e2e                          # starts the cluster, runs the tests, stops it
//	go test -tags e2e ./test/e2e -v        # the same; starts the cluster itself when
//	                                       # DRAINWATCH_E2E_KUBECONFIG is not set
//
// Environment:
//
//	DRAINWATCH_E2E_KUBECONFIG   use the cluster of this admin kubeconfig (made by up.sh)
//	DRAINWATCH_CLUSTER_BIN      directory of the pinned kubectl (default: test/cluster/build.sh)
//	DRAINWATCH_E2E_RECORD_DIR   scenarios that feed the examples also --record into this directory
//	DRAINWATCH_E2E_LOGS         on failure, copy the cluster's logs into this directory
//
// They cannot be skipped: on a machine where the cluster cannot start they fail.
package e2e
