package watch

import (
	"bytes"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Annotations the timeline or the done checks read. Every other annotation is dropped: on a
// large cluster they are a good part of each cached object (sidecar injectors, last-applied
// configuration).
const (
	annotationRevision = "deployment.kubernetes.io/revision"
	// annotationDesiredReplicas is the Deployment's spec.replicas, which the Deployment
	// controller copies onto its ReplicaSets: capacity is measured against it.
	annotationDesiredReplicas = "deployment.kubernetes.io/desired-replicas"
	annotationMirror          = "kubernetes.io/config.mirror"
)

// trim is the informer transform: it rebuilds each object from an allowlist of the fields the
// timeline reads, so managedFields, images, env, volumes and node images never reach the cache.
// Rebuilding (instead of clearing known-big fields) keeps new API fields out too. Pods and
// EndpointSlices, the bulk, are rebuilt in place; other kinds are copied. It is idempotent, as
// client-go asks of transforms, and passes through anything it does not know
// (tombstones are never given to it, but a transform must not fail on them either).
func trim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return trimPod(o), nil
	case *discoveryv1.EndpointSlice:
		return trimSlice(o), nil
	case *corev1.Event:
		return trimEvent(o), nil
	case *appsv1.ReplicaSet:
		return trimReplicaSet(o), nil
	case *corev1.Node:
		return trimNode(o), nil
	case *appsv1.Deployment:
		return trimDeployment(o), nil
	case *appsv1.StatefulSet:
		return trimStatefulSet(o), nil
	case *policyv1.PodDisruptionBudget:
		return trimPDB(o), nil
	}
	return obj, nil
}

func trimMeta(m metav1.ObjectMeta, keepAnnotations ...string) metav1.ObjectMeta {
	out := metav1.ObjectMeta{
		Name:                       m.Name,
		Namespace:                  m.Namespace,
		UID:                        m.UID,
		ResourceVersion:            m.ResourceVersion,
		CreationTimestamp:          m.CreationTimestamp,
		DeletionTimestamp:          m.DeletionTimestamp,
		DeletionGracePeriodSeconds: m.DeletionGracePeriodSeconds,
		Labels:                     m.Labels,
		OwnerReferences:            m.OwnerReferences,
		Finalizers:                 m.Finalizers,
	}
	for _, k := range keepAnnotations {
		if v, ok := m.Annotations[k]; ok {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	return out
}

// trimPod rebuilds the pod in place: pods are most of what the informers decode, and the object
// client-go hands the transform is its own fresh copy (client-go allows mutating it). Its
// labels, owner reference and containers are shared with the pods that carry equal ones
// (share.go).
func trimPod(p *corev1.Pod) *corev1.Pod {
	p.Labels, p.OwnerReferences = shareLabels(p.Labels), shareOwners(p.OwnerReferences)
	*p = corev1.Pod{
		ObjectMeta: trimMeta(p.ObjectMeta, annotationMirror),
		Spec: corev1.PodSpec{
			NodeName:                      p.Spec.NodeName,
			TerminationGracePeriodSeconds: p.Spec.TerminationGracePeriodSeconds,
			// Who is PID 1 depends on them (timeline's readPID1).
			ShareProcessNamespace: p.Spec.ShareProcessNamespace,
			HostPID:               p.Spec.HostPID,
			// Load balancer controllers report target health through them (timeline's gate marks).
			ReadinessGates: p.Spec.ReadinessGates,
			InitContainers: shareContainers(trimContainers(p.Spec.InitContainers)),
			Containers:     shareContainers(trimContainers(p.Spec.Containers)),
		},
		Status: corev1.PodStatus{
			Phase:                 p.Status.Phase,
			Reason:                p.Status.Reason,
			Message:               p.Status.Message,
			Conditions:            trimConditions(p.Status.Conditions, p.Spec.ReadinessGates),
			PodIP:                 p.Status.PodIP,
			InitContainerStatuses: trimStatuses(p.Status.InitContainerStatuses),
			ContainerStatuses:     trimStatuses(p.Status.ContainerStatuses),
		},
	}
	return p
}

// trimConditions keeps the conditions the timeline reads: Ready, DisruptionTarget and those of
// the readiness gates. The others (PodScheduled, Initialized, ContainersReady...) are most of a
// pod's status, and an update that changes only them is not passed on.
func trimConditions(cs []corev1.PodCondition, gates []corev1.PodReadinessGate) []corev1.PodCondition {
	kept := func(c *corev1.PodCondition) bool {
		return c.Type == corev1.PodReady || c.Type == corev1.DisruptionTarget ||
			slices.ContainsFunc(gates, func(g corev1.PodReadinessGate) bool { return g.ConditionType == c.Type })
	}
	n := 0
	for i := range cs {
		if kept(&cs[i]) {
			n++
		}
	}
	if n == len(cs) {
		return cs
	}
	out := make([]corev1.PodCondition, 0, n) // a copy, so the rest is not kept alive
	for i := range cs {
		if kept(&cs[i]) {
			out = append(out, cs[i])
		}
	}
	return out
}

func trimContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := cs // in place, as trimPod
	for i, c := range cs {
		out[i] = corev1.Container{
			Name:          c.Name,
			Command:       c.Command,
			Args:          c.Args,
			RestartPolicy: c.RestartPolicy,
		}
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
			out[i].Lifecycle = &corev1.Lifecycle{PreStop: c.Lifecycle.PreStop}
		}
		if c.ReadinessProbe != nil {
			out[i].ReadinessProbe = &corev1.Probe{
				PeriodSeconds:    c.ReadinessProbe.PeriodSeconds,
				FailureThreshold: c.ReadinessProbe.FailureThreshold,
			}
		}
	}
	return out
}

