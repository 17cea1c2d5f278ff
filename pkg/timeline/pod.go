package timeline

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podState is what the engine keeps about one pod in scope.
type podState struct {
	uid      types.UID
	ns, name string
	pod      *corev1.Pod
	owner    *Owner
	node     string
	services []string
	// terminal: the pod finished on its own (Succeeded/Failed) before any deletion.
	terminal bool
	removed  bool
	term     *termState
}

// hookKind is what kind of preStop hook a container has; a recommendation may replace only a
// hook that does nothing but sleep.
type hookKind int

const (
	hookNone hookKind = iota
	hookSleep
	hookExecSleep
	hookOther
)

// termState is a termination in progress.
type termState struct {
	start     time.Time
	joined    bool
	cause     string
	reason    string
	grace     *int64
	specGrace *int64
	// status is the pod's status.reason and status.message (or the DisruptionTarget
	// condition's message): what kubelet said when it terminated the pod itself.
	statusReason, statusMessage string
	// condMessage is the DisruptionTarget condition's message.
	condMessage string
	// actorEvents are the pod Events that name who took it away (initiator.go); actor is the
	// component the first of them (other than the scheduler's and kubelet's) names, preemptor the
	// pod the scheduler preempted it for.
	actorEvents      []string
	actor, preemptor string
	deadline         *time.Time // server clock
	local            *time.Time // the deadline on the local clock, when the request was seen live
	forced           bool
	readyFalse       bool
	exceeded         bool
	marks            []Mark
	keys             map[string]struct{}
	events           map[string]struct{}
	ctrs             []*ctrState
	end              *time.Time
	endpointsOK      bool // the pod was seen in an EndpointSlice while terminating
}

// ctrState is one container of a terminating pod.
type ctrState struct {
	name    string
	sidecar bool
	preStop string
	sleep   *time.Duration // length of a sleep preStop hook, when known
	hook    hookKind
	// handler is the LifecycleHandler field of the hook ("exec", "httpGet", "tcpSocket", "sleep").
	handler string
	pid1    pid1Info
	killing *time.Time // local receive time of the Killing event
	// killingAt is the Killing event's own time when its name carries nanoseconds (the node's
	// clock, as finishedAt): the start of kubelet's grace count.
	killingAt *time.Time
	// hookFailed is when the preStop hook was reported failed (local clock); hookCutOff says
	// it failed only because it still ran when the grace period was over (kubelet stopped
	// waiting and the kill ended it), which is not a failure of its own.
	hookFailed *time.Time
	hookCutOff bool
	exited     bool
	exitLoc    time.Time
	code       int32
	reason     string
	finished   *time.Time
}

func (t *termState) ctr(name string) *ctrState {
	for _, c := range t.ctrs {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (t *termState) allExited() bool {
	for _, c := range t.ctrs {
		if !c.exited {
			return false
		}
	}
	return len(t.ctrs) > 0
}

// add appends a mark unless one with the same key was added already.
func (t *termState) add(key string, m Mark) bool {
	if _, dup := t.keys[key]; dup {
		return false
	}
	t.keys[key] = struct{}{}
	t.marks = append(t.marks, m)
	return true
}

func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

func disruption(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return c.Reason
		}
	}
	return ""
}

// causeOf maps the DisruptionTarget reason (or its absence) to a cause.
func causeOf(reason string, deleted bool) string {
	switch reason {
	case "EvictionByEvictionAPI":
		return CauseEviction
	case "PreemptionByScheduler", "PreemptionByKubeScheduler":
		return CausePreemption
	case "DeletionByTaintManager":
		return CauseTaint
	case "DeletionByPodGC":
		return CausePodGC
	case "TerminationByKubelet":
		return CauseKubelet
	case "":
		if deleted {
			return CauseDelete
		}
		return CauseKubelet
	}
	return CauseUnknown
}

