package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/drainwatch/kubectl-drainwatch/pkg/version"
)

func TestVersionCommand(t *testing.T) {
	fixed := version.Info{Version: "v1.2.3", Commit: "abc1234", GoVersion: "go1.26.7", ClientGoVersion: "v0.37.2", Platform: "linux/amd64"}
	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{
			name: "text by default",
			wantOut: "Version:   v1.2.3\nCommit:    abc1234\nGo:        go1.26.7\n" +
				"client-go: v0.37.2\nPlatform:  linux/amd64\n",
		},
		{
			name:    "json",
			args:    []string{"-o", "json"},
			wantOut: `"clientGoVersion": "v0.37.2"`,
		},
		{
			name:    "unknown output names the flag",
			args:    []string{"--output", "yaml"},
			wantErr: `--output "yaml" is not supported`,
		},
		{
			name:    "no positional arguments",
			args:    []string{"extra"},
			wantErr: "unknown command",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			o := NewVersionOptions(streams)
			o.info = func() version.Info { return fixed }
			cmd := newCmdVersion(o)
			cmd.SetArgs(tt.args)
			cmd.SetOut(out)
			cmd.SetErr(out)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Execute() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute() error = %v", err)
			}
			if tt.name == "json" {
				var got version.Info
				if err := json.Unmarshal(out.Bytes(), &got); err != nil {
					t.Fatalf("-o json printed invalid JSON %q: %v", out.String(), err)
				}
				if got != fixed {
					t.Errorf("-o json = %+v, want %+v", got, fixed)
				}
				return
			}
			if out.String() != tt.wantOut {
				t.Errorf("output =\n%s\nwant\n%s", out.String(), tt.wantOut)
			}
		})
	}
}
