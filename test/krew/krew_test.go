// Package krew tests that kubectl-drainwatch installs with krew and runs as
// `kubectl drainwatch`. It lives in its own module because krew v0.4.3 pins
// k8s.io/apimachinery v0.21 while the plugin needs v0.37.
//
// It validates the release manifest with krew's own code (the
// validate-krew-manifest command of sigs.k8s.io/krew v0.4.3, which runs krew's
// internal validation package, plus krew's index.Plugin type decoded
// strictly), installs every platform's archive with the real krew binary from
// the manifest and a local --archive into a temporary KREW_ROOT, and runs
// `kubectl drainwatch version` through kubectl's plugin discovery.
//
// Environment:
//
//	DRAINWATCH_DIST_DIR   output of `make dist`; without it the test runs hack/dist itself
//	DRAINWATCH_VERSION    the VERSION that dist was made with (required with DRAINWATCH_DIST_DIR)
//	DRAINWATCH_COMMIT     the COMMIT that dist was made with (required with DRAINWATCH_DIST_DIR)
//	SOURCE_DATE_EPOCH     the archive time that dist was made with, if any
//
// krew and validate-krew-manifest are built once from the Go module proxy into
// $XDG_CACHE_HOME/drainwatch/krew/v0.4.3. kubectl is the pinned one built by
// the local cluster scripts ($XDG_CACHE_HOME/drainwatch/cluster-bin/*/kubectl)
// when present, otherwise the first kubectl on PATH.
package krew

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"
)

const (
	krewModule   = "sigs.k8s.io/krew"
	krewVersion  = "v0.4.3"
	pluginName   = "drainwatch"
	binaryName   = "kubectl-drainwatch"
	homepage     = "https://github.com/drainwatch/kubectl-drainwatch"
	releaseURL   = homepage + "/releases/download/"
	manifestFile = pluginName + ".yaml"
	sumsFile     = "sha256sums.txt"
)

// wantPlatforms are the os/arch pairs the release manifest must offer.
func wantPlatforms() []string {
	return []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}
}

// distPlatforms are the platforms the dist under test was built for: all of wantPlatforms, or
// the comma-separated DRAINWATCH_PLATFORMS (make test builds only this machine's, since
// cross-compiling six platforms takes most of half an hour on a cold 2-core machine).
func distPlatforms() []string {
	if v := os.Getenv("DRAINWATCH_PLATFORMS"); v != "" {
		list := strings.Split(v, ",")
		sort.Strings(list)
		return list
	}
	return wantPlatforms()
}

// env is what one run of the test works with.
type env struct {
	root     string // repository root
	dist     string // dist directory
	version  string
	commit   string
	epoch    string
	krew     string // directory holding kubectl-krew
	validate string // validate-krew-manifest binary
	kubectl  string // kubectl binary
}

