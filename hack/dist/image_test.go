package main

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// The image of a tiny main package: two builds give the same digest; the layout names the
// image for containerd; each platform's image runs the binary as a non-root user.
func TestImageIsReproducibleAndNonRoot(t *testing.T) {
	src := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":  "module example.com/tiny\n\ngo 1.22\n",
		"main.go": "package main\n\nfunc main() {}\n",
		"LICENSE": "Apache License\n",
	} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := options{version: "v1.2.3", commit: "abc", pkg: ".", buildDir: src, license: filepath.Join(src, "LICENSE"),
		platforms: "linux/amd64,linux/arm64,darwin/arm64", image: "example.com/tiny:v1.2.3", epoch: time.Unix(1767225600, 0).UTC()}
	var digests []string
	for i := 0; i < 2; i++ {
		o.out = t.TempDir()
		if err := runImage(o, io.Discard); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		untar(t, filepath.Join(o.out, "image.tar"), dir)
		outer, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			t.Fatal(err)
		}
		m, err := outer.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Manifests) != 1 || m.Manifests[0].Annotations["io.containerd.image.name"] != "example.com/tiny:v1.2.3" {
			t.Fatalf("layout index %+v, want one image index named example.com/tiny:v1.2.3", m.Manifests)
		}
		digests = append(digests, m.Manifests[0].Digest.String())
		idx, err := outer.ImageIndex(m.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 2 {
			t.Fatalf("%d platforms, want linux/amd64 and linux/arm64 only", len(im.Manifests))
		}
		for _, d := range im.Manifests {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.OS != "linux" || cf.Architecture != d.Platform.Architecture || cf.Config.User != imageUser ||
				len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/"+binaryName || !cf.Created.Time.Equal(o.epoch) {
				t.Errorf("%s: config %s/%s user %q entrypoint %v created %v", d.Platform, cf.OS, cf.Architecture, cf.Config.User, cf.Config.Entrypoint, cf.Created)
			}
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds gave %s and %s", digests[0], digests[1])
	}
}

func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
