package timeline

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// causeScenarios: one per cause rule, built from what kubelet really does (killContainer).
var causeScenarios = []scenarioCase{
	{
		// spec 30, `kubectl delete --grace-period=2`: the app traps TERM but needs longer than 2 s.
		name: "grace-shortened-by-delete",
		build: func() *scen {
			return newScen("web-20", 30, app("/app", "--on-sigterm=drain"), false).
				deleteWithGrace(1, 2).notReady(1.05).killing(1.02).
				exit(3.4, map[string]int32{"app": 137}, nil, map[string]float64{"app": 3.1}).removeEP(3.5).removed(3.6)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline, FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingSIGKILLAtDeadline)
			if f.Cause != CauseGraceShortened {
				t.Errorf("cause %q; want %q (basis %v)", f.Cause, CauseGraceShortened, f.Basis)
			}
			wantContains(t, "basis", strings.Join(f.Basis, "; "), "deletionGracePeriodSeconds 2", "terminationGracePeriodSeconds 30")
			wantContains(t, "fix", f.Fix, "--grace-period")
			if strings.Contains(f.Fix, "terminationGracePeriodSeconds") {
				t.Errorf("fix %q changes the pod spec; the caller shortened the grace", f.Fix)
			}
			if *tl.GracePeriodSeconds != 2 || *tl.SpecGracePeriodSeconds != 30 {
				t.Errorf("grace %d spec %d; want 2 and 30", *tl.GracePeriodSeconds, *tl.SpecGracePeriodSeconds)
			}
		},
	},
	{
		// exec `sleep 8` with a 5 s grace: kubelet waits 5 s for the hook, then SIGTERM with its
		// 2 s minimum, SIGKILL at Killing + 7 s. The kill ends the hook, which kubelet reports
		// as FailedPreStopHook (seen on the real cluster): that is no failure of the hook's own.
		name: "prestop-consumed-grace",
		build: func() *scen {
			return newScen("web-21", 5, withExec(app("/app", "--on-sigterm=drain"), "sleep", "8"), false).
				deleteAt(1).notReady(1.05).killing(1.02).event(8.06, "FailedPreStopHook", "app", "PreStopHook failed").
				exit(8.3, map[string]int32{"app": 137}, nil, map[string]float64{"app": 8.05}).removeEP(8.4).removed(8.5)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingSIGKILLAtDeadline)
			if f.Cause != CausePreStopConsumedGrace {
				t.Errorf("cause %q; want %q (basis %v)", f.Cause, CausePreStopConsumedGrace, f.Basis)
			}
			var sig, kill *Mark
			for i := range tl.Marks {
				switch tl.Marks[i].Type {
				case MarkSIGTERM:
					sig = &tl.Marks[i]
				case MarkSIGKILL:
					kill = &tl.Marks[i]
				}
			}
			if sig == nil || kill == nil {
				t.Fatalf("marks %v; want sigterm and sigkill", tl.Marks)
			}
			if d := sig.Time.Sub(at(1.04)); d != 5*time.Second {
				t.Errorf("SIGTERM %s after Killing; want 5s (kubelet waits for the hook at most the grace)", d)
			}
			if d := kill.Time.Sub(sig.Time); d != 2*time.Second {
				t.Errorf("SIGKILL %s after SIGTERM; want kubelet's 2s minimum", d)
			}
			if g := graceIn(t, f.Fix); g < 8+MinSIGTERMSeconds {
				t.Errorf("fix grace %d; want room for the 8s hook and a shutdown", g)
			}
		},
	},
	{
		// An httpGet hook of unknown length: killed 2 s after Killing + grace, so kubelet waited
		// the whole grace for the hook.
		name: "prestop-overran-measured",
		build: func() *scen {
			c := app("/app")
			c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/shutdown"}}}
			return newScen("web-22", 5, c, false).
				deleteAt(1).notReady(1.05).killing(1.02).
				exit(8.3, map[string]int32{"app": 137}, nil, map[string]float64{"app": 8.05}).removeEP(8.4).removed(8.5)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline},
		check: func(t *testing.T, tl PodTimeline) {
			if f := finding(tl, FindingSIGKILLAtDeadline); f.Cause != CausePreStopConsumedGrace {
				t.Errorf("cause %q; want %q (basis %v)", f.Cause, CausePreStopConsumedGrace, f.Basis)
			}
		},
	},
	{
		// A shell that traps TERM and forwards it, but the app needs longer than the grace.
		name: "shell-traps-term-slow",
		build: func() *scen {
			return newScen("web-23", 3, app("sh", "-c", `trap 'kill -TERM $child; wait $child' TERM; /app --on-sigterm=drain --drain-seconds=6s & child=$!; wait $child`), false).
				deleteAt(1).notReady(1.05).killing(1.02).
				exit(4.3, map[string]int32{"app": 137}, nil, map[string]float64{"app": 4.05}).removeEP(4.4).removed(4.5)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline, FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingSIGKILLAtDeadline)
			if f.Cause != CauseSlowShutdown {
				t.Errorf("cause %q; want %q (a shell that traps TERM is not a PID 1 that ignores it)", f.Cause, CauseSlowShutdown)
			}
			if strings.Contains(f.Message, "ignores") {
				t.Errorf("message %q says PID 1 ignores SIGTERM", f.Message)
			}
			if g := graceIn(t, f.Fix); g <= 3 {
				t.Errorf("fix grace %d; want more than the 3s it had", g)
			}
		},
	},
	{
		name: "lone-sleep-command",
		build: func() *scen {
			return newScen("web-24", 3, app("sh", "-c", "sleep 3600"), true).
				deleteAt(1).killing(1.02).
				exit(4.3, map[string]int32{"app": 137}, nil, map[string]float64{"app": 4.05}).removed(4.5)
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline, FindingNoService},
		check: func(t *testing.T, tl PodTimeline) {
			if f := finding(tl, FindingSIGKILLAtDeadline); f.Cause != CausePID1IgnoresSIGTERM || strings.Contains(f.Fix, "terminationGracePeriodSeconds") {
				t.Errorf("cause %q fix %q; want pid1-ignores-sigterm without a grace change", f.Cause, f.Fix)
			}
		},
	},
	{
		// Another pod of the Deployment exited 0 4 s after SIGTERM; this one was killed after 30 s.
		name: "slow-shutdown-from-peers",
		build: func() *scen {
			peer := newScen("web-25a", 30, app("/app"), false).
				deleteAt(1).notReady(1.05).killing(1.02).exitAll(5.2, 0).removeEP(5.3).removed(5.4)
			s := newScen("web-25", 30, app("/app"), true).
				deleteAt(10).killing(10.02).
				exit(40.4, map[string]int32{"app": 137}, nil, map[string]float64{"app": 40.1}).removed(40.5)
			s.deltas = append(peer.deltas, s.deltas...)
			return s
		},
		verdict:  VerdictKilled,
		findings: []FindingID{FindingSIGKILLAtDeadline, FindingNoService},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingSIGKILLAtDeadline)
			if f.Cause != CauseSlowShutdown {
				t.Errorf("cause %q; want %q", f.Cause, CauseSlowShutdown)
			}
			wantContains(t, "basis", strings.Join(f.Basis, "; "), "1 other pod(s) of Deployment web exited 0 after SIGTERM")
		},
	},
}

