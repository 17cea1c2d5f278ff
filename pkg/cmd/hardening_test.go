package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/drainwatch/kubectl-drainwatch/pkg/record"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Flags mean what they say: each refusal is exit 2 with one line naming the flag.
func TestFlagBounds(t *testing.T) {
	rec := writeRecording(t, 0, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--replay", rec, "--speed", "NaN"}, "--speed must be between"},
		{[]string{"--replay", rec, "--speed", "+Inf"}, "--speed must be between"},
		{[]string{"--replay", rec, "--speed", "1e-300"}, "--speed must be between"},
		{[]string{"--replay", rec, "--drain-budget", "0"}, "--drain-budget must be greater than 0"},
		{[]string{"--replay", rec, "--drain-budget", "svc/web=0s"}, "--drain-budget svc/web must be greater than 0"},
		{[]string{"--replay", rec, "--drain-budget", "web=5s"}, "a per-Service budget is svc/NAME=DURATION"},
		{[]string{"--replay", rec, "--drain-budget", "svc/web=soon"}, `"soon" is not a duration`},
		{[]string{"--replay", rec, "-o", "tui"}, "-o tui needs a terminal"},
		{[]string{"--replay", rec, "-n", "shop"}, "drop -n"},
		{[]string{"completion", "tcsh"}, `no completion for shell "tcsh": use one of bash, fish, powershell, zsh`},
	} {
		_, errOut, code := runCmd(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d stderr %q; want exit 2 and one line with %q", tc.args, code, errOut, tc.want)
		}
	}
}

// Files are precious: nothing is written over another flag's file, an existing recording, or
// into a directory that is not there.
func TestFilesAreRefusedBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, 0, "")
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "old.ndjson")
	if err := os.WriteFile(existing, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.ndjson")
	if err := os.Symlink(rec, link); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--replay", rec, "--report", rec}, "--replay and --report name the same file"},
		{[]string{"--replay", link, "--report", rec}, "--replay and --report name the same file"},
		{[]string{"--replay", rec, "--report", out + ".html", "--log-file", out + ".html"}, "--report and --log-file name the same file"},
		{[]string{"--kubeconfig", kc, "--report", kc, "deploy/web"}, "--report and the kubeconfig name the same file"},
		{[]string{"--kubeconfig", kc, "--record", out, "--log-file", out, "deploy/web"}, "--record and --log-file name the same file"},
		{[]string{"--kubeconfig", kc, "--record", existing, "deploy/web"}, "pass --overwrite"},
		{[]string{"--replay", rec, "--report", filepath.Join(dir, "missing", "r.html")}, "does not exist"},
		{[]string{"--replay", rec, "--report", dir}, "is a directory"},
	} {
		_, errOut, code := runCmd(t, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
		t.Errorf("the existing recording was changed: %q", b)
	}
	if b, _ := os.ReadFile(kc); !strings.Contains(string(b), "kind: Config") {
		t.Errorf("the kubeconfig was changed: %q", b)
	}
	if b, err := os.ReadFile(rec); err != nil || !bytes.HasPrefix(b, []byte(`{"apiVersion"`)) {
		t.Errorf("the recording was changed: %v %.40q", err, b)
	}
}

// --replay - reads the recording from standard input.
func TestReplayFromStdin(t *testing.T) {
	b, err := os.ReadFile(writeRecording(t, 137, ""))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	c := NewCmdDrainwatch(genericiooptions.IOStreams{In: bytes.NewReader(b), Out: &out, ErrOut: &errOut})
	c.SetArgs([]string{"--replay", "-", "--json"})
	err = c.Execute()
	if ExitCode(err) != ExitNotGraceful || !strings.Contains(out.String(), `"verdict":"killed"`) {
		t.Errorf("exit %d (%v) stdout %q; want the killed pod", ExitCode(err), err, out.String())
	}
}

// On a replay, --timeout is the recording's time: the same command always stops at the same
// change, however fast the machine reads.
func TestReplayTimeoutIsRecordingTime(t *testing.T) {
	rec := writeRecording(t, 137, "") // deleted at 1 s, exits at 4.2 s
	var first string
	for range 5 {
		out, _, code := runCmd(t, "--replay", rec, "--json", "--timeout", "2s")
		if code != ExitNotGraceful || !strings.Contains(out, `"state":"terminating"`) || !strings.Contains(out, `"unfinished":1`) {
			t.Fatalf("exit %d output %s; want the pod cut off as unfinished at 2 s of recording", code, out)
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Fatalf("two runs of the same replay differ:\n%s\n%s", first, out)
		}
	}
}

