# Development targets. The end-to-end targets need root on Linux: they run a real two-node
# cluster on this machine (see test/cluster/up.sh).
SHELL := /bin/bash
GO ?= go

# Scenarios whose recordings are examples/*.ndjson.
EXAMPLE_TESTS := TestRolloutWithPreStopIsGraceful|TestRolloutWithoutPreStopStopsBeforeDrain|TestPID1IgnoresSIGTERM|TestFailingPreStopHook|TestDrainNodeWithPDB|TestDeleteShortensGrace|TestPreStopLongerThanGrace|TestShellTrapsTERMButSlow|TestExit143WithoutHandler|TestNativeSidecarIgnoresTERM|TestStatefulSetRollout|TestDrainStalledByPDB|TestTaintEviction|TestPreemption|TestScaleDownByAnotherController|TestProxyIngressRollout

.PHONY: test test-unit test-e2e cluster-up cluster-down examples demo

test: test-unit test-e2e test-report

test-unit:
	$(GO) vet ./...
	@files=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*')); \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi
	$(GO) test -race ./...

# Starts a fresh local cluster, runs go test -tags e2e ./test/e2e, always stops the cluster.
test-e2e:
	test/cluster/e2e.sh

cluster-up:
	test/cluster/up.sh

cluster-down:
	test/cluster/down.sh

# Re-records examples/*.ndjson from the real cluster.
examples:
	mkdir -p examples
	DRAINWATCH_E2E_RECORD_DIR=$(CURDIR)/examples test/cluster/e2e.sh -run '$(EXAMPLE_TESTS)'

demo:
	test/cluster/demo.sh

# Opens HTML reports in a real headless Chromium (test/report/setup.sh installs Debian's
# chromium when missing), checks what they show and how fast, and writes docs/report.png.
.PHONY: test-report
test-report:
	test/report/setup.sh
	cd test/report && $(GO) test -count=1 -v .

# Release packaging and the krew install test.
#   make dist       archives for six platforms, sha256sums.txt and the krew manifest in
#                   $(DIST_DIR); for a release VERSION (vX.Y.Z) also krew-manifest.yaml
#   make test-krew  validates the manifest with krew's code, installs every archive with
#                   krew into a temporary KREW_ROOT and runs `kubectl drainwatch version`
# The same VERSION, COMMIT, SOURCE_DATE_EPOCH, source and Go toolchain give byte-identical
# archives.
VERSION ?= $(shell git describe --tags 2>/dev/null || echo v0.1.0)
COMMIT ?= $(shell git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 315532800)
DIST_DIR ?= dist
RELEASE_MANIFEST ?= krew-manifest.yaml
# Run the git queries once instead of at every use.
VERSION := $(VERSION)
COMMIT := $(COMMIT)
SOURCE_DATE_EPOCH := $(SOURCE_DATE_EPOCH)

.PHONY: dist test-krew test-dist

# PLATFORMS (comma-separated GOOS/GOARCH) narrows dist to some platforms; empty means all six.
PLATFORMS ?=
HOST_PLATFORM := $(shell $(GO) env GOOS)/$(shell $(GO) env GOARCH)

dist:
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./hack/dist -version $(VERSION) -commit $(COMMIT) \
		-out $(DIST_DIR) -release-manifest "$(RELEASE_MANIFEST)" $(if $(PLATFORMS),-platforms $(PLATFORMS))

# Packages the current VERSION but leaves krew-manifest.yaml alone: only a deliberate
# `make dist` rewrites it.
# make test runs it for this machine's platform only (the repository manifest is still validated
# with all six); make test-dist builds, checks and installs all six.
test-krew:
	$(MAKE) test-dist PLATFORMS=$(HOST_PLATFORM) DIST_DIR=$(DIST_DIR)/host

test-dist:
	$(MAKE) dist RELEASE_MANIFEST= VERSION=$(VERSION) COMMIT=$(COMMIT) \
		SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) DIST_DIR=$(DIST_DIR) PLATFORMS=$(PLATFORMS)
	cd test/krew && DRAINWATCH_DIST_DIR=$(abspath $(DIST_DIR)) DRAINWATCH_VERSION=$(VERSION) \
		DRAINWATCH_COMMIT=$(COMMIT) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) DRAINWATCH_PLATFORMS=$(PLATFORMS) \
		$(GO) test -count=1 -timeout 40m -v .

test: test-krew

# Benchmarks.
#   make bench        Go benchmarks of the engine, the JSON output, the TUI and the report
#   make bench-scale  the scale benchmark on a real control plane with kwok nodes (no root
#                     needed, 8-20 minutes on 2 cores): writes bench/results.json and
#                     bench/results.md (see bench/README.md)
.PHONY: bench bench-scale

bench:
	$(GO) test -run xxx -bench . -benchmem ./pkg/timeline ./pkg/watch ./pkg/tui ./pkg/report

bench-scale:
	bench/scale.sh

# The container image of `serve` (deploy/), built without Docker from the module: an OCI image
# layout archive $(DIST_DIR)/image.tar for the linux platforms of PLATFORMS (default amd64 and
# arm64). Import it with `ctr -n k8s.io images import`, or push it with
# `tar -xf dist/image.tar -C DIR && crane push --index DIR $(IMAGE)`.
IMAGE ?= ghcr.io/drainwatch/kubectl-drainwatch:$(VERSION)
.PHONY: image
image:
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./hack/dist -version $(VERSION) -commit $(COMMIT) \
		-out $(DIST_DIR) -image $(IMAGE) -platforms $(or $(PLATFORMS),linux/amd64,linux/arm64)
