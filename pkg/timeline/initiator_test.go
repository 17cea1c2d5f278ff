package timeline

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// disrupt sets the DisruptionTarget condition the way its writer does.
func (s *scen) disrupt(sec float64, reason, msg string) *scen {
	return s.podDelta(sec, Modified, func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget,
			Status: corev1.ConditionTrue, Reason: reason, Message: msg})
	})
}

// podEventFrom is an Event about the pod from another component than kubelet.
func (s *scen) podEventFrom(sec float64, reason, component, msg string, related *corev1.ObjectReference) *scen {
	s.event(sec, reason, "", msg)
	ev := s.deltas[len(s.deltas)-1].Event
	ev.InvolvedObject.FieldPath = ""
	ev.Source = corev1.EventSource{Component: component}
	ev.Related = related
	return s
}

func managed(manager, field string, sec float64) metav1.ManagedFieldsEntry {
	tm := metav1.NewTime(at(sec))
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, Time: &tm,
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:` + field + `":{}}}`)}}
}

func node(sec float64, name string, unschedulable bool, taints []corev1.Taint, mfs ...metav1.ManagedFieldsEntry) Delta {
	return Delta{Time: at(sec), Type: Modified, Node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, ManagedFields: mfs},
		Spec: corev1.NodeSpec{Unschedulable: unschedulable, Taints: taints}}}
}

func rsDelta(sec float64, replicas int32, desired int) Delta {
	return Delta{Time: at(sec), Type: Modified, ReplicaSet: &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f", Namespace: "shop",
			Annotations:     map[string]string{"deployment.kubernetes.io/desired-replicas": fmt.Sprint(desired), "deployment.kubernetes.io/revision": "1"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas)}}}
}