func TestKrew(t *testing.T) {
	e := setup(t)
	manifestPath := filepath.Join(e.dist, manifestFile)
	plugin := decodeStrict(t, manifestPath)
	sums := readSums(t, filepath.Join(e.dist, sumsFile))

	t.Run("manifest describes the release", func(t *testing.T) {
		checkPlugin(t, plugin, e.version, sums)
	})

	t.Run("archives match the manifest digests", func(t *testing.T) {
		for _, p := range plugin.Spec.Platforms {
			name := filepath.Base(p.URI)
			if got := fileSHA256(t, filepath.Join(e.dist, name)); got != p.Sha256 {
				t.Errorf("%s: sha256 %s, manifest says %s", name, got, p.Sha256)
			}
		}
	})

	t.Run("krew validates the dist manifest", func(t *testing.T) {
		validate(t, e, manifestPath)
	})

	t.Run("krew validates the repository manifest", func(t *testing.T) {
		// validate-krew-manifest takes the plugin name from the file name.
		dir := t.TempDir()
		path := filepath.Join(dir, manifestFile)
		copyFile(t, filepath.Join(e.root, "krew-manifest.yaml"), path)
		repo := decodeStrict(t, path)
		validate(t, e, path)
		if err := onlyReleaseURIs(repo); err != nil {
			t.Error(err)
		}
		if len(repo.Spec.Platforms) != len(wantPlatforms()) {
			t.Errorf("krew-manifest.yaml has %d platforms, want %d", len(repo.Spec.Platforms), len(wantPlatforms()))
		}
	})

	t.Run("two dist runs give identical archives", func(t *testing.T) {
		again := t.TempDir()
		start := time.Now()
		runDist(t, e, filepath.Join(again, "dist"))
		t.Logf("second dist run took %s", time.Since(start).Round(time.Second))
		for _, f := range []string{sumsFile, manifestFile} {
			a := readFile(t, filepath.Join(e.dist, f))
			b := readFile(t, filepath.Join(again, "dist", f))
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs between two runs:\n%s\n---\n%s", f, a, b)
			}
		}
	})

	for _, p := range plugin.Spec.Platforms {
		osName, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		t.Run("krew installs "+osName+"/"+arch, func(t *testing.T) {
			krewRoot := t.TempDir()
			archive := filepath.Join(e.dist, filepath.Base(p.URI))
			out, err := krewInstall(e, krewRoot, osName, arch, manifestPath, archive)
			if err != nil {
				t.Fatalf("kubectl krew install: %v\n%s", err, out)
			}
			checkInstalled(t, krewRoot, e.version, osName, arch)
		})
	}

	t.Run("krew rejects an archive that does not match its digest", func(t *testing.T) {
		host := runtime.GOOS + "/" + runtime.GOARCH
		p, ok := platformFor(plugin, runtime.GOOS, runtime.GOARCH)
		if !ok {
			t.Fatalf("the manifest has no platform for this machine (%s)", host)
		}
		tampered := filepath.Join(t.TempDir(), filepath.Base(p.URI))
		data := readFile(t, filepath.Join(e.dist, filepath.Base(p.URI)))
		data[len(data)/2] ^= 0xff
		if err := os.WriteFile(tampered, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := krewInstall(e, t.TempDir(), runtime.GOOS, runtime.GOARCH, manifestPath, tampered)
		if err == nil {
			t.Fatalf("krew installed a tampered archive:\n%s", out)
		}
		if !strings.Contains(out, "checksum does not match") {
			t.Errorf("krew failed for another reason than the checksum:\n%s", out)
		}
	})

	t.Run("kubectl drainwatch version", func(t *testing.T) {
		krewRoot := t.TempDir()
		p, ok := platformFor(plugin, runtime.GOOS, runtime.GOARCH)
		if !ok {
			t.Fatalf("the manifest has no platform for this machine (%s/%s)", runtime.GOOS, runtime.GOARCH)
		}
		archive := filepath.Join(e.dist, filepath.Base(p.URI))
		if out, err := krewInstall(e, krewRoot, runtime.GOOS, runtime.GOARCH, manifestPath, archive); err != nil {
			t.Fatalf("kubectl krew install: %v\n%s", err, out)
		}
		checkVersionCommand(t, e, krewRoot)
	})
}

// setup finds the repository, the dist output (making it when not given),
// kubectl and the krew tools.
func setup(t *testing.T) env {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".krew.yaml")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	e := env{
		root:    root,
		dist:    os.Getenv("DRAINWATCH_DIST_DIR"),
		version: os.Getenv("DRAINWATCH_VERSION"),
		commit:  os.Getenv("DRAINWATCH_COMMIT"),
		epoch:   os.Getenv("SOURCE_DATE_EPOCH"),
	}
	e.kubectl = findKubectl(t)
	e.krew, e.validate = krewTools(t)

	if e.dist == "" {
		// A version no release will ever have, so the run cannot be
		// mistaken for one; the commit marks it as this test's build.
		e.version, e.commit, e.epoch = "v0.0.0-krewtest", "krewtest", "1767225600"
		e.dist = filepath.Join(t.TempDir(), "dist")
		start := time.Now()
		runDist(t, e, e.dist)
		t.Logf("dist run took %s", time.Since(start).Round(time.Second))
		return e
	}
	if e.version == "" || e.commit == "" {
		t.Fatal("DRAINWATCH_DIST_DIR needs DRAINWATCH_VERSION and DRAINWATCH_COMMIT, the values dist was made with (make test-krew passes them)")
	}
	if e.dist, err = filepath.Abs(e.dist); err != nil {
		t.Fatal(err)
	}
	return e
}

// runDist runs hack/dist from the repository into out with e's version,
// commit and time. It never writes the repository manifest.
func runDist(t *testing.T, e env, out string) {
	t.Helper()
	args := []string{"run", "./hack/dist", "-version", e.version, "-commit", e.commit, "-out", out}
	if v := os.Getenv("DRAINWATCH_PLATFORMS"); v != "" {
		args = append(args, "-platforms", v)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+e.epoch)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	t.Logf("hack/dist:\n%s", b)
}

