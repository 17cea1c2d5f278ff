package cmd

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The shipped recordings were made on the real local cluster (make examples); each says what
// its scenario must show.
var examples = []struct {
	file    string
	verdict timeline.Verdict // every pod
	finding timeline.FindingID
	cause   string
	exit    int
	// findingCause is the cause the finding must name.
	findingCause string
}{
	{"rollout-prestop.ndjson", timeline.VerdictGraceful, "", timeline.CauseDelete, ExitOK, ""},
	{"rollout-no-prestop.ndjson", timeline.VerdictAtRisk, timeline.FindingStoppedBeforeDrain, timeline.CauseDelete, ExitNotGraceful, timeline.CauseNoPreStop},
	{"sigkill-deadline.ndjson", timeline.VerdictKilled, timeline.FindingSIGKILLAtDeadline, timeline.CauseDelete, ExitNotGraceful, timeline.CausePID1IgnoresSIGTERM},
	{"prestop-failed.ndjson", timeline.VerdictFailed, timeline.FindingPreStopFailed, timeline.CauseDelete, ExitNotGraceful, ""},
	{"drain.ndjson", timeline.VerdictGraceful, "", timeline.CauseEviction, ExitOK, ""},
	{"grace-shortened.ndjson", timeline.VerdictKilled, timeline.FindingSIGKILLAtDeadline, timeline.CauseDelete, ExitNotGraceful, timeline.CauseGraceShortened},
	{"prestop-consumed-grace.ndjson", timeline.VerdictKilled, timeline.FindingSIGKILLAtDeadline, timeline.CauseDelete, ExitNotGraceful, timeline.CausePreStopConsumedGrace},
	{"slow-shutdown.ndjson", timeline.VerdictKilled, timeline.FindingSIGKILLAtDeadline, timeline.CauseDelete, ExitNotGraceful, timeline.CauseSlowShutdown},
	{"exit-143.ndjson", timeline.VerdictFailed, timeline.FindingNonZeroExit, timeline.CauseDelete, ExitNotGraceful, timeline.CauseNoSIGTERMHandler},
	{"sidecar-pid1.ndjson", timeline.VerdictKilled, timeline.FindingSIGKILLAtDeadline, timeline.CauseDelete, ExitNotGraceful, timeline.CausePID1IgnoresSIGTERM},
	{"statefulset-no-prestop.ndjson", timeline.VerdictAtRisk, timeline.FindingStoppedBeforeDrain, timeline.CauseDelete, ExitNotGraceful, timeline.CauseNoPreStop},
	{"taint.ndjson", timeline.VerdictGraceful, "", timeline.CauseTaint, ExitOK, ""},
	{"preemption.ndjson", timeline.VerdictGraceful, "", timeline.CausePreemption, ExitOK, ""},
	{"scale-down.ndjson", timeline.VerdictGraceful, "", timeline.CauseDelete, ExitOK, ""},
	{"ingress-traefik.ndjson", timeline.VerdictGraceful, "", timeline.CauseDelete, ExitOK, ""},
}

// initiators is who each recording's terminations were started by (Initiator.By), and for
// node drains who emptied the node.
var initiators = map[string]string{
	"drain.ndjson":           "kubectl",
	"taint.ndjson":           "taint-eviction-controller",
	"preemption.ndjson":      "default-scheduler",
	"scale-down.ndjson":      "e2e-autoscaler",
	"rollout-prestop.ndjson": "deployment-controller",
}

var drainedBy = map[string]string{"drain.ndjson": "kubectl", "taint.ndjson": "kubectl-taint"}

// routedBy is the traffic path entry each recording's Service must show (kind/class).
var routedBy = map[string]string{"ingress-traefik.ndjson": "Ingress/traefik"}