func (e *Engine) applyPod(d Delta) []PodTimeline {
	pod := d.Pod
	if i, ok := e.done[pod.UID]; ok {
		if i < 0 && d.Type == Deleted {
			e.rememberDone(pod.UID, true) // ended by its kubelet, now removed
		}
		return nil // a late or repeated delta for a finished termination
	}
	p := e.pods[pod.UID]
	first := p == nil
	if first {
		p = &podState{uid: pod.UID, ns: pod.Namespace, name: pod.Name}
		e.pods[pod.UID] = p
		e.byName[podKey(pod.Namespace, pod.Name)] = pod.UID
		for _, ep := range e.podEPs[pod.UID] {
			p.addService(ep.service)
		}
	}
	prev, prevOwner := p.pod, p.owner
	p.pod = pod
	p.owner = e.ownerOf(pod)
	if prev == nil || !sameOwner(prevOwner, p.owner) {
		// A pod's containers and grace period cannot change: one look per pod and owner.
		e.seeTemplate(p)
	}
	if pod.Spec.NodeName != "" {
		p.node = pod.Spec.NodeName
	}
	if p.term == nil {
		kubelet := pod.DeletionTimestamp == nil && !first && !p.terminal &&
			(disruption(pod) == "TerminationByKubelet" || (pod.Status.Phase == corev1.PodFailed && pod.Status.Reason != ""))
		switch {
		case pod.DeletionTimestamp != nil, kubelet:
		case d.Type == Deleted && (p.terminal || isTerminal(pod)):
			// A pod that had finished on its own was cleaned up: not a termination.
			e.forget(p)
			return nil
		case d.Type == Deleted:
			// Removed without a graceful deletion being seen (grace 0, or a missed update).
		default:
			if isTerminal(pod) {
				p.terminal = true
			}
			return nil
		}
		e.begin(p, d.Time, first && d.Type != Deleted)
	}
	e.updateTermination(p, d.Time, pod)
	gateMarks(p.term, d.Time, prev, pod)
	if d.Type == Deleted {
		p.removed = true
		t := p.term
		m := Mark{Type: MarkPodRemoved, Time: d.Time, Source: SourcePod}
		if d.FinalStateUnknown {
			// Seen missing by a relist: it went some time while the watch was down.
			m.Estimated, m.Detail = true, "found missing after the watch reconnected"
		} else if !t.allExited() && !isTerminal(pod) {
			if pod.DeletionTimestamp == nil {
				// Removed with no deletion ever shown: a force deletion the API did not
				// announce, or the pod left the watched selector.
				m.Detail = "removed without a graceful deletion (force-deleted, or it left the selector)"
			} else {
				t.forced = true
			}
		}
		t.add("removed", m)
		return []PodTimeline{e.complete(p)}
	}
	if pod.DeletionTimestamp == nil && isTerminal(pod) && p.term.allExited() {
		// Kubelet-initiated terminations leave the pod object in place: this is the end.
		return []PodTimeline{e.complete(p)}
	}
	return nil
}

func sameOwner(a, b *Owner) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && a.Name == b.Name &&
		(a.Controller == b.Controller || a.Controller != nil && b.Controller != nil && *a.Controller == *b.Controller)
}

func (e *Engine) forget(p *podState) {
	delete(e.pods, p.uid)
	if e.byName[podKey(p.ns, p.name)] == p.uid {
		delete(e.byName, podKey(p.ns, p.name))
	}
	delete(e.podEPs, p.uid)
	delete(e.pending, string(p.uid))
	if rs := p.replicaSet(); rs != "" {
		if info, ok := e.rs[podKey(p.ns, rs)]; ok && info.gone {
			e.forgetReplicaSet(p.ns, rs)
		}
	}
}

// replicaSet is the name of the ReplicaSet that owns the pod ("" when none does).
func (p *podState) replicaSet() string {
	if p.owner == nil || p.owner.Kind != KindReplicaSet {
		return ""
	}
	return p.owner.Name
}

// forgetReplicaSet drops a deleted ReplicaSet (Forget: a watch that never ends sees a new one
// per rollout) once no pod the engine knows belongs to it; until then it is marked gone.
func (e *Engine) forgetReplicaSet(ns, name string) {
	key := podKey(ns, name)
	for _, p := range e.pods {
		if p.ns == ns && p.replicaSet() == name {
			info := e.rs[key]
			info.gone = true
			e.rs[key] = info
			return
		}
	}
	delete(e.rs, key)
}