func TestNodeShutdownCause(t *testing.T) {
	s := newScen("web-26", 30, app("/app"), true)
	s.podDelta(1, Modified, func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "TerminationByKubelet", Message: "Pod was terminated in response to imminent node shutdown."})
	}).killing(1.02)
	s.exitAll(3, 137)
	tls, _ := run(Config{}, s.deltas)
	if f := finding(tls[0], FindingNonZeroExit); f.Cause != CauseNodeShutdown || !strings.Contains(f.Fix, "shutdownGracePeriod") {
		t.Errorf("finding %+v; want node-shutdown with the kubelet's shutdownGracePeriod as fix", f)
	}
}

// A failed hook's fix replaces it with a sleep that fits the grace period it also sizes.
func TestFailedHookFixFitsGrace(t *testing.T) {
	runScenario(t, scenarioCase{
		name: "prestop-hook-failed-short-grace",
		build: func() *scen {
			return newScen("web-27", 3, withExec(app("/app"), "/bin/false"), false).
				deleteAt(1).notReady(1.05).killing(1.02).event(1.1, "FailedPreStopHook", "app", "PreStopHook failed").
				exitAll(1.5, 0).removeEP(1.6).removed(1.7)
		},
		verdict:  VerdictFailed,
		findings: []FindingID{FindingPreStopFailed, FindingStoppedBeforeDrain},
		check: func(t *testing.T, tl PodTimeline) {
			f := finding(tl, FindingPreStopFailed)
			if g := graceIn(t, f.Fix); g <= 5 || !strings.Contains(f.Fix, "exec: null") {
				t.Errorf("fix %q; want the sleep of 5s with a grace period above it, replacing the exec hook", f.Fix)
			}
		},
	})
}

