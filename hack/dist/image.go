package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imageUser is the user the image runs as: no root, no home, nothing to write.
const imageUser = "65532:65532"

// runImage builds the container image o.image for the linux platforms of -platforms: one layer
// with the binary (/kubectl-drainwatch) and the license, run as a non-root user. It writes an
// OCI image layout as OUT/image.tar (import it with `ctr -n k8s.io images import`, push its
// unpacked directory with `crane push --index DIR REF`). The same source, toolchain, version and
// SOURCE_DATE_EPOCH give the same bytes, so the same digest.
func runImage(o options, stdout io.Writer) error {
	ref, err := name.ParseReference(o.image)
	if err != nil {
		return fmt.Errorf("-image %q is not an image reference: %w", o.image, err)
	}
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		return err
	}
	license, err := os.ReadFile(o.license)
	if err != nil {
		return fmt.Errorf("the image must carry the license: %w", err)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	n := 0
	for _, p := range platforms {
		if p.OS != "linux" {
			continue
		}
		bin := filepath.Join(o.out, "bin", p.OS+"_"+p.Arch, p.exe())
		if err := build(o, p, bin); err != nil {
			return err
		}
		img, err := platformImage(o, p, bin, license)
		if err != nil {
			return fmt.Errorf("%s/%s image: %w", p.OS, p.Arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch}}})
		n++
	}
	if n == 0 {
		return fmt.Errorf("-platforms %s has no linux platform to build an image for", o.platforms)
	}
	dir, err := os.MkdirTemp(o.out, ".image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	tag := ref.Identifier()
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          ref.Name(),
		"org.opencontainers.image.ref.name": tag,
	})); err != nil {
		return err
	}
	var archive bytes.Buffer
	if err := writeTree(&archive, dir, o.epoch); err != nil {
		return err
	}
	out := filepath.Join(o.out, "image.tar")
	if err := os.WriteFile(out, archive.Bytes(), 0o644); err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s@%s (%d platform(s), %.1f MiB)\n", out, ref.Name(), digest, n, mib(archive.Len()))
	return nil
}

func platformImage(o options, p platform, bin string, license []byte) (v1.Image, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var layer bytes.Buffer
	if err := writeTarGz(&layer, []entry{
		{Name: p.exe(), Data: data, Mode: 0o755},
		{Name: "LICENSE", Data: license, Mode: 0o644},
	}, o.epoch); err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layer.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), l)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Arch
	cf.Created = v1.Time{Time: o.epoch}
	cf.Config.Entrypoint = []string{"/" + p.exe()}
	cf.Config.User = imageUser
	cf.Config.WorkingDir = "/"
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":    binaryName,
		"org.opencontainers.image.version":  o.version,
		"org.opencontainers.image.revision": o.commit,
		"org.opencontainers.image.source":   "https://github.com/drainwatch/kubectl-drainwatch",
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: o.epoch})
}

// writeTree packs the files under dir as an uncompressed tar with fixed owners and times.
func writeTree(w io.Writer, dir string, mtime time.Time) error {
	var entries []entry
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		entries = append(entries, entry{Name: filepath.ToSlash(rel), Data: data, Mode: 0o644})
		return nil
	})
	if err != nil {
		return err
	}
	return writeTar(w, entries, mtime)
}
