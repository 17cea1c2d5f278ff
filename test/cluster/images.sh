#!/usr/bin/env bash
# Builds the test images as OCI image layout archives, without a registry or Docker:
#   OUTDIR/app.tar    drainwatch.test/app:e2e    the static test app (test/app) as /app, plus
#                                                busybox-static (/bin/sh, /bin/sleep, ...)
#   OUTDIR/pause.tar  drainwatch.test/pause:e2e  the same layer, entrypoint `sleep 2147483647`
#   OUTDIR/drainwatch.tar  drainwatch.test/kubectl-drainwatch:e2e  the release image of the
#                          module (make image), for this machine's platform
# The first two share one layer. Import them with `ctr -n k8s.io images import FILE`.
#
#   test/cluster/images.sh OUTDIR
set -euo pipefail

out=${1:?usage: images.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "images: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
  echo "images: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

root=$work/rootfs
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,var/run}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in sh sleep wget nc cat echo ls true false env ps kill id hostname date sed grep head tail printf test; do
  ln -s busybox "$root/bin/$applet"
done
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$root/app" ./test/app)
echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

blobs=$work/blobs/sha256
mkdir -p "$blobs"

# blob FILE: stores FILE under its digest and prints "digest size".
blob() {
  local sum size
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$blobs/$sum"
  echo "sha256:$sum $size"
}

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$work/layer.tar" .
read -r layer layer_size < <(blob "$work/layer.tar")

# image NAME ENTRYPOINT_JSON ARCHIVE
image() {
  local name=$1 entrypoint=$2 archive=$3 config config_size manifest manifest_size
  rm -rf "$work/image" && mkdir -p "$work/image/blobs/sha256"
  cp "$blobs/${layer#sha256:}" "$work/image/blobs/sha256/"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":["PATH=/bin"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$entrypoint" "$layer" >"$work/config.json"
  read -r config config_size < <(blob "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
  read -r manifest manifest_size < <(blob "$work/manifest.json")
  cp "$blobs/${config#sha256:}" "$blobs/${manifest#sha256:}" "$work/image/blobs/sha256/"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$work/image/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$name" "${name##*:}" >"$work/image/index.json"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/image" -cf "$archive" oci-layout index.json blobs
}

image drainwatch.test/app:e2e '["/app"]' "$out/app.tar"
(cd "$repo" && go run ./hack/dist -version v0.0.0-e2e -image drainwatch.test/kubectl-drainwatch:e2e \
  -platforms "linux/$(go env GOARCH)" -out "$work/dist" >&2)
mv "$work/dist/image.tar" "$out/drainwatch.tar"
image drainwatch.test/pause:e2e '["/bin/sleep","2147483647"]' "$out/pause.tar"
echo "$out"