func trimStatuses(ss []corev1.ContainerStatus) []corev1.ContainerStatus {
	if ss == nil {
		return nil
	}
	out := ss // in place, as trimPod
	for i, s := range ss {
		out[i] = corev1.ContainerStatus{Name: s.Name, Ready: s.Ready, State: s.State}
	}
	return out
}

// trimSlice rebuilds the EndpointSlice in place, as trimPod.
func trimSlice(s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	for i, e := range s.Endpoints {
		// The timeline follows an endpoint by its pod's UID.
		if ref := e.TargetRef; ref != nil {
			*ref = corev1.ObjectReference{Kind: ref.Kind, UID: ref.UID}
		}
		s.Endpoints[i] = discoveryv1.Endpoint{Conditions: e.Conditions, TargetRef: e.TargetRef}
	}
	*s = discoveryv1.EndpointSlice{
		ObjectMeta:  trimMeta(s.ObjectMeta),
		AddressType: s.AddressType,
		Endpoints:   s.Endpoints,
	}
	return s
}

// unreadEvent is an Event about a pod that the timeline does not read: the informer keeps its
// key only and it makes no delta.
func unreadEvent(e *corev1.Event) bool {
	return e.InvolvedObject.Kind == timeline.KindPod && !timeline.ReadsPodEvent(e.Reason)
}

func trimEvent(e *corev1.Event) *corev1.Event {
	if unreadEvent(e) {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: e.Name, Namespace: e.Namespace, ResourceVersion: e.ResourceVersion},
			InvolvedObject: corev1.ObjectReference{Kind: e.InvolvedObject.Kind},
			Reason:         e.Reason,
		}
	}
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:              e.Name,
			Namespace:         e.Namespace,
			UID:               e.UID,
			ResourceVersion:   e.ResourceVersion,
			CreationTimestamp: e.CreationTimestamp,
		},
		InvolvedObject:      e.InvolvedObject,
		Related:             e.Related,
		Reason:              e.Reason,
		Message:             e.Message,
		Source:              e.Source,
		Type:                e.Type,
		Count:               e.Count,
		FirstTimestamp:      e.FirstTimestamp,
		LastTimestamp:       e.LastTimestamp,
		EventTime:           e.EventTime,
		Series:              e.Series,
		ReportingController: e.ReportingController,
	}
}

func trimReplicaSet(rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: trimMeta(rs.ObjectMeta, annotationRevision, annotationDesiredReplicas),
		Spec:       appsv1.ReplicaSetSpec{Replicas: rs.Spec.Replicas},
	}
}

func trimNode(n *corev1.Node) *corev1.Node {
	out := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:              n.Name,
			UID:               n.UID,
			ResourceVersion:   n.ResourceVersion,
			CreationTimestamp: n.CreationTimestamp,
			DeletionTimestamp: n.DeletionTimestamp,
		},
		Spec: corev1.NodeSpec{Unschedulable: n.Spec.Unschedulable, Taints: n.Spec.Taints},
	}
	// Who cordoned the node (timeline's cordonedBy).
	out.ManagedFields = append(managersOf(n.ManagedFields, "unschedulable"), managersOf(n.ManagedFields, "taints")...)
	// Only Ready, and without its heartbeat time: kubelet rewrites node status every few
	// seconds, and a heartbeat alone must not become a delta.
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			c.LastHeartbeatTime = metav1.Time{}
			out.Status.Conditions = []corev1.NodeCondition{c}
		}
	}
	return out
}

