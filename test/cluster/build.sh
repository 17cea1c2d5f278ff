#!/usr/bin/env bash
# Builds the pinned cluster binaries (Kubernetes, etcd, runc) into a cache directory that later
# runs reuse, and installs the Debian packages the local cluster needs. Prints the bin directory.
#
#   test/cluster/build.sh            # build what is missing, print the directory
#   test/cluster/build.sh kwok       # only kwok (for bench/scale.sh), print its directory
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
elif [ -n "${1:-}" ]; then
  echo "usage: $0 [kwok]" >&2
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
