//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// managerOf is the field manager that owns spec.FIELD of an object, read from its managedFields
// the way the API server wrote them (the status subresource aside).
func managerOf(mfs []metav1.ManagedFieldsEntry, field string) string {
	who := ""
	var when time.Time
	for _, m := range mfs {
		if m.Subresource == "status" || m.FieldsV1 == nil || !bytes.Contains(m.FieldsV1.Raw, []byte(`"f:`+field+`"`)) {
			continue
		}
		if m.Time != nil && (who == "" || !m.Time.Time.Before(when)) {
			who, when = m.Manager, m.Time.Time
		}
	}
	return who
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// pinToNode2 makes the next pods land on node-2: node-1 is cordoned until they run.
func pinToNode2(s *scenario, a app) []corev1.Pod {
	s.t.Helper()
	s.eventually("node-2 without pods", 90*time.Second, func() (bool, error) {
		return len(podsOn(s, "node-2")) == 0, nil
	})
	s.t.Cleanup(func() { _, _ = s.kubectlOutput("uncordon", "node-1") })
	s.kubectl("cordon", "node-1")
	pods := s.deploy(a)
	s.kubectl("uncordon", "node-1")
	for _, p := range pods {
		if p.Spec.NodeName != "node-2" {
			s.t.Fatalf("pod %s on %q, want node-2 (node-1 is cordoned)", p.Name, p.Spec.NodeName)
		}
	}
	return pods
}

// TestTaintEviction: a NoExecute taint on node-2 makes the taint manager delete its pods.
// drainwatch on the node names the cause, the initiator with the taint, and the node's own
// drain (emptied by the taint, whose field manager tainted it); with a preStop sized for the
// drain budget no request fails.
func TestTaintEviction(t *testing.T) {
	s := newScenario(t, "taint")
	a := app{name: "web", replicas: 2, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6)}
	old := podNames(pinToNode2(s, a))
	t.Cleanup(func() { _, _ = s.kubectlOutput("taint", "node", "node-2", "e2e-maintenance-") })

	stopTraffic := s.startTraffic(a.name)
	dw := s.startDrainwatch(append(watchArgs("node/node-2", ""), recordArgs("taint")...)...)
	s.kubectl("taint", "node", "node-2", "e2e-maintenance=now:NoExecute")
	out := dw.wait(2 * time.Minute)
	res := stopTraffic()
	t.Logf("traffic: %s", res)
	checkGracefulLostNothing(t, out, res)
	checkAccounted(t, out, old)
	if out.ExitCode != 0 {
		t.Errorf("exit code %d, want 0 (every pod left gracefully)", out.ExitCode)
	}
	for _, name := range old {
		tl := out.timeline(t, name)
		if tl.Cause != timeline.CauseTaint || tl.Reason != "DeletionByTaintManager" {
			t.Errorf("%s: cause %q reason %q, want taint / DeletionByTaintManager", name, tl.Cause, tl.Reason)
		}
		in := tl.Initiator
		if in == nil || in.By != "taint-eviction-controller" || !slices.Contains(in.Taints, "e2e-maintenance=now:NoExecute") {
			t.Errorf("%s: initiator %+v, want the taint-eviction-controller and the taint e2e-maintenance=now:NoExecute", name, in)
		}
		if tl.Verdict != timeline.VerdictGraceful {
			t.Errorf("%s: verdict %s, want graceful; findings %v", name, tl.Verdict, findingIDs(tl))
		}
		if n := res.Failed(name); n != 0 {
			t.Errorf("%s: %d requests failed", name, n)
		}
	}
	n, err := env.client.CoreV1().Nodes().Get(s.ctx, "node-2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkDrain(t, out, "node-2", managerOf(n.ManagedFields, "taints"), len(old), 0)
}

// checkDrain checks the Summary's drain of node: who emptied it, how many pods it terminated
// and evicted, and that it ended empty with the last pod among what it waited on.
func checkDrain(t *testing.T, out output, node, by string, terminations, evictions int) timeline.NodeDrain {
	t.Helper()
	if by == "" {
		t.Fatalf("the node's managedFields name no manager for the field drainwatch reads")
	}
	if len(out.Summary.Drains) != 1 {
		t.Fatalf("drains %+v, want one for %s", out.Summary.Drains, node)
	}
	d := out.Summary.Drains[0]
	if d.Node != node || d.CordonedBy != by || d.JoinedMidway || d.Terminations != terminations || d.Evictions != evictions ||
		d.Empty == nil || len(d.Remaining) != 0 || d.DurationSeconds <= 0 {
		t.Errorf("drain %+v; want %s emptied by %s with %d terminations (%d evictions)", d, node, by, terminations, evictions)
	}
	if len(d.WaitedOn) == 0 || !slices.ContainsFunc(d.WaitedOn, func(w timeline.Wait) bool { return w.Kind == timeline.KindPod }) {
		t.Errorf("waited on %+v, want the last pod", d.WaitedOn)
	}
	return d
}

// TestPreemption: node-2 is full with a low-priority pod; a high-priority pod that only fits
// there makes the scheduler preempt it. drainwatch names the cause, the scheduler and the
// preemptor (from the scheduler's Preempted Event).
func TestPreemption(t *testing.T) {
	s := newScenario(t, "preempt")
	n, err := env.client.CoreV1().Nodes().Get(s.ctx, "node-2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Each pod asks for 60 % of what node-2 has free: two cannot run there together.
	free := n.Status.Allocatable.Cpu().MilliValue()
	for _, p := range podsOn(s, "node-2") {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, c := range p.Spec.Containers {
			free -= c.Resources.Requests.Cpu().MilliValue()
		}
	}
	cpu := fmt.Sprintf("%dm", free*6/10)
	t.Logf("node-2: %dm CPU free, each pod requests %s", free, cpu)
	for _, pc := range []struct {
		name  string
		value int32
	}{{s.ns + "-low", 10}, {s.ns + "-high", 100000}} {
		_, err := env.client.SchedulingV1().PriorityClasses().Create(s.ctx, &schedulingv1.PriorityClass{
			ObjectMeta: metav1.ObjectMeta{Name: pc.name}, Value: pc.value}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create PriorityClass: %v", err)
		}
		t.Cleanup(func() { _ = env.client.SchedulingV1().PriorityClasses().Delete(s.ctx, pc.name, metav1.DeleteOptions{}) })
	}
	low := app{name: "low", replicas: 1, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6),
		grace: 20, cpu: cpu, priorityClass: s.ns + "-low", nodeSelector: map[string]string{"kubernetes.io/hostname": "node-2"}}
	victim := s.deploy(low)[0]

	stopTraffic := s.startTraffic(low.name)
	dw := s.startDrainwatch(append(watchArgs("pod/"+victim.Name, s.ns), recordArgs("preemption")...)...)
	high := low
	high.name, high.priorityClass = "high", s.ns+"-high"
	tmpl := high.podTemplate()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "high", Namespace: s.ns, Labels: tmpl.Labels}, Spec: tmpl.Spec}
	created, err := env.client.CoreV1().Pods(s.ns).Create(s.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create the high-priority pod: %v", err)
	}
	out := dw.wait(2 * time.Minute)
	res := stopTraffic()
	t.Logf("traffic: %s", res)
	checkGracefulLostNothing(t, out, res)
	checkAccounted(t, out, []string{victim.Name})
	tl := out.timeline(t, victim.Name)
	if tl.Cause != timeline.CausePreemption || tl.Reason != "PreemptionByScheduler" {
		t.Errorf("cause %q reason %q, want preemption / PreemptionByScheduler", tl.Cause, tl.Reason)
	}
	in := tl.Initiator
	// The scheduler's Preempted Event names the preemptor by UID (pod/high is not in the
	// watched scope, so its name is not known).
	if in == nil || in.By != "default-scheduler" || in.Preemptor != string(created.UID) || !strings.Contains(in.Message, "preempting") {
		t.Errorf("initiator %s, want default-scheduler preempting for pod %s (UID %s)", jsonOf(in), created.Name, created.UID)
	}
	if tl.Verdict != timeline.VerdictGraceful {
		t.Errorf("verdict %s, want graceful (preemption honours the grace period); findings %v", tl.Verdict, findingIDs(tl))
	}
	s.eventually("the high-priority pod running on node-2", 60*time.Second, func() (bool, error) {
		p, err := env.client.CoreV1().Pods(s.ns).Get(s.ctx, "high", metav1.GetOptions{})
		return err == nil && p.Spec.NodeName == "node-2" && p.Status.Phase == corev1.PodRunning, err
	})
}