// A hook that sleeps forever has no length to size from.
func TestExecSleepLengths(t *testing.T) {
	for _, tc := range []struct {
		cmd []string
		ok  bool
	}{
		{[]string{"sleep", "5"}, true}, {[]string{"sh", "-c", "sleep 2.5"}, true},
		{[]string{"sleep", "infinity"}, false}, {[]string{"sleep", "inf"}, false}, {[]string{"sleep", "nan"}, false},
		{[]string{"sleep", "1e10"}, false}, {[]string{"sleep", "-1"}, false},
	} {
		if _, ok := execSleep(tc.cmd); ok != tc.ok {
			t.Errorf("execSleep(%q) ok=%v; want %v", tc.cmd, ok, tc.ok)
		}
	}
}

func TestCauseScenarios(t *testing.T) {
	for _, tc := range causeScenarios {
		t.Run(tc.name, func(t *testing.T) { runScenario(t, tc) })
	}
}

// graceIn reads terminationGracePeriodSeconds from a fix's YAML.
func graceIn(t *testing.T, fix string) int64 {
	t.Helper()
	spec := fixSpec(t, fix)
	if spec == nil || spec.TerminationGracePeriodSeconds == nil {
		t.Fatalf("fix %q sets no terminationGracePeriodSeconds", fix)
	}
	return *spec.TerminationGracePeriodSeconds
}

// fixSpec parses the YAML of a fix strictly as a PodSpec: every field must be at its real level.
func fixSpec(t *testing.T, fix string) *corev1.PodSpec {
	t.Helper()
	i := strings.Index(fix, "# pod spec")
	if i < 0 {
		if strings.Contains(fix, "seconds:") || strings.Contains(fix, "GracePeriodSeconds:") {
			t.Errorf("fix %q has YAML outside a pod spec block", fix)
		}
		return nil
	}
	var spec corev1.PodSpec
	if err := yaml.UnmarshalStrict([]byte(fix[i:]), &spec); err != nil {
		t.Errorf("fix YAML is not a valid pod spec: %v\n%s", err, fix[i:])
		return nil
	}
	return &spec
}

// checkFixes: no fix lowers the grace period below the spec's, every preStop sleep fits the
// grace it leaves, and every recommendation's patch applies to a Deployment with the same spec.
func checkFixes(t *testing.T, tls []PodTimeline, sum Summary) {
	t.Helper()
	for _, tl := range tls {
		spec := int64(-1)
		if tl.SpecGracePeriodSeconds != nil {
			spec = *tl.SpecGracePeriodSeconds
		}
		for _, f := range tl.Findings {
			ps := fixSpec(t, f.Fix)
			if ps == nil {
				continue
			}
			checkSpec(t, string(f.ID)+" fix", ps, spec, spec)
		}
	}
	for _, r := range sum.Recommendations {
		if r.TerminationGracePeriodSeconds == nil && r.PreStopSleepSeconds == nil && r.Note == "" && len(r.Basis) == 0 {
			t.Errorf("empty recommendation %+v", r)
		}
		if r.Patch == "" {
			continue
		}
		var tl *PodTimeline
		for i := range tls {
			if k, n := ownerOfTimeline(&tls[i]); k == r.Kind && n == r.Name {
				tl = &tls[i]
			}
		}
		if tl == nil {
			t.Fatalf("recommendation for %s %s, which no timeline has", r.Kind, r.Name)
		}
		applyPatch(t, r, tl)
	}
}

