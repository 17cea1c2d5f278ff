package timeline

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var update = flag.Bool("update", false, "rewrite golden files")

type scenarioCase struct {
	name     string
	cfg      Config
	build    func() *scen
	verdict  Verdict
	findings []FindingID // exactly these IDs, in order of appearance
	check    func(t *testing.T, tl PodTimeline)
}

func ids(tl PodTimeline) []FindingID {
	var out []FindingID
	for _, f := range tl.Findings {
		out = append(out, f.ID)
	}
	return out
}

func finding(tl PodTimeline, id FindingID) Finding {
	for _, f := range tl.Findings {
		if f.ID == id {
			return f
		}
	}
	return Finding{}
}

func wantContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q; want it to contain %q", what, s, sub)
		}
	}
}

var scenarios = []scenarioCase{
	{
		name: "graceful-prestop-sleep",
		build: func() *scen {
			return newScen("web-1", 30, withSleep(app("/app", "--drain=2s"), 5), false).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(8.2, 0).removeEP(8.3).removed(8.4)
		},
		verdict: VerdictGraceful,
		check: func(t *testing.T, tl PodTimeline) {
			if tl.Cause != CauseDelete || tl.Owner == nil || tl.Owner.Controller == nil || tl.Owner.Controller.Name != "web" {
				t.Errorf("cause %q owner %+v; want delete by Deployment web", tl.Cause, tl.Owner)
			}
			if tl.ShutdownSeconds == nil || *tl.ShutdownSeconds < 7.1 || *tl.ShutdownSeconds > 7.3 {
				t.Errorf("shutdown %v; want about 7.2s", tl.ShutdownSeconds)
			}
			var types []MarkType
			for _, m := range tl.Marks {
				types = append(types, m.Type)
			}
			want := []MarkType{MarkDeletionRequested, MarkKilling, MarkEndpointNotReady, MarkSIGTERM, MarkContainerExited, MarkEndpointRemoved, MarkPodRemoved}
			if !slices.Equal(types, want) {
				t.Errorf("marks %v; want %v", types, want)
			}
			for _, m := range tl.Marks {
				if m.Type == MarkSIGTERM && (!m.Estimated || m.Time != at(6.02).Add(20e6)) {
					t.Errorf("SIGTERM mark %+v; want estimated at Killing + 5s", m)
				}
			}
		},
	},
	{
		name: "no-prestop-exits-at-once",
		build: func() *scen {
			return newScen("web-2", 30, app("/app", "--on-sigterm=exit"), false).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(1.6, 0).removeEP(1.7).removed(1.8)
		},
		verdict:  VerdictAtRisk,
		findings: []FindingID{FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingStoppedBeforeDrain)
			if f.Severity != SeverityWarning {
				t.Errorf("severity %s; want warning", f.Severity)
			}
			wantContains(t, "fix", f.Fix, "preStop", "seconds: 5")
		},
	},
	{
		name: "exited-before-endpoint-update",
		build: func() *scen {
			return newScen("web-3", 30, app("/app"), false).
				deleteAt(1).killing(1.02).exitAll(1.2, 0).notReady(1.9).removeEP(2).removed(2.1)
		},
		verdict:  VerdictAtRisk,
		findings: []FindingID{FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			if f := finding(tl, FindingStoppedBeforeDrain); f.Severity != SeverityError {
				t.Errorf("severity %s; want error when the container exited before the endpoint update", f.Severity)
			}
		},
	},
	{
		name: "short-prestop-sleep",
		build: func() *scen {
			return newScen("web-4", 30, withSleep(app("/app"), 2), false).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(3.3, 0).removeEP(3.4).removed(3.5)
		},
		verdict:  VerdictAtRisk,
		findings: []FindingID{FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			wantContains(t, "fix", finding(tl, FindingStoppedBeforeDrain).Fix, "from 2s to 5s")
		},
	},
	{
		name: "pid1-shell-ignores-sigterm",
		build: func() *scen {
			return newScen("web-5", 3, app("sh", "-c", "/app & wait"), false).
				deleteAt(1).notReady(1.05).killing(1.02).
				exit(4.2, map[string]int32{"app": 137}, nil, map[string]float64{"app": 4.1}).removeEP(4.3).removed(4.4)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline, FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingSIGKILLAtDeadline)
			wantContains(t, "message", f.Message, "PID 1", "sh -c", "3s grace")
			wantContains(t, "fix", f.Fix, "exec")
			if !hasMark(&tl, MarkSIGKILL, false) {
				t.Error("no sigkill mark")
			}
		},
	},
	{
		name: "slow-app-killed",
		build: func() *scen {
			return newScen("web-6", 30, withSleep(app("/app"), 5), false).
				deleteAt(1).notReady(1.05).killing(1.02).
				exit(31.5, map[string]int32{"app": 137}, nil, map[string]float64{"app": 31.1}).removeEP(31.6).removed(31.7)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingSIGKILLAtDeadline)
			// The image's entrypoint is not in the API and no other pod finished: unknown, and
			// the grace is raised by half as much again as the 25 s the app had after SIGTERM.
			if f.Cause != CauseUnknown {
				t.Errorf("cause %q; want %q", f.Cause, CauseUnknown)
			}
			wantContains(t, "fix", f.Fix, "terminationGracePeriodSeconds: 54")
		},
	},
	{
		name: "prestop-hook-failed",
		build: func() *scen {
			return newScen("web-7", 30, withExec(app("/app"), "/bin/false"), false).
				deleteAt(1).notReady(1.05).killing(1.02).event(1.1, "FailedPreStopHook", "app", "PreStopHook failed").
				exitAll(1.5, 0).removeEP(1.6).removed(1.7)
		},
		verdict:  VerdictFailed,
		findings: []FindingID{FindingPreStopFailed, FindingStoppedBeforeDrain},
	},
	{
		name: "exit-143-no-handler",
		build: func() *scen {
			return newScen("web-8", 30, withSleep(app("/app"), 6), false).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(7.2, 143).removeEP(7.3).removed(7.4)
		},
		verdict:  VerdictFailed,
		findings: []FindingID{FindingNonZeroExit},
		check: func(t *testing.T, tl PodTimeline) {
			wantContains(t, "message", finding(tl, FindingNonZeroExit).Message, "143", "SIGTERM")
		},
	},
	{
		name: "oomkilled-while-terminating",
		build: func() *scen {
			return newScen("web-9", 30, withSleep(app("/app"), 6), false).
				deleteAt(1).notReady(1.05).killing(1.02).
				exit(9, map[string]int32{"app": 137}, map[string]string{"app": "OOMKilled"}, nil).removeEP(9.1).removed(9.2)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingOOMKilled},
	},
	{
		name: "sidecar-stopped-first",
		build: func() *scen {
			s := newScen("web-10", 30, withSleep(app("/app"), 6), false)
			s.pod.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
			s.pod.Status.InitContainerStatuses = []corev1.ContainerStatus{running("proxy")}
			return s.deleteAt(1).notReady(1.05).killing(1.02).
				exit(9.5, nil, nil, map[string]float64{"proxy": 3, "app": 9}).removeEP(9.6).removed(9.7)
		},
		verdict:  VerdictAtRisk,
		findings: []FindingID{FindingSidecarStoppedFirst},
	},
	{
		name: "not-behind-a-service",
		build: func() *scen {
			return newScen("worker-1", 30, app("/app"), true).
				deleteAt(1).killing(1.02).exitAll(1.5, 0).removed(1.6)
		},
		verdict:  VerdictGraceful,
		findings: []FindingID{FindingNoService},
	},
	{
		name: "close-to-deadline",
		build: func() *scen {
			return newScen("web-11", 30, withSleep(app("/app"), 5), false).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(28, 0).removeEP(28.1).removed(28.2)
		},
		verdict:  VerdictGraceful,
		findings: []FindingID{FindingCloseToDeadline},
	},
	{
		name: "prestop-uses-grace",
		build: func() *scen {
			return newScen("web-12", 10, withSleep(app("/app"), 9), false).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(10.5, 0).removeEP(10.6).removed(10.7)
		},
		verdict:  VerdictAtRisk,
		findings: []FindingID{FindingPreStopUsedGrace, FindingCloseToDeadline},
	},
	{
		name: "eviction",
		build: func() *scen {
			return newScen("web-13", 30, withSleep(app("/app"), 5), false).
				podDelta(0.9, Modified, func(p *corev1.Pod) {
					p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"})
				}).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(7, 0).removeEP(7.1).removed(7.2)
		},
		verdict: VerdictGraceful,
		check: func(t *testing.T, tl PodTimeline) {
			if tl.Cause != CauseEviction || tl.Reason != "EvictionByEvictionAPI" {
				t.Errorf("cause %q reason %q; want eviction", tl.Cause, tl.Reason)
			}
		},
	},
	{
		name: "kubelet-eviction",
		build: func() *scen {
			s := newScen("web-14", 30, app("/app"), false)
			s.podDelta(1, Modified, func(p *corev1.Pod) {
				p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
					Reason: "TerminationByKubelet", Message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi."})
			}).notReady(1.05).killing(1.02)
			s.exitAll(1.5, 137)
			return s.podDelta(1.6, Modified, func(p *corev1.Pod) { p.Status.Reason = "Evicted" })
		},
		verdict:  VerdictFailed,
		findings: []FindingID{FindingNonZeroExit, FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			if tl.Cause != CauseKubelet || tl.State != StateTerminated {
				t.Errorf("cause %q state %q; want kubelet, terminated", tl.Cause, tl.State)
			}
			if f := finding(tl, FindingNonZeroExit); f.Cause != CauseNodePressure || strings.Contains(f.Fix, "kill -9") {
				t.Errorf("nonzero-exit cause %q fix %q; want node-pressure-eviction and a node-side fix", f.Cause, f.Fix)
			}
		},
	},
	{
		name: "force-deleted",
		build: func() *scen {
			s := newScen("web-15", 30, app("/app"), false)
			s.podDelta(1, Deleted, func(p *corev1.Pod) {
				dl := metav1.NewTime(at(1).Truncate(1e9))
				p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &dl, ptr.To(int64(0))
			})
			return s
		},
		verdict:  VerdictAtRisk,
		findings: []FindingID{FindingForceDeleted},
	},
	{
		name: "joined-midway",
		build: func() *scen {
			s := newScen("web-16", 30, withSleep(app("/app"), 5), false)
			s.deleteAt(-3)
			s.deltas = s.deltas[len(s.deltas)-1:]
			s.deltas[0].Type, s.deltas[0].Time = Added, at(0)
			s.slice.Endpoints[1].Conditions = s.slice.Endpoints[0].Conditions
			s.slice.Endpoints[1].Conditions.Ready = ptr.To(false)
			s.slice.Endpoints[1].Conditions.Terminating = ptr.To(true)
			s.deltas = append(s.deltas, Delta{Time: at(0.01), Type: Added, Slice: s.slice.DeepCopy()})
			return s.exitAll(4, 0).removeEP(4.1).removed(4.2)
		},
		verdict: VerdictIncomplete,
		check: func(t *testing.T, tl PodTimeline) {
			if !tl.JoinedMidway || tl.ShutdownSeconds != nil {
				t.Errorf("joined %v shutdown %v; want joined with unknown shutdown", tl.JoinedMidway, tl.ShutdownSeconds)
			}
		},
	},
	{
		name: "events-not-visible",
		cfg:  Config{Partial: []string{"events"}},
		build: func() *scen {
			return newScen("web-17", 30, withSleep(app("/app"), 5), false).
				deleteAt(1).notReady(1.05).exitAll(8, 0).removeEP(8.1).removed(8.2)
		},
		verdict: VerdictGraceful,
		check: func(t *testing.T, tl PodTimeline) {
			if !slices.Equal(tl.Partial, []string{"events"}) {
				t.Errorf("partial %v", tl.Partial)
			}
			for _, m := range tl.Marks {
				if m.Type == MarkSIGTERM && (!m.Estimated || !strings.Contains(m.Detail, "no Killing event")) {
					t.Errorf("SIGTERM mark %+v; want an estimate from the deletion", m)
				}
			}
		},
	},
	{
		name: "event-before-pod-update",
		build: func() *scen {
			s := newScen("web-18", 30, app("/app"), false)
			s.killing(0.95) // delivered before the pod's deletion update below
			return s.deleteAt(1).notReady(1.05).exitAll(1.5, 0).removeEP(1.6).removed(1.7)
		},
		verdict:  VerdictAtRisk,
		findings: []FindingID{FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			if !hasMark(&tl, MarkKilling, false) {
				t.Error("Killing event that arrived before the pod update was lost")
			}
		},
	},
	{
		name: "readiness-fails-during-termination",
		build: func() *scen {
			return newScen("web-19", 30, withSleep(app("/app"), 6), false).
				deleteAt(1).notReady(1.05).killing(1.02).
				event(2, "Unhealthy", "app", "Readiness probe failed: connection refused").
				exitAll(8, 0).removeEP(8.1).removed(8.2)
		},
		// Failing readiness alone does not mean the app stopped serving (draining apps fail it
		// on purpose); it is shown as a mark.
		verdict: VerdictGraceful,
		check: func(t *testing.T, tl PodTimeline) {
			if !hasMark(&tl, MarkReadinessFailed, true) {
				t.Error("no readiness-failed mark")
			}
		},
	},
}