// cacheDir is $XDG_CACHE_HOME/drainwatch (or the platform's equivalent).
func cacheDir(t *testing.T) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no cache directory for krew and kubectl: %v", err)
	}
	return filepath.Join(dir, "drainwatch")
}

// krewTools builds krew and validate-krew-manifest at krewVersion from the
// module proxy once, and returns a directory holding kubectl-krew (so that
// kubectl finds krew as a plugin) and the validator's path.
func krewTools(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(cacheDir(t), "krew", krewVersion)
	krew := filepath.Join(dir, "kubectl-krew")
	validate := filepath.Join(dir, "validate-krew-manifest")
	if isExecutable(krew) && isExecutable(validate) {
		return dir, validate
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// Build into a fresh directory and rename it into place, so that an
	// interrupted build never leaves half a tool set in the cache.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	cmd := exec.Command("go", "install",
		krewModule+"/cmd/krew@"+krewVersion,
		krewModule+"/cmd/validate-krew-manifest@"+krewVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building krew %s from the module proxy: %v\n%s", krewVersion, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "krew"), filepath.Join(tmp, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("built krew %s and validate-krew-manifest in %s", krewVersion, time.Since(start).Round(time.Second))
	return dir, validate
}

// findKubectl prefers the kubectl pinned by the local cluster build and falls
// back to the one on PATH; the test cannot run without one.
func findKubectl(t *testing.T) string {
	t.Helper()
	pinned, _ := filepath.Glob(filepath.Join(cacheDir(t), "cluster-bin", "*", "kubectl"))
	sort.Slice(pinned, func(i, j int) bool { return modTime(pinned[i]).After(modTime(pinned[j])) })
	for _, p := range pinned {
		if isExecutable(p) {
			t.Logf("using the pinned kubectl %s", p)
			return p
		}
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("no kubectl: neither %s nor one on PATH; build the cluster binaries (test/cluster/build.sh) or install kubectl",
			filepath.Join(cacheDir(t), "cluster-bin", "*", "kubectl"))
	}
	t.Logf("no pinned kubectl in %s, using %s", filepath.Join(cacheDir(t), "cluster-bin"), p)
	return p
}

// decodeStrict reads a manifest into krew's own Plugin type, rejecting
// unknown fields. krew itself ignores them, so a misspelt key (sha265:,
// matchLabel:) would otherwise pass validation and break installs.
func decodeStrict(t *testing.T, path string) index.Plugin {
	t.Helper()
	var p index.Plugin
	if err := yaml.UnmarshalStrict(readFile(t, path), &p); err != nil {
		t.Fatalf("%s is not a krew Plugin: %v", path, err)
	}
	return p
}

// checkPlugin checks what the project promises about its manifest beyond
// what krew validates.
func checkPlugin(t *testing.T, p index.Plugin, version string, sums map[string]string) {
	t.Helper()
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" {
		t.Errorf("apiVersion/kind = %s/%s", p.APIVersion, p.Kind)
	}
	if p.Name != pluginName {
		t.Errorf("metadata.name = %q, want %q", p.Name, pluginName)
	}
	if p.Spec.Version != version {
		t.Errorf("spec.version = %q, want %q", p.Spec.Version, version)
	}
	if p.Spec.Homepage != homepage {
		t.Errorf("spec.homepage = %q, want %q", p.Spec.Homepage, homepage)
	}
	if n := len(strings.Fields(p.Spec.ShortDescription)); n < 2 || n > 8 {
		t.Errorf("spec.shortDescription %q has %d words, want a few", p.Spec.ShortDescription, n)
	}
	if strings.TrimSpace(p.Spec.Description) == "" {
		t.Error("spec.description is empty")
	}
	if err := onlyReleaseURIs(p); err != nil {
		t.Error(err)
	}

	var got []string
	for _, pl := range p.Spec.Platforms {
		sel := pl.Selector
		if sel == nil || len(sel.MatchLabels) != 2 || len(sel.MatchExpressions) != 0 {
			t.Errorf("platform %s: selector %v, want matchLabels with exactly os and arch", pl.URI, sel)
			continue
		}
		osName, arch := sel.MatchLabels["os"], sel.MatchLabels["arch"]
		got = append(got, osName+"/"+arch)
		exe, ext := binaryName, ".tar.gz"
		if osName == "windows" {
			exe, ext = binaryName+".exe", ".zip"
		}
		if pl.Bin != exe {
			t.Errorf("%s/%s: bin %q, want %q", osName, arch, pl.Bin, exe)
		}
		wantName := fmt.Sprintf("%s_%s_%s_%s%s", binaryName, version, osName, arch, ext)
		if filepath.Base(pl.URI) != wantName {
			t.Errorf("%s/%s: uri %s, want it to end in %s", osName, arch, pl.URI, wantName)
		}
		if sums[wantName] != pl.Sha256 {
			t.Errorf("%s/%s: sha256 %s, %s says %s", osName, arch, pl.Sha256, sumsFile, sums[wantName])
		}
		files := map[string]bool{}
		for _, f := range pl.Files {
			files[f.From] = true
		}
		if !files[exe] || !files["LICENSE"] {
			t.Errorf("%s/%s: files %v, want the binary and LICENSE", osName, arch, pl.Files)
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(distPlatforms(), " ") {
		t.Errorf("platforms %v, want %v", got, distPlatforms())
	}
	if len(sums) != len(distPlatforms()) {
		t.Errorf("%s lists %d archives, want %d", sumsFile, len(sums), len(distPlatforms()))
	}
}

// onlyReleaseURIs checks that every platform downloads from the release of
// the manifest's own version.
func onlyReleaseURIs(p index.Plugin) error {
	prefix := releaseURL + p.Spec.Version + "/"
	for _, pl := range p.Spec.Platforms {
		if !strings.HasPrefix(pl.URI, prefix) {
			return fmt.Errorf("uri %s is not under %s", pl.URI, prefix)
		}
	}
	return nil
}

// validate runs krew's validate-krew-manifest: krew's plugin validation, plus
// every platform matching a supported os/arch and no two overlapping.
// Installing is left to the subtests below because the validator would
// download from the release URIs; those install from the local archives.
func validate(t *testing.T, e env, manifest string) {
	t.Helper()
	cmd := exec.Command(e.validate, "-manifest", manifest, "-skip-install")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("validate-krew-manifest %s: %v\n%s", manifest, err, out)
	}
	for _, want := range []string{"structural validation OK", "all spec.platform[] items are used", "no overlapping spec.platform[].selector"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate-krew-manifest did not report %q:\n%s", want, out)
		}
	}
}