func checkSpec(t *testing.T, what string, ps *corev1.PodSpec, spec, before int64) {
	t.Helper()
	grace := before
	if ps.TerminationGracePeriodSeconds != nil {
		grace = *ps.TerminationGracePeriodSeconds
		if spec >= 0 && grace < spec {
			t.Errorf("%s lowers the grace period from %d to %d", what, spec, grace)
		}
	}
	for _, c := range append(ps.InitContainers, ps.Containers...) {
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
			continue
		}
		h := c.Lifecycle.PreStop
		if s := h.Sleep; s != nil && grace >= 0 && s.Seconds >= grace {
			t.Errorf("%s: preStop sleep %ds does not fit the grace period %ds", what, s.Seconds, grace)
		}
	}
}

// applyPatch applies a recommendation's strategic merge patch the way kubectl patch does and
// checks the result: a valid hook (one handler) and the recommended numbers.
func applyPatch(t *testing.T, r Recommendation, tl *PodTimeline) {
	t.Helper()
	_, rest, ok := strings.Cut(r.Patch, "-p '")
	if !ok || !strings.HasSuffix(rest, "'") || !strings.HasPrefix(r.Patch, "kubectl patch ") {
		t.Fatalf("patch %q is not a kubectl patch -p '...' command", r.Patch)
	}
	patch := strings.TrimSuffix(rest, "'")
	d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: r.Name}}
	d.Spec.Template.Spec.TerminationGracePeriodSeconds = tl.SpecGracePeriodSeconds
	for _, c := range tl.Containers {
		ctr := corev1.Container{Name: c.Name, Image: "app"}
		switch {
		case strings.HasPrefix(c.PreStop, "exec: "):
			ctr.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: strings.Fields(strings.TrimPrefix(c.PreStop, "exec: "))}}}
		case strings.HasPrefix(c.PreStop, "httpGet: "):
			ctr.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: strings.TrimPrefix(c.PreStop, "httpGet: ")}}}
		case strings.HasPrefix(c.PreStop, "tcpSocket: "):
			ctr.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{TCPSocket: &corev1.TCPSocketAction{}}}
		case strings.HasPrefix(c.PreStop, "sleep "):
			var n int64
			_, _ = fmt.Sscanf(c.PreStop, "sleep %ds", &n)
			ctr.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: n}}}
		}
		if c.Sidecar {
			ctr.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
			d.Spec.Template.Spec.InitContainers = append(d.Spec.Template.Spec.InitContainers, ctr)
		} else {
			d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, ctr)
		}
	}
	orig, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(orig, []byte(patch), appsv1.Deployment{})
	if err != nil {
		t.Fatalf("patch %s does not apply: %v", patch, err)
	}
	var out appsv1.Deployment
	if err := json.Unmarshal(merged, &out); err != nil {
		t.Fatal(err)
	}
	ps := &out.Spec.Template.Spec
	if len(ps.Containers) != len(d.Spec.Template.Spec.Containers) {
		t.Errorf("patch changed the number of containers: %d -> %d", len(d.Spec.Template.Spec.Containers), len(ps.Containers))
	}
	spec := int64(-1)
	if tl.SpecGracePeriodSeconds != nil {
		spec = *tl.SpecGracePeriodSeconds
	}
	checkSpec(t, "patched spec", ps, spec, spec)
	if g := r.TerminationGracePeriodSeconds; g != nil && (ps.TerminationGracePeriodSeconds == nil || *ps.TerminationGracePeriodSeconds != *g) {
		t.Errorf("patched grace %v; want %d", ps.TerminationGracePeriodSeconds, *g)
	}
	for _, c := range append(ps.InitContainers, ps.Containers...) {
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
			continue
		}
		h := c.Lifecycle.PreStop
		n := 0
		for _, set := range []bool{h.Exec != nil, h.HTTPGet != nil, h.TCPSocket != nil, h.Sleep != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Errorf("patched preStop of %s has %d handlers: %+v", c.Name, n, h)
		}
		if c.Name == r.Container && r.PreStopSleepSeconds != nil && (h.Sleep == nil || h.Sleep.Seconds != *r.PreStopSleepSeconds) {
			t.Errorf("patched preStop of %s is %+v; want sleep %d", c.Name, h, *r.PreStopSleepSeconds)
		}
	}
}

