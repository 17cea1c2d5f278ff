#!/usr/bin/env bash
# Builds the pinned cluster binaries (Kubernetes, etcd, runc) into a cache directory that later
# runs reuse, and installs the Debian packages the local cluster needs. Prints the bin directory.
#
#   test/cluster/build.sh            # build what is missing, print the directory
#   test/cluster/build.sh kwok       # only kwok (for bench/scale.sh), print its directory
#   test/cluster/build.sh traefik    # only Traefik (the e2e reverse proxy), print its directory
#   test/cluster/build.sh gateway-crds  # print the directory of the Gateway API CRDs Traefik uses
#   test/cluster/build.sh prometheus # only Prometheus (Kubernetes discovery only), print its directory
#   test/cluster/build.sh otelcol    # only a minimal OpenTelemetry Collector, print its directory
#   DRAINWATCH_CACHE=/path ...       # cache root (default: ${XDG_CACHE_HOME:-~/.cache}/drainwatch)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
K8S_VERSION=v1.37.2
cache=${DRAINWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drainwatch}

log() { printf '%s build: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# kwok has its own tools module and cache key, so pinning it never invalidates the cluster
# binaries; it needs no Debian packages.
if [ "${1:-}" = kwok ]; then
  key=$(cat "$here/tools/kwok/go.mod" "$here/tools/kwok/go.sum" | sha256sum | cut -c1-12)
  bin=$cache/cluster-bin/kwok-$key
  mkdir -p "$bin"
  if [ ! -x "$bin/kwok" ]; then
    log "building kwok (a cold build takes minutes; cached afterwards in $bin)"
    start=$SECONDS
    (cd "$here/tools/kwok" && CGO_ENABLED=0 go build -o "$bin/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok)
    mv "$bin/kwok.tmp" "$bin/kwok"
    log "built kwok in $((SECONDS - start))s"
  fi
  echo "$bin"
  exit 0
elif [ "${1:-}" = traefik ]; then
  # Traefik, the reverse proxy of the e2e scenarios that drain through a real proxy. Two of the
  # modules it needs are not served whole by the module proxy: lego's DNS providers import SDKs
  # it does not serve, and Traefik's fork of go-http-auth is not served. The build therefore
  # runs in a scratch copy of the tools module with local copies of lego and go-http-auth
  # v0.4.0 patched by the files under tools/traefik/patches/ (an empty list of DNS providers;
  # the two functions Traefik uses of the fork), and removes the scratch copy afterwards.
  mod=$here/tools/traefik
  key=$( (cd "$mod" && find go.mod go.sum ext patches -type f | sort | xargs cat) | sha256sum | cut -c1-12)
  bin=$cache/cluster-bin/traefik-$key
  mkdir -p "$bin"
  if [ ! -x "$bin/traefik" ]; then
    exec 9>"$cache/cluster-bin/.build-traefik-$key.lock"
    flock 9
  fi
  if [ ! -x "$bin/traefik" ]; then
    log "building traefik (a cold build takes minutes; cached afterwards in $bin)"
    start=$SECONDS
    src=$bin/src
    rm -rf "$src"
    mkdir -p "$src"
    trap 'rm -rf "$src"' EXIT
    cp -r "$mod/go.mod" "$mod/go.sum" "$mod/ext" "$src/"
    (
      cd "$src"
      # patch MODULE NAME: copies MODULE (the version the build uses) to ./NAME, lays the files
      # of patches/NAME over it (without their .txt suffix) and replaces MODULE with it.
      patch() {
        local m=$1 name=$2 dir f
        go mod download "$m"
        dir=$(go list -m -f '{{if .Replace}}{{.Replace.Dir}}{{else}}{{.Dir}}{{end}}' "$m")
        [ -d "$dir" ] || { echo "build: no source of $m" >&2; return 1; }
        cp -r "$dir" "$name"
        chmod -R u+w "$name"
        while read -r f; do
          mkdir -p "$(dirname "$name/$f")"
          cp "$mod/patches/$name/$f" "$name/${f%.txt}"
        done < <(cd "$mod/patches/$name" && find . -type f)
        [ -f "$name/go.mod" ] || printf 'module %s\n\ngo 1.21\n' "$m" >"$name/go.mod"
        go mod edit -replace "$m=./$name"
      }
      patch github.com/go-acme/lego/v5 lego
      patch github.com/abbot/go-http-auth go-http-auth
      version=$(go list -m -f '{{.Version}}' github.com/traefik/traefik/v3)
      CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" \
        -o "$bin/traefik.tmp" github.com/traefik/traefik/v3/cmd/traefik
    )
    mv "$bin/traefik.tmp" "$bin/traefik"
    log "built traefik in $((SECONDS - start))s"
  fi
  echo "$bin"
  exit 0
elif [ "${1:-}" = gateway-crds ]; then
  # The Gateway API CRDs (standard channel) of the version Traefik's module requires, from the
  # module cache. Prints the directory that holds them.
  mod=$here/tools/traefik
  version=$(cd "$mod" && go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api)
  dir=$(cd "$mod" && go mod download -json "sigs.k8s.io/gateway-api@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/config/crd/standard" ] || { echo "build: no CRDs in sigs.k8s.io/gateway-api@$version ($dir)" >&2; exit 1; }
  echo "$dir/config/crd/standard"
  exit 0
elif [ "${1:-}" = prometheus ]; then
  # Prometheus, which scrapes the cluster's workloads through Kubernetes service discovery. The
  # build tags leave out every other service discovery (their cloud SDKs are most of a full
  # build); the web UI's assets are not embedded, as only the HTTP API is used.
  mod=$here/tools/prometheus
  key=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)
  bin=$cache/cluster-bin/prometheus-$key
  mkdir -p "$bin"
  if [ ! -x "$bin/prometheus" ]; then
    exec 9>"$cache/cluster-bin/.build-prometheus-$key.lock"
    flock 9
  fi
  if [ ! -x "$bin/prometheus" ]; then
    log "building prometheus (a cold build takes minutes; cached afterwards in $bin)"
    start=$SECONDS
    (
      cd "$mod"
      # The module's version (v0.3XX.Y) encodes the release; its VERSION file names it (3.XX.Y).
      go mod download github.com/prometheus/prometheus
      version=$(cat "$(go list -m -f '{{.Dir}}' github.com/prometheus/prometheus)/VERSION")
      CGO_ENABLED=0 go build -trimpath -tags remove_all_sd,enable_kubernetes_sd \
        -ldflags "-s -w -X github.com/prometheus/common/version.Version=$version" \
        -o "$bin/prometheus.tmp" github.com/prometheus/prometheus/cmd/prometheus
    )
    mv "$bin/prometheus.tmp" "$bin/prometheus"
    log "built prometheus in $((SECONDS - start))s"
  fi
  echo "$bin"
  exit 0
elif [ "${1:-}" = otelcol ]; then
  # A minimal OpenTelemetry Collector (tools/otelcol/main.go: the OTLP receiver, the file and
  # debug exporters), which records the traces sent to it; a full distribution builds for far
  # longer. Its version is that of the collector's core modules.
  mod=$here/tools/otelcol
  key=$(cat "$mod/go.mod" "$mod/go.sum" "$mod/main.go" | sha256sum | cut -c1-12)
  bin=$cache/cluster-bin/otelcol-$key
  mkdir -p "$bin"
  if [ ! -x "$bin/otelcol" ]; then
    exec 9>"$cache/cluster-bin/.build-otelcol-$key.lock"
    flock 9
  fi
  if [ ! -x "$bin/otelcol" ]; then
    log "building otelcol (a cold build takes minutes; cached afterwards in $bin)"
    start=$SECONDS
    (
      cd "$mod"
      version=$(go list -m -f '{{.Version}}' go.opentelemetry.io/collector/otelcol)
      CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${version#v}" \
        -o "$bin/otelcol.tmp" .
    )
    mv "$bin/otelcol.tmp" "$bin/otelcol"
    log "built otelcol in $((SECONDS - start))s"
  fi
  echo "$bin"
  exit 0
elif [ -n "${1:-}" ]; then
  echo "usage: $0 [kwok|traefik|gateway-crds|prometheus|otelcol]" >&2
  exit 2
fi

# The key changes whenever a pinned module changes, so a stale cache is never reused.
key=$(cat "$here"/tools/{etcd,k8s,runc}/go.mod "$here"/tools/{etcd,k8s,runc}/go.sum | sha256sum | cut -c1-12)
bin=$cache/cluster-bin/$key
mkdir -p "$bin"
# One build at a time: a concurrent caller waits, then finds the binaries built.
exec 9>"$cache/cluster-bin/.build-$key.lock"
flock 9

need_pkgs=()
for p in containerd containernetworking-plugins busybox-static iptables conntrack libseccomp-dev pkg-config iproute2 openssl curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  log "installing Debian packages: ${need_pkgs[*]}"
  if [ "$(id -u)" != 0 ]; then echo "build: need root to apt-get install ${need_pkgs[*]}" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

build() { # name module-dir env... -- go build args
  local name=$1 dir=$2; shift 2
  if [ -x "$bin/$name" ]; then return 0; fi
  log "building $name (cold builds take minutes; cached afterwards in $bin)"
  local start=$SECONDS
  (cd "$here/tools/$dir" && env "$@")
  log "built $name in $((SECONDS - start))s"
}

ver="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/component-base/version.gitTreeState=clean"
build etcd etcd CGO_ENABLED=0 go build -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3
[ -e "$bin/etcd.tmp" ] && mv "$bin/etcd.tmp" "$bin/etcd"
build runc runc CGO_ENABLED=1 go build -tags seccomp -o "$bin/runc.tmp" github.com/opencontainers/runc
[ -e "$bin/runc.tmp" ] && mv "$bin/runc.tmp" "$bin/runc"
for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy; do
  build "$c" k8s CGO_ENABLED=0 go build -ldflags "$ver" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c"
  [ -e "$bin/$c.tmp" ] && mv "$bin/$c.tmp" "$bin/$c"
done
echo "$bin"
