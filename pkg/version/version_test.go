package version

import (
	"bytes"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	clientGo := &debug.Module{Path: "k8s.io/client-go", Version: "v0.37.2"}
	tests := []struct {
		name    string
		version string
		commit  string
		bi      *debug.BuildInfo
		want    Info
	}{
		{
			name:    "ldflags win over build info",
			version: "v0.3.0",
			commit:  "0123abc",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.7",
				Main:      debug.Module{Path: "github.com/drainwatch/kubectl-drainwatch", Version: "v0.2.0"},
				Deps:      []*debug.Module{{Path: "k8s.io/api", Version: "v0.37.2"}, clientGo},
				Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "ffff"}},
			},
			want: Info{Version: "v0.3.0", Commit: "0123abc", GoVersion: "go1.26.7", ClientGoVersion: "v0.37.2", Platform: "linux/arm64"},
		},
		{
			name: "go install at a version",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: "github.com/drainwatch/kubectl-drainwatch", Version: "v0.2.0"},
				Deps:      []*debug.Module{clientGo},
			},
			want: Info{Version: "v0.2.0", Commit: Unknown, GoVersion: "go1.26.8", ClientGoVersion: "v0.37.2", Platform: "linux/arm64"},
		},
		{
			name: "build in a dirty checkout",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: "github.com/drainwatch/kubectl-drainwatch", Version: "(devel)"},
				Deps:      []*debug.Module{clientGo},
				Settings: []debug.BuildSetting{
					{Key: "vcs.revision", Value: "abcdef0123"},
					{Key: "vcs.modified", Value: "true"},
				},
			},
			want: Info{Version: DevVersion, Commit: "abcdef0123-dirty", GoVersion: "go1.26.8", ClientGoVersion: "v0.37.2", Platform: "linux/arm64"},
		},
		{
			name: "replaced client-go reports the replacement",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Deps: []*debug.Module{{
					Path: "k8s.io/client-go", Version: "v0.0.0",
					Replace: &debug.Module{Path: "k8s.io/client-go", Version: "v0.37.3"},
				}},
			},
			want: Info{Version: DevVersion, Commit: Unknown, GoVersion: "go1.26.8", ClientGoVersion: "v0.37.3", Platform: "linux/arm64"},
		},
		{
			name: "no build info",
			want: Info{Version: DevVersion, Commit: Unknown, GoVersion: runtime.Version(), ClientGoVersion: Unknown, Platform: "linux/arm64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromBuildInfo(tt.version, tt.commit, tt.bi, "linux/arm64")
			if got != tt.want {
				t.Errorf("FromBuildInfo() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Test binaries carry no dependency list in their build info, so the
// client-go version is checked on the real plugin binary by test/krew; here
// only what any binary has is checked.
func TestGetReadsTheRunningBinary(t *testing.T) {
	got := Get()
	if got.GoVersion != runtime.Version() {
		t.Errorf("Get().GoVersion = %q, want %q", got.GoVersion, runtime.Version())
	}
	if want := runtime.GOOS + "/" + runtime.GOARCH; got.Platform != want {
		t.Errorf("Get().Platform = %q, want %q", got.Platform, want)
	}
	if got.Version == "" || got.Commit == "" {
		t.Errorf("Get() = %+v, want Version and Commit filled in", got)
	}
}

func TestWriteText(t *testing.T) {
	info := Info{Version: "v0.1.0", Commit: "0123abc", GoVersion: "go1.26.7", ClientGoVersion: "v0.37.2", Platform: "darwin/arm64"}
	var buf bytes.Buffer
	if err := info.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"Version:   v0.1.0\n" +
		"Commit:    0123abc\n" +
		"Go:        go1.26.7\n" +
		"client-go: v0.37.2\n" +
		"Platform:  darwin/arm64\n"
	if buf.String() != want {
		t.Errorf("WriteText() =\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestWriteJSONRoundTrips(t *testing.T) {
	info := Info{Version: "v0.1.0", Commit: "0123abc", GoVersion: "go1.26.7", ClientGoVersion: "v0.37.2", Platform: "windows/amd64"}
	var buf bytes.Buffer
	if err := info.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal(buf.Bytes(), &fields); err != nil {
		t.Fatalf("WriteJSON() wrote invalid JSON %q: %v", buf.String(), err)
	}
	want := map[string]string{
		"version": "v0.1.0", "commit": "0123abc", "goVersion": "go1.26.7",
		"clientGoVersion": "v0.37.2", "platform": "windows/amd64",
	}
	if len(fields) != len(want) {
		t.Errorf("WriteJSON() fields = %v, want %v", fields, want)
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("WriteJSON()[%q] = %q, want %q", k, fields[k], v)
		}
	}
}
