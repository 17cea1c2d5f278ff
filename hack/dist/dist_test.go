package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testEntries() []entry {
	return []entry{
		{Name: "kubectl-drainwatch", Data: bytes.Repeat([]byte("\x7fELF binary"), 1000), Mode: 0o755},
		{Name: "LICENSE", Data: []byte("Apache License\n"), Mode: 0o644},
	}
}

func reversed(es []entry) []entry {
	out := make([]entry, len(es))
	for i, e := range es {
		out[len(es)-1-i] = e
	}
	return out
}

func TestTarGzIsDeterministic(t *testing.T) {
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("X", 3600))
	var a, b bytes.Buffer
	if err := writeTarGz(&a, testEntries(), mtime); err != nil {
		t.Fatal(err)
	}
	if err := writeTarGz(&b, reversed(testEntries()), mtime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same files differ")
	}

	gz, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !gz.ModTime.IsZero() || gz.Name != "" {
		t.Errorf("gzip header carries time %v and name %q, want neither", gz.ModTime, gz.Name)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		if hdr.Typeflag != tar.TypeReg {
			t.Errorf("%s: type %q, want a regular file (krew extracts nothing else)", hdr.Name, hdr.Typeflag)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "root" || hdr.Gname != "root" {
			t.Errorf("%s: owner %d:%d (%s:%s), want root", hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname)
		}
		if want := time.Date(2026, 3, 4, 4, 6, 7, 0, time.UTC); !hdr.ModTime.Equal(want) {
			t.Errorf("%s: mtime %v, want %v", hdr.Name, hdr.ModTime, want)
		}
		wantMode := int64(0o644)
		if hdr.Name == "kubectl-drainwatch" {
			wantMode = 0o755
		}
		if hdr.Mode != wantMode {
			t.Errorf("%s: mode %o, want %o", hdr.Name, hdr.Mode, wantMode)
		}
	}
	if got := strings.Join(names, ","); got != "LICENSE,kubectl-drainwatch" {
		t.Errorf("entries %s, want LICENSE,kubectl-drainwatch", got)
	}
}

func TestZipIsDeterministic(t *testing.T) {
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	es := testEntries()
	es[0].Name = "kubectl-drainwatch.exe"
	var a, b bytes.Buffer
	if err := writeZip(&a, es, mtime); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, reversed(es), mtime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same files differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 2 || zr.File[0].Name != "LICENSE" || zr.File[1].Name != "kubectl-drainwatch.exe" {
		t.Fatalf("zip holds %v, want LICENSE then kubectl-drainwatch.exe", zr.File)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(mtime) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, mtime)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		wantData, wantMode := es[1].Data, os.FileMode(0o644)
		if f.Name == "kubectl-drainwatch.exe" {
			wantData, wantMode = es[0].Data, 0o755
		}
		if !bytes.Equal(data, wantData) {
			t.Errorf("%s: content differs after a round trip", f.Name)
		}
		if f.Mode().Perm() != wantMode {
			t.Errorf("%s: mode %v, want %v", f.Name, f.Mode().Perm(), wantMode)
		}
	}
}

func TestArchiveTimeClampsToZipEpoch(t *testing.T) {
	if got := archiveTime(time.Unix(0, 0)); !got.Equal(dosEpoch()) {
		t.Errorf("archiveTime(1970) = %v, want %v", got, dosEpoch())
	}
}

const botTemplate = `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: demo
spec:
  version: {{ .TagName }}
  platforms:
  - selector:
      matchLabels:
        os: linux
        arch: amd64
    {{addURIAndSha "https://example.com/{{ .TagName }}/demo_{{ .Version }}_linux_amd64.tar.gz" .TagName }}
    bin: demo
`