// Out-of-order and impossible times in a recording are clamped with a warning.
func TestReplayClampsTimes(t *testing.T) {
	path := rewriteRecording(t, writeRecording(t, 0, ""), func(deltas []timeline.Delta) {
		deltas[2].Time = deltas[0].Time.AddDate(0, 0, -1)  // before the previous change
		deltas[3].Time = deltas[3].Time.AddDate(900, 0, 0) // no clock gives this
	})
	out, errOut, _ := runCmd(t, "--replay", path, "--json")
	if !strings.Contains(errOut, "2 change(s) had times out of order or impossible") {
		t.Errorf("stderr %q; want a warning about 2 clamped times", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum timeline.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if d := sum.End.Sub(sum.Start); d < 0 || d.Hours() > 1 {
		t.Errorf("summary spans %s; want the recording's few seconds", d)
	}
	if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "2 change(s)") {
		t.Errorf("summary warnings %q; want the clamped times", sum.Warnings)
	}
}

// A recording with no change at all still gives a Summary with a real start and a warnings key.
func TestEmptySummary(t *testing.T) {
	var b bytes.Buffer
	w, _ := record.NewWriter(&b, record.Header{})
	_ = w.Flush()
	path := filepath.Join(t.TempDir(), "empty.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "--replay", path, "--json")
	if code != ExitOK || strings.Contains(out, "0001-01-01") || !strings.Contains(out, `"warnings":[]`) {
		t.Errorf("exit %d stdout %q stderr %q; want exit 0, no zero time and an empty warnings list", code, out, errOut)
	}
}

// brokenPipe is stdout after `| head -1` has exited.
type brokenPipe struct{ writes int }

func (b *brokenPipe) Write(p []byte) (int, error) {
	b.writes++
	return 0, syscall.EPIPE
}

// The reader of stdout going away does not lose the report: it is written in full.
func TestBrokenPipeStillWritesReport(t *testing.T) {
	rec := writeRecording(t, 137, "")
	report := filepath.Join(t.TempDir(), "r.html")
	var errOut bytes.Buffer
	out := &brokenPipe{}
	c := NewCmdDrainwatch(genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: &errOut})
	c.SetArgs([]string{"--replay", rec, "--json", "--report", report})
	err := c.Execute()
	if ExitCode(err) != ExitNotGraceful {
		t.Errorf("exit %d (%v), stderr %q; want 1 (a killed pod), as if stdout were still there", ExitCode(err), err, errOut.String())
	}
	if out.writes != 1 {
		t.Errorf("%d writes to the broken pipe; want output to stop after the first EPIPE", out.writes)
	}
	b, err := os.ReadFile(report)
	if err != nil || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>")) {
		t.Errorf("report %v, %d bytes; want a complete HTML file", err, len(b))
	}
}

// JSON carries cluster text sanitized exactly as the terminal views show it: one boundary.
func TestJSONIsSanitizedLikeText(t *testing.T) {
	rec := rewriteRecording(t, writeRecording(t, 137, "\x1b]0;pwned\x07"), func(deltas []timeline.Delta) {
		for _, d := range deltas {
			if d.Pod != nil {
				d.Pod.Spec.NodeName = "node-1\x1b]0;pwned\x07" // names too, not only messages
			}
		}
	})
	out, _, _ := runCmd(t, "--replay", rec, "--json")
	if strings.Contains(out, `\u001b`) || strings.Contains(out, `\u0007`) {
		t.Errorf("JSON carries raw control characters:\n%s", out)
	}
	if !strings.Contains(out, `"node":"node-1\\x1b]0;pwned\\x07"`) || !strings.Contains(out, `app \\x1b]0;pwned\\x07`) {
		t.Errorf("JSON does not show the payload as visible escapes:\n%s", out)
	}
}

// rewriteRecording writes a copy of the recording at path with its deltas changed by edit.
func rewriteRecording(t *testing.T, path string, edit func([]timeline.Delta)) string {
	t.Helper()
	h, deltas, err := record.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(deltas)
	var b bytes.Buffer
	w, _ := record.NewWriter(&b, h)
	for _, d := range deltas {
		_ = w.Write(d)
	}
	_ = w.Flush()
	out := filepath.Join(t.TempDir(), "edited.ndjson")
	if err := os.WriteFile(out, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}