// krewEnv is a minimal environment: krew's own root, kubectl and krew on
// PATH, no kubeconfig (the version command must not need a cluster) and no
// network checks.
func krewEnv(e env, krewRoot string) []string {
	path := strings.Join([]string{filepath.Join(krewRoot, "bin"), e.krew, filepath.Dir(e.kubectl), "/usr/bin", "/bin"}, string(os.PathListSeparator))
	return []string{
		"PATH=" + path,
		"HOME=" + krewRoot,
		"KREW_ROOT=" + krewRoot,
		"KREW_NO_UPGRADE_CHECK=1",
		"KUBECONFIG=" + filepath.Join(krewRoot, "no-kubeconfig"),
	}
}

// krewInstall runs `kubectl krew install --manifest --archive` as krew's docs
// describe for testing a plugin before release, for the given os/arch.
func krewInstall(e env, krewRoot, osName, arch, manifest, archive string) (string, error) {
	cmd := exec.Command(e.kubectl, "krew", "install", "--manifest="+manifest, "--archive="+archive)
	cmd.Env = append(krewEnv(e, krewRoot), "KREW_OS="+osName, "KREW_ARCH="+arch)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// checkInstalled checks what krew left in krewRoot: the receipt, the link
// kubectl discovers, the license, and a binary for the right os/arch.
func checkInstalled(t *testing.T, krewRoot, version, osName, arch string) {
	t.Helper()
	exe := binaryName
	if osName == "windows" {
		exe += ".exe"
	}
	if _, err := os.Stat(filepath.Join(krewRoot, "receipts", pluginName+".yaml")); err != nil {
		t.Errorf("no receipt: %v", err)
	}
	store := filepath.Join(krewRoot, "store", pluginName, version)
	if _, err := os.Stat(filepath.Join(store, "LICENSE")); err != nil {
		t.Errorf("LICENSE not installed: %v", err)
	}
	link := filepath.Join(krewRoot, "bin", exe)
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatalf("krew made no link %s: %v", link, err)
	}
	if want := filepath.Join(store, exe); target != want {
		t.Errorf("%s points at %s, want %s", link, target, want)
	}
	info, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %v)", target, info.Mode())
	}
	if got, err := binaryPlatform(target); err != nil {
		t.Errorf("%s: %v", target, err)
	} else if got != osName+"/"+arch {
		t.Errorf("%s is built for %s, want %s/%s", target, got, osName, arch)
	}
}

