//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
	"github.com/drainwatch/kubectl-drainwatch/test/traffic"
)

// watchArgs are the flags of every watching scenario: JSON lines, exit when the rollout or
// drain is over, never hang.
func watchArgs(target, ns string) []string {
	args := []string{target, "--json", "--until-done", "--timeout", "3m"}
	if ns != "" {
		args = append(args, "-n", ns)
	}
	return args
}

// rollout deploys a, starts traffic and drainwatch, restarts the rollout and returns the old
// pods, drainwatch's output and the traffic result.
func rollout(t *testing.T, s *scenario, a app, record string, beforeRollout func(), extra ...string) ([]string, output, traffic.Result) {
	t.Helper()
	s.deploy(a)
	if beforeRollout != nil {
		beforeRollout()
	}
	return restart(t, s, a, record, extra...)
}

// restart rolls the deployed workload a out again (kubectl rollout restart) while traffic flows
// and drainwatch watches it.
func restart(t *testing.T, s *scenario, a app, record string, extra ...string) ([]string, output, traffic.Result) {
	t.Helper()
	old := podNames(s.pods(a.name))
	stopTraffic := s.startTraffic(a.name)
	dw := s.startDrainwatch(append(append(watchArgs(a.kind()+"/"+a.name, s.ns), recordArgs(record)...), extra...)...)
	began := time.Now()
	s.kubectl("rollout", "restart", a.kind()+"/"+a.name, "-n", s.ns)
	out := dw.wait(4 * time.Minute)
	res := stopTraffic()
	t.Logf("rollout of %d pods watched for %s (drainwatch ran %s)", len(old), time.Since(began).Round(100*time.Millisecond), out.Duration.Round(100*time.Millisecond))
	t.Logf("traffic: %s", res)
	checkGracefulLostNothing(t, out, res)
	return old, out, res
}

// checkGracefulLostNothing is the ground truth every scenario shares: a pod drainwatch calls
// graceful kept serving until load balancers stopped sending to it.
func checkGracefulLostNothing(t *testing.T, out output, res traffic.Result) {
	t.Helper()
	for _, tl := range out.Timelines {
		if tl.Verdict == timeline.VerdictGraceful && res.Failed(tl.Name) > 0 {
			t.Errorf("%s: drainwatch says graceful, but %d requests to it failed (%v)", tl.Name, res.Failed(tl.Name), res.Pods[tl.Name].Errors)
		}
	}
}

// TestKubectlPlugin runs drainwatch the way users do: as `kubectl drainwatch`, found on PATH by
// the pinned kubectl.
func TestKubectlPlugin(t *testing.T) {
	s := newScenario(t, "plugin")
	kubectl := filepath.Join(env.bin, "kubectl")
	path := envWith(env.pluginDir, env.bin)

	list := exec.Command(kubectl, "plugin", "list")
	list.Env = path
	out, err := list.CombinedOutput()
	if err != nil || !strings.Contains(string(out), env.plugin) {
		t.Fatalf("kubectl plugin list does not find %s: %v\n%s", env.plugin, err, out)
	}

	version := exec.Command(kubectl, "drainwatch", "version")
	version.Env = path
	out, err = version.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Version:") {
		t.Fatalf("kubectl drainwatch version: %v\n%s", err, out)
	}
	t.Logf("kubectl drainwatch version: %s", strings.TrimSpace(string(out)))

	a := app{name: "web", replicas: 1, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6)}
	old := podNames(s.deploy(a))

	// Shell completion through kubectl: it runs kubectl_complete-drainwatch from PATH, which
	// asks the plugin; the names come from the cluster.
	shimDir := t.TempDir()
	shim := "#!/bin/sh\nexec " + env.plugin + " __complete \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shimDir, "kubectl_complete-drainwatch"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", s.ns, "deploy/"}, "deploy/web\n"},
		{[]string{"-n", s.ns, "deployment", "w"}, "web\n"},
		{[]string{"-n", s.ns[:3]}, s.ns + "\n"},
		{[]string{"no"}, "node/\n"},
	} {
		comp := exec.Command(kubectl, append([]string{"__complete", "drainwatch"}, c.args...)...)
		comp.Env = append(envWith(shimDir, env.pluginDir, env.bin), "KUBECONFIG="+env.kubeconfig)
		out, err := comp.CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("kubectl __complete drainwatch %s: %v, want %q among\n%s", strings.Join(c.args, " "), err, c.want, out)
		}
	}

	cmd := exec.Command(kubectl, append([]string{"drainwatch"}, watchArgs("deploy/web", s.ns)...)...)
	cmd.Env = append(path, "KUBECONFIG="+env.kubeconfig)
	dw := s.startCommand(cmd, cmd.Args[1:])
	s.kubectl("rollout", "restart", "deploy/web", "-n", s.ns)
	res := dw.wait(3 * time.Minute)
	checkAccounted(t, res, old)
	if res.ExitCode != 0 {
		t.Errorf("exit code %d, want 0 (a graceful rollout)", res.ExitCode)
	}
	if v := res.timeline(t, old[0]).Verdict; v != timeline.VerdictGraceful {
		t.Errorf("verdict %s, want graceful", v)
	}
}