func TestReadPID1(t *testing.T) {
	for _, tc := range []struct {
		cmd, args []string
		shared    bool
		want      pid1Kind
		why       string
	}{
		{nil, []string{"--port=80"}, false, pid1Unknown, "ENTRYPOINT"},
		{[]string{"/app"}, nil, false, pid1Unknown, "PID 1 is `app`"},
		{[]string{"sleep", "infinity"}, nil, false, pid1Ignores, "`sleep`"},
		{[]string{"tail", "-f", "/dev/null"}, nil, false, pid1Ignores, "`tail`"},
		{[]string{"sh", "-c", "/app & wait"}, nil, false, pid1Ignores, "`sh` stays PID 1"},
		{[]string{"/bin/bash", "-ec", "echo start; /app"}, nil, false, pid1Unknown, "bash 5.1+ and busybox exec it"},
		{[]string{"sh", "-c"}, []string{"exec /app --port 80"}, false, pid1Unknown, "execs `app`"},
		{[]string{"sh", "-c", "cd /srv && exec sleep 100"}, nil, false, pid1Ignores, "`sleep`"},
		{[]string{"sh", "-c", "/app"}, nil, false, pid1Unknown, "dash and others keep `sh`"},
		{[]string{"sh", "-c", "echo a; sleep 100"}, nil, false, pid1Ignores, "`sleep`"},
		{[]string{"sh", "-c", "sleep 3600"}, nil, false, pid1Ignores, "`sleep`"},
		{[]string{"sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"}, nil, false, pid1Traps, "traps TERM and waits"},
		{[]string{"sh", "-c", "trap \"kill -TERM $pid\" SIGTERM INT; /app & pid=$!; wait"}, nil, false, pid1Traps, "traps TERM and waits"},
		{[]string{"sh", "-c", "trap -- 'kill $p' term; /app & p=$!; wait $p"}, nil, false, pid1Traps, "traps TERM"},
		{[]string{"sh", "-c", "trap 'exit 0' TERM; /app"}, nil, false, pid1Unknown, "only after the foreground command"},
		{[]string{"sh", "-c", "trap 'exit 0' TERM; exec sleep 3600"}, nil, false, pid1Ignores, "`sleep`"},
		{[]string{"sh", "-c", "echo 'no trap here TERM'; /app & wait"}, nil, false, pid1Ignores, "stays PID 1"},
		{[]string{"sh", "-c", "trap 'echo bye' EXIT; /app & wait"}, nil, false, pid1Ignores, "stays PID 1"},
		{[]string{"sh", "-c", "trap - TERM; /app & wait"}, nil, false, pid1Ignores, "stays PID 1"},
		{[]string{"sh", "-c", "trap '' TERM; exec /app"}, nil, false, pid1Ignores, "trap '' TERM"},
		{[]string{"sh", "-c", "exec /app 2>&1"}, nil, false, pid1Unknown, "execs `app`"},
		{[]string{"sh", "-o", "pipefail", "-c", "/app | tee log"}, nil, false, pid1Ignores, "pipeline"},
		{[]string{"sh", "/entrypoint.sh"}, nil, false, pid1Unknown, "script file"},
		{[]string{"busybox", "sh", "-c", "/app & wait"}, nil, false, pid1Ignores, "`sh` stays PID 1"},
		{[]string{"tini", "--", "sh", "-c", "/app & wait"}, nil, false, pid1Unknown, "forwards SIGTERM"},
		{[]string{"sh", "-c", "/app & wait"}, nil, true, pid1Unknown, "shareProcessNamespace"},
	} {
		got := readPID1(corev1.Container{Command: tc.cmd, Args: tc.args}, tc.shared)
		if got.kind != tc.want || !strings.Contains(got.why, tc.why) {
			t.Errorf("%q %q: kind %d (%s); want %d with %q", tc.cmd, tc.args, got.kind, got.why, tc.want, tc.why)
		}
	}
}

