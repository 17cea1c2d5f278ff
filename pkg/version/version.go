// Package version reports which build of kubectl-drainwatch is running: the
// release version and commit stamped at link time, and the Go toolchain and
// client-go module it was built with.
package version

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"text/tabwriter"
)

// Version is the release version, set at link time with
// -ldflags "-X github.com/drainwatch/kubectl-drainwatch/pkg/version.Version=v0.1.0".
// It has to be a package-level string variable because -X can set nothing else;
// nothing in the program writes to it.
var Version string

// Commit is the source commit, set at link time with
// -ldflags "-X github.com/drainwatch/kubectl-drainwatch/pkg/version.Commit=...".
// Like Version, it is a variable only so that the linker can set it.
var Commit string

// DevVersion is reported when neither -ldflags nor the module version say
// which version this is (a plain `go build` in a checkout).
const DevVersion = "v0.0.0-dev"

// Unknown is reported for a field the build carries no information about.
const Unknown = "unknown"

// clientGoModule is the module whose version tells which Kubernetes API
// versions the plugin speaks.
const clientGoModule = "k8s.io/client-go"

// Info is the build identity printed by `kubectl drainwatch version`.
type Info struct {
	// Version is the release version, e.g. v0.1.0.
	Version string `json:"version"`
	// Commit is the source commit the binary was built from.
	Commit string `json:"commit"`
	// GoVersion is the Go toolchain that built the binary, e.g. go1.26.7.
	GoVersion string `json:"goVersion"`
	// ClientGoVersion is the version of k8s.io/client-go linked in.
	ClientGoVersion string `json:"clientGoVersion"`
	// Platform is GOOS/GOARCH of the binary.
	Platform string `json:"platform"`
}

// Get returns the Info of the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return FromBuildInfo(Version, Commit, bi, runtime.GOOS+"/"+runtime.GOARCH)
}

// FromBuildInfo combines the link-time version and commit with what the Go
// toolchain embedded in the binary. bi may be nil (a binary built without
// module support). Values set at link time win because release builds are
// made with -trimpath and -buildvcs=false, which leave the build info without
// VCS data; the build info is the fallback for `go install ...@version`.
func FromBuildInfo(version, commit string, bi *debug.BuildInfo, platform string) Info {
	info := Info{
		Version:         version,
		Commit:          commit,
		GoVersion:       runtime.Version(),
		ClientGoVersion: Unknown,
		Platform:        platform,
	}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" {
			info.Commit = vcsCommit(bi.Settings)
		}
		for _, dep := range bi.Deps {
			if dep.Path != clientGoModule {
				continue
			}
			info.ClientGoVersion = dep.Version
			// A replace directive means the replacement is what got linked.
			if dep.Replace != nil && dep.Replace.Version != "" {
				info.ClientGoVersion = dep.Replace.Version
			}
			break
		}
	}
	if info.Version == "" {
		info.Version = DevVersion
	}
	if info.Commit == "" {
		info.Commit = Unknown
	}
	return info
}

// vcsCommit reads the revision that `go build` stamps when it runs inside a
// checkout, marking uncommitted changes the way `git describe --dirty` does.
func vcsCommit(settings []debug.BuildSetting) string {
	var rev string
	var modified bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}

// WriteText prints i as aligned "Key: value" lines.
func (i Info) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	rows := [][2]string{
		{"Version:", i.Version},
		{"Commit:", i.Commit},
		{"Go:", i.GoVersion},
		{"client-go:", i.ClientGoVersion},
		{"Platform:", i.Platform},
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1]); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// WriteJSON prints i as one indented JSON object followed by a newline.
func (i Info) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(i)
}