func TestExamples(t *testing.T) {
	for _, ex := range examples {
		t.Run(strings.TrimSuffix(ex.file, ".ndjson"), func(t *testing.T) {
			path := filepath.Join("..", "..", "examples", ex.file)
			out, errOut, code := runCmd(t, "--replay", path, "--json")
			if code != ex.exit {
				t.Errorf("exit %d; want %d (stderr %q)", code, ex.exit, errOut)
			}
			var pods []timeline.PodTimeline
			var sum timeline.Summary
			sc := bufio.NewScanner(strings.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var kind struct{ Kind string }
				json.Unmarshal(sc.Bytes(), &kind)
				var err error
				if kind.Kind == "Summary" {
					err = json.Unmarshal(sc.Bytes(), &sum)
				} else {
					var tl timeline.PodTimeline
					err = json.Unmarshal(sc.Bytes(), &tl)
					pods = append(pods, tl)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(pods) < 1 || sum.Terminated != len(pods) || sum.Verdicts[ex.verdict] != len(pods) {
				t.Fatalf("%d pods, summary %+v; want every pod %s", len(pods), sum.Verdicts, ex.verdict)
			}
			for _, tl := range pods {
				var ids []timeline.FindingID
				for _, f := range tl.Findings {
					ids = append(ids, f.ID)
				}
				if ex.finding != "" && !slices.Contains(ids, ex.finding) {
					t.Errorf("%s: findings %v; want %s", tl.Name, ids, ex.finding)
				}
				for _, f := range tl.Findings {
					if f.ID == ex.finding && f.Cause != ex.findingCause {
						t.Errorf("%s: %s cause %q; want %q (basis %q)", tl.Name, f.ID, f.Cause, ex.findingCause, f.Basis)
					}
				}
				if by, ok := initiators[ex.file]; ok && (tl.Initiator == nil || tl.Initiator.By != by) {
					t.Errorf("%s: initiator %+v; want by %s", tl.Name, tl.Initiator, by)
				}
				if tl.Cause != ex.cause || tl.JoinedMidway || tl.State != timeline.StateRemoved {
					t.Errorf("%s: cause %s joined %v state %s; want %s, seen from the start, removed", tl.Name, tl.Cause, tl.JoinedMidway, tl.State, ex.cause)
				}
			}
			if by, ok := drainedBy[ex.file]; ok && (len(sum.Drains) != 1 || sum.Drains[0].CordonedBy != by || sum.Drains[0].Empty == nil ||
				sum.Drains[0].Terminations != len(pods)) {
				t.Errorf("drains %+v; want one, emptied by %s, with every pod", sum.Drains, by)
			}
			if want, ok := routedBy[ex.file]; ok {
				var got []string
				for _, g := range sum.Services {
					for _, p := range g.TrafficPath {
						got = append(got, p.Kind+"/"+p.Class)
					}
				}
				if !slices.Contains(got, want) {
					t.Errorf("traffic path %v; want %s", got, want)
				}
			}
			golden(t, filepath.Join("testdata", "examples", strings.TrimSuffix(ex.file, ".ndjson")+".json"), out)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/cmd -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the output; run go test ./pkg/cmd -update and review the diff", path)
	}
}

// The recording of a drain stalled by a PodDisruptionBudget names the PDB and its pods.
func TestExampleDrainStalled(t *testing.T) {
	out, errOut, code := runCmd(t, "--replay", filepath.Join("..", "..", "examples", "drain-stalled.ndjson"), "--json")
	var sum timeline.Summary
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || code != ExitOK {
		t.Fatalf("exit %d, %v, stderr %q", code, err, errOut)
	}
	if len(sum.Blockers) != 1 || sum.Blockers[0].Kind != timeline.KindPDB || len(sum.Blockers[0].Waiting) != 2 || sum.Blockers[0].Fix == "" {
		t.Errorf("blockers %+v; want the PDB holding both pods, with a fix", sum.Blockers)
	}
}

// A per-Service budget from the flag judges that Service's pods against it, and names itself.
func TestPerServiceDrainBudget(t *testing.T) {
	rec := filepath.Join("..", "..", "examples", "rollout-prestop.ndjson")
	for _, tc := range []struct {
		args    []string
		verdict timeline.Verdict
		source  string
	}{
		{[]string{"--drain-budget", "svc/web=20s"}, timeline.VerdictAtRisk, "--drain-budget svc/web=20s"},
		{[]string{"--drain-budget", "svc/other=20s"}, timeline.VerdictGraceful, "--drain-budget"},
		{[]string{"--drain-budget", "3s", "--drain-budget", "svc/web=20s"}, timeline.VerdictAtRisk, "--drain-budget svc/web=20s"},
	} {
		out, errOut, _ := runCmd(t, append([]string{"--replay", rec, "--json"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 {
			t.Fatalf("%v: output %q, stderr %q", tc.args, out, errOut)
		}
		for _, l := range lines[:len(lines)-1] {
			var tl timeline.PodTimeline
			if err := json.Unmarshal([]byte(l), &tl); err != nil {
				t.Fatal(err)
			}
			if tl.Verdict != tc.verdict || tl.BudgetSource != tc.source {
				t.Errorf("%v: %s verdict %s budget %q; want %s against %q", tc.args, tl.Name, tl.Verdict, tl.BudgetSource, tc.verdict, tc.source)
			}
		}
	}
}
