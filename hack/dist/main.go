// Command dist builds the release archives of kubectl-drainwatch and the krew
// plugin manifest that points at them.
//
// For each platform it cross-compiles the plugin (CGO_ENABLED=0, -trimpath,
// no VCS stamping), packs the binary and LICENSE into a .tar.gz (a .zip on
// Windows) with fixed owners, modes, order and times, writes sha256sums.txt,
// and renders the krew-release-bot template .krew.yaml with those digests into
// OUT/drainwatch.yaml. Two runs on the same source with the same Go toolchain,
// version, commit and SOURCE_DATE_EPOCH give byte-identical archives.
//
// With -release-manifest, the rendered manifest is also written there, but only
// for a release version (vMAJOR.MINOR.PATCH), so development builds never touch
// the manifest kept in the repository.
//
// With -render-only, nothing is built: the template is rendered with the
// digests of an existing sums file and printed, which lets tests check that a
// committed manifest is exactly the template's output.
//
//	go run ./hack/dist -version v0.1.0 -commit $(git rev-parse HEAD) -out dist
//	go run ./hack/dist -render-only -version v0.1.0 -sums dist/sha256sums.txt
package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	binaryName = "kubectl-drainwatch"
	versionPkg = "github.com/drainwatch/kubectl-drainwatch/pkg/version"
	// sumsFile lists the digests of all archives in OUT.
	sumsFile = "sha256sums.txt"
	// markerFile marks OUT as made by this tool, so that it may be emptied.
	markerFile = ".dist"
	// defaultEpoch is used without SOURCE_DATE_EPOCH: 1980-01-01, the
	// earliest time a zip entry can carry.
	defaultEpoch = 315532800
)

// defaultPlatforms are the platforms of the krew manifest.
const defaultPlatforms = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64"

var (
	// semverTag is a v-prefixed semantic version, as krew requires.
	semverTag = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	// releaseTag is a version without pre-release or build suffix.
	releaseTag = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)
)

// options are the command-line flags.
type options struct {
	version         string
	commit          string
	out             string
	template        string
	manifestName    string
	releaseManifest string
	license         string
	pkg             string
	buildDir        string
	platforms       string
	renderOnly      bool
	sums            string
	image           string
	epoch           time.Time
}

// platform is one GOOS/GOARCH target.
type platform struct {
	OS, Arch string
}

func (p platform) exe() string {
	if p.OS == "windows" {
		return binaryName + ".exe"
	}
	return binaryName
}

func (p platform) archiveName(version string) string {
	ext := ".tar.gz"
	if p.OS == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("%s_%s_%s_%s%s", binaryName, version, p.OS, p.Arch, ext)
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err == nil {
		switch {
		case o.renderOnly:
			err = renderOnly(o, os.Stdout)
		case o.image != "":
			err = runImage(o, os.Stdout)
		default:
			err = run(o, os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("dist", flag.ContinueOnError)
	fs.StringVar(&o.version, "version", "", "release version, v-prefixed semver (required)")
	fs.StringVar(&o.commit, "commit", "unknown", "source commit stamped into the binary")
	fs.StringVar(&o.out, "out", "dist", "output directory; emptied first if made by an earlier run")
	fs.StringVar(&o.template, "template", ".krew.yaml", "krew-release-bot template of the plugin manifest")
	fs.StringVar(&o.manifestName, "manifest-name", "drainwatch.yaml", "file name of the rendered manifest in -out")
	fs.StringVar(&o.releaseManifest, "release-manifest", "", "also write the manifest here when -version is a release (vX.Y.Z)")
	fs.StringVar(&o.license, "license", "LICENSE", "license file packed next to the binary")
	fs.StringVar(&o.pkg, "pkg", "./cmd/kubectl-drainwatch", "main package to build")
	fs.StringVar(&o.buildDir, "C", "", "directory to run go build in (default: the current one)")
	fs.StringVar(&o.platforms, "platforms", defaultPlatforms, "comma-separated GOOS/GOARCH list")
	fs.BoolVar(&o.renderOnly, "render-only", false, "print the template rendered with -sums and build nothing")
	fs.StringVar(&o.sums, "sums", "", "sha256sum file to render with (-render-only)")
	fs.StringVar(&o.image, "image", "", "build only the container image of this name (e.g. ghcr.io/drainwatch/kubectl-drainwatch:v0.1.0) for the linux platforms, as OUT/image.tar")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if !semverTag.MatchString(o.version) {
		return o, fmt.Errorf("-version %q is not a v-prefixed semantic version (krew rejects it); e.g. v0.1.0", o.version)
	}
	if o.renderOnly && o.sums == "" {
		return o, errors.New("-render-only needs -sums FILE")
	}
	epoch := int64(defaultEpoch)
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return o, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a Unix time in seconds: %w", s, err)
		}
		epoch = v
	}
	o.epoch = time.Unix(epoch, 0).UTC()
	return o, nil
}

func parsePlatforms(list string) ([]platform, error) {
	var ps []platform
	for _, s := range strings.Split(list, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(s), "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("-platforms: %q is not GOOS/GOARCH", s)
		}
		ps = append(ps, platform{OS: goos, Arch: goarch})
	}
	return ps, nil
}

func renderOnly(o options, stdout io.Writer) error {
	tmpl, err := os.ReadFile(o.template)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(o.sums)
	if err != nil {
		return err
	}
	sums, err := parseSums(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.sums, err)
	}
	manifest, _, err := renderManifest(filepath.Base(o.template), tmpl, o.version, sums, false)
	if err != nil {
		return err
	}
	_, err = stdout.Write(manifest)
	return err
}

