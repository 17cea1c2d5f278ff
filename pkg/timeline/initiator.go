package timeline

import (
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Initiator is who or what asked for a termination, as far as the API shows it: the
// DisruptionTarget condition, the Events that name an actor, the node's cordon, the owner's
// scale-down. What the API did not show stays empty; a plain DELETE that nothing explains has
// no Initiator.
type Initiator struct {
	// By names the actor: a component (default-scheduler, taint-eviction-controller, kubelet,
	// pod-gc, karpenter, cluster-autoscaler, deployment-controller), the field manager that
	// cordoned the node or scaled the owner (e.g. kubectl), or eviction-api when only the
	// condition says the Eviction API was called.
	By string `json:"by"`
	// Via is how: the DisruptionTarget reason (EvictionByEvictionAPI, PreemptionByScheduler,
	// DeletionByTaintManager, DeletionByPodGC, TerminationByKubelet), the pod's status reason
	// for a kubelet termination (Evicted, Terminated, ...), or scale-down / rollout.
	Via string `json:"via,omitempty"`
	// Message is the DisruptionTarget condition's message (or the status message).
	Message string `json:"message,omitempty"`
	// Preemptor is the pod whose scheduling preempted this one, from the scheduler's Preempted
	// Event: namespace/name when the Event's related object names it or the pod is in scope,
	// else the UID its message gives ("Preempted by pod UID on node NODE").
	Preemptor string `json:"preemptor,omitempty"`
	// Taints are the node's NoExecute taints (key=value:effect) when the taint manager deleted
	// the pod; known when the node is watched (node targets).
	Taints []string `json:"taints,omitempty"`
	// Cordon is the node's cordon when the pod was evicted from a cordoned node.
	Cordon *Cordon `json:"cordon,omitempty"`
	// Scale is the ReplicaSet scale-down that removed the pod.
	Scale *Scale `json:"scale,omitempty"`
	// Events are the Events that name an actor, as "Reason (component): message".
	Events []string `json:"events,omitempty"`
}

// Cordon is who made a node unschedulable.
type Cordon struct {
	Node string `json:"node"`
	// By is the autoscaler whose taint marks the node (karpenter.sh/disrupted,
	// ToBeDeletedByClusterAutoscaler), else the field manager of spec.unschedulable in the
	// node's managedFields (kubectl drain and cordon write as "kubectl"); "" when neither shows.
	By string `json:"by,omitempty"`
	// Time is when the node was seen cordoned (the start of the watch if it already was).
	Time time.Time `json:"time"`
}

// Scale is a ReplicaSet that shrank shortly before the pod's deletion.
type Scale struct {
	ReplicaSet string `json:"replicaSet"`
	From       int32  `json:"from"`
	To         int32  `json:"to"`
	// Rollout: the Deployment's replicas did not change, its controller moved them to a new
	// ReplicaSet. Otherwise the Deployment was scaled down, by DeploymentBy (the field manager
	// of its spec.replicas) when its managedFields show it.
	Rollout      bool   `json:"rollout,omitempty"`
	Deployment   string `json:"deployment,omitempty"`
	DeploymentBy string `json:"deploymentBy,omitempty"`
}

// actorEvents are the pod Events that name who is taking the pod away, and the component each
// stands for when its source does not say.
var actorEvents = map[string]string{
	"Preempted": "default-scheduler",
	"Evicted":   "",                   // karpenter's eviction, or kubelet's node-pressure eviction
	"Disrupted": "karpenter",          // a node's terminationGracePeriod ran out
	"ScaleDown": "cluster-autoscaler", // "deleting pod for node scale down"
}

// shrink is one decrease of a ReplicaSet's replicas.
type shrink struct {
	t        time.Time
	from, to int32
	// desiredFrom and desiredTo are the Deployment's replicas (desired-replicas annotation)
	// around it, -1 when unknown.
	desiredFrom, desiredTo int
}

// maxShrinks bounds the decreases kept per ReplicaSet.
const maxShrinks = 8

// scaleWindow is how long before (or, across racing watches, after) a pod's deletion a
// ReplicaSet decrease counts as its cause.
const scaleWindow = 30 * time.Second

// deployState is a Deployment seen by the watch.
type deployState struct {
	replicasBy string
}

func (e *Engine) applyReplicaSet(t time.Time, rs *appsv1.ReplicaSet, info rsInfo) {
	key := podKey(rs.Namespace, rs.Name)
	old, seen := e.rs[key]
	info.replicas = -1
	if rs.Spec.Replicas != nil {
		info.replicas = *rs.Spec.Replicas
	}
	if seen {
		info.shrinks = old.shrinks
		if old.replicas >= 0 && info.replicas >= 0 && info.replicas < old.replicas {
			info.shrinks = append(info.shrinks, shrink{t: t, from: old.replicas, to: info.replicas, desiredFrom: old.desired, desiredTo: info.desired})
			if len(info.shrinks) > maxShrinks {
				info.shrinks = info.shrinks[1:]
			}
		}
	}
	e.rs[key] = info
}

func (e *Engine) applyDeployment(d Delta) {
	dep := d.Deployment
	key := podKey(dep.Namespace, dep.Name)
	if d.Type == Deleted {
		delete(e.deploys, key)
		return
	}
	e.deploys[key] = &deployState{replicasBy: fieldManager(dep.ManagedFields, "f:replicas")}
}

// noteActor keeps a pod Event that names who is taking the pod away.
func (tm *termState) noteActor(ev *corev1.Event) {
	who := firstNonEmpty(ev.ReportingController, ev.Source.Component, actorEvents[ev.Reason])
	if len(tm.actorEvents) < 8 {
		tm.actorEvents = append(tm.actorEvents, fmt.Sprintf("%s (%s): %s", ev.Reason, firstNonEmpty(who, "unknown"), truncate(ev.Message, 300)))
	}
	if ev.Reason == "Preempted" {
		tm.preemptor = preemptorOf(ev)
	}
	if tm.actor == "" && who != "" && who != "kubelet" && ev.Reason != "Preempted" {
		tm.actor = who
	}
}

// preemptorOf reads the preemptor from a Preempted Event: its related object, else the UID in
// the message the scheduler writes ("Preempted by pod UID on node NODE"; older schedulers
// leave out "pod").
func preemptorOf(ev *corev1.Event) string {
	if r := ev.Related; r != nil && r.Kind == "Pod" && r.Name != "" {
		return podKey(r.Namespace, r.Name)
	}
	_, rest, ok := strings.Cut(ev.Message, "Preempted by ")
	words := strings.Fields(rest)
	if !ok || len(words) == 0 {
		return ""
	}
	if (words[0] == "pod" || words[0] == "podgroup") && len(words) > 1 {
		return words[1]
	}
	return words[0]
}

// initiator says who started the termination of p, from what the API showed.
func (e *Engine) initiator(p *podState) *Initiator {
	tm := p.term
	in := &Initiator{Via: tm.reason, Message: tm.condMessage, Preemptor: tm.preemptor, Events: slices.Clone(tm.actorEvents)}
	if pp := e.pods[types.UID(in.Preemptor)]; pp != nil {
		in.Preemptor = podKey(pp.ns, pp.name)
	}
	switch tm.reason {
	case "PreemptionByScheduler", "PreemptionByKubeScheduler":
		// The scheduler writes "<schedulerName>: preempting to accommodate ...".
		in.By = "kube-scheduler"
		if name, _, ok := strings.Cut(tm.condMessage, ":"); ok && name != "" && !strings.Contains(name, " ") {
			in.By = name
		}
	case "DeletionByTaintManager":
		in.By = "taint-eviction-controller"
		if st := e.nodes[p.node]; st != nil {
			in.Taints = taintList(st.node, corev1.TaintEffectNoExecute)
		}
	case "EvictionByEvictionAPI":
		in.By = "eviction-api"
	case "DeletionByPodGC":
		in.By = "pod-gc"
	case "TerminationByKubelet":
		in.By = "kubelet"
	}
	if in.By == "" && tm.cause == CauseKubelet {
		// Node-pressure eviction or node shutdown: status.reason and message say which.
		in.By, in.Via, in.Message = "kubelet", firstNonEmpty(tm.statusReason, tm.reason), firstNonEmpty(tm.statusMessage, tm.condMessage)
	}
	if st := e.nodes[p.node]; st != nil && !st.cordoned.IsZero() && !tm.start.Before(st.cordoned.Add(-cordonSlack)) &&
		(st.uncordoned.IsZero() || tm.start.Before(st.uncordoned)) && tm.cause != CauseKubelet {
		in.Cordon = &Cordon{Node: p.node, By: st.by, Time: st.cordoned}
		if tm.cause == CauseEviction && st.by != "" {
			in.By = st.by
		}
	}
	if tm.cause == CauseDelete {
		if sc := e.scaleOf(p, tm.start); sc != nil {
			in.Scale = sc
			in.Via = "scale-down"
			in.By = firstNonEmpty(sc.DeploymentBy, "replicaset-controller")
			if sc.Rollout {
				in.Via, in.By = "rollout", "deployment-controller"
			}
		}
	}
	if tm.actor != "" {
		in.By = tm.actor // karpenter or cluster-autoscaler said so on the pod
	}
	if in.By == "" && in.Via == "" && len(in.Events) == 0 && in.Cordon == nil {
		return nil
	}
	return in
}

// scaleOf finds the decrease of the pod's ReplicaSet that deleted it: the latest one within
// scaleWindow of the deletion.
func (e *Engine) scaleOf(p *podState, start time.Time) *Scale {
	rs := p.replicaSet()
	if rs == "" {
		return nil
	}
	info, ok := e.rs[podKey(p.ns, rs)]
	if !ok {
		return nil
	}
	// The latest decrease at or before the deletion; else (the watches raced) the first one
	// just after it.
	var found *shrink
	for i := len(info.shrinks) - 1; i >= 0; i-- {
		if s := &info.shrinks[i]; !s.t.After(start) {
			if !s.t.Before(start.Add(-scaleWindow)) {
				found = s
			}
			break
		}
	}
	for i := range info.shrinks {
		if s := &info.shrinks[i]; found == nil && s.t.After(start) && !s.t.After(start.Add(2*time.Second)) {
			found = s
		}
	}
	if found == nil {
		return nil
	}
	s := *found
	sc := &Scale{ReplicaSet: p.owner.Name, From: s.from, To: s.to, Deployment: info.deployment}
	switch {
	case info.deployment == "":
	case s.desiredFrom >= 0 && s.desiredTo >= 0 && s.desiredTo < s.desiredFrom:
		if d := e.deploys[podKey(p.ns, info.deployment)]; d != nil {
			sc.DeploymentBy = d.replicasBy
		}
	case s.desiredFrom >= 0 && s.desiredFrom == s.desiredTo:
		sc.Rollout = true
	}
	return sc
}

// String says who and how in a few words, for the text output, the TUI and the report.
func (in *Initiator) String() string {
	if in == nil {
		return ""
	}
	var how []string
	if in.Via != "" {
		how = append(how, in.Via)
	}
	if in.Preemptor != "" {
		how = append(how, "for pod "+in.Preemptor)
	}
	if len(in.Taints) > 0 {
		how = append(how, "taint "+strings.Join(in.Taints, ", "))
	}
	if c := in.Cordon; c != nil && c.By != "" && c.By != in.By {
		how = append(how, c.Node+" cordoned by "+c.By)
	}
	if sc := in.Scale; sc != nil {
		s := fmt.Sprintf("%s %d→%d", sc.ReplicaSet, sc.From, sc.To)
		if sc.Deployment != "" && !sc.Rollout {
			s = "deployment " + sc.Deployment + " scaled down, " + s
		}
		how = append(how, s)
	}
	s := "by " + firstNonEmpty(in.By, "unknown")
	if len(how) > 0 {
		s += " (" + strings.Join(how, "; ") + ")"
	}
	return s
}
