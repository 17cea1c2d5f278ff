package timeline

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeDrain is one node's drain as the API showed it: from the cordon to the moment nothing was
// left on the node but what a drain leaves (DaemonSet pods, mirror pods, finished pods).
type NodeDrain struct {
	Node string `json:"node"`
	// Cordoned is when the node was seen unschedulable (or tainted by an autoscaler that drains
	// it); CordonedBy says who did it (see Cordon.By). JoinedMidway: it was cordoned already
	// when watching started, so Cordoned is the start of the watch.
	Cordoned     time.Time `json:"cordoned"`
	CordonedBy   string    `json:"cordonedBy,omitempty"`
	JoinedMidway bool      `json:"joinedMidway,omitempty"`
	// Uncordoned is when the node became schedulable again.
	Uncordoned *time.Time `json:"uncordoned,omitempty"`
	// Taints are the node's NoSchedule and NoExecute taints, as key=value:effect.
	Taints       []string `json:"taints,omitempty"`
	Terminations int      `json:"terminations"`
	Evictions    int      `json:"evictions"`
	// Remaining are the pods the drain still waits for (terminating ones included).
	Remaining []string `json:"remaining"`
	// Empty is when the last of them was gone.
	Empty *time.Time `json:"empty,omitempty"`
	// DurationSeconds runs from Cordoned to Empty, or to the end of the watch while pods remain
	// (a lower bound when JoinedMidway).
	DurationSeconds float64 `json:"durationSeconds"`
	// WaitedOn is what the drain waited for, longest first.
	WaitedOn []Wait      `json:"waitedOn,omitempty"`
	Marks    []DrainMark `json:"marks"`
}

// Wait is something a drain waited for: a PodDisruptionBudget that allowed no disruption while
// its pods were still on the node, or the pod whose termination ended the drain.
type Wait struct {
	Kind      string  `json:"kind"`
	Name      string  `json:"name"`
	Namespace string  `json:"namespace"`
	Seconds   float64 `json:"seconds"`
	Detail    string  `json:"detail"`
}

// DrainMark is one moment of a node's drain.
type DrainMark struct {
	Time   time.Time     `json:"t"`
	Type   DrainMarkType `json:"type"`
	Pod    string        `json:"pod,omitempty"`
	Detail string        `json:"detail,omitempty"`
}

// DrainMarkType names a moment of a drain.
type DrainMarkType string

// Moments of a drain.
const (
	DrainCordoned   DrainMarkType = "cordoned"
	DrainUncordoned DrainMarkType = "uncordoned"
	// DrainTermination is a pod's deletion, eviction or kubelet termination.
	DrainTermination DrainMarkType = "termination"
	DrainPodGone     DrainMarkType = "pod-gone"
	DrainEmpty       DrainMarkType = "empty"
	// DrainEvent is an Event about the node (Karpenter, cluster-autoscaler, kubelet).
	DrainEvent DrainMarkType = "event"
)

// nodeState is a watched node.
type nodeState struct {
	node       *corev1.Node
	cordoned   time.Time // zero while schedulable
	joined     bool
	by         string
	uncordoned time.Time
	empty      time.Time
	events     []DrainMark
	eventIDs   map[string]struct{}
	// pdbs are the PDBs (namespace/name) that covered pods which terminated here while cordoned.
	pdbs map[string]struct{}
}

// cordoned says whether the node is watched and cordoned for a drain.
func (e *Engine) cordoned(node string) bool {
	st := e.nodes[node]
	return st != nil && !st.cordoned.IsZero() && st.uncordoned.IsZero()
}

// cordonSlack absorbs the delivery order of the node and pod watches: an eviction right after a
// cordon can arrive before it.
const cordonSlack = time.Second

// maxNodeEvents bounds the Events kept per node (a node's Events repeat with count++).
const maxNodeEvents = 50

// drainTaints are the taints with which an autoscaler marks a node it is draining, by owner.
var drainTaints = map[string]string{
	"karpenter.sh/disrupted":         "karpenter",
	"karpenter.sh/disruption":        "karpenter",
	"ToBeDeletedByClusterAutoscaler": "cluster-autoscaler",
}

// DrainKeeps says whether a drain leaves the pod where it is, or does not wait for it: DaemonSet
// pods, mirror pods and pods that finished without being deleted (kubectl drain's filters).
func DrainKeeps(p *corev1.Pod) bool {
	if p.DeletionTimestamp == nil && isTerminal(p) {
		return true
	}
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return true
	}
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.Kind == "DaemonSet"
}