// A pod still terminating when the watch ends is reported as such and counted apart.
func TestUnfinishedCountedApart(t *testing.T) {
	done := newScen("web-30a", 30, withSleep(app("/app"), 5), false).
		deleteAt(1).notReady(1.05).killing(1.02).exitAll(7, 0).removeEP(7.1).removed(7.2)
	open := newScen("web-30", 30, withSleep(app("/app"), 5), false).deleteAt(2).notReady(2.05).killing(2.02)
	tls, sum := run(Config{}, append(done.deltas, open.deltas...))
	if len(tls) != 2 {
		t.Fatalf("%d timelines; want 2", len(tls))
	}
	if tl := tls[1]; tl.Name != "web-30" || tl.State != StateTerminating || tl.Verdict != VerdictIncomplete {
		t.Errorf("open pod: %s state %s verdict %s; want web-30 terminating incomplete", tl.Name, tl.State, tl.Verdict)
	}
	if sum.Terminated != 1 || sum.Unfinished != 1 || sum.Verdicts[VerdictIncomplete] != 0 || sum.Verdicts[VerdictGraceful] != 1 {
		t.Errorf("summary terminated %d unfinished %d verdicts %v; want 1, 1, {graceful: 1}", sum.Terminated, sum.Unfinished, sum.Verdicts)
	}
}

// After a failed preStop hook kubelet goes on to SIGTERM: the timeline shows it, estimated.
func TestSIGTERMAfterFailedHook(t *testing.T) {
	s := newScen("web-31", 30, withExec(app("/app"), "/bin/false"), false).
		deleteAt(1).notReady(1.05).killing(1.02).event(1.5, "FailedPreStopHook", "app", "PreStopHook failed").
		exitAll(1.9, 0).removeEP(2).removed(2.1)
	tls, _ := run(Config{}, s.deltas)
	for _, m := range tls[0].Marks {
		if m.Type == MarkSIGTERM {
			if !m.Estimated || !m.Time.Equal(at(1.52)) {
				t.Errorf("SIGTERM %+v; want estimated at the failure (%s)", m, at(1.52))
			}
			return
		}
	}
	t.Errorf("no SIGTERM mark after the failed hook: %+v", tls[0].Marks)
}

// The SIGKILL is never drawn after its own deadline: the deadline comes from the Killing event's
// nanoseconds, not from deletionTimestamp's whole seconds.
func TestDeadlineFromKilling(t *testing.T) {
	s := newScen("web-32", 3, app("sh", "-c", "/app & wait"), false).
		deleteAt(1.7).notReady(1.75).killing(1.72).
		exit(4.95, map[string]int32{"app": 137}, nil, map[string]float64{"app": 4.72}).removeEP(5).removed(5.1)
	tls, _ := run(Config{}, s.deltas)
	tl := tls[0]
	if tl.Deadline == nil || !tl.Deadline.Equal(at(4.72)) {
		t.Errorf("deadline %v; want Killing + 3s = %s", tl.Deadline, at(4.72))
	}
	for _, m := range tl.Marks {
		if m.Type == MarkSIGKILL && m.Time.Sub(*tl.Deadline) > 100*time.Millisecond {
			t.Errorf("SIGKILL drawn at %s, %s after the deadline", m.Time, m.Time.Sub(*tl.Deadline))
		}
	}
}