func trimDeployment(d *appsv1.Deployment) *appsv1.Deployment {
	m := trimMeta(d.ObjectMeta, annotationRevision)
	m.Generation = d.Generation
	// Who scaled it (timeline's scale-down initiator).
	m.ManagedFields = managersOf(d.ManagedFields, "replicas")
	return &appsv1.Deployment{
		ObjectMeta: m,
		Spec:       appsv1.DeploymentSpec{Replicas: d.Spec.Replicas},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration:  d.Status.ObservedGeneration,
			Replicas:            d.Status.Replicas,
			UpdatedReplicas:     d.Status.UpdatedReplicas,
			ReadyReplicas:       d.Status.ReadyReplicas,
			AvailableReplicas:   d.Status.AvailableReplicas,
			TerminatingReplicas: d.Status.TerminatingReplicas,
			Conditions:          d.Status.Conditions,
		},
	}
}

func trimStatefulSet(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	m := trimMeta(s.ObjectMeta)
	m.Generation = s.Generation
	return &appsv1.StatefulSet{
		ObjectMeta: m,
		Spec:       appsv1.StatefulSetSpec{Replicas: s.Spec.Replicas, UpdateStrategy: s.Spec.UpdateStrategy},
		Status: appsv1.StatefulSetStatus{
			ObservedGeneration: s.Status.ObservedGeneration,
			Replicas:           s.Status.Replicas,
			ReadyReplicas:      s.Status.ReadyReplicas,
			UpdatedReplicas:    s.Status.UpdatedReplicas,
			CurrentRevision:    s.Status.CurrentRevision,
			UpdateRevision:     s.Status.UpdateRevision,
		},
	}
}

func trimPDB(p *policyv1.PodDisruptionBudget) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: trimMeta(p.ObjectMeta),
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: p.Spec.Selector, MinAvailable: p.Spec.MinAvailable,
			MaxUnavailable: p.Spec.MaxUnavailable},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: p.Status.DisruptionsAllowed,
			CurrentHealthy: p.Status.CurrentHealthy, DesiredHealthy: p.Status.DesiredHealthy, ExpectedPods: p.Status.ExpectedPods},
	}
}