// TestWatchGoesOnAfterARollout: without --until-done, a watch outlives the rollout it saw
// complete: the pods of the next rollout are reported too.
func TestWatchGoesOnAfterARollout(t *testing.T) {
	s := newScenario(t, "twice")
	a := app{name: "web", replicas: 1, args: []string{"--on-sigterm=exit"}}
	first := podNames(s.deploy(a))
	dw := s.startDrainwatch("deploy/web", "-n", s.ns, "--json", "--timeout", "3m")
	s.kubectl("rollout", "restart", "deploy/web", "-n", s.ns)
	s.waitRolledOut(a.name, a.replicas)
	second := podNames(s.pods(a.name))
	s.kubectl("rollout", "restart", "deploy/web", "-n", s.ns)
	s.waitRolledOut(a.name, a.replicas)
	// The API server no longer has the pods of the second rollout; their deletion reaches the
	// watch well within this.
	time.Sleep(3 * time.Second)
	if err := dw.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	out := dw.wait(30 * time.Second)
	all := append(first, second...)
	slices.Sort(all)
	checkAccounted(t, out, all)
}

// TestRolloutWithPreStopIsGraceful: preStop sleep 5 gives load balancers time to stop sending,
// then the app drains on SIGTERM. Every pod is graceful and no request fails. The app takes 2s to
// become ready, as many do: the readiness failures at start-up (Unhealthy events long before the
// deletion) must not count against the termination.
func TestRolloutWithPreStopIsGraceful(t *testing.T) {
	s := newScenario(t, "prestop")
	a := app{name: "web", replicas: 3, args: []string{"--on-sigterm=drain", "--drain-seconds=2s", "--start-delay=2s"}, preStop: preStopSleep(5)}
	old, out, res := rollout(t, s, a, "rollout-prestop", func() {
		// The scenario is only meaningful if the start-up readiness failures really happened.
		events, err := env.client.CoreV1().Events(s.ns).List(s.ctx, metav1.ListOptions{FieldSelector: "reason=Unhealthy"})
		if err != nil || len(events.Items) == 0 {
			t.Fatalf("no Unhealthy events at start-up (err %v): the app's --start-delay did not fail readiness", err)
		}
	})

	checkAccounted(t, out, old)
	if out.ExitCode != 0 {
		t.Errorf("exit code %d, want 0 (all graceful)", out.ExitCode)
	}
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Verdict != timeline.VerdictGraceful {
			t.Errorf("%s: verdict %s, want graceful; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		if tl.Cause != timeline.CauseDelete {
			t.Errorf("%s: cause %q, want %q (ReplicaSet scale-down)", name, tl.Cause, timeline.CauseDelete)
		}
		if tl.Owner == nil || tl.Owner.Kind != "ReplicaSet" || tl.Owner.Controller == nil || tl.Owner.Controller.Name != "web" {
			t.Errorf("%s: owner %+v, want a ReplicaSet of Deployment web", name, tl.Owner)
		}
		for _, m := range []timeline.MarkType{timeline.MarkEndpointNotReady, timeline.MarkKilling, timeline.MarkContainerExited} {
			if !hasMark(tl, m) {
				t.Errorf("%s: no %s mark; marks: %s", name, m, markList(tl))
			}
		}
		if len(tl.Containers) != 1 || tl.Containers[0].ExitCode == nil || *tl.Containers[0].ExitCode != 0 {
			t.Errorf("%s: containers %+v, want app exiting 0", name, tl.Containers)
		}
		// preStop 5s + 2s of draining after SIGTERM; a busy kubelet reports the exit late.
		if tl.ShutdownSeconds == nil || *tl.ShutdownSeconds < 6 || *tl.ShutdownSeconds > 25 {
			t.Errorf("%s: shutdownSeconds %v, want about 7 (at least the preStop sleep, well within the grace period)", name, ptrString(tl.ShutdownSeconds))
		}
		if !slices.Contains(tl.Services, "web") {
			t.Errorf("%s: services %v, want web", name, tl.Services)
		}
		// Ground truth: the pod served every request the load balancer sent it.
		if n := res.Failed(name); n != 0 {
			t.Errorf("%s: drainwatch says graceful and %d requests to it really failed", name, n)
		}
		if res.Pods[name] == nil || res.Pods[name].OK == 0 {
			t.Errorf("%s: received no traffic; the ground truth is empty", name)
		}
	}
	if out.Summary.Verdicts[timeline.VerdictGraceful] != len(old) {
		t.Errorf("summary verdicts %v, want %d graceful", out.Summary.Verdicts, len(old))
	}
	if res.ClusterIP.Failed != 0 || res.ClusterIP.OK == 0 {
		t.Errorf("through the ClusterIP: %d ok, %d failed %v; want all ok", res.ClusterIP.OK, res.ClusterIP.Failed, res.ClusterIP.Errors)
	}
}