func TestRecommendations(t *testing.T) {
	var deltas []Delta
	for i, name := range []string{"web-40a", "web-40b", "web-40c"} {
		t0 := float64(i * 10)
		s := newScen(name, 30, withExec(app("/app", "--on-sigterm=exit"), "sh", "-c", "sleep 1"), false).
			deleteAt(t0+1).notReady(t0+1.8).killing(t0+1.02).exitAll(t0+2.6, 0).removeEP(t0 + 2.7).removed(t0 + 2.8)
		deltas = append(deltas, s.deltas...)
	}
	sts := newScen("db-0", 10, app("/db"), false)
	sts.pod.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", Controller: ptr.To(true)}}
	sts.deltas = sts.deltas[:0]
	sts.podDelta(0, Added, nil)
	sts.deltas = append(sts.deltas, Delta{Time: at(0.01), Type: Added, Slice: sts.slice.DeepCopy()})
	sts.deleteAt(40).notReady(40.05).killing(40.02).exitAll(48.5, 0).removeEP(48.6).removed(48.7)
	tls, sum := run(Config{}, append(deltas, sts.deltas...))
	checkFixes(t, tls, sum)
	if len(sum.Recommendations) != 2 {
		t.Fatalf("recommendations %+v; want one for Deployment web and one for StatefulSet db", sum.Recommendations)
	}
	web, db := sum.Recommendations[0], sum.Recommendations[1]
	if web.Kind != "Deployment" || web.Name != "web" || web.Container != "app" || web.PreStopSleepSeconds == nil {
		t.Fatalf("web: %+v", web)
	}
	// The endpoint turned not ready 0.8 s after Killing: 5 s budget + 0.8 s lag - tolerance.
	if *web.PreStopSleepSeconds != 6 || web.TerminationGracePeriodSeconds != nil {
		t.Errorf("web: preStop %d grace %v; want 6 and the spec's 30 kept", *web.PreStopSleepSeconds, web.TerminationGracePeriodSeconds)
	}
	wantContains(t, "patch", web.Patch, "kubectl patch deployment web -n shop --type strategic", `"exec":null`, `"seconds":6`)
	if db.Kind != "StatefulSet" || db.TerminationGracePeriodSeconds == nil || *db.TerminationGracePeriodSeconds <= 10 {
		t.Errorf("db: %+v; want the grace of StatefulSet db raised above 10 (close to the deadline)", db)
	}
	wantContains(t, "patch", db.Patch, "kubectl patch statefulset db")
	if len(web.Basis) == 0 || len(db.Basis) == 0 {
		t.Errorf("recommendations without a basis: %+v", sum.Recommendations)
	}
}

// Every verdict has its own symbol and a rank in order: the views all read this one table.
func TestVerdictStyles(t *testing.T) {
	seen := map[string]Verdict{}
	for i, v := range Verdicts {
		st := v.Style()
		if prev, dup := seen[st.Symbol]; dup || st.Symbol == "·" {
			t.Errorf("%s has symbol %q (also %s)", v, st.Symbol, prev)
		}
		seen[st.Symbol] = v
		if v.Rank() != i {
			t.Errorf("%s ranks %d; want %d", v, v.Rank(), i)
		}
	}
}

// The drain starts at the earliest endpoint change, also when the endpoint was only removed.
func TestDrainStart(t *testing.T) {
	tl := PodTimeline{Marks: []Mark{{Type: MarkKilling, Time: at(1)}, {Type: MarkEndpointRemoved, Time: at(2)}, {Type: MarkEndpointNotServing, Time: at(3)}}}
	if ds := tl.DrainStart(); ds == nil || ds.Type != MarkEndpointRemoved {
		t.Errorf("drain start %+v; want the endpoint-removed mark", ds)
	}
	if (&PodTimeline{}).DrainStart() != nil {
		t.Error("drain start without endpoint marks")
	}
}