func TestRenderManifestMatchesTheBotLayout(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	got, used, err := renderManifest("t", []byte(botTemplate), "v1.2.3", map[string]string{"demo_1.2.3_linux_amd64.tar.gz": sum}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: demo
spec:
  version: v1.2.3
  platforms:
  - selector:
      matchLabels:
        os: linux
        arch: amd64
    uri: https://example.com/v1.2.3/demo_1.2.3_linux_amd64.tar.gz
    sha256: ` + sum + `
    bin: demo
`
	if string(got) != want {
		t.Errorf("rendered\n%s\nwant\n%s", got, want)
	}
	if len(used) != 1 || used[0] != "demo_1.2.3_linux_amd64.tar.gz" {
		t.Errorf("used = %v", used)
	}
}

func TestRenderManifestFailsOnAnArchiveNotBuilt(t *testing.T) {
	_, _, err := renderManifest("t", []byte(botTemplate), "v1.2.3", map[string]string{}, false)
	if err == nil || !strings.Contains(err.Error(), "demo_1.2.3_linux_amd64.tar.gz") {
		t.Fatalf("err = %v, want it to name the missing archive", err)
	}
}

func TestRenderManifestLeavesOutPlatformsNotBuilt(t *testing.T) {
	tmpl, err := os.ReadFile("../../.krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{"kubectl-drainwatch_v1.2.3_linux_amd64.tar.gz": strings.Repeat("a", 64)}
	got, used, err := renderManifest(".krew.yaml", tmpl, "v1.2.3", sums, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "uri:"); n != 1 || !strings.Contains(string(got), "linux_amd64") || len(used) != 1 {
		t.Errorf("want only the linux/amd64 platform, got %d uris:\n%s", n, got)
	}
}

func TestAllUsed(t *testing.T) {
	sums := map[string]string{"a.tar.gz": "1", "b.zip": "2"}
	if err := allUsed(sums, []string{"b.zip", "a.tar.gz"}); err != nil {
		t.Errorf("allUsed(all) = %v", err)
	}
	if err := allUsed(sums, []string{"a.tar.gz"}); err == nil || !strings.Contains(err.Error(), "b.zip") {
		t.Errorf("allUsed(missing b.zip) = %v", err)
	}
	if err := allUsed(sums, []string{"a.tar.gz", "a.tar.gz", "b.zip"}); err == nil {
		t.Error("allUsed(duplicate) = nil, want an error")
	}
}

func TestSumsRoundTrip(t *testing.T) {
	sums := map[string]string{"b.zip": strings.Repeat("1", 64), "a.tar.gz": strings.Repeat("f", 64)}
	text := formatSums(sums)
	if want := strings.Repeat("f", 64) + "  a.tar.gz\n" + strings.Repeat("1", 64) + "  b.zip\n"; string(text) != want {
		t.Errorf("formatSums = %q, want %q", text, want)
	}
	got, err := parseSums(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a.tar.gz"] != sums["a.tar.gz"] || got["b.zip"] != sums["b.zip"] {
		t.Errorf("parseSums(formatSums(x)) = %v, want %v", got, sums)
	}
	if _, err := parseSums([]byte("nothex  a.tar.gz\n")); err == nil {
		t.Error("parseSums accepted a bad digest")
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		epoch     string
		wantErr   string
		wantEpoch int64
	}{
		{name: "release", args: []string{"-version", "v0.1.0"}, wantEpoch: defaultEpoch},
		{name: "git describe output", args: []string{"-version", "v0.1.0-3-gabc1234"}, epoch: "1767225600", wantEpoch: 1767225600},
		{name: "missing v", args: []string{"-version", "0.1.0"}, wantErr: "v-prefixed"},
		{name: "no version", wantErr: "v-prefixed"},
		{name: "bad epoch", args: []string{"-version", "v0.1.0"}, epoch: "yesterday", wantErr: "SOURCE_DATE_EPOCH"},
		{name: "render-only without sums", args: []string{"-version", "v0.1.0", "-render-only"}, wantErr: "-sums"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.epoch)
			o, err := parseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.epoch.Unix() != tt.wantEpoch {
				t.Errorf("epoch = %d, want %d", o.epoch.Unix(), tt.wantEpoch)
			}
		})
	}
}

func TestResetOutDirKeepsForeignDirectories(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := resetOutDir(dir); err == nil {
		t.Fatal("resetOutDir emptied a directory it did not make")
	}
	own := filepath.Join(dir, "dist")
	if err := resetOutDir(own); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "old.tar.gz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := resetOutDir(own); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(own, "old.tar.gz")); !os.IsNotExist(err) {
		t.Errorf("old archive survived a reset: %v", err)
	}
}

// The manifest kept in the repository must be exactly the template rendered
// for its own version and digests; otherwise one of them was edited by hand.
func TestRepositoryManifestIsTheRenderedTemplate(t *testing.T) {
	root := filepath.Join("..", "..")
	manifest, err := os.ReadFile(filepath.Join(root, "krew-manifest.yaml"))
	if err != nil {
		t.Fatalf("the repository must hold krew-manifest.yaml (make dist VERSION=vX.Y.Z writes it): %v", err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, ".krew.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	version, sums := scanManifest(t, manifest)
	got, used, err := renderManifest(".krew.yaml", tmpl, version, sums, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := allUsed(sums, used); err != nil {
		t.Error(err)
	}
	if len(used) != 6 {
		t.Errorf("the template has %d platforms, want 6 (linux, darwin, windows on amd64 and arm64)", len(used))
	}
	if !bytes.Equal(got, manifest) {
		t.Errorf("krew-manifest.yaml differs from .krew.yaml rendered for %s; run make dist VERSION=%s\ngot:\n%s", version, version, got)
	}
}

// scanManifest reads spec.version and each platform's uri/sha256 pair with a
// line scan; test/krew parses the same file with krew's own types.
func scanManifest(t *testing.T, manifest []byte) (string, map[string]string) {
	t.Helper()
	var version, uri string
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(manifest))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "version: ") && version == "":
			version = strings.TrimPrefix(line, "version: ")
		case strings.HasPrefix(line, "uri: "):
			uri = strings.TrimPrefix(line, "uri: ")
		case strings.HasPrefix(line, "sha256: "):
			if uri == "" {
				t.Fatalf("sha256 without a uri before it: %q", line)
			}
			sums[filepath.Base(uri)] = strings.TrimPrefix(line, "sha256: ")
			uri = ""
		}
	}
	if version == "" || len(sums) == 0 {
		t.Fatalf("krew-manifest.yaml has no version or no uri/sha256 pairs")
	}
	return version, sums
}

// TestBuildTagsKeepTemplatesOut checks that the plugin built with BuildTags does not link
// golang.org/x/net/trace, whose HTML templates would turn off the linker's removal of unused
// methods and double the binary.
func TestBuildTagsKeepTemplatesOut(t *testing.T) {
	list := func(tags string) string {
		out, err := exec.Command("go", "list", "-tags", tags, "-deps", "../../cmd/kubectl-drainwatch").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	const trace = "\ngolang.org/x/net/trace\n"
	if strings.Contains(list(BuildTags), trace) {
		t.Errorf("the plugin built with -tags %s links golang.org/x/net/trace", BuildTags)
	}
	if !strings.Contains(list(""), trace) {
		t.Log("without the tags golang.org/x/net/trace is not linked either: the tag may be unnecessary now")
	}
}

// TestEveryBuildUsesBuildTags checks that each script and test that builds the plugin reads its
// tags from hack/dist/build-tags, the file BuildTags comes from, instead of spelling them.
func TestEveryBuildUsesBuildTags(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../../*/*.sh", "../../*/*/*.sh", "../../test/e2e/*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	builds := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// A command continued over lines counts as one.
		for _, line := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
			if !strings.Contains(line, "build") || !strings.Contains(line, "cmd/kubectl-drainwatch") {
				continue
			}
			builds++
			if strings.Contains(line, BuildTags) || !strings.Contains(line, "-tags") {
				t.Errorf("%s builds the plugin without reading hack/dist/build-tags: %s", f, strings.TrimSpace(line))
			}
		}
	}
	if builds < 5 {
		t.Errorf("found %d builds of the plugin in %d files; the globs no longer find the scripts", builds, len(files))
	}
}