// TestRolloutWithoutPreStopStopsBeforeDrain: no preStop and an app that exits at once on
// SIGTERM: it stops serving while load balancers still send to it. drainwatch must say so,
// and the traffic must really have failed for each pod it names.
func TestRolloutWithoutPreStopStopsBeforeDrain(t *testing.T) {
	s := newScenario(t, "noprestop")
	a := app{name: "web", replicas: 3, args: []string{"--on-sigterm=exit"}}
	old, out, res := rollout(t, s, a, "rollout-no-prestop", nil)

	checkAccounted(t, out, old)
	if out.ExitCode != 1 {
		t.Errorf("exit code %d, want 1 (pods at risk)", out.ExitCode)
	}
	checked := 0
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Verdict != timeline.VerdictAtRisk {
			t.Errorf("%s: verdict %s, want at-risk; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		f := finding(tl, timeline.FindingStoppedBeforeDrain)
		if f == nil {
			t.Errorf("%s: no %s finding; findings %v", name, timeline.FindingStoppedBeforeDrain, findingIDs(tl))
			continue
		}
		if f.Fix == "" {
			t.Errorf("%s: %s without a fix", name, f.ID)
		}
		// Ground truth: a pod reported as stopping before the drain really lost requests,
		// whenever it stopped before the load balancer had learned of the change. Its
		// container-exited mark is when the API showed the exit, so the real exit was earlier.
		notReady, exited := firstMark(tl, timeline.MarkEndpointNotReady), firstMark(tl, timeline.MarkContainerExited)
		if notReady != nil && exited != nil && exited.Time.Sub(notReady.Time) >= res.PropagationDelay-200*time.Millisecond {
			t.Logf("%s: exit seen %s after the endpoint turned not ready, not before the load balancer's %s: no ground truth for it",
				name, exited.Time.Sub(notReady.Time).Round(time.Millisecond), res.PropagationDelay)
			continue
		}
		checked++
		if n := res.Failed(name); n == 0 {
			t.Errorf("%s: drainwatch reports %s but no request to it failed (%+v)", name, f.ID, res.Pods[name])
		}
	}
	if checked == 0 {
		t.Errorf("no pod exited within the load balancer's propagation delay; the traffic cannot confirm any finding")
	}
	if out.Summary.Verdicts[timeline.VerdictAtRisk] != len(old) {
		t.Errorf("summary verdicts %v, want %d at-risk", out.Summary.Verdicts, len(old))
	}
}

// TestPID1IgnoresSIGTERM: a shell as PID 1 gets no default SIGTERM action, so the container
// runs until SIGKILL at the end of the 3s grace period.
func TestPID1IgnoresSIGTERM(t *testing.T) {
	s := newScenario(t, "pid1")
	a := app{name: "web", replicas: 2, grace: 3,
		command: []string{"sh", "-c", "/app --on-sigterm=drain & wait"}}
	old, out, _ := rollout(t, s, a, "sigkill-deadline", nil)

	checkAccounted(t, out, old)
	if out.ExitCode != 1 {
		t.Errorf("exit code %d, want 1", out.ExitCode)
	}
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Verdict != timeline.VerdictKilled {
			t.Errorf("%s: verdict %s, want killed; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		f := finding(tl, timeline.FindingSIGKILLAtDeadline)
		if f == nil {
			t.Errorf("%s: no %s finding; findings %v", name, timeline.FindingSIGKILLAtDeadline, findingIDs(tl))
		} else if !strings.Contains(f.Message+" "+f.Fix, "PID 1") {
			t.Errorf("%s: %s does not mention PID 1: %q / %q", name, f.ID, f.Message, f.Fix)
		}
		if len(tl.Containers) != 1 || tl.Containers[0].ExitCode == nil || *tl.Containers[0].ExitCode != 137 {
			t.Errorf("%s: containers %+v, want exit code 137", name, tl.Containers)
		}
		if !hasMark(tl, timeline.MarkSIGKILL) {
			t.Errorf("%s: no sigkill mark; marks: %s", name, markList(tl))
		}
		if tl.GracePeriodSeconds == nil || *tl.GracePeriodSeconds != 3 {
			t.Errorf("%s: gracePeriodSeconds %v, want 3", name, tl.GracePeriodSeconds)
		}
	}
}

// TestFailingPreStopHook: an exec preStop that exits 1 gives a FailedPreStopHook event.
func TestFailingPreStopHook(t *testing.T) {
	s := newScenario(t, "prestopfail")
	a := app{name: "web", replicas: 2, args: []string{"--on-sigterm=drain", "--drain-seconds=2s"},
		preStop: preStopExec("sh", "-c", "exit 1")}
	old, out, _ := rollout(t, s, a, "prestop-failed", nil)

	checkAccounted(t, out, old)
	if out.ExitCode != 1 {
		t.Errorf("exit code %d, want 1", out.ExitCode)
	}
	for _, name := range old {
		tl := out.timeline(t, name)
		if finding(tl, timeline.FindingPreStopFailed) == nil {
			t.Errorf("%s: no %s finding; findings %v; marks %s", name, timeline.FindingPreStopFailed, findingIDs(tl), markList(tl))
		}
		if !hasMark(tl, timeline.MarkPreStopFailed) {
			t.Errorf("%s: no prestop-failed mark; marks: %s", name, markList(tl))
		}
		if tl.Verdict == timeline.VerdictGraceful {
			t.Errorf("%s: verdict graceful despite a failed preStop hook", name)
		}
	}
}

// TestLimitedUserWithoutEvents: a user who may read pods but not events still gets timelines,
// marked partial, and a warning; the exit code follows the verdicts (0 here: every pod drains).
func TestLimitedUserWithoutEvents(t *testing.T) {
	s := newScenario(t, "limited")
	a := app{name: "web", replicas: 2, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6)}
	old, out, _ := rollout(t, s, a, "", nil, "--kubeconfig", env.limitedKubeconfig)

	checkAccounted(t, out, old)
	if !strings.Contains(out.Stderr, "warning") || !strings.Contains(out.Stderr, "events") {
		t.Errorf("no warning about events on stderr:\n%s", out.Stderr)
	}
	warned := false
	for _, w := range out.Summary.Warnings {
		warned = warned || strings.Contains(w, "events")
	}
	if !warned {
		t.Errorf("summary warnings %q do not mention events", out.Summary.Warnings)
	}
	allGraceful := true
	for _, name := range old {
		tl := out.timeline(t, name)
		if !slices.Contains(tl.Partial, "events") {
			t.Errorf("%s: partial %v, want it to list events", name, tl.Partial)
		}
		if hasMark(tl, timeline.MarkKilling) {
			t.Errorf("%s: a killing mark, though events cannot be read", name)
		}
		allGraceful = allGraceful && tl.Verdict == timeline.VerdictGraceful
		t.Logf("%s: verdict %s, findings %v", name, tl.Verdict, findingIDs(tl))
	}
	want := 1
	if allGraceful {
		want = 0
	}
	if out.ExitCode != want {
		t.Errorf("exit code %d, want %d (documented: 0 when every pod was graceful, else 1; permission gaps are warnings)", out.ExitCode, want)
	}
}

// TestDrainNodeWithPDB: `kubectl drain node-2` evicts three pods one at a time (a PDB allows
// one down); they move to node-1. drainwatch on the node must account for every pod, see
// evictions, and exit by itself once the drain is over.
func TestDrainNodeWithPDB(t *testing.T) {
	s := newScenario(t, "drain")
	// Pods of earlier scenarios may still be terminating on node-2; the node watch would see them.
	s.eventually("node-2 without pods", 90*time.Second, func() (bool, error) {
		return len(podsOn(s, "node-2")) == 0, nil
	})
	t.Cleanup(func() {
		_, _ = s.kubectlOutput("uncordon", "node-1")
		_, _ = s.kubectlOutput("uncordon", "node-2")
	})
	s.kubectl("cordon", "node-1")
	a := app{name: "web", replicas: 3, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6)}
	pods := s.deploy(a)
	for _, p := range pods {
		if p.Spec.NodeName != "node-2" {
			t.Fatalf("pod %s on %q, want node-2 (node-1 is cordoned)", p.Name, p.Spec.NodeName)
		}
	}
	old := podNames(pods)
	if _, err := env.client.PolicyV1().PodDisruptionBudgets(s.ns).Create(s.ctx, pdb(s.ns, a.name), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PDB: %v", err)
	}
	s.eventually("PDB allows one disruption", 30*time.Second, func() (bool, error) {
		p, err := env.client.PolicyV1().PodDisruptionBudgets(s.ns).Get(s.ctx, a.name, metav1.GetOptions{})
		return err == nil && p.Status.DisruptionsAllowed == 1, err
	})
	s.kubectl("uncordon", "node-1")

	stopTraffic := s.startTraffic(a.name)
	dw := s.startDrainwatch(append(watchArgs("node/node-2", ""), recordArgs("drain")...)...)
	began := time.Now()
	s.kubectl("drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout", "180s")
	drained := time.Now()
	t.Logf("kubectl drain took %s", drained.Sub(began).Round(100*time.Millisecond))
	out := dw.wait(2 * time.Minute)
	res := stopTraffic()
	t.Logf("traffic: %s", res)
	checkGracefulLostNothing(t, out, res)
	if lag := time.Since(drained); lag > 30*time.Second {
		t.Errorf("drainwatch exited %s after kubectl drain finished; --until-done should end it promptly", lag.Round(time.Second))
	}

	checkAccounted(t, out, old)
	if out.ExitCode != 0 {
		t.Errorf("exit code %d, want 0 (every pod drained gracefully)", out.ExitCode)
	}
	n, err := env.client.CoreV1().Nodes().Get(s.ctx, "node-2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cordoner := managerOf(n.ManagedFields, "unschedulable")
	d := checkDrain(t, out, "node-2", cordoner, len(old), len(old))
	// The PDB allows one pod down: each eviction waits for the replacement of the last.
	if !slices.ContainsFunc(d.WaitedOn, func(w timeline.Wait) bool { return w.Kind == timeline.KindPDB && w.Name == a.name && w.Seconds > 0 }) {
		t.Errorf("waited on %+v, want PDB %s", d.WaitedOn, a.name)
	}
	if took := drained.Sub(began).Seconds(); d.DurationSeconds > took+2 {
		t.Errorf("drain took %.1fs by drainwatch, longer than kubectl drain's %.1fs", d.DurationSeconds, took)
	}
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Cause != timeline.CauseEviction {
			t.Errorf("%s: cause %q, want eviction", name, tl.Cause)
		}
		if tl.Reason != "EvictionByEvictionAPI" {
			t.Errorf("%s: reason %q, want EvictionByEvictionAPI", name, tl.Reason)
		}
		if in := tl.Initiator; in == nil || in.By != cordoner || in.Cordon == nil || in.Cordon.Node != "node-2" {
			t.Errorf("%s: initiator %s, want the eviction of the drain by %s", name, jsonOf(in), cordoner)
		}
		if tl.Node != "node-2" {
			t.Errorf("%s: node %q, want node-2", name, tl.Node)
		}
		if tl.Verdict != timeline.VerdictGraceful {
			t.Errorf("%s: verdict %s, want graceful; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		if n := res.Failed(name); n != 0 {
			t.Errorf("%s: %d requests to it failed during a graceful drain", name, n)
		}
	}
	for _, p := range s.pods(a.name) {
		if p.Spec.NodeName != "node-1" {
			t.Errorf("after the drain pod %s is on %q, want node-1", p.Name, p.Spec.NodeName)
		}
	}
}

// TestAPIServerRestartMidRollout: kube-apiserver goes away while pods terminate. drainwatch's
// watches must resume and still produce exactly one finished timeline per pod, without duplicate
// marks. The verdicts are checked against the traffic, not against expectations: after a restart
// the controllers lag too (EndpointSlices were seen updated seconds after the deletion), which
// really puts pods at risk. Pods that terminated while the API server was down may lack their
// final status (incomplete), but no finding may be invented; pods deleted after it came back must
// be seen end to end, and those called graceful must not have lost a request.
func TestAPIServerRestartMidRollout(t *testing.T) {
	s := newScenario(t, "apirestart")
	a := app{name: "web", replicas: 3, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6)}
	pods := s.deploy(a)
	old := podNames(pods)
	stopTraffic := s.startTraffic(a.name)
	dw := s.startDrainwatch(watchArgs("deploy/web", s.ns)...)
	s.kubectl("rollout", "restart", "deploy/web", "-n", s.ns)
	s.eventually("an old pod terminating", 60*time.Second, func() (bool, error) {
		for _, p := range s.pods(a.name) {
			if p.DeletionTimestamp != nil && slices.Contains(old, p.Name) {
				return true, nil
			}
		}
		return false, nil
	})
	restart := exec.Command(filepath.Join(env.repo, "test/cluster/restart.sh"), "kube-apiserver", "2")
	restart.Env = append(os.Environ(), "DRAINWATCH_CLUSTER_DIR="+env.dir)
	outageStart := time.Now()
	if b, err := restart.CombinedOutput(); err != nil {
		t.Fatalf("restart kube-apiserver: %v\n%s", err, b)
	}
	outageEnd := time.Now()
	t.Logf("kube-apiserver was down and back in %s", outageEnd.Sub(outageStart).Round(100*time.Millisecond))

	out := dw.wait(4 * time.Minute)
	res := stopTraffic()
	t.Logf("traffic: %s", res)
	checkAccounted(t, out, old)
	afterOutage, allGraceful := 0, true
	for _, name := range old {
		tl := out.timeline(t, name)
		allGraceful = allGraceful && tl.Verdict == timeline.VerdictGraceful
		// The pods were deleted by their ReplicaSet with the full grace period.
		if f := finding(tl, timeline.FindingForceDeleted); f != nil {
			t.Errorf("%s: finding %s, but nothing force-deleted it (grace %s): %s", name, f.ID, ptrString(tl.GracePeriodSeconds), f.Message)
		}
		if !tl.Start.After(outageEnd) {
			t.Logf("%s terminated during the outage: %s %v", name, tl.Verdict, findingIDs(tl))
			continue
		}
		afterOutage++
		if tl.Verdict == timeline.VerdictIncomplete || !hasMark(tl, timeline.MarkContainerExited) {
			t.Errorf("%s: deleted after the API server was back, want it seen end to end; got %s, marks %s", name, tl.Verdict, markList(tl))
		}
		if tl.Verdict == timeline.VerdictGraceful && res.Failed(name) > 0 {
			t.Errorf("%s: graceful, but %d requests to it failed", name, res.Failed(name))
		}
	}
	if afterOutage == 0 {
		t.Errorf("no pod was deleted after the API server came back; the rollout did not resume while watched")
	}
	if want := map[bool]int{true: 0, false: 1}[allGraceful]; out.ExitCode != want {
		t.Errorf("exit code %d, want %d", out.ExitCode, want)
	}
}

func firstMark(tl timeline.PodTimeline, typ timeline.MarkType) *timeline.Mark {
	for i := range tl.Marks {
		if tl.Marks[i].Type == typ {
			return &tl.Marks[i]
		}
	}
	return nil
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprint(*p)
}

// podsOn lists the pods on a node.
func podsOn(s *scenario, node string) []corev1.Pod {
	list, err := env.client.CoreV1().Pods("").List(s.ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		s.t.Fatalf("list pods on %s: %v", node, err)
	}
	return list.Items
}