func (e *Engine) applyNode(d Delta) {
	n := d.Node
	if d.Type == Deleted {
		delete(e.nodes, n.Name)
		return
	}
	st := e.nodes[n.Name]
	first := st == nil
	if first {
		st = &nodeState{eventIDs: map[string]struct{}{}, pdbs: map[string]struct{}{}}
		e.nodes[n.Name] = st
	}
	st.node = n
	by, draining := cordonedBy(n)
	switch {
	case draining && st.cordoned.IsZero():
		st.cordoned, st.joined, st.by, st.uncordoned, st.empty = d.Time, first, by, time.Time{}, time.Time{}
	case draining:
		st.by = firstNonEmpty(by, st.by)
	case !st.cordoned.IsZero() && st.uncordoned.IsZero():
		st.uncordoned = d.Time
	}
}

// Draining says whether the node is being emptied: cordoned (spec.unschedulable), tainted by an
// autoscaler that drains it, or tainted NoExecute (the taint manager evicts what does not
// tolerate it).
func Draining(n *corev1.Node) bool {
	_, ok := cordonedBy(n)
	return ok
}

// cordonedBy says whether the node is being emptied and by whom: the autoscaler whose taint it
// carries, else the field manager that set spec.unschedulable or, for a NoExecute taint, the
// taints.
func cordonedBy(n *corev1.Node) (string, bool) {
	noExecute := false
	for _, t := range n.Spec.Taints {
		if who, ok := drainTaints[t.Key]; ok && t.Effect != corev1.TaintEffectPreferNoSchedule {
			return who, true
		}
		noExecute = noExecute || t.Effect == corev1.TaintEffectNoExecute
	}
	switch {
	case n.Spec.Unschedulable:
		return fieldManager(n.ManagedFields, "f:unschedulable"), true
	case noExecute:
		return fieldManager(n.ManagedFields, "f:taints"), true
	}
	return "", false
}