func TestScenarios(t *testing.T) {
	for _, tc := range scenarios {
		t.Run(tc.name, func(t *testing.T) { runScenario(t, tc) })
	}
}

func runScenario(t *testing.T, tc scenarioCase) {
	t.Helper()
	tls, sum := run(tc.cfg, tc.build().deltas)
	if len(tls) == 0 {
		t.Fatalf("got no timelines")
	}
	tl := tls[len(tls)-1] // the pod under test terminates last
	if tl.Verdict != tc.verdict {
		t.Errorf("verdict %s; want %s (findings %v)", tl.Verdict, tc.verdict, ids(tl))
	}
	if got := ids(tl); !slices.Equal(got, tc.findings) {
		t.Errorf("findings %v; want %v", got, tc.findings)
	}
	for _, f := range tl.Findings {
		if f.Message == "" || (f.Severity != SeverityInfo && f.Fix == "") {
			t.Errorf("finding %s lacks a message or a fix: %+v", f.ID, f)
		}
	}
	if sum.Terminated != len(tls) || sum.Verdicts[tc.verdict] == 0 {
		t.Errorf("summary %+v", sum)
	}
	checkFixes(t, tls, sum)
	if tc.check != nil {
		tc.check(t, tl)
	}
	golden(t, filepath.Join("testdata", "scenarios", tc.name+".json"), tl)
}

