package timeline

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// findingNeed ties a finding of a pod to what it asks of the pod spec, for recommendations.
type findingNeed struct {
	id    FindingID
	cause string
	n     need
	// spec says whether the pod spec can fix it (false: the caller or the command must change).
	spec bool
}

// wants records what a finding asks of the spec.
func (tl *PodTimeline) wants(id FindingID, cause string, n need, spec bool) {
	tl.needs = append(tl.needs, findingNeed{id: id, cause: cause, n: n, spec: spec})
}

// ownerOfTimeline is the owner a recommendation is for: the Deployment behind a ReplicaSet, else
// the direct controller, else the pod itself.
func ownerOfTimeline(tl *PodTimeline) (kind, name string) {
	if o := tl.Owner; o != nil {
		if o.Controller != nil {
			return o.Controller.Kind, o.Controller.Name
		}
		return o.Kind, o.Name
	}
	return "Pod", tl.Name
}

func ownerKey(tl *PodTimeline) string {
	kind, name := ownerOfTimeline(tl)
	return tl.Namespace + "/" + kind + "/" + name
}

func ownerText(tl *PodTimeline) string {
	kind, name := ownerOfTimeline(tl)
	return kind + " " + name
}

// recommend sizes one change per owner from all of its finished pods: the drain its pods needed
// (the largest), the shutdown after SIGTERM (p95 of the pods that exited in time, or the longest
// a killed pod was seen to need), the hook, and the spec's grace period (never lowered).
func recommend(pods []PodTimeline) []Recommendation {
	type acc struct {
		kind, name, ns string
		needs          []findingNeed
		measured       []float64
		atLeast        []float64
		specGrace      int64
	}
	byOwner := map[string]*acc{}
	var keys []string
	for i := range pods {
		tl := &pods[i]
		k := ownerKey(tl)
		a := byOwner[k]
		if a == nil {
			kind, name := ownerOfTimeline(tl)
			a = &acc{kind: kind, name: name, ns: tl.Namespace, specGrace: -1}
			byOwner[k] = a
			keys = append(keys, k)
		}
		a.needs = append(a.needs, tl.needs...)
		if m := tl.Measured; m != nil && m.AfterSIGTERMSeconds != nil && !m.AfterSIGTERMAtLeast {
			a.measured = append(a.measured, *m.AfterSIGTERMSeconds)
		}
		for _, fn := range tl.needs {
			if fn.spec && fn.n.atLeast {
				a.atLeast = append(a.atLeast, fn.n.afterSIGTERM)
			}
		}
		if g := tl.SpecGracePeriodSeconds; g != nil && *g > a.specGrace {
			a.specGrace = *g
		}
	}
	sort.Strings(keys)
	var out []Recommendation
	for _, k := range keys {
		a := byOwner[k]
		if len(a.needs) == 0 {
			continue
		}
		r := Recommendation{Kind: a.kind, Name: a.name, Namespace: a.ns}
		n := need{specGrace: a.specGrace}
		var notes []string
		for _, fn := range a.needs {
			if !slices.Contains(r.Findings, fn.id) {
				r.Findings = append(r.Findings, fn.id)
			}
			if !fn.spec {
				if fn.cause != "" && !slices.Contains(notes, fn.cause) {
					notes = append(notes, fn.cause)
				}
				continue
			}
			x := fn.n
			if x.drainSeconds > n.drainSeconds || n.container == "" {
				n.container, n.sidecar, n.hook = x.container, x.sidecar, x.hook
			}
			n.drainSeconds = math.Max(n.drainSeconds, x.drainSeconds)
			n.hookSeconds = math.Max(n.hookSeconds, x.hookSeconds)
			n.grace = n.grace || x.grace
		}
		shutdown := StatsOf(a.measured)
		n.afterSIGTERM = shutdown.P95
		if lo := StatsOf(a.atLeast).Max; lo > n.afterSIGTERM {
			n.afterSIGTERM, n.atLeast = lo, true
		}
		n.measuredPods = shutdown.Count
		ch, basis := n.size()
		r.Basis = append(r.Basis, basis...)
		r.Container = ch.container
		r.PreStopSleepSeconds, r.TerminationGracePeriodSeconds = ch.sleep, ch.grace
		if ch.sleep == nil {
			r.Container = ""
		}
		for _, c := range notes {
			r.Basis = append(r.Basis, causeNote[c])
		}
		switch res, ok := patchResources[a.kind]; {
		case ch.empty() && len(notes) == 0:
			continue
		case ch.empty():
		case ok:
			r.Patch = fmt.Sprintf("kubectl patch %s %s -n %s --type strategic -p %s", res, a.name, a.ns, shellQuote(ch.patch()))
		default:
			r.Note = fmt.Sprintf("a %s's pod template cannot be patched in place: set this in its manifest and re-create it:\n%s", a.kind, ch.yaml())
		}
		out = append(out, r)
	}
	return out
}

// causeNote says, for causes the pod template cannot fix, where the fix is.
var causeNote = map[string]string{
	CauseGraceShortened:     "grace-shortened: the deleting caller (kubectl delete/drain --grace-period, an Eviction's DeleteOptions, kubelet) passed a shorter grace period; fix the caller",
	CausePID1IgnoresSIGTERM: "pid1-ignores-sigterm: PID 1 does not act on SIGTERM; exec the app, add tini, or trap TERM (a longer grace period does not help)",
	CauseNoSIGTERMHandler:   "no-sigterm-handler: the app must handle SIGTERM and exit 0",
}