func deployDelta(sec float64, mfs ...metav1.ManagedFieldsEntry) Delta {
	return Delta{Time: at(sec), Type: Modified, Deployment: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", ManagedFields: mfs}}}
}

func TestInitiator(t *testing.T) {
	cordonedByKubectl := node(0.5, "node-1", true, nil, managed("kubelet", "podCIDR", 0), managed("kubectl", "unschedulable", 0.4))
	tests := []struct {
		name  string
		build func() []Delta
		want  string // the initiator as "by via | detail", "" for none
	}{
		{"preemption names the scheduler and the preemptor", func() []Delta {
			s := newScen("low", 30, app("/app"), true).
				disrupt(1, "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod").
				deleteAt(1.1).
				podEventFrom(1.2, "Preempted", "", "Preempted by pod 77c1 on node node-1", &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "high"})
			s.deltas[len(s.deltas)-1].Event.ReportingController = "default-scheduler"
			return s.exitAll(2, 0).removed(3).deltas
		}, "default-scheduler PreemptionByScheduler | preemptor shop/high; events [Preempted (default-scheduler): Preempted by pod 77c1 on node node-1]"},
		{"a preemptor named only by its UID in the message", func() []Delta {
			s := newScen("low", 30, app("/app"), true).
				disrupt(1, "PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod").
				deleteAt(1.1).
				podEventFrom(1.2, "Preempted", "", "Preempted by pod 77c1-aa on node node-1", nil)
			return s.exitAll(2, 0).removed(3).deltas
		}, "default-scheduler PreemptionByScheduler | preemptor 77c1-aa; events [Preempted (default-scheduler): Preempted by pod 77c1-aa on node node-1]"},
		{"taint eviction names the node's NoExecute taints", func() []Delta {
			taint := []corev1.Taint{{Key: "maintenance", Value: "now", Effect: corev1.TaintEffectNoExecute}, {Key: "soft", Effect: corev1.TaintEffectPreferNoSchedule}}
			s := newScen("web-a", 30, app("/app"), true)
			s.deltas = append(s.deltas, node(0.5, "node-1", false, taint, managed("kubectl-taint", "taints", 0.4)))
			return s.disrupt(1, "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint").deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "taint-eviction-controller DeletionByTaintManager | taints [maintenance=now:NoExecute]; cordon node-1 by kubectl-taint"},
		{"an eviction from a node kubectl cordoned names kubectl", func() []Delta {
			s := newScen("web-a", 30, app("/app"), true)
			s.deltas = append(s.deltas, cordonedByKubectl)
			return s.disrupt(1, "EvictionByEvictionAPI", "Eviction API: evicting").deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "kubectl EvictionByEvictionAPI | cordon node-1 by kubectl"},
		{"an eviction with no cordon: only the API is known", func() []Delta {
			return newScen("web-a", 30, app("/app"), true).disrupt(1, "EvictionByEvictionAPI", "Eviction API: evicting").deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "eviction-api EvictionByEvictionAPI | "},
		{"karpenter's taint and Event name karpenter", func() []Delta {
			s := newScen("web-a", 30, app("/app"), true)
			s.deltas = append(s.deltas, node(0.5, "node-1", false, []corev1.Taint{{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectNoSchedule}}))
			return s.podEventFrom(0.9, "Evicted", "karpenter", "Evicted pod", nil).
				disrupt(1, "EvictionByEvictionAPI", "Eviction API: evicting").deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "karpenter EvictionByEvictionAPI | cordon node-1 by karpenter; events [Evicted (karpenter): Evicted pod]"},
		{"cluster-autoscaler's ScaleDown Event names it", func() []Delta {
			return newScen("web-a", 30, app("/app"), true).podEventFrom(0.9, "ScaleDown", "cluster-autoscaler", "deleting pod for node scale down", nil).
				disrupt(1, "EvictionByEvictionAPI", "Eviction API: evicting").deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "cluster-autoscaler EvictionByEvictionAPI | events [ScaleDown (cluster-autoscaler): deleting pod for node scale down]"},
		{"a Deployment scaled down by another manager", func() []Delta {
			s := newScen("web-a", 30, app("/app"), true)
			s.deltas = append(s.deltas, rsDelta(0.1, 3, 3), deployDelta(0.8, managed("kubectl-client-side-apply", "replicas", 0), managed("keda", "replicas", 0.8)), rsDelta(0.9, 1, 1))
			return s.deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "keda scale-down | scale web-5d4f 3→1 deployment web by keda"},
		{"a rollout: the Deployment's replicas did not change", func() []Delta {
			s := newScen("web-a", 30, app("/app"), true)
			s.deltas = append(s.deltas, rsDelta(0.1, 3, 3), rsDelta(0.9, 2, 3))
			return s.deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "deployment-controller rollout | scale web-5d4f 3→2 rollout"},
		{"of two decreases, the one before the deletion", func() []Delta {
			s := newScen("web-a", 30, app("/app"), true)
			s.deltas = append(s.deltas, rsDelta(0.1, 3, 3), rsDelta(0.5, 2, 3), rsDelta(1.5, 1, 3))
			return s.deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, "deployment-controller rollout | scale web-5d4f 3→2 rollout"},
		{"a scale-down long before the delete explains nothing", func() []Delta {
			s := newScen("web-a", 30, app("/app"), true)
			s.deltas = append(s.deltas, rsDelta(0.1, 3, 3), rsDelta(0.9, 2, 2))
			return s.deleteAt(40).exitAll(41, 0).removed(42).deltas
		}, ""},
		{"a plain delete shows nothing", func() []Delta {
			return newScen("web-a", 30, app("/app"), true).deleteAt(1).exitAll(2, 0).removed(3).deltas
		}, ""},
		{"kubelet's node-pressure eviction", func() []Delta {
			s := newScen("web-a", 30, app("/app"), true)
			s.podDelta(1, Modified, func(p *corev1.Pod) {
				p.Status.Reason, p.Status.Message = "Evicted", "The node was low on resource: memory."
			})
			return s.exitAll(2, 137).deltas
		}, "kubelet Evicted | message The node was low on resource: memory."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tls, _ := run(Config{}, tt.build())
			if len(tls) != 1 {
				t.Fatalf("%d timelines", len(tls))
			}
			if got := describeInitiator(tls[0].Initiator); got != tt.want {
				t.Errorf("initiator %q\n want %q", got, tt.want)
			}
		})
	}
}

func describeInitiator(in *Initiator) string {
	if in == nil {
		return ""
	}
	var parts []string
	if in.Preemptor != "" {
		parts = append(parts, "preemptor "+in.Preemptor)
	}
	if len(in.Taints) > 0 {
		parts = append(parts, fmt.Sprintf("taints %v", in.Taints))
	}
	if c := in.Cordon; c != nil {
		parts = append(parts, "cordon "+c.Node+" by "+c.By)
	}
	if sc := in.Scale; sc != nil {
		s := fmt.Sprintf("scale %s %d→%d", sc.ReplicaSet, sc.From, sc.To)
		if sc.Rollout {
			s += " rollout"
		} else if sc.Deployment != "" {
			s += " deployment " + sc.Deployment + " by " + sc.DeploymentBy
		}
		parts = append(parts, s)
	}
	if len(in.Events) > 0 {
		parts = append(parts, fmt.Sprintf("events %v", in.Events))
	}
	if in.Via == "" && in.Message != "" || in.By == "kubelet" && in.Message != "" {
		parts = append(parts, "message "+in.Message)
	}
	return strings.TrimSpace(in.By+" "+in.Via) + " | " + strings.Join(parts, "; ")
}

// A drain's own timeline: cordon, the evictions, the PDB that made it wait, the last pod, empty.
func TestNodeDrain(t *testing.T) {
	a := newScen("web-a", 30, app("/app"), true)
	b := newScen("web-b", 30, app("/app"), true)
	ds := newScen("agent", 30, app("/agent"), true)
	ds.pod.OwnerReferences[0].Kind = "DaemonSet"
	ds.deltas[0].Pod.OwnerReferences[0].Kind = "DaemonSet"
	e := New(Config{})
	apply := func(ds ...Delta) {
		for _, d := range ds {
			e.Apply(d)
		}
	}
	apply(node(0, "node-1", false, nil))
	apply(a.deltas...)
	apply(b.deltas...)
	apply(ds.deltas...)
	apply(pdbDelta(0.2, 1, 2, 1, 2))
	apply(node(1, "node-1", true, nil, managed("kubectl", "unschedulable", 1)))
	a.deltas, b.deltas = nil, nil
	apply(a.disrupt(1.1, "EvictionByEvictionAPI", "Eviction API: evicting").deleteAt(1.1).deltas...)
	apply(pdbDelta(1.2, 0, 1, 1, 2)) // the budget is spent: web-b's eviction is refused
	apply(a.exitAll(3, 0).removed(3.5).deltas...)
	if d := e.Snapshot().Summary.Drains; len(d) != 1 || strings.Join(d[0].Remaining, ",") != "shop/web-b" || d[0].Empty != nil {
		t.Fatalf("drains %+v; want web-b remaining", d)
	}
	apply(pdbDelta(6.2, 1, 2, 1, 2)) // the replacement is ready
	apply(b.disrupt(6.3, "EvictionByEvictionAPI", "Eviction API: evicting").deleteAt(6.3).deltas...)
	apply(b.exitAll(9, 0).removed(9.5).deltas...)
	_, sum := e.Finish(at(12))
	if len(sum.Drains) != 1 {
		t.Fatalf("drains %+v", sum.Drains)
	}
	d := sum.Drains[0]
	if d.Node != "node-1" || d.CordonedBy != "kubectl" || d.JoinedMidway || !d.Cordoned.Equal(at(1)) ||
		d.Terminations != 2 || d.Evictions != 2 || len(d.Remaining) != 0 || d.Empty == nil || !d.Empty.Equal(at(9.51)) {
		t.Fatalf("drain %+v", d)
	}
	if got := d.DurationSeconds; got < 8.5 || got > 8.52 {
		t.Errorf("duration %.2f s, want 8.51 (cordon to the last pod gone)", got)
	}
	var waits []string
	for _, w := range d.WaitedOn {
		waits = append(waits, fmt.Sprintf("%s/%s %.1f", w.Kind, w.Name, w.Seconds))
	}
	if want := "PodDisruptionBudget/web 5.0,Pod/web-b 3.2"; strings.Join(waits, ",") != want {
		t.Errorf("waited on %v, want %s", waits, want)
	}
	var marks []string
	for _, m := range d.Marks {
		marks = append(marks, string(m.Type))
	}
	if want := "cordoned termination pod-gone termination pod-gone empty"; strings.Join(marks, " ") != want {
		t.Errorf("marks %v, want %s", marks, want)
	}
	if in := e.finish[0].Initiator; in == nil || in.By != "kubectl" || in.Cordon == nil {
		t.Errorf("initiator %+v, want the cordon by kubectl", in)
	}
}

// A node that was cordoned before watching started is drained from the start of the watch, and
// one that is uncordoned ends its drain there.
func TestNodeDrainJoinedAndUncordoned(t *testing.T) {
	e := New(Config{})
	e.Apply(node(0, "node-1", true, nil))
	e.Apply(node(4, "node-1", false, nil))
	_, sum := e.Finish(at(10))
	if len(sum.Drains) != 1 {
		t.Fatalf("drains %+v", sum.Drains)
	}
	d := sum.Drains[0]
	if !d.JoinedMidway || d.Uncordoned == nil || !d.Uncordoned.Equal(at(4)) || d.Empty == nil || d.DurationSeconds != 0 {
		t.Errorf("drain %+v; want joined, uncordoned at 4 s, empty at the cordon", d)
	}
}

// A pod behind a Service whose traffic path needs 25s is judged against 25s, the finding names
// the path, and the recommendation sizes the preStop sleep from it.
func TestServiceBudgetFromTrafficPath(t *testing.T) {
	ing := PathEntry{Kind: "Ingress", Name: "web", Namespace: "shop", Class: "alb", Controller: "ingress.k8s.aws/alb", BudgetSeconds: 25, BudgetSource: "ALB"}
	paths := map[string][]PathEntry{"shop/web": {ing}}
	budget, _ := SlowestPath(paths["shop/web"])
	s := newScen("web-a", 30, withSleep(app("/app"), 10), false).deleteAt(1).killing(1).notReady(1.05).exitAll(12, 0).removeEP(12.1).removed(12.5)
	tls, sum := run(Config{Budgets: map[string]Budget{"shop/web": budget}, Paths: paths}, s.deltas)
	tl := tls[0]
	f := finding(tl, FindingStoppedBeforeDrain)
	if f.ID == "" || !strings.Contains(f.Message, "Ingress shop/web (alb): ALB") || tl.DrainBudgetSeconds != 25 {
		t.Fatalf("finding %+v budget %v; want stopped-before-drain against the Ingress's 25s", f, tl.DrainBudgetSeconds)
	}
	if len(sum.Recommendations) != 1 || sum.Recommendations[0].PreStopSleepSeconds == nil || *sum.Recommendations[0].PreStopSleepSeconds != 25 {
		t.Fatalf("recommendations %+v; want a preStop sleep of 25s", sum.Recommendations)
	}
	if len(sum.Services) != 1 || len(sum.Services[0].TrafficPath) != 1 || sum.Services[0].BudgetSource != budget.Source || *sum.Services[0].DrainBudgetSeconds != 25 {
		t.Fatalf("services %+v; want the path and its budget", sum.Services)
	}
	// The same pod against the default budget is graceful: its 10s sleep covers 5s.
	if tls, _ := run(Config{}, s.deltas); tls[0].Verdict != VerdictGraceful {
		t.Errorf("verdict %s with the default budget, want graceful", tls[0].Verdict)
	}
}

// A readiness gate that changes while the pod terminates (a load balancer letting go of the
// target) is a mark.
func TestReadinessGateMark(t *testing.T) {
	gate := corev1.PodConditionType("target-health.elbv2.k8s.aws/web-tg")
	s := newScen("web-a", 30, withSleep(app("/app"), 5), false)
	s.pod.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: gate}}
	s.pod.Status.Conditions = append(s.pod.Status.Conditions, corev1.PodCondition{Type: gate, Status: corev1.ConditionTrue})
	s.deltas[0].Pod = s.pod.DeepCopy()
	s.deleteAt(1).killing(1).notReady(1.05)
	s.podDelta(3, Modified, func(p *corev1.Pod) {
		p.Status.Conditions[len(p.Status.Conditions)-1] = corev1.PodCondition{Type: gate, Status: corev1.ConditionFalse, Reason: "Target.DeregistrationInProgress"}
	})
	tls, _ := run(Config{}, s.exitAll(8, 0).removeEP(8.1).removed(8.5).deltas)
	var got []string
	for _, m := range tls[0].Marks {
		if m.Type == MarkReadinessGate {
			got = append(got, m.Detail)
		}
	}
	if want := "target-health.elbv2.k8s.aws/web-tg=False Target.DeregistrationInProgress"; len(got) != 1 || got[0] != want {
		t.Errorf("gate marks %q, want [%q]", got, want)
	}
}

// With Forget (serve) the engine keeps nothing of a finished termination but that it is done:
// late deltas are still recognised, and the same timeline comes out.
func TestForgetKeepsNoTimeline(t *testing.T) {
	s := newScen("web-a", 30, withSleep(app("/app"), 5), false).deleteAt(1).killing(1).notReady(1.05).exitAll(8, 0).removeEP(8.1).removed(8.5)
	keep, _ := run(Config{}, s.deltas)
	e := New(Config{Forget: true})
	var got []PodTimeline
	for _, d := range s.deltas {
		got = append(got, e.Apply(d)...)
	}
	late := s.deltas[len(s.deltas)-1]
	if extra := e.Apply(late); len(extra) != 0 || len(got) != 1 {
		t.Fatalf("timelines %d, after a late delta %d", len(got), len(extra))
	}
	if len(e.finish) != 0 || len(e.pods) != 0 || len(e.order) != 0 {
		t.Errorf("kept finish %d pods %d order %d", len(e.finish), len(e.pods), len(e.order))
	}
	if got[0].Verdict != keep[0].Verdict || len(got[0].Marks) != len(keep[0].Marks) {
		t.Errorf("timeline differs: %s %d marks vs %s %d", got[0].Verdict, len(got[0].Marks), keep[0].Verdict, len(keep[0].Marks))
	}
	// Its pod was removed: that it is done is kept for minutes, then not even that.
	after := func(d time.Duration) {
		later := late
		later.Time, later.Pod, later.Event = late.Time.Add(d), nil, &corev1.Event{}
		e.Apply(later)
	}
	after(forgetRemovedAfter - time.Minute)
	if len(e.done) != 1 {
		t.Errorf("%v after the removal, %d done entries, want 1", forgetRemovedAfter-time.Minute, len(e.done))
	}
	after(forgetRemovedAfter + time.Minute)
	if len(e.done) != 0 || len(e.goneAt) != 0 || len(e.doneAt) != 0 {
		t.Errorf("%v after the removal, %d done entries kept", forgetRemovedAfter+time.Minute, len(e.done))
	}
	// The Event's TTL runs out after the pod is forgotten: its deletion is not held for a pod.
	e.Apply(Delta{Type: Deleted, Time: late.Time.Add(forgetRemovedAfter + 2*time.Minute), Event: &corev1.Event{
		InvolvedObject: corev1.ObjectReference{Kind: KindPod, Namespace: "shop", Name: "web-a", UID: "uid-web-a"}, Reason: "Killing"}})
	if len(e.pending) != 0 {
		t.Errorf("an expired Event's deletion held as pending: %d", len(e.pending))
	}
}

// A termination its kubelet ended leaves the pod in place: it is remembered as done for an hour,
// or, once the pod is removed, for minutes more.
func TestForgetKubeletEndedOnceRemoved(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tick := func(e *Engine, d time.Duration) { e.Apply(Delta{Time: t0.Add(d), Event: &corev1.Event{}}) }
	for _, removed := range []bool{false, true} {
		e := New(Config{Forget: true})
		tick(e, 0)
		e.rememberDone("uid-1", false)
		if removed {
			e.Apply(Delta{Type: Deleted, Time: t0.Add(time.Minute),
				Pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "uid-1", Name: "job-1", Namespace: "ns"}}})
		}
		tick(e, forgetRemovedAfter+2*time.Minute)
		if _, kept := e.done["uid-1"]; kept == removed {
			t.Errorf("removed=%v: done kept=%v %v later", removed, kept, forgetRemovedAfter+2*time.Minute)
		}
		tick(e, forgetDoneAfter+time.Minute)
		if len(e.done) != 0 || len(e.doneAt) != 0 || len(e.goneAt) != 0 {
			t.Errorf("removed=%v: an hour later, %d done entries kept", removed, len(e.done))
		}
	}
}

// TestForgetDropsDeletedReplicaSets: a watch that never ends sees a new ReplicaSet per rollout.
// With Forget, a deleted one is dropped, but only after the last of its pods is done: their
// timelines still read its scale-downs.
func TestForgetDropsDeletedReplicaSets(t *testing.T) {
	s := newScen("web-a", 30, withSleep(app("/app"), 5), false).deleteAt(1).killing(1).notReady(1.05).exitAll(8, 0).removeEP(8.1).removed(8.5)
	gone := rsDelta(0.5, 0, 1)
	gone.Time, gone.Type = at(2), Deleted
	deltas := append([]Delta{rsDelta(0.2, 1, 1), rsDelta(0.9, 0, 1)}, s.deltas...)
	i := slices.IndexFunc(deltas, func(d Delta) bool { return d.Time.After(at(2)) })
	deltas = slices.Insert(deltas, i, gone)

	keep, _ := run(Config{}, deltas)
	e := New(Config{Forget: true})
	var got []PodTimeline
	for _, d := range deltas {
		got = append(got, e.Apply(d)...)
		if d.Type == Deleted && d.ReplicaSet != nil {
			if info, ok := e.rs["shop/web-5d4f"]; !ok || !info.gone {
				t.Fatalf("deleted while its pod terminates: entry %+v kept %v, want kept and gone", info, ok)
			}
		}
	}
	scale := func(tls []PodTimeline) *Scale {
		if len(tls) != 1 || tls[0].Initiator == nil {
			return nil
		}
		return tls[0].Initiator.Scale
	}
	if g, k := scale(got), scale(keep); g == nil || k == nil || *g != *k {
		t.Fatalf("the pod's scale-down: %+v, want %+v as without Forget", g, k)
	}
	if len(e.rs) != 0 {
		t.Errorf("after its last pod, %d ReplicaSets kept", len(e.rs))
	}
	// Deleted with no pod left: dropped at once.
	e.Apply(rsDelta(9, 0, 1))
	gone.Time = at(9.5)
	e.Apply(gone)
	if len(e.rs) != 0 {
		t.Errorf("deleted without pods, %d ReplicaSets kept", len(e.rs))
	}
}

// TestForgetBoundsReadySeries: the ready endpoints of a Service are kept over time; with Forget
// (finished terminations are not summarised) only from the start of the oldest live one.
func TestForgetBoundsReadySeries(t *testing.T) {
	slice := func(sec float64, ready bool) Delta {
		return Delta{Time: at(sec), Type: Modified, Slice: &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "web-abcde", Namespace: "shop", UID: "slice-1",
				Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			Endpoints: []discoveryv1.Endpoint{{Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(ready)},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-a", UID: "uid-web-a"}}},
		}}
	}
	const every, hours = 10, 3 // a change every 10 s for 3 hours
	perHour := 3600 / every
	// Another pod starts terminating after 2 hours and is still terminating at the end.
	live := newScen("web-b", 30, app("/app"), true).deleteAt(2 * 3600).deltas
	for _, c := range []struct {
		forget, live bool
		min, max     int
	}{
		{false, false, hours * perHour, hours * perHour},
		{true, false, 1, 65},
		{true, true, perHour, perHour + 65},
	} {
		e := New(Config{Forget: c.forget})
		if c.live {
			e.Apply(live[0])
		}
		for i := 0; i < hours*perHour; i++ {
			if c.live && i == 2*perHour {
				e.Apply(live[1])
			}
			e.Apply(slice(float64(i*every), i%2 == 0))
		}
		series := e.svc["shop/web"].series
		last := series[len(series)-1]
		if !last.Time.Equal(at(float64((hours*perHour - 1) * every))) {
			t.Errorf("%+v: last point at %s", c, last.Time)
		}
		if len(series) < c.min || len(series) > c.max {
			t.Errorf("%+v: %d points kept, want %d to %d", c, len(series), c.min, c.max)
		}
		if c.live && series[0].Time.After(at(2*3600)) {
			t.Errorf("%+v: oldest point %s, after the live termination's start", c, series[0].Time)
		}
	}
}