// fieldManager is the manager that last set a spec field (by its managedFields key, e.g.
// "f:replicas"), or "" when no entry shows it.
func fieldManager(mfs []metav1.ManagedFieldsEntry, field string) string {
	var who string
	var when time.Time
	key := []byte(`"` + field + `"`)
	for _, m := range mfs {
		if m.Subresource == "status" || m.FieldsV1 == nil || !bytes.Contains(m.FieldsV1.Raw, key) {
			continue
		}
		if t := timeOf(m.Time); who == "" || !t.Before(when) {
			who, when = m.Manager, t
		}
	}
	return who
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// nodeEvent keeps an Event about a watched node for its drain's marks.
func (e *Engine) nodeEvent(t time.Time, ev *corev1.Event) {
	st := e.nodes[ev.InvolvedObject.Name]
	if st == nil {
		return
	}
	id := eventID(ev)
	if _, dup := st.eventIDs[id]; dup || len(st.events) >= maxNodeEvents {
		return
	}
	st.eventIDs[id] = struct{}{}
	st.events = append(st.events, DrainMark{Time: t, Type: DrainEvent,
		Detail: fmt.Sprintf("%s (%s): %s", ev.Reason, eventComponent(ev), truncate(ev.Message, 300))})
}

func eventComponent(ev *corev1.Event) string {
	return firstNonEmpty(ev.ReportingController, ev.Source.Component, "unknown")
}

// remaining lists the pods a drain of the node still waits for.
func (e *Engine) remaining(node string) []string {
	var out []string
	for _, p := range e.pods {
		if p.node == node && p.pod != nil && !p.removed && !DrainKeeps(p.pod) {
			out = append(out, podKey(p.ns, p.name))
		}
	}
	sort.Strings(out)
	return out
}

// checkEmpty notes when a cordoned node has nothing left to drain.
func (e *Engine) checkEmpty(node string, t time.Time) {
	st := e.nodes[node]
	if st == nil || st.cordoned.IsZero() || !st.uncordoned.IsZero() || !st.empty.IsZero() {
		return
	}
	if len(e.remaining(node)) == 0 {
		st.empty = t
	}
}

// drains describes every cordoned node; pods are the timelines seen so far.
func (e *Engine) drains(pods []PodTimeline, end time.Time) []NodeDrain {
	var out []NodeDrain
	for name, st := range e.nodes {
		if st.cordoned.IsZero() {
			continue
		}
		d := NodeDrain{Node: name, Cordoned: st.cordoned, CordonedBy: st.by, JoinedMidway: st.joined,
			Taints: taintList(st.node, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute), Remaining: e.remaining(name)}
		d.Marks = append(d.Marks, DrainMark{Time: st.cordoned, Type: DrainCordoned, Detail: cordonDetail(st)})
		stop := end
		if !st.uncordoned.IsZero() {
			u := st.uncordoned
			d.Uncordoned = &u
			d.Marks = append(d.Marks, DrainMark{Time: u, Type: DrainUncordoned})
			stop = u
		}
		if d.Remaining == nil {
			d.Remaining = []string{}
		}
		var last *PodTimeline
		for i := range pods {
			tl := &pods[i]
			if tl.Node != name || tl.Start.Before(st.cordoned.Add(-cordonSlack)) && !st.joined {
				continue
			}
			d.Terminations++
			if tl.Cause == CauseEviction {
				d.Evictions++
			}
			key := podKey(tl.Namespace, tl.Name)
			d.Marks = append(d.Marks, DrainMark{Time: tl.Start, Type: DrainTermination, Pod: key, Detail: tl.Cause})
			if tl.End != nil {
				d.Marks = append(d.Marks, DrainMark{Time: *tl.End, Type: DrainPodGone, Pod: key, Detail: string(tl.Verdict)})
				if last == nil || tl.End.After(*last.End) {
					last = tl
				}
			}
		}
		if len(d.Remaining) == 0 {
			// Empty when the last pod left, or (nothing left to drain) when cordoned.
			em := st.empty
			if em.IsZero() {
				em = st.cordoned
				if last != nil && last.End.After(em) {
					em = *last.End
				}
			}
			d.Empty, stop = &em, em
			d.Marks = append(d.Marks, DrainMark{Time: em, Type: DrainEmpty})
		}
		d.DurationSeconds = seconds(stop.Sub(st.cordoned))
		d.Marks = append(d.Marks, st.events...)
		sort.SliceStable(d.Marks, func(i, j int) bool { return d.Marks[i].Time.Before(d.Marks[j].Time) })
		d.WaitedOn = e.waitedOn(name, st.cordoned, stop, last)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

func cordonDetail(st *nodeState) string {
	var parts []string
	if st.by != "" {
		parts = append(parts, "by "+st.by)
	}
	if st.joined {
		parts = append(parts, "already cordoned when watching started")
	}
	return strings.Join(parts, "; ")
}

// waitedOn is what held the drain of node between from and to: each PDB covering a pod of the
// node, for the time it allowed no disruption, and the pod whose end was the drain's last.
func (e *Engine) waitedOn(node string, from, to time.Time, last *PodTimeline) []Wait {
	var out []Wait
	for _, st := range e.pdbs {
		held := 0.0
		for _, iv := range st.zero {
			stop := to
			if !iv.end.IsZero() && iv.end.Before(stop) {
				stop = iv.end
			}
			if s := stop.Sub(later(iv.start, from)); s > 0 {
				held += s.Seconds()
			}
		}
		if held < 0.5 || !e.pdbCoversNode(st, node) {
			continue
		}
		out = append(out, Wait{Kind: KindPDB, Name: st.pdb.Name, Namespace: st.pdb.Namespace, Seconds: held,
			Detail: fmt.Sprintf("allowed no disruption for %.1f s while pods it covers were on the node", held)})
	}
	if last != nil {
		s := last.End.Sub(last.Start).Seconds()
		detail := fmt.Sprintf("the last pod to go: %.1f s from its %s to its end", s, firstNonEmpty(last.Cause, "termination"))
		if last.GracePeriodSeconds != nil {
			detail += fmt.Sprintf(" (grace %d s, %s)", *last.GracePeriodSeconds, last.Verdict)
		}
		out = append(out, Wait{Kind: KindPod, Name: last.Name, Namespace: last.Namespace, Seconds: s, Detail: detail})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seconds > out[j].Seconds })
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func seconds(d time.Duration) float64 { return max(d, 0).Seconds() }

// taintList writes a node's taints of the given effects as key=value:effect.
func taintList(n *corev1.Node, effects ...corev1.TaintEffect) []string {
	if n == nil {
		return nil
	}
	var out []string
	for _, t := range n.Spec.Taints {
		if slices.Contains(effects, t.Effect) {
			out = append(out, t.ToString())
		}
	}
	return out
}

// String sums the drain up in one line, for the text output, the TUI and the report.
func (d NodeDrain) String() string {
	var b strings.Builder
	b.WriteString("node " + d.Node + " cordoned")
	if d.CordonedBy != "" {
		b.WriteString(" by " + d.CordonedBy)
	}
	if d.JoinedMidway {
		b.WriteString(" (before watching started)")
	}
	fmt.Fprintf(&b, ": %d terminated (%d evicted)", d.Terminations, d.Evictions)
	switch {
	case d.Empty != nil:
		fmt.Fprintf(&b, ", empty after %.1fs", d.DurationSeconds)
	case d.Uncordoned != nil:
		fmt.Fprintf(&b, ", uncordoned after %.1fs with %d pods left", d.DurationSeconds, len(d.Remaining))
	default:
		fmt.Fprintf(&b, ", %d pods left after %.1fs", len(d.Remaining), d.DurationSeconds)
	}
	if d.JoinedMidway {
		b.WriteString(" (at least)")
	}
	if len(d.WaitedOn) > 0 {
		var ws []string
		for _, w := range d.WaitedOn {
			kind := "pod"
			if w.Kind == KindPDB {
				kind = "pdb"
			}
			ws = append(ws, fmt.Sprintf("%s/%s %.1fs", kind, w.Name, w.Seconds))
		}
		b.WriteString("; waited on " + strings.Join(ws, ", "))
	}
	return b.String()
}
