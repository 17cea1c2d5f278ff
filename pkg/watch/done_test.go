package watch

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// step is one thing the done tracker sees.
type step struct {
	delta    *timeline.Delta
	deploy   *appsv1.Deployment
	undeploy bool
	sync     bool
	wantDone bool
}

func podDelta(typ timeline.DeltaType, p *corev1.Pod) step {
	return step{delta: &timeline.Delta{Type: typ, Pod: p}}
}

func rsDelta(rs *appsv1.ReplicaSet) step {
	return step{delta: &timeline.Delta{Type: timeline.Added, ReplicaSet: rs}}
}

func deployment(replicas, updated, total, available int32, generation, observed int64) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: generation,
			Annotations: map[string]string{annotationRevision: "2"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: total,
			UpdatedReplicas: updated, AvailableReplicas: available},
	}
}

func terminating(p *corev1.Pod) *corev1.Pod {
	p = p.DeepCopy()
	p.DeletionTimestamp = &metav1.Time{Time: base}
	return p
}

func withPhase(p *corev1.Pod, phase corev1.PodPhase) *corev1.Pod {
	p = p.DeepCopy()
	p.Status.Phase = phase
	return p
}

func TestDoneDeployment(t *testing.T) {
	oldPod, newPod := ownedPod("web-old-x", "web-old"), ownedPod("web-new-y", "web-new")
	done := func(s step) step { s.wantDone = true; return s }
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "rollout seen from the start",
			steps: []step{
				rsDelta(replicaSet("web-old", "1")), rsDelta(replicaSet("web-new", "2")),
				podDelta(timeline.Added, oldPod),
				{deploy: deployment(1, 0, 1, 1, 2, 1)},
				{sync: true},
				podDelta(timeline.Added, newPod),
				{deploy: deployment(1, 1, 2, 2, 2, 2)},
				podDelta(timeline.Modified, terminating(oldPod)),
				{deploy: deployment(1, 1, 1, 1, 2, 2)}, // status is complete, the old pod is still terminating
				done(podDelta(timeline.Deleted, terminating(oldPod))),
				{deploy: deployment(1, 1, 1, 1, 2, 2)}, // fires once
			},
		},
		{
			name: "already rolled out at start waits for the next rollout",
			steps: []step{
				rsDelta(replicaSet("web-new", "2")),
				podDelta(timeline.Added, newPod),
				{deploy: deployment(1, 1, 1, 1, 2, 2)},
				{sync: true},
				{deploy: deployment(1, 1, 1, 1, 2, 2)},
				{deploy: deployment(1, 1, 1, 1, 3, 2)}, // rollout restart: generation moves
				done(step{deploy: deployment(1, 1, 1, 1, 3, 3)}),
			},
		},
		{
			name: "nothing is decided before sync",
			steps: []step{
				{deploy: deployment(1, 0, 1, 1, 2, 1)},
				{deploy: deployment(1, 1, 1, 1, 2, 2)},
				{sync: true}, // complete at sync, but it was never seen incomplete after sync
			},
		},
		{
			name: "old ReplicaSet pod not terminating yet",
			steps: []step{
				rsDelta(replicaSet("web-old", "1")), rsDelta(replicaSet("web-new", "2")),
				podDelta(timeline.Added, oldPod), podDelta(timeline.Added, newPod),
				{deploy: deployment(1, 1, 2, 1, 2, 2)},
				{sync: true},
				{deploy: deployment(1, 1, 1, 1, 2, 2)}, // status lags behind: the old pod is still listed
				done(podDelta(timeline.Deleted, oldPod)),
			},
		},
		{
			name: "evicted pod of an old ReplicaSet left behind does not block",
			steps: []step{
				rsDelta(replicaSet("web-old", "1")), rsDelta(replicaSet("web-new", "2")),
				podDelta(timeline.Added, withPhase(oldPod, corev1.PodFailed)),
				{deploy: deployment(1, 0, 1, 0, 2, 2)},
				{sync: true},
				podDelta(timeline.Added, newPod),
				done(step{deploy: deployment(1, 1, 1, 1, 2, 2)}),
			},
		},
		{
			name: "deployment deleted: done when its pods are gone",
			steps: []step{
				podDelta(timeline.Added, newPod),
				{deploy: deployment(1, 1, 1, 1, 2, 2)},
				{sync: true},
				{undeploy: true},
				done(podDelta(timeline.Deleted, newPod)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, newDoneTracker(&Target{Kind: KindDeployment, Name: "web"}), tt.steps)
		})
	}
}

func run(t *testing.T, d *doneTracker, steps []step) {
	t.Helper()
	for i, s := range steps {
		switch {
		case s.delta != nil:
			d.observe(*s.delta)
		case s.deploy != nil:
			d.observeWorkload(s.deploy, false)
		case s.undeploy:
			d.observeWorkload(nil, true)
		case s.sync:
			d.synced = true
		}
		if got := d.check(); got != s.wantDone {
			t.Fatalf("step %d: done = %v, want %v", i, got, s.wantDone)
		}
	}
}