func (p *podState) addService(name string) {
	if name == "" {
		return
	}
	for _, s := range p.services {
		if s == name {
			return
		}
	}
	p.services = append(p.services, name)
}

// begin starts the timeline of a pod at local time t.
func (e *Engine) begin(p *podState, t time.Time, joined bool) {
	pod := p.pod
	tm := &termState{start: t, joined: joined, keys: map[string]struct{}{}, events: map[string]struct{}{}}
	p.term = tm
	e.order = append(e.order, p)
	tm.reason = disruption(pod)
	tm.cause = causeOf(tm.reason, pod.DeletionTimestamp != nil)
	if tm.reason == "" && pod.Status.Reason != "" && pod.DeletionTimestamp == nil {
		tm.reason = pod.Status.Reason
	}
	m := Mark{Type: MarkDeletionRequested, Time: t, Source: SourcePod, Estimated: joined}
	if pod.DeletionTimestamp != nil {
		dl := pod.DeletionTimestamp.Time
		tm.deadline = &dl
		if g := pod.DeletionGracePeriodSeconds; g != nil {
			grace := *g
			tm.grace = &grace
			req := dl.Add(-time.Duration(grace) * time.Second)
			m.ServerTime = &req
			m.Detail = fmt.Sprintf("grace period %ds", grace)
			if !joined {
				loc := t.Add(time.Duration(grace) * time.Second)
				tm.local = &loc
			}
			if grace == 0 {
				tm.forced = true
			}
		}
	} else if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace := *g
		tm.grace = &grace
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		spec := *g
		tm.specGrace = &spec
	}
	if joined {
		m.Detail = strings.TrimPrefix(m.Detail+"; already terminating when watching started", "; ")
	}
	if pod.DeletionTimestamp == nil {
		m.Detail = "terminated by the kubelet (" + firstNonEmpty(tm.reason, string(pod.Status.Phase)) + ")"
	}
	tm.add("deletion", m)
	// With a shared or the host's PID namespace the containers' processes are not PID 1.
	shared := (pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace) || pod.Spec.HostPID
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			tm.ctrs = append(tm.ctrs, newCtr(c, true, shared))
		}
	}
	for _, c := range pod.Spec.Containers {
		tm.ctrs = append(tm.ctrs, newCtr(c, false, shared))
	}
	for _, ep := range e.podEPs[p.uid] {
		p.addService(ep.service)
		e.endpointMarks(p, ep)
	}
	for _, pe := range e.takePending(string(p.uid), podKey(p.ns, p.name)) {
		e.podEvent(p, pe.t, pe.ev)
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func newCtr(c corev1.Container, sidecar, sharedPIDs bool) *ctrState {
	cs := &ctrState{name: c.Name, sidecar: sidecar, pid1: readPID1(c, sharedPIDs)}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		h := c.Lifecycle.PreStop
		cs.hook = hookOther
		switch {
		case h.Sleep != nil:
			d := time.Duration(h.Sleep.Seconds) * time.Second
			cs.sleep, cs.hook, cs.handler = &d, hookSleep, "sleep"
			cs.preStop = fmt.Sprintf("sleep %ds", h.Sleep.Seconds)
		case h.Exec != nil:
			cs.preStop, cs.handler = "exec: "+strings.Join(h.Exec.Command, " "), "exec"
			if d, ok := execSleep(h.Exec.Command); ok {
				cs.sleep, cs.hook = &d, hookExecSleep
			}
		case h.HTTPGet != nil:
			cs.preStop, cs.handler = "httpGet: "+h.HTTPGet.Path, "httpGet"
		case h.TCPSocket != nil:
			cs.preStop, cs.handler = "tcpSocket: "+h.TCPSocket.Port.String(), "tcpSocket"
		default:
			cs.preStop = "hook"
		}
	}
	return cs
}

// maxHookSeconds bounds the exec sleep read as a hook's length (a day).
const maxHookSeconds = 86400