// The end of a surge is no dip: capacity is measured against the Deployment's desired replicas
// (the desired-replicas annotation its ReplicaSets carry), not against the most endpoints seen.
func TestDipAgainstDesiredReplicas(t *testing.T) {
	build := func(desired string, fall bool) Group {
		s := newScen("web-50", 30, withSleep(app("/app"), 5), false)
		// The slice has "other" and web-50 ready; a surge pod makes it three, then web-50 leaves.
		surge := s.slice.Endpoints[0]
		surge.TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "surge", UID: "uid-surge"}
		s.slice.Endpoints = append(s.slice.Endpoints, surge)
		s.deltas = append(s.deltas, Delta{Time: at(0.5), Type: Modified, Slice: s.slice.DeepCopy()})
		if desired != "" {
			rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f", Namespace: "shop",
				Annotations:     map[string]string{"deployment.kubernetes.io/desired-replicas": desired},
				OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}}}}
			s.deltas = append([]Delta{{Time: at(0), Type: Added, ReplicaSet: rs}}, s.deltas...)
		}
		s.deleteAt(1)
		// web-50's endpoint turns not ready: 3 -> 2 ready (the desired 2, the end of the surge).
		eps := s.slice.Endpoints
		eps[1].Conditions = discoveryv1.EndpointConditions{Ready: ptr.To(false), Serving: ptr.To(true), Terminating: ptr.To(true)}
		if fall {
			eps[0].Conditions.Ready = ptr.To(false) // and another pod fails: 1 ready
		}
		s.deltas = append(s.deltas, Delta{Time: at(1.05), Type: Modified, Slice: s.slice.DeepCopy()})
		s.killing(1.02).exitAll(7, 0).removed(7.2)
		_, sum := run(Config{}, s.deltas)
		if len(sum.Services) != 1 {
			t.Fatalf("services %+v", sum.Services)
		}
		return sum.Services[0]
	}
	if g := build("2", false); g.Dip() != 0 || g.DesiredEndpoints == nil || *g.DesiredEndpoints != 2 {
		t.Errorf("surge ended at the desired 2: dip %d desired %v; want 0 and 2", g.Dip(), g.DesiredEndpoints)
	}
	if g := build("", false); g.Dip() != 1 {
		t.Errorf("without the desired count: dip %d; want 1 below the most seen", g.Dip())
	}
	if g := build("2", true); g.Dip() != 1 {
		t.Errorf("a real fall to 1 of the desired 2: dip %d; want 1", g.Dip())
	}
}

// A rollout that raises the grace period: the old pods were killed with 10 s, a new pod already
// has 120 s. The recommendation must not patch it back down.
func TestRecommendationNeverBelowNewTemplate(t *testing.T) {
	old := newScen("web-60", 10, app("/app"), true).deleteAt(1).killing(1.02).
		exit(11.5, map[string]int32{"app": 137}, nil, map[string]float64{"app": 11.1}).removed(11.6)
	fresh := newScen("web-61", 120, app("/app"), true)
	fresh.pod.Labels["pod-template-hash"] = "7c9b"
	fresh.deltas[0].Pod.Labels = map[string]string{"app": "web", "pod-template-hash": "7c9b"}
	fresh.deltas[0].Pod.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-7c9b", Controller: ptr.To(true)}}
	_, sum := run(Config{}, append(fresh.deltas, old.deltas...))
	for _, r := range sum.Recommendations {
		if g := r.TerminationGracePeriodSeconds; g != nil && *g < 120 {
			t.Errorf("recommendation %+v lowers the new template's 120s", r)
		}
	}
}

// Needs are per container: a long hook of one container does not cancel another's drain sleep,
// and the grace period covers the container that needs most.
func TestRecommendationPerContainer(t *testing.T) {
	side := withExec(corev1.Container{Name: "side", Image: "side"}, "sleep", "20")
	s := newScen("web-62", 30, app("/app"), false)
	s.pod.Spec.Containers = append(s.pod.Spec.Containers, side)
	s.pod.Status.ContainerStatuses = append(s.pod.Status.ContainerStatuses, running("side"))
	s.deltas[0].Pod = s.pod.DeepCopy()
	s.deleteAt(1).notReady(1.05).killing(1.02).event(1.03, "Killing", "side", "Stopping container side").
		exit(27, map[string]int32{"app": 0, "side": 0}, nil, map[string]float64{"app": 1.5, "side": 26.5}).removeEP(27.1).removed(27.2)
	tls, sum := run(Config{}, s.deltas)
	checkFixes(t, tls, sum)
	if len(sum.Recommendations) != 1 {
		t.Fatalf("recommendations %+v", sum.Recommendations)
	}
	r := sum.Recommendations[0]
	if r.Container != "app" || r.PreStopSleepSeconds == nil || *r.PreStopSleepSeconds != 5 {
		t.Errorf("recommendation %+v; want preStop sleep 5 on app despite side's 20s hook", r)
	}
	if g := r.TerminationGracePeriodSeconds; g == nil || *g < 20+5 {
		t.Errorf("recommendation grace %v; want it to cover side's 20s hook and its shutdown", g)
	}
}
