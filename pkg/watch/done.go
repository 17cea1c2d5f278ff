package watch

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// doneTracker decides when the target has finished (--until-done). It sees exactly the deltas
// of the stream, in stream order, plus the Deployment: deciding from the informer caches
// instead could declare the rollout done before the delta that completed it was delivered.
type doneTracker struct {
	kind string
	name string

	pods        map[types.UID]*corev1.Pod
	rsRevision  map[string]string // ReplicaSet name -> deployment.kubernetes.io/revision
	deployment  *appsv1.Deployment
	statefulSet *appsv1.StatefulSet
	deployGone  bool
	node        *corev1.Node
	podSeen     bool
	podGone     bool

	// synced is set once every informer listed: before that the state is partial (a node
	// without its pods looks drained).
	synced bool
	// armed is set once the Deployment was seen mid-rollout: a Deployment that is already
	// rolled out when watching starts is not "done", it waits for the next rollout.
	armed bool
	fired bool
}

func newDoneTracker(t *Target) *doneTracker {
	return &doneTracker{
		kind:       t.Kind,
		name:       t.Name,
		pods:       map[types.UID]*corev1.Pod{},
		rsRevision: map[string]string{},
	}
}

// observe updates the state with a delta of the stream.
func (d *doneTracker) observe(delta timeline.Delta) {
	switch {
	case delta.Pod != nil:
		p := delta.Pod
		if delta.Type == timeline.Deleted {
			delete(d.pods, p.UID)
			if d.kind == KindPod && p.Name == d.name && d.podSeen {
				d.podGone = true
			}
			return
		}
		d.pods[p.UID] = p
		if p.Name == d.name {
			d.podSeen = true
		}
	case delta.ReplicaSet != nil:
		rs := delta.ReplicaSet
		if delta.Type == timeline.Deleted {
			delete(d.rsRevision, rs.Name)
			return
		}
		d.rsRevision[rs.Name] = rs.Annotations[annotationRevision]
	case delta.Node != nil:
		if delta.Type == timeline.Deleted {
			d.node = nil
			return
		}
		d.node = delta.Node
	}
}

// observeWorkload updates the state with the target Deployment or StatefulSet.
func (d *doneTracker) observeWorkload(obj any, deleted bool) {
	d.deployment, d.statefulSet, d.deployGone = nil, nil, deleted
	if deleted {
		return
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		d.deployment = o
	case *appsv1.StatefulSet:
		d.statefulSet = o
	}
}

// check reports true exactly once: the first time, after sync, that the target is finished.
func (d *doneTracker) check() bool {
	if d.fired || !d.synced {
		return false
	}
	var done bool
	switch k, _ := kindOf(d.kind); {
	case k.rollout:
		complete := d.rolloutComplete()
		if !complete {
			d.armed = true
		}
		done = complete && d.armed
	case d.kind == KindNode:
		done = d.nodeDrained()
	case d.kind == KindPod:
		done = d.podGone
	}
	if done {
		d.fired = true
	}
	return done
}

// rolloutComplete is kubectl rollout status's condition, plus what the status cannot say:
// no pod of an old ReplicaSet and no terminating pod is left.
func (d *doneTracker) rolloutComplete() bool {
	if d.deployGone {
		// The Deployment was deleted: it is over once its pods are gone.
		return len(d.pods) == 0
	}
	if d.statefulSet != nil {
		return d.statefulSetComplete()
	}
	dep := d.deployment
	if dep == nil {
		return false
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	st := dep.Status
	if st.ObservedGeneration < dep.Generation || st.UpdatedReplicas != want ||
		st.Replicas != want || st.AvailableReplicas != want {
		return false
	}
	if st.TerminatingReplicas != nil && *st.TerminatingReplicas > 0 {
		return false
	}
	newRS := d.currentReplicaSet(dep.Annotations[annotationRevision])
	for _, p := range d.pods {
		if p.DeletionTimestamp != nil {
			return false
		}
		if finished(p) {
			continue
		}
		if newRS != "" {
			if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == KindReplicaSet && ref.Name != newRS {
				return false
			}
		}
	}
	return true
}

// statefulSetComplete is kubectl rollout status's condition for a RollingUpdate StatefulSet,
// plus no terminating pod left.
func (d *doneTracker) statefulSetComplete() bool {
	sts := d.statefulSet
	want := int32(1)
	if sts.Spec.Replicas != nil {
		want = *sts.Spec.Replicas
	}
	st := sts.Status
	// A partitioned rollout updates only the ordinals at or above the partition, and OnDelete
	// never updates CurrentRevision: both are done once their pods are (kubectl rollout status).
	var partition int32
	us := sts.Spec.UpdateStrategy
	if ru := us.RollingUpdate; us.Type != appsv1.OnDeleteStatefulSetStrategyType && ru != nil && ru.Partition != nil {
		partition = *ru.Partition
	}
	revisionsAgree := st.UpdateRevision == st.CurrentRevision || partition > 0 || us.Type == appsv1.OnDeleteStatefulSetStrategyType
	if st.ObservedGeneration < sts.Generation || st.UpdateRevision == "" || !revisionsAgree ||
		st.UpdatedReplicas < want-partition || st.ReadyReplicas != want || st.Replicas != want {
		return false
	}
	updated := int32(0)
	for _, p := range d.pods {
		if p.DeletionTimestamp != nil {
			return false
		}
		switch {
		case finished(p):
		case p.Labels[appsv1.ControllerRevisionHashLabelKey] == st.UpdateRevision:
			updated++
		case partition == 0:
			return false
		}
	}
	return updated >= want-partition
}

// currentReplicaSet is the ReplicaSet of the Deployment's revision ("" when unknown, e.g.
// ReplicaSets cannot be watched).
func (d *doneTracker) currentReplicaSet(revision string) string {
	if revision == "" {
		return ""
	}
	for name, rev := range d.rsRevision {
		if rev == revision {
			return name
		}
	}
	return ""
}

// nodeDrained is kubectl drain's end state: the node is being emptied (timeline.Draining) and
// nothing is left on it but what a drain leaves (timeline.DrainKeeps).
func (d *doneTracker) nodeDrained() bool {
	if d.node == nil || !timeline.Draining(d.node) {
		return false
	}
	for _, p := range d.pods {
		if p.Spec.NodeName != d.name {
			continue
		}
		if !timeline.DrainKeeps(p) {
			return false
		}
	}
	return true
}

// finished is a pod in a terminal phase: it runs nothing, though the object may stay (kubelet
// evictions, completed pods).
func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}