// binaryPlatform reads the os/arch an executable was built for from its
// ELF, Mach-O or PE header.
func binaryPlatform(path string) (string, error) {
	if f, err := elf.Open(path); err == nil {
		defer f.Close()
		switch f.Machine {
		case elf.EM_X86_64:
			return "linux/amd64", nil
		case elf.EM_AARCH64:
			return "linux/arm64", nil
		}
		return "", fmt.Errorf("ELF for machine %v", f.Machine)
	}
	if f, err := macho.Open(path); err == nil {
		defer f.Close()
		switch f.Cpu {
		case macho.CpuAmd64:
			return "darwin/amd64", nil
		case macho.CpuArm64:
			return "darwin/arm64", nil
		}
		return "", fmt.Errorf("Mach-O for cpu %v", f.Cpu)
	}
	if f, err := pe.Open(path); err == nil {
		defer f.Close()
		switch f.Machine {
		case pe.IMAGE_FILE_MACHINE_AMD64:
			return "windows/amd64", nil
		case pe.IMAGE_FILE_MACHINE_ARM64:
			return "windows/arm64", nil
		}
		return "", fmt.Errorf("PE for machine %#x", f.Machine)
	}
	return "", errors.New("not an ELF, Mach-O or PE executable")
}

// versionInfo is the JSON printed by `kubectl drainwatch version -o json`.
type versionInfo struct {
	Version         string `json:"version"`
	Commit          string `json:"commit"`
	GoVersion       string `json:"goVersion"`
	ClientGoVersion string `json:"clientGoVersion"`
	Platform        string `json:"platform"`
}

// checkVersionCommand runs the installed plugin the way a user does and
// checks that it reports the build dist made.
func checkVersionCommand(t *testing.T, e env, krewRoot string) {
	t.Helper()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(e.kubectl, args...)
		cmd.Env = krewEnv(e, krewRoot)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	list := run("plugin", "list")
	if want := filepath.Join(krewRoot, "bin", binaryName); !strings.Contains(list, want) {
		t.Errorf("kubectl plugin list does not show %s:\n%s", want, list)
	}

	want := versionInfo{
		Version:         e.version,
		Commit:          e.commit,
		GoVersion:       goOutput(t, e.root, "env", "GOVERSION"),
		ClientGoVersion: goOutput(t, e.root, "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", "k8s.io/client-go"),
		Platform:        runtime.GOOS + "/" + runtime.GOARCH,
	}

	var got versionInfo
	out := run("drainwatch", "version", "-o", "json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("kubectl drainwatch version -o json printed %q: %v", out, err)
	}
	if got != want {
		t.Errorf("kubectl drainwatch version -o json = %+v, want %+v", got, want)
	}

	text := run("drainwatch", "version")
	for _, line := range []string{
		"Version:   " + want.Version,
		"Commit:    " + want.Commit,
		"Go:        " + want.GoVersion,
		"client-go: " + want.ClientGoVersion,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("kubectl drainwatch version lacks %q:\n%s", line, text)
		}
	}
	t.Logf("kubectl drainwatch version:\n%s", text)
}

// goOutput runs the go command in dir and returns its trimmed output.
func goOutput(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func platformFor(p index.Plugin, osName, arch string) (index.Platform, bool) {
	for _, pl := range p.Spec.Platforms {
		if pl.Selector != nil && pl.Selector.MatchLabels["os"] == osName && pl.Selector.MatchLabels["arch"] == arch {
			return pl, true
		}
	}
	return index.Platform{}, false
}

func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(readFile(t, path))), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		sums[name] = sum
	}
	return sums
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(readFile(t, path))
	return hex.EncodeToString(sum[:])
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, readFile(t, from), 0o644); err != nil {
		t.Fatal(err)
	}
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

func modTime(path string) time.Time {
	info, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return info.ModTime()
}