// execSleep recognises an exec hook that only sleeps: ["sleep","5"] or ["sh","-c","sleep 5"].
func execSleep(cmd []string) (time.Duration, bool) {
	args := cmd
	if len(cmd) == 3 && (path.Base(cmd[0]) == "sh" || path.Base(cmd[0]) == "bash") && cmd[1] == "-c" {
		args = strings.Fields(cmd[2])
	}
	if len(args) != 2 || path.Base(args[0]) != "sleep" {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(args[1], "s"), 64)
	if err != nil || f < 0 || math.IsNaN(f) || f > maxHookSeconds {
		// "infinity" and the like: the length is not a number to size from; a hook that runs
		// through the grace period is still seen by when the kill came.
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// updateTermination reads what a pod update says about a termination in progress.
func (e *Engine) updateTermination(p *podState, t time.Time, pod *corev1.Pod) {
	tm := p.term
	if pod.Status.Reason != "" {
		tm.statusReason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Message != "" {
			tm.condMessage = c.Message
			if tm.statusMessage == "" {
				tm.statusMessage = c.Message
			}
		}
	}
	if pod.Status.Message != "" {
		tm.statusMessage = pod.Status.Message
	}
	if r := disruption(pod); r != "" && tm.reason != r {
		tm.reason = r
		tm.cause = causeOf(r, pod.DeletionTimestamp != nil)
	}
	if pod.DeletionTimestamp != nil && tm.deadline == nil {
		// A kubelet-initiated termination followed by a deletion, or a pod removed by a
		// DELETED that carries its deletion fields.
		dl := pod.DeletionTimestamp.Time
		tm.deadline = &dl
	}
	if g := pod.DeletionGracePeriodSeconds; g != nil && tm.grace != nil && *g < *tm.grace && !tm.allExited() {
		// A later delete shortened the grace period; kubelet's own final delete (grace 0) after
		// the containers exited is not one.
		if *g == 0 {
			tm.forced = true
		} else {
			grace := *g
			tm.grace = &grace
			dl := pod.DeletionTimestamp.Time
			tm.deadline = &dl
			if tm.local != nil {
				loc := tm.start.Add(time.Duration(grace) * time.Second)
				tm.local = &loc
			}
			tm.add("grace/"+strconv.FormatInt(grace, 10), Mark{Type: MarkDeletionRequested, Time: t, Source: SourcePod,
				Detail: fmt.Sprintf("grace period shortened to %ds", grace)})
		}
	}
	statuses := func(list []corev1.ContainerStatus) {
		for i := range list {
			e.containerStatus(tm, t, &list[i])
		}
	}
	statuses(pod.Status.InitContainerStatuses)
	statuses(pod.Status.ContainerStatuses)
	if !tm.readyFalse && !tm.anyExited() {
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse {
				tm.readyFalse = true
				st := c.LastTransitionTime.Time
				m := Mark{Type: MarkReadinessFailed, Time: t, Source: SourcePod, Detail: "Ready condition False"}
				if !st.IsZero() {
					m.ServerTime = &st
				}
				tm.add("readiness", m)
			}
		}
	}
}

func (t *termState) mainExitedZero() bool {
	for _, c := range t.ctrs {
		if !c.sidecar && (!c.exited || c.code != 0) {
			return false
		}
	}
	return true
}

func (t *termState) anyExited() bool {
	for _, c := range t.ctrs {
		if c.exited {
			return true
		}
	}
	return false
}

func (e *Engine) containerStatus(tm *termState, t time.Time, st *corev1.ContainerStatus) {
	term := st.State.Terminated
	c := tm.ctr(st.Name)
	if term == nil || c == nil || c.exited {
		return
	}
	c.exited, c.exitLoc, c.code, c.reason = true, t, term.ExitCode, term.Reason
	m := Mark{Type: MarkContainerExited, Time: t, Source: SourcePod, Container: c.name, Reason: term.Reason}
	code := term.ExitCode
	m.ExitCode = &code
	if !term.FinishedAt.IsZero() {
		fin := term.FinishedAt.Time
		c.finished = &fin
		m.ServerTime = &fin
	}
	if term.Message != "" {
		m.Detail = truncate(term.Message, 200)
	}
	tm.add("exit/"+c.name, m)
	if atDeadline(tm, c) {
		k := Mark{Type: MarkSIGKILL, Time: t, Source: SourceInferred, Estimated: true, Container: c.name,
			Detail: "exit 137 at the grace deadline", ServerTime: tm.killDeadline()}
		if loc := tm.localKill(c); loc != nil && loc.Before(t) {
			k.Time = *loc
		}
		tm.add("kill/"+c.name, k)
	}
}

// killAfter is how long after Killing kubelet SIGKILLs c: the grace period or, when the preStop
// hook ran (nearly) all of it, the hook's share (at most the grace) plus kubelet's minimum for
// SIGTERM (killContainer).
func (t *termState) killAfter(c *ctrState) (time.Duration, bool) {
	if t.grace == nil {
		return 0, false
	}
	after := float64(*t.grace)
	if h, ok := hookSeconds(c); ok && c.hook != hookNone {
		after = math.Max(after, math.Min(h, after)+MinSIGTERMSeconds)
	}
	return time.Duration(after * float64(time.Second)), true
}

// killDeadline is when kubelet's grace runs out by the best clock there is: the first main
// container's Killing event (nanoseconds, the node's clock) plus killAfter, else
// deletionTimestamp (whole seconds).
func (t *termState) killDeadline() *time.Time {
	for _, c := range t.ctrs {
		if c.sidecar || c.killingAt == nil {
			continue
		}
		if d, ok := t.killAfter(c); ok {
			dl := c.killingAt.Add(d)
			return &dl
		}
	}
	if t.deadline == nil {
		return nil
	}
	dl := *t.deadline
	return &dl
}

// localKill is the SIGKILL of c on the local clock: its Killing as received plus killAfter, else
// the deletion as received plus the grace period.
func (t *termState) localKill(c *ctrState) *time.Time {
	if d, ok := t.killAfter(c); ok && c.killing != nil {
		k := c.killing.Add(d)
		return &k
	}
	return t.local
}

// atDeadline says whether a container's exit is a SIGKILL at the grace deadline: 137, not an
// OOM kill or a vanished container, and no earlier than the deadline (whole seconds).
func atDeadline(tm *termState, c *ctrState) bool {
	if !c.exited || c.code != 137 || c.reason == "OOMKilled" || c.reason == "ContainerStatusUnknown" {
		return false
	}
	switch {
	case tm.exceeded:
		return true
	case tm.deadline != nil && c.finished != nil:
		return !c.finished.Before(tm.deadline.Add(-time.Second))
	case tm.local != nil:
		return !c.exitLoc.Before(tm.local.Add(-time.Second))
	}
	return false
}

// gateMarks marks each readiness gate whose condition changed while the pod terminated: load
// balancer controllers set them (target health, NEG readiness) and say with them when the load
// balancer has let go of the pod.
func gateMarks(tm *termState, t time.Time, prev, pod *corev1.Pod) {
	if len(pod.Spec.ReadinessGates) == 0 {
		return
	}
	status := func(p *corev1.Pod, typ corev1.PodConditionType) (corev1.PodCondition, bool) {
		if p == nil {
			return corev1.PodCondition{}, false
		}
		for _, c := range p.Status.Conditions {
			if c.Type == typ {
				return c, true
			}
		}
		return corev1.PodCondition{}, false
	}
	for _, g := range pod.Spec.ReadinessGates {
		now, ok := status(pod, g.ConditionType)
		before, had := status(prev, g.ConditionType)
		if !ok || !had || before.Status == now.Status {
			continue
		}
		detail := fmt.Sprintf("%s=%s", g.ConditionType, now.Status)
		if now.Reason != "" || now.Message != "" {
			detail += " " + strings.TrimSpace(now.Reason+" "+truncate(now.Message, 200))
		}
		tm.add(fmt.Sprintf("gate/%s/%s/%s", g.ConditionType, now.Status, t.Format(time.RFC3339Nano)),
			Mark{Type: MarkReadinessGate, Time: t, Source: SourcePod, Detail: detail})
	}
}
