package timeline

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Blocker is what holds a drain up: a PodDisruptionBudget that allows no disruption while pods
// it covers wait, on a cordoned node, to be evicted. kubectl drain retries such evictions
// (429) without a trace in the API; this is the trace.
type Blocker struct {
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	Namespace          string `json:"namespace"`
	DisruptionsAllowed int32  `json:"disruptionsAllowed"`
	// Waiting are the pods on cordoned nodes that cannot be evicted.
	Waiting []string `json:"waiting"`
	// Pods are the pods holding the budget: covered, and not ready or terminating.
	Pods []string `json:"pods,omitempty"`
	// Since is when the budget last dropped to zero.
	Since *time.Time `json:"since,omitempty"`
	Fix   string     `json:"fix"`
}

// pdbState is a PodDisruptionBudget of the watched namespace(s).
type pdbState struct {
	pdb      *policyv1.PodDisruptionBudget
	selector labels.Selector
	since    time.Time // when DisruptionsAllowed last became 0
	// zero are the spans in which it allowed no disruption (the last one open while end is
	// zero), the latest maxZeroSpans of them.
	zero []span
}

type span struct{ start, end time.Time }

const maxZeroSpans = 16

func (e *Engine) applyPDB(d Delta) {
	p := d.PDB
	key := podKey(p.Namespace, p.Name)
	if d.Type == Deleted {
		delete(e.pdbs, key)
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
	if err != nil || p.Spec.Selector == nil {
		sel = labels.Nothing() // an invalid or missing selector covers no pod
	}
	st := e.pdbs[key]
	if st == nil {
		st = &pdbState{}
		e.pdbs[key] = st
	}
	wasZero := st.pdb != nil && st.pdb.Status.DisruptionsAllowed == 0
	switch zero := p.Status.DisruptionsAllowed == 0; {
	case zero && !wasZero:
		st.since = d.Time
		st.zero = append(st.zero, span{start: d.Time})
		if len(st.zero) > maxZeroSpans {
			st.zero = st.zero[1:]
		}
	case !zero && wasZero && len(st.zero) > 0:
		st.zero[len(st.zero)-1].end = d.Time
	}
	st.pdb, st.selector = p, sel
}

// blockers lists the PDBs that allow no disruption while a pod they cover waits on a cordoned
// node, with the pods that hold them.
func (e *Engine) blockers() []Blocker {
	var out []Blocker
	for _, st := range e.pdbs {
		pdb := st.pdb
		if pdb.Status.DisruptionsAllowed > 0 {
			continue
		}
		var waiting, holding []string
		for _, p := range e.pods {
			if p.pod == nil || isTerminal(p.pod) || p.ns != pdb.Namespace || !st.selector.Matches(labels.Set(p.pod.Labels)) {
				continue
			}
			switch {
			case p.term != nil || !ready(p.pod):
				holding = append(holding, p.name)
			case e.cordoned(p.node):
				waiting = append(waiting, p.name)
			}
		}
		if len(waiting) == 0 {
			continue
		}
		sort.Strings(waiting)
		sort.Strings(holding)
		b := Blocker{Kind: KindPDB, Name: pdb.Name, Namespace: pdb.Namespace, Waiting: waiting, Pods: holding}
		if !st.since.IsZero() {
			since := st.since
			b.Since = &since
		}
		b.Fix = pdbFix(pdb, holding)
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		return podKey(out[i].Namespace, out[i].Name) < podKey(out[j].Namespace, out[j].Name)
	})
	return out
}

// covers says whether the PDB selects the pod.
func (st *pdbState) covers(pod *corev1.Pod) bool {
	return st.pdb != nil && pod.Namespace == st.pdb.Namespace && st.selector.Matches(labels.Set(pod.Labels))
}

// pdbCoversNode says whether the PDB covers a pod of the node: one still there, or one that
// terminated there during its drain.
func (e *Engine) pdbCoversNode(st *pdbState, node string) bool {
	ns := e.nodes[node]
	if ns != nil {
		if _, ok := ns.pdbs[podKey(st.pdb.Namespace, st.pdb.Name)]; ok {
			return true
		}
	}
	for _, p := range e.pods {
		if p.node == node && p.pod != nil && !DrainKeeps(p.pod) && st.covers(p.pod) {
			return true
		}
	}
	return false
}

// notePDBs remembers, before a finished pod's object is dropped, which PDBs covered it on a
// drained node.
func (e *Engine) notePDBs(p *podState) {
	ns := e.nodes[p.node]
	if ns == nil || ns.cordoned.IsZero() || p.pod == nil {
		return
	}
	for key, st := range e.pdbs {
		if st.covers(p.pod) {
			ns.pdbs[key] = struct{}{}
		}
	}
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// pdbFix says how the drain can go on.
func pdbFix(pdb *policyv1.PodDisruptionBudget, holding []string) string {
	st := pdb.Status
	switch {
	case st.ExpectedPods > 0 && st.DesiredHealthy >= st.ExpectedPods:
		return fmt.Sprintf("the PDB wants all %d of its pods healthy (desiredHealthy %d of %d expected): no eviction can ever pass; use maxUnavailable: 1 or a lower minAvailable, or scale the workload up first",
			st.ExpectedPods, st.DesiredHealthy, st.ExpectedPods)
	case len(holding) > 0:
		return fmt.Sprintf("%d covered pod(s) are not ready or are terminating and use up the budget (%d healthy, %d wanted): the drain goes on once they are ready again", len(holding), st.CurrentHealthy, st.DesiredHealthy)
	}
	return fmt.Sprintf("the PDB allows no disruption now (%d healthy, %d wanted): the drain waits until enough of its pods are healthy", st.CurrentHealthy, st.DesiredHealthy)
}