func run(o options, stdout io.Writer) error {
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		return err
	}
	tmpl, err := os.ReadFile(o.template)
	if err != nil {
		return err
	}
	license, err := os.ReadFile(o.license)
	if err != nil {
		return fmt.Errorf("the archives must carry the license: %w", err)
	}
	if err := resetOutDir(o.out); err != nil {
		return err
	}

	start := time.Now()
	sums := map[string]string{}
	for _, p := range platforms {
		bin := filepath.Join(o.out, "bin", p.OS+"_"+p.Arch, p.exe())
		t0 := time.Now()
		if err := build(o, p, bin); err != nil {
			return err
		}
		buildTime := time.Since(t0)
		data, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		entries := []entry{
			{Name: p.exe(), Data: data, Mode: 0o755},
			{Name: "LICENSE", Data: license, Mode: 0o644},
		}
		var archive bytes.Buffer
		if p.OS == "windows" {
			err = writeZip(&archive, entries, o.epoch)
		} else {
			err = writeTarGz(&archive, entries, o.epoch)
		}
		if err != nil {
			return fmt.Errorf("%s/%s archive: %w", p.OS, p.Arch, err)
		}
		name := p.archiveName(o.version)
		if err := os.WriteFile(filepath.Join(o.out, name), archive.Bytes(), 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(archive.Bytes())
		sums[name] = hex.EncodeToString(sum[:])
		fmt.Fprintf(stdout, "%-45s binary %6.1f MiB  archive %6.1f MiB  built in %s\n",
			name, mib(len(data)), mib(archive.Len()), buildTime.Round(100*time.Millisecond))
	}
	if err := os.WriteFile(filepath.Join(o.out, sumsFile), formatSums(sums), 0o644); err != nil {
		return err
	}

	manifest, used, err := renderManifest(filepath.Base(o.template), tmpl, o.version, sums, o.platforms != defaultPlatforms)
	if err != nil {
		return err
	}
	if err := allUsed(sums, used); err != nil {
		return fmt.Errorf("%s: %w", o.template, err)
	}
	manifestPath := filepath.Join(o.out, o.manifestName)
	if err := os.WriteFile(manifestPath, manifest, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s for %s in %s\n", manifestPath, filepath.Join(o.out, sumsFile),
		o.version, time.Since(start).Round(100*time.Millisecond))

	if o.releaseManifest != "" {
		if !releaseTag.MatchString(o.version) {
			fmt.Fprintf(stdout, "left %s alone: %s is not a release version (vX.Y.Z)\n", o.releaseManifest, o.version)
			return nil
		}
		if err := os.WriteFile(o.releaseManifest, manifest, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s for release %s\n", o.releaseManifest, o.version)
	}
	return nil
}

// BuildTags are the build tags of every build of the plugin, read from hack/dist/build-tags,
// which the scripts and the e2e suite read too. grpcnotrace keeps gRPC (which the OTLP exporter
// links) from importing golang.org/x/net/trace: its HTML templates call methods by reflection,
// which stops the linker from dropping unused methods, and the binary doubled (39 to 68 MB,
// resident pages at start 24 to 41 MiB).
var BuildTags = strings.TrimSpace(buildTagsFile)

//go:embed build-tags
var buildTagsFile string

// build cross-compiles the plugin for p. The environment is pinned to what a
// reproducible build needs: no cgo (so no host C toolchain leaks in), default
// microarchitecture levels, and no user GOFLAGS that could change the output.
func build(o options, p platform, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	ldflags := fmt.Sprintf("-s -w -buildid= -X %s.Version=%s -X %s.Commit=%s", versionPkg, o.version, versionPkg, o.commit)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", BuildTags, "-ldflags", ldflags, "-o", absOut, o.pkg)
	cmd.Dir = o.buildDir
	cmd.Env = append(filteredEnv(os.Environ()), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch, "GOFLAGS=-mod=readonly")
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s/%s: %w", p.OS, p.Arch, err)
	}
	return nil
}

// filteredEnv drops variables that change the compiled bytes.
func filteredEnv(env []string) []string {
	drop := map[string]bool{
		"CGO_ENABLED": true, "GOOS": true, "GOARCH": true, "GOFLAGS": true,
		"GOAMD64": true, "GOARM64": true, "GOARM": true, "GO386": true, "GOEXPERIMENT": true,
	}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return out
}

// resetOutDir empties dir when an earlier run made it, so that archives of an
// older version do not linger next to the new manifest; it refuses to empty a
// directory it did not make.
func resetOutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case len(entries) == 0:
	default:
		if _, err := os.Stat(filepath.Join(dir, markerFile)); err != nil {
			return fmt.Errorf("-out %s is not empty and was not made by this tool; remove it or pick another", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, markerFile), nil, 0o644)
}

// allUsed reports archives that were built but that no platform of the
// template points at: the manifest would silently lack a platform.
func allUsed(sums map[string]string, used []string) error {
	seen := map[string]bool{}
	for _, u := range used {
		if seen[u] {
			return fmt.Errorf("%s appears in more than one platform", u)
		}
		seen[u] = true
	}
	var missing []string
	for name := range sums {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("no platform points at %s", strings.Join(missing, ", "))
	}
	return nil
}

func mib(n int) float64 { return float64(n) / (1 << 20) }