// managersOf keeps the managedFields entries that own spec.FIELD, outside the status
// subresource, each reduced to its manager, time and that one field.
func managersOf(mfs []metav1.ManagedFieldsEntry, field string) []metav1.ManagedFieldsEntry {
	key := []byte(`"f:` + field + `"`)
	var out []metav1.ManagedFieldsEntry
	for _, m := range mfs {
		if m.Subresource == "status" || m.FieldsV1 == nil || !bytes.Contains(m.FieldsV1.Raw, key) {
			continue
		}
		out = append(out, metav1.ManagedFieldsEntry{Manager: m.Manager, Operation: m.Operation, Time: m.Time,
			Subresource: m.Subresource, FieldsType: m.FieldsType,
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:` + field + `":{}}}`)}})
	}
	return out
}

// unchanged reports whether an update changed nothing the timeline reads: the same trimmed
// object under a new resourceVersion (a relist, or a change only to dropped fields such as a
// node heartbeat). Such updates are not passed on.
func unchanged(oldObj, newObj any) bool {
	switch o := oldObj.(type) {
	case *corev1.Pod:
		n, ok := newObj.(*corev1.Pod)
		return ok && !podStatusChanged(o, n) && samePod(o, n)
	case *discoveryv1.EndpointSlice:
		n, ok := newObj.(*discoveryv1.EndpointSlice)
		return ok && sameSlice(o, n)
	case *corev1.Event:
		return sameExceptVersion(o, newObj)
	case *appsv1.ReplicaSet:
		n, ok := newObj.(*appsv1.ReplicaSet)
		return ok && o.TypeMeta == n.TypeMeta && sameMeta(&o.ObjectMeta, &n.ObjectMeta) && ptrEqual(o.Spec.Replicas, n.Spec.Replicas)
	case *corev1.Node:
		return sameExceptVersion(o, newObj)
	case *appsv1.Deployment:
		n, ok := newObj.(*appsv1.Deployment)
		return ok && sameDeployment(o, n)
	case *appsv1.StatefulSet:
		return sameExceptVersion(o, newObj)
	case *policyv1.PodDisruptionBudget:
		return sameExceptVersion(o, newObj)
	}
	return false
}

// podStatusChanged is a quick check of the pod fields that change during a termination. True
// means changed; false means unchanged so far, and sameExceptVersion decides.
func podStatusChanged(a, b *corev1.Pod) bool {
	sa, sb := &a.Status, &b.Status
	return sa.Phase != sb.Phase || sa.Reason != sb.Reason || sa.PodIP != sb.PodIP ||
		!a.DeletionTimestamp.Equal(b.DeletionTimestamp) ||
		!slices.Equal(sa.Conditions, sb.Conditions) ||
		!slices.EqualFunc(sa.ContainerStatuses, sb.ContainerStatuses, sameContainerState)
}

// samePod is sameExceptVersion for pods trimmed by trimPod, without reflection: a reflective
// comparison of a pod costs several times its decoding, and pods are most of the updates.
// It compares exactly the fields trimPod keeps (TestSamePodAgreesWithReflection checks that).
func samePod(a, b *corev1.Pod) bool {
	if !sameMeta(&a.ObjectMeta, &b.ObjectMeta) {
		return false
	}
	sa, sb := &a.Spec, &b.Spec
	if sa.NodeName != sb.NodeName || sa.HostPID != sb.HostPID ||
		!ptrEqual(sa.TerminationGracePeriodSeconds, sb.TerminationGracePeriodSeconds) ||
		!ptrEqual(sa.ShareProcessNamespace, sb.ShareProcessNamespace) ||
		!slices.Equal(sa.ReadinessGates, sb.ReadinessGates) ||
		!slices.EqualFunc(sa.InitContainers, sb.InitContainers, sameContainer) ||
		!slices.EqualFunc(sa.Containers, sb.Containers, sameContainer) {
		return false
	}
	ta, tb := &a.Status, &b.Status
	return ta.Phase == tb.Phase && ta.Reason == tb.Reason && ta.Message == tb.Message && ta.PodIP == tb.PodIP &&
		slices.Equal(ta.Conditions, tb.Conditions) &&
		slices.EqualFunc(ta.InitContainerStatuses, tb.InitContainerStatuses, sameStatus) &&
		slices.EqualFunc(ta.ContainerStatuses, tb.ContainerStatuses, sameStatus) &&
		a.TypeMeta == b.TypeMeta
}

// The comparisons below are sameExceptVersion without reflection for what trimMeta, trimSlice,
// trimReplicaSet and trimDeployment keep (TestSameAgreesWithReflection checks each): during a
// rollout every pod change also rewrites an EndpointSlice, the ReplicaSets' and the Deployment's
// status, and a reflective comparison of those costs more than decoding them.

// sameMeta compares the metadata the trims keep, except the resourceVersion.
func sameMeta(ma, mb *metav1.ObjectMeta) bool {
	return ma.Name == mb.Name && ma.Namespace == mb.Namespace && ma.UID == mb.UID && ma.Generation == mb.Generation &&
		ma.CreationTimestamp.Equal(&mb.CreationTimestamp) && ma.DeletionTimestamp.Equal(mb.DeletionTimestamp) &&
		ptrEqual(ma.DeletionGracePeriodSeconds, mb.DeletionGracePeriodSeconds) &&
		maps.Equal(ma.Labels, mb.Labels) && maps.Equal(ma.Annotations, mb.Annotations) &&
		slices.Equal(ma.Finalizers, mb.Finalizers) && slices.EqualFunc(ma.OwnerReferences, mb.OwnerReferences, sameOwnerRef) &&
		slices.EqualFunc(ma.ManagedFields, mb.ManagedFields, sameManager)
}

func sameManager(a, b metav1.ManagedFieldsEntry) bool {
	return a.Manager == b.Manager && a.Operation == b.Operation && a.APIVersion == b.APIVersion &&
		a.FieldsType == b.FieldsType && a.Subresource == b.Subresource && a.Time.Equal(b.Time) &&
		(a.FieldsV1 == nil) == (b.FieldsV1 == nil) && (a.FieldsV1 == nil || bytes.Equal(a.FieldsV1.Raw, b.FieldsV1.Raw))
}

func sameSlice(a, b *discoveryv1.EndpointSlice) bool {
	return a.TypeMeta == b.TypeMeta && a.AddressType == b.AddressType && sameMeta(&a.ObjectMeta, &b.ObjectMeta) &&
		slices.EqualFunc(a.Endpoints, b.Endpoints, func(x, y discoveryv1.Endpoint) bool {
			cx, cy := &x.Conditions, &y.Conditions
			return ptrEqual(x.TargetRef, y.TargetRef) &&
				ptrEqual(cx.Ready, cy.Ready) && ptrEqual(cx.Serving, cy.Serving) && ptrEqual(cx.Terminating, cy.Terminating)
		})
}

func sameDeployment(a, b *appsv1.Deployment) bool {
	sa, sb := &a.Status, &b.Status
	return a.TypeMeta == b.TypeMeta && ptrEqual(a.Spec.Replicas, b.Spec.Replicas) &&
		sa.ObservedGeneration == sb.ObservedGeneration && sa.Replicas == sb.Replicas &&
		sa.UpdatedReplicas == sb.UpdatedReplicas && sa.ReadyReplicas == sb.ReadyReplicas &&
		sa.AvailableReplicas == sb.AvailableReplicas && ptrEqual(sa.TerminatingReplicas, sb.TerminatingReplicas) &&
		slices.EqualFunc(sa.Conditions, sb.Conditions, func(x, y appsv1.DeploymentCondition) bool {
			return x.Type == y.Type && x.Status == y.Status && x.Reason == y.Reason && x.Message == y.Message &&
				x.LastUpdateTime.Equal(&y.LastUpdateTime) && x.LastTransitionTime.Equal(&y.LastTransitionTime)
		}) &&
		sameMeta(&a.ObjectMeta, &b.ObjectMeta)
}

func sameOwnerRef(a, b metav1.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		ptrEqual(a.Controller, b.Controller) && ptrEqual(a.BlockOwnerDeletion, b.BlockOwnerDeletion)
}

// sameContainer compares the fields trimContainers keeps.
func sameContainer(a, b corev1.Container) bool {
	if a.Name != b.Name || !slices.Equal(a.Command, b.Command) || !slices.Equal(a.Args, b.Args) ||
		!ptrEqual(a.RestartPolicy, b.RestartPolicy) || (a.Lifecycle == nil) != (b.Lifecycle == nil) ||
		(a.ReadinessProbe == nil) != (b.ReadinessProbe == nil) {
		return false
	}
	if a.ReadinessProbe != nil && (a.ReadinessProbe.PeriodSeconds != b.ReadinessProbe.PeriodSeconds ||
		a.ReadinessProbe.FailureThreshold != b.ReadinessProbe.FailureThreshold) {
		return false
	}
	return a.Lifecycle == nil || samePreStop(a.Lifecycle.PreStop, b.Lifecycle.PreStop)
}

// samePreStop compares two preStop handlers field by field (TestPreStopComparisonCoversEveryField
// fails when the API adds a field it does not compare).
func samePreStop(a, b *corev1.LifecycleHandler) bool {
	if a == nil || b == nil {
		return a == b
	}
	return (a.Exec == nil) == (b.Exec == nil) && (a.Exec == nil || slices.Equal(a.Exec.Command, b.Exec.Command)) &&
		sameHTTPGet(a.HTTPGet, b.HTTPGet) && ptrEqual(a.TCPSocket, b.TCPSocket) && ptrEqual(a.Sleep, b.Sleep)
}

func sameHTTPGet(a, b *corev1.HTTPGetAction) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Path == b.Path && a.Port == b.Port && a.Host == b.Host && a.Scheme == b.Scheme &&
		slices.Equal(a.HTTPHeaders, b.HTTPHeaders) && ptrEqual(a.Protocol, b.Protocol)
}

// sameStatus compares the fields trimStatuses keeps.
func sameStatus(a, b corev1.ContainerStatus) bool {
	return a.Name == b.Name && a.Ready == b.Ready && ptrEqual(a.State.Waiting, b.State.Waiting) &&
		ptrEqual(a.State.Running, b.State.Running) && ptrEqual(a.State.Terminated, b.State.Terminated)
}

// ptrEqual: both nil, or pointing to equal values.
func ptrEqual[T comparable](a, b *T) bool {
	return a == b || a != nil && b != nil && *a == *b
}

// sameContainerState compares readiness and which state a container is in.
func sameContainerState(a, b corev1.ContainerStatus) bool {
	return a.Name == b.Name && a.Ready == b.Ready &&
		(a.State.Waiting == nil) == (b.State.Waiting == nil) &&
		(a.State.Running == nil) == (b.State.Running == nil) &&
		(a.State.Terminated == nil) == (b.State.Terminated == nil)
}

// sameExceptVersion compares shallow copies, so the cached objects are never written to.
func sameExceptVersion[T any, P interface {
	*T
	SetResourceVersion(string)
}](oldObj P, newObj any) bool {
	n, ok := newObj.(P)
	if !ok {
		return false
	}
	a, b := *oldObj, *n
	P(&a).SetResourceVersion("")
	P(&b).SetResourceVersion("")
	return equality.Semantic.DeepEqual(&a, &b)
}