func golden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/timeline -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the output; run go test ./pkg/timeline -update and review the diff.\ngot:\n%s", path, got)
	}
}

// Events about a pod that does not turn terminating are held for minutes, then let go without
// counting as dropped; a pod deleted within that time still gets them.
func TestPendingEventsAgeOut(t *testing.T) {
	s := newScen("web-a", 30, app("/app"), false).
		event(1, "Unhealthy", "app", "Readiness probe failed: connection refused").
		event(200, "Unhealthy", "app", "Readiness probe failed: connection refused")
	e := New(Config{})
	for _, d := range s.deltas {
		e.Apply(d)
	}
	tick := func(sec float64) { e.Apply(Delta{Time: at(sec), Event: &corev1.Event{}}) }
	tick(1 + pendingFor.Seconds() + 1)
	if n := len(e.pending["uid-web-a"]); n != 1 {
		t.Fatalf("after %v, %d Events held, want the later one", pendingFor, n)
	}
	tick(200 + pendingFor.Seconds() + 1)
	if len(e.pending) != 0 || e.Dropped() != 0 {
		t.Errorf("held %d keys, dropped %d; want none of either", len(e.pending), e.Dropped())
	}

	// Within the bound, a Killing delivered ahead of the pod's deletion is used.
	s = newScen("web-a", 30, app("/app"), false).killing(1).deleteAt(60).exitAll(62, 0).removeEP(62.1).removed(62.5)
	tls, _ := run(Config{}, s.deltas)
	if len(tls) != 1 || !slices.ContainsFunc(tls[0].Marks, func(m Mark) bool { return m.Type == MarkKilling }) {
		t.Errorf("the Killing held for 59 s was not used: %+v", tls)
	}
}

// A probe that keeps failing updates one Event (count++): the pod holds the latest, not one
// per update, and nothing counts as dropped.
func TestPendingEventUpdatesReplace(t *testing.T) {
	s := newScen("web-a", 30, app("/app"), false).event(1, "Unhealthy", "app", "Readiness probe failed: connection refused")
	e := New(Config{})
	for _, d := range s.deltas {
		e.Apply(d)
	}
	ev := s.deltas[len(s.deltas)-1]
	for n := int32(2); n <= 25; n++ {
		upd := *ev.Event
		upd.Count = n
		e.Apply(Delta{Time: ev.Time.Add(time.Duration(n) * 10 * time.Second), Type: Modified, Event: &upd})
	}
	held := e.pending["uid-web-a"]
	if len(held) != 1 || held[0].ev.Count != 25 || e.Dropped() != 0 {
		t.Errorf("held %d Events, dropped %d; want the latest alone (count 25)", len(held), e.Dropped())
	}
}