// TestScaleDownByAnotherController: something other than the Deployment's own controllers (an
// autoscaler, here a client with its own field manager) scales the Deployment from 3 to 1
// through the scale subresource. drainwatch attributes both deletions to that manager, through
// the ReplicaSet that shrank, and with a preStop no request fails.
func TestScaleDownByAnotherController(t *testing.T) {
	s := newScenario(t, "scaledown")
	a := app{name: "web", replicas: 3, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6)}
	old := podNames(s.deploy(a))
	stopTraffic := s.startTraffic(a.name)
	dw := s.startDrainwatch(append(watchArgs("deploy/"+a.name, s.ns), recordArgs("scale-down")...)...)
	s.kubectl("patch", "deployment", a.name, "-n", s.ns, "--subresource=scale", "--type=merge",
		"-p", `{"spec":{"replicas":1}}`, "--field-manager=e2e-autoscaler")
	out := dw.wait(2 * time.Minute)
	res := stopTraffic()
	t.Logf("traffic: %s", res)
	checkGracefulLostNothing(t, out, res)
	if len(out.Timelines) != 2 {
		t.Fatalf("timelines %v, want the 2 pods scaled away", out.podNames())
	}
	if out.ExitCode != 0 {
		t.Errorf("exit code %d, want 0", out.ExitCode)
	}
	for _, tl := range out.Timelines {
		if !slices.Contains(old, tl.Name) {
			t.Errorf("timeline of %s, not one of %v", tl.Name, old)
		}
		in := tl.Initiator
		if tl.Cause != timeline.CauseDelete || in == nil || in.By != "e2e-autoscaler" || in.Via != "scale-down" || in.Scale == nil ||
			in.Scale.From != 3 || in.Scale.To != 1 || in.Scale.Deployment != a.name || in.Scale.Rollout {
			t.Errorf("%s: cause %q initiator %s; want a scale-down 3→1 of deployment web by e2e-autoscaler", tl.Name, tl.Cause, jsonOf(in))
		}
		if tl.Verdict != timeline.VerdictGraceful {
			t.Errorf("%s: verdict %s, want graceful; findings %v", tl.Name, tl.Verdict, findingIDs(tl))
		}
		if n := res.Failed(tl.Name); n != 0 {
			t.Errorf("%s: %d requests failed", tl.Name, n)
		}
	}
}
