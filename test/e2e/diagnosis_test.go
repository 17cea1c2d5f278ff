//go:build e2e

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Each scenario here asserts the cause drainwatch gives, not only the verdict, against what the
// real kubelet did. Those whose problem is in the pod spec close the loop: drainwatch's own
// recommendation is applied with kubectl, the workload is rolled out again, and every pod must
// then terminate gracefully without a failed request.

// TestDeleteShortensGrace: the spec gives 30 s and the app drains for 10 s after SIGTERM, but
// `kubectl delete --grace-period=2` cuts it off: SIGKILL about 2 s later, while the load
// balancer still sends to the pod. The cause is the caller, and no fix touches the spec.
func TestDeleteShortensGrace(t *testing.T) {
	s := newScenario(t, "graceshort")
	a := app{name: "web", replicas: 2, args: []string{"--on-sigterm=drain", "--drain-seconds=10s"}}
	pods := podNames(s.deploy(a))
	victim := pods[0]
	stopTraffic := s.startTraffic(a.name)
	dw := s.startDrainwatch(append(watchArgs("pod/"+victim, s.ns), recordArgs("grace-shortened")...)...)
	s.kubectl("delete", "pod", victim, "-n", s.ns, "--grace-period=2", "--wait=false")
	out := dw.wait(2 * time.Minute)
	res := stopTraffic()
	t.Logf("traffic: %s", res)
	checkAccounted(t, out, []string{victim})
	tl := out.timeline(t, victim)
	if tl.Verdict != timeline.VerdictKilled {
		t.Errorf("verdict %s, want killed; findings %v", tl.Verdict, findingIDs(tl))
	}
	if tl.GracePeriodSeconds == nil || *tl.GracePeriodSeconds != 2 || tl.SpecGracePeriodSeconds == nil || *tl.SpecGracePeriodSeconds != 30 {
		t.Errorf("gracePeriodSeconds %s specGracePeriodSeconds %s, want 2 and 30", ptrString(tl.GracePeriodSeconds), ptrString(tl.SpecGracePeriodSeconds))
	}
	f := wantCause(t, tl, timeline.FindingSIGKILLAtDeadline, timeline.CauseGraceShortened)
	if f != nil && (!strings.Contains(f.Fix, "--grace-period") || strings.Contains(f.Fix, "terminationGracePeriodSeconds:")) {
		t.Errorf("fix %q: want the caller's --grace-period named and the spec left alone", f.Fix)
	}
	wantExit(t, tl, "app", 137)
	// Ground truth: killed 2 s after Killing. When that came before the load balancer's delay had
	// passed (kubelet may start the kill a second or more after the deletion), requests failed.
	if gap := gapOf(tl); gap < res.PropagationDelay-200*time.Millisecond {
		if res.Failed(victim) == 0 {
			t.Errorf("%s: killed %s after its endpoint turned not ready, within the load balancer's %s, yet no request to it failed (%+v)", victim, gap, res.PropagationDelay, res.Pods[victim])
		}
	} else {
		t.Logf("%s: killed %s after its endpoint turned not ready, after the load balancer's %s: no ground truth for the traffic", victim, gap, res.PropagationDelay)
	}
	for _, r := range out.Summary.Recommendations {
		if r.TerminationGracePeriodSeconds != nil {
			t.Errorf("recommendation %+v changes the grace period; the caller shortened it", r)
		}
	}
}