func TestDoneNode(t *testing.T) {
	node := func(unschedulable bool) step {
		return step{delta: &timeline.Delta{Type: timeline.Modified, Node: &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}}}
	}
	tainted := func(effect corev1.TaintEffect) step {
		s := node(false)
		s.delta.Node.Spec.Taints = []corev1.Taint{{Key: "maintenance", Effect: effect}}
		return s
	}
	app := ownedPod("web-1", "web-abc")
	ds := newPod("kube-system", "proxy-1", nil)
	ds.OwnerReferences = []metav1.OwnerReference{{Kind: "DaemonSet", Name: "proxy", Controller: ptr.To(true)}}
	mirror := newPod("kube-system", "etcd-node-1", nil)
	mirror.Annotations = map[string]string{annotationMirror: "abc"}
	done := func(s step) step { s.wantDone = true; return s }

	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "drain",
			steps: []step{
				node(false), podDelta(timeline.Added, app), podDelta(timeline.Added, ds), podDelta(timeline.Added, mirror),
				{sync: true},
				node(true),
				podDelta(timeline.Modified, terminating(app)),
				podDelta(timeline.Modified, withPhase(terminating(app), corev1.PodSucceeded)), // finished but not yet removed
				done(podDelta(timeline.Deleted, app)),
			},
		},
		{
			name: "already drained at start",
			steps: []step{
				node(true), podDelta(timeline.Added, ds),
				done(step{sync: true}),
			},
		},
		{
			name: "empty but not cordoned",
			steps: []step{
				node(false), {sync: true}, podDelta(timeline.Added, ds),
			},
		},
		{
			name: "emptied by a NoExecute taint",
			steps: []step{
				node(false), podDelta(timeline.Added, app), {sync: true},
				tainted(corev1.TaintEffectNoSchedule), // not emptied: pods stay
				tainted(corev1.TaintEffectNoExecute),
				podDelta(timeline.Modified, terminating(app)),
				done(podDelta(timeline.Deleted, app)),
			},
		},
		{
			name: "a completed pod left on the node does not block",
			steps: []step{
				node(false), podDelta(timeline.Added, withPhase(app, corev1.PodSucceeded)), {sync: true},
				done(node(true)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, newDoneTracker(&Target{Kind: KindNode, Name: "node-1", Node: "node-1"}), tt.steps)
		})
	}
}

func TestDonePod(t *testing.T) {
	p := newPod("shop", "web-1", nil)
	other := newPod("shop", "web-2", nil)
	run(t, newDoneTracker(&Target{Kind: KindPod, Name: "web-1"}), []step{
		podDelta(timeline.Added, p), {sync: true},
		podDelta(timeline.Modified, terminating(p)),
		podDelta(timeline.Deleted, other),
		{delta: &timeline.Delta{Type: timeline.Deleted, Pod: terminating(p)}, wantDone: true},
	})
}

func TestDoneNeverForOtherTargets(t *testing.T) {
	p := newPod("shop", "web-1", nil)
	run(t, newDoneTracker(&Target{Kind: KindDaemonSet, Name: "db"}), []step{
		podDelta(timeline.Added, p), {sync: true}, podDelta(timeline.Deleted, p),
	})
}

func TestDoneStatefulSet(t *testing.T) {
	sts := func(current, update string, updated, ready int32) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", Generation: 2},
			Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To(int32(2))},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 2, ReadyReplicas: ready, UpdatedReplicas: updated,
				CurrentRevision: current, UpdateRevision: update},
		}
	}
	pod := func(name, rev string) *corev1.Pod {
		return newPod("shop", name, map[string]string{appsv1.ControllerRevisionHashLabelKey: rev})
	}
	d := newDoneTracker(&Target{Kind: KindStatefulSet, Name: "db"})
	steps := []struct {
		obj  *appsv1.StatefulSet
		pod  *corev1.Pod
		done bool
	}{
		{pod: pod("db-0", "db-1")},
		{pod: pod("db-1", "db-1")},
		{obj: sts("db-1", "db-1", 2, 2)}, // rolled out before watching: waits for the next
		{obj: sts("db-1", "db-2", 0, 2)},
		{pod: terminating(pod("db-1", "db-1"))},
		{pod: pod("db-1", "db-2")},
		{obj: sts("db-1", "db-2", 1, 2)},
		{pod: pod("db-0", "db-2")},
		{obj: sts("db-2", "db-2", 2, 1)}, // not all ready yet
		{obj: sts("db-2", "db-2", 2, 2), done: true},
	}
	for i, s := range steps {
		d.synced = i >= 2 // the informers list the pods and the StatefulSet, then sync
		if s.obj != nil {
			d.observeWorkload(s.obj, false)
		} else {
			d.observe(timeline.Delta{Type: timeline.Modified, Pod: s.pod})
		}
		if got := d.check(); got != s.done {
			t.Fatalf("step %d: done = %v, want %v", i, got, s.done)
		}
	}
}

// A partitioned StatefulSet rollout is done once the ordinals above the partition are updated:
// CurrentRevision never catches up.
func TestDoneStatefulSetPartition(t *testing.T) {
	sts := func(updated int32) *appsv1.StatefulSet {
		s := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", Generation: 2},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(2)), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
				Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To(int32(1))}}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: updated,
				CurrentRevision: "db-1", UpdateRevision: "db-2"},
		}
		return s
	}
	pod := func(name, rev string) *corev1.Pod {
		return newPod("shop", name, map[string]string{appsv1.ControllerRevisionHashLabelKey: rev})
	}
	d := newDoneTracker(&Target{Kind: KindStatefulSet, Name: "db"})
	d.observe(timeline.Delta{Type: timeline.Added, Pod: pod("db-0", "db-1")})
	d.observe(timeline.Delta{Type: timeline.Added, Pod: terminating(pod("db-1", "db-1"))})
	d.observeWorkload(sts(0), false)
	d.synced = true
	if d.check() {
		t.Fatal("done while db-1 is being replaced")
	}
	d.observe(timeline.Delta{Type: timeline.Modified, Pod: pod("db-1", "db-2")})
	d.observeWorkload(sts(1), false)
	if !d.check() {
		t.Fatal("not done once the ordinal above the partition is updated")
	}
}