// TestPreStopLongerThanGrace: an exec preStop `sleep 8` with a 5 s grace period. Kubelet waits
// 5 s for the hook, sends SIGTERM with its 2 s minimum, and SIGKILLs the draining app. The
// recommended grace period then makes the next rollout clean.
func TestPreStopLongerThanGrace(t *testing.T) {
	s := newScenario(t, "prestoplong")
	a := app{name: "web", replicas: 2, grace: 5, args: []string{"--on-sigterm=drain", "--drain-seconds=3s"},
		preStop: preStopExec("sleep", "8")}
	old, out, _ := rollout(t, s, a, "prestop-consumed-grace", nil)
	checkAccounted(t, out, old)
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Verdict != timeline.VerdictKilled {
			t.Errorf("%s: verdict %s, want killed; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		wantCause(t, tl, timeline.FindingSIGKILLAtDeadline, timeline.CausePreStopConsumedGrace)
		wantExit(t, tl, "app", 137)
	}
	closeLoop(t, s, a, out)
}

// TestShellTrapsTERMButSlow: PID 1 is a shell that traps TERM and forwards it to the app, which
// needs 6 s to drain; the grace period is 3 s. A shell that traps TERM is not a PID 1 that
// ignores it: the cause is a slow shutdown, and the recommendation fixes it.
func TestShellTrapsTERMButSlow(t *testing.T) {
	s := newScenario(t, "trapslow")
	a := app{name: "web", replicas: 2, grace: 3,
		command: []string{"sh", "-c", `trap 'kill -TERM $child; wait $child; exit 0' TERM; /app --on-sigterm=drain --drain-seconds=6s & child=$!; wait $child`}}
	old, out, _ := rollout(t, s, a, "slow-shutdown", nil)
	checkAccounted(t, out, old)
	for _, name := range old {
		tl := out.timeline(t, name)
		f := wantCause(t, tl, timeline.FindingSIGKILLAtDeadline, timeline.CauseSlowShutdown)
		if f != nil && strings.Contains(f.Message, "ignores") {
			t.Errorf("%s: %q blames PID 1, but the script traps TERM", name, f.Message)
		}
		wantExit(t, tl, "app", 137)
	}
	closeLoop(t, s, a, out)
}

// TestExit143WithoutHandler: the app dies of SIGTERM's default action (exit 143) after a preStop
// sleep that covered the drain: no request is lost, but in-flight work would be.
func TestExit143WithoutHandler(t *testing.T) {
	s := newScenario(t, "exit143")
	a := app{name: "web", replicas: 2, args: []string{"--on-sigterm=code", "--exit-code=143"}, preStop: preStopSleep(6)}
	old, out, res := rollout(t, s, a, "exit-143", nil)
	checkAccounted(t, out, old)
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Verdict != timeline.VerdictFailed {
			t.Errorf("%s: verdict %s, want failed; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		wantCause(t, tl, timeline.FindingNonZeroExit, timeline.CauseNoSIGTERMHandler)
		wantExit(t, tl, "app", 143)
		if finding(tl, timeline.FindingStoppedBeforeDrain) != nil {
			t.Errorf("%s: stopped-before-drain, but the preStop sleep covered the drain", name)
		}
		if n := res.Failed(name); n != 0 {
			t.Errorf("%s: %d requests failed although SIGTERM came after the drain", name, n)
		}
	}
}

// TestNativeSidecarIgnoresTERM: the main container drains and exits; the native sidecar, `sleep`
// as its PID 1, gets SIGTERM only after that (kubelet's sidecar ordering), ignores it and is
// SIGKILLed at the pod's deadline. The finding names the sidecar, and the traffic shows the
// main container drained well.
func TestNativeSidecarIgnoresTERM(t *testing.T) {
	s := newScenario(t, "sidecar")
	a := app{name: "web", replicas: 2, grace: 8, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"},
		preStop: preStopSleep(5), sidecar: []string{"sleep", "3600"}}
	old, out, res := rollout(t, s, a, "sidecar-pid1", nil)
	checkAccounted(t, out, old)
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Verdict != timeline.VerdictKilled {
			t.Errorf("%s: verdict %s, want killed; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		f := wantCause(t, tl, timeline.FindingSIGKILLAtDeadline, timeline.CausePID1IgnoresSIGTERM)
		if f != nil && f.Container != "proxy" {
			t.Errorf("%s: finding on container %q, want the sidecar proxy", name, f.Container)
		}
		wantExit(t, tl, "app", 0)
		wantExit(t, tl, "proxy", 137)
		var app, proxy *timeline.Container
		for i := range tl.Containers {
			switch tl.Containers[i].Name {
			case "app":
				app = &tl.Containers[i]
			case "proxy":
				proxy = &tl.Containers[i]
			}
		}
		if proxy == nil || !proxy.Sidecar || app == nil || app.Finished == nil || proxy.Finished == nil || proxy.Finished.Before(*app.Finished) {
			t.Errorf("%s: containers %+v, want the sidecar finishing after the main container", name, tl.Containers)
		}
		if finding(tl, timeline.FindingStoppedBeforeDrain) != nil || finding(tl, timeline.FindingSidecarStoppedFirst) != nil {
			t.Errorf("%s: findings %v, want only the sidecar's kill", name, findingIDs(tl))
		}
		if n := res.Failed(name); n != 0 {
			t.Errorf("%s: %d requests failed although the main container drained", name, n)
		}
	}
}

// TestStatefulSetRollout: a StatefulSet whose app exits at once on SIGTERM, without preStop:
// each pod stops serving while the load balancer still sends to it. drainwatch follows the
// StatefulSet's rollout to its end, and its recommended preStop sleep makes the next one clean.
func TestStatefulSetRollout(t *testing.T) {
	s := newScenario(t, "sts")
	a := app{name: "web", replicas: 2, statefulSet: true, args: []string{"--on-sigterm=exit"}}
	old, out, res := rollout(t, s, a, "statefulset-no-prestop", nil)
	checkAccounted(t, out, old)
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Owner == nil || tl.Owner.Kind != "StatefulSet" || tl.Owner.Name != a.name {
			t.Errorf("%s: owner %+v, want StatefulSet %s", name, tl.Owner, a.name)
		}
		if tl.Verdict != timeline.VerdictAtRisk {
			t.Errorf("%s: verdict %s, want at-risk; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		wantCause(t, tl, timeline.FindingStoppedBeforeDrain, timeline.CauseNoPreStop)
		if res.Failed(name) == 0 {
			t.Logf("%s: no request failed (it exited %s after its endpoint turned not ready)", name, gapOf(tl))
		}
	}
	if res.TotalFailed() == 0 {
		t.Errorf("no request failed in a rollout without preStop: the ground truth does not confirm stopped-before-drain")
	}
	closeLoop(t, s, a, out)
}

// closeLoop applies drainwatch's recommendation for the workload with kubectl, waits until it is
// rolled out, rolls it out again while watching, and requires every pod to be graceful with no
// failed request. A recommendation that does not make the next rollout clean is a bug.
func closeLoop(t *testing.T, s *scenario, a app, out output) {
	t.Helper()
	kind := map[bool]string{true: "StatefulSet", false: "Deployment"}[a.statefulSet]
	var rec *timeline.Recommendation
	for i, r := range out.Summary.Recommendations {
		if r.Kind == kind && r.Name == a.name && r.Namespace == s.ns {
			rec = &out.Summary.Recommendations[i]
		}
	}
	if rec == nil || rec.Patch == "" {
		t.Fatalf("no recommendation with a patch for %s %s: %+v", kind, a.name, out.Summary.Recommendations)
	}
	t.Logf("recommendation: %s\nbasis: %s", rec.Patch, strings.Join(rec.Basis, "; "))
	cmd := exec.Command("sh", "-c", rec.Patch)
	cmd.Env = append(envWith(env.bin), "KUBECONFIG="+env.kubeconfig)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the recommended patch failed: %v\n%s", err, b)
	}
	// The patch itself rolls the workload out (its pods still have the old spec); wait for it.
	s.waitSettled(a)
	s.checkSpec(a, rec)

	old, out2, res := restart(t, s, a, "")
	checkAccounted(t, out2, old)
	for _, name := range old {
		tl := out2.timeline(t, name)
		if tl.Verdict != timeline.VerdictGraceful {
			t.Errorf("after the recommendation, %s: verdict %s, findings %v", name, tl.Verdict, findingIDs(tl))
			for _, f := range tl.Findings {
				t.Logf("  %s (%s): %s", f.ID, f.Cause, f.Message)
			}
		}
		if n := res.Failed(name); n != 0 {
			t.Errorf("after the recommendation, %d requests to %s failed", n, name)
		}
	}
	if out2.ExitCode != 0 {
		t.Errorf("after the recommendation, exit code %d, want 0", out2.ExitCode)
	}
	if len(out2.Summary.Recommendations) != 0 {
		t.Errorf("after the recommendation, more recommendations: %+v", out2.Summary.Recommendations)
	}
}

// checkSpec reads the workload back and checks that the patch set what the recommendation says.
func (s *scenario) checkSpec(a app, rec *timeline.Recommendation) {
	s.t.Helper()
	var spec corev1.PodSpec
	if a.statefulSet {
		sts, err := env.client.AppsV1().StatefulSets(s.ns).Get(s.ctx, a.name, metav1.GetOptions{})
		if err != nil {
			s.t.Fatal(err)
		}
		spec = sts.Spec.Template.Spec
	} else {
		d, err := env.client.AppsV1().Deployments(s.ns).Get(s.ctx, a.name, metav1.GetOptions{})
		if err != nil {
			s.t.Fatal(err)
		}
		spec = d.Spec.Template.Spec
	}
	if g := rec.TerminationGracePeriodSeconds; g != nil && *spec.TerminationGracePeriodSeconds != *g {
		s.t.Errorf("after the patch terminationGracePeriodSeconds is %d, want %d", *spec.TerminationGracePeriodSeconds, *g)
	}
	if n := rec.PreStopSleepSeconds; n != nil {
		c := spec.Containers[0]
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds != *n {
			s.t.Errorf("after the patch container %s has lifecycle %+v, want preStop sleep %d", c.Name, c.Lifecycle, *n)
		}
	}
}

// wantCause returns the finding with id, failing the test unless it exists with the cause.
func wantCause(t *testing.T, tl timeline.PodTimeline, id timeline.FindingID, cause string) *timeline.Finding {
	t.Helper()
	f := finding(tl, id)
	if f == nil {
		t.Errorf("%s: no %s finding; findings %v; marks %s", tl.Name, id, findingIDs(tl), markList(tl))
		return nil
	}
	if f.Cause != cause {
		t.Errorf("%s: %s cause %q, want %q; basis %q; message %q", tl.Name, id, f.Cause, cause, f.Basis, f.Message)
	}
	return f
}

// wantExit checks a container's exit code as the API reported it.
func wantExit(t *testing.T, tl timeline.PodTimeline, container string, code int32) {
	t.Helper()
	for _, c := range tl.Containers {
		if c.Name == container {
			if c.ExitCode == nil || *c.ExitCode != code {
				t.Errorf("%s: container %s exit %s, want %d", tl.Name, container, ptrString(c.ExitCode), code)
			}
			return
		}
	}
	t.Errorf("%s: no container %s in %+v", tl.Name, container, tl.Containers)
}

func gapOf(tl timeline.PodTimeline) time.Duration {
	nr, ex := firstMark(tl, timeline.MarkEndpointNotReady), firstMark(tl, timeline.MarkContainerExited)
	if nr == nil || ex == nil {
		return 0
	}
	return ex.Time.Sub(nr.Time).Round(time.Millisecond)
}
