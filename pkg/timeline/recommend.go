package timeline

import (
	"fmt"
	"math"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
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
func ownerOfTimeline(tl *PodTimeline) (kind, name string) { return ownerOf(tl.Owner, tl.Name) }

func ownerOf(o *Owner, pod string) (kind, name string) {
	if o != nil {
		if o.Controller != nil {
			return o.Controller.Kind, o.Controller.Name
		}
		return o.Kind, o.Name
	}
	return "Pod", pod
}

func ownerKey(tl *PodTimeline) string { return ownerKeyOf(tl.Namespace, tl.Owner, tl.Name) }

func ownerKeyOf(ns string, o *Owner, pod string) string {
	kind, name := ownerOf(o, pod)
	return ns + "/" + kind + "/" + name
}

func ownerText(tl *PodTimeline) string {
	kind, name := ownerOfTimeline(tl)
	return kind + " " + name
}

// template is what the pods of one owner showed of its pod template, over every revision seen
// (the rollout's new pods too): a recommendation never goes below it.
type template struct {
	grace  int64            // the largest terminationGracePeriodSeconds
	sleeps map[string]int64 // the longest preStop sleep per container
}

// seeTemplate records a pod's grace period and preStop sleeps under its owner.
func (e *Engine) seeTemplate(p *podState) {
	k := ownerKeyOf(p.ns, p.owner, p.name)
	t := e.templates[k]
	if t == nil {
		t = &template{grace: -1, sleeps: map[string]int64{}}
		e.templates[k] = t
	}
	spec := &p.pod.Spec
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g > t.grace {
		t.grace = *g
	}
	for _, cs := range [2][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if l := cs[i].Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
				t.sleeps[cs[i].Name] = max(t.sleeps[cs[i].Name], l.PreStop.Sleep.Seconds)
			}
		}
	}
}

// recommend sizes one change per owner from all of its finished pods: per container, the drain
// its pods needed (the largest) and its hook; per pod, the shutdown after SIGTERM (p95 of the
// pods that exited in time, or the longest a killed pod was seen to need). The grace period
// covers the container that needs most, and neither it nor a preStop sleep ever goes below
// what the owner's pods already have.
func recommend(pods []PodTimeline, templates map[string]*template) []Recommendation {
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
			if t := templates[k]; t != nil {
				a.specGrace = t.grace
			}
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
		var notes []string
		byCtr := map[string]*need{}
		var ctrs []string
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
			n := byCtr[x.container]
			if n == nil {
				n = &need{container: x.container, sidecar: x.sidecar, hook: x.hook}
				byCtr[x.container] = n
				ctrs = append(ctrs, x.container)
			}
			n.drainSeconds = math.Max(n.drainSeconds, x.drainSeconds)
			n.hookSeconds = math.Max(n.hookSeconds, x.hookSeconds)
			n.grace = n.grace || x.grace
		}
		shutdown := StatsOf(a.measured)
		lo := StatsOf(a.atLeast).Max
		var sleepCh, graceCh specChange
		var sleepBasis, graceBasis []string
		var sleepDrain float64
		for _, c := range ctrs {
			n := *byCtr[c]
			n.specGrace, n.measuredPods = a.specGrace, shutdown.Count
			n.afterSIGTERM = shutdown.P95
			if lo > n.afterSIGTERM {
				n.afterSIGTERM, n.atLeast = lo, true
			}
			if t := templates[k]; t != nil && float64(t.sleeps[c]) > n.hookSeconds && (n.hook == hookNone || n.hook == hookSleep) {
				// A newer revision already sleeps longer: keep it.
				n.hook, n.hookSeconds = hookSleep, float64(t.sleeps[c])
			}
			ch, basis := n.size()
			if ch.sleep != nil && n.drainSeconds > sleepDrain {
				sleepCh, sleepBasis, sleepDrain = ch, basis, n.drainSeconds
			}
			if ch.grace != nil && (graceCh.grace == nil || *ch.grace > *graceCh.grace) {
				graceCh, graceBasis = ch, basis
			}
		}
		ch := sleepCh
		ch.grace = graceCh.grace
		if ch.sleep == nil {
			ch.container = ""
		}
		r.Basis = append(r.Basis, sleepBasis...)
		for _, b := range graceBasis {
			if !slices.Contains(r.Basis, b) {
				r.Basis = append(r.Basis, b)
			}
		}
		r.Container = ch.container
		r.PreStopSleepSeconds, r.TerminationGracePeriodSeconds = ch.sleep, ch.grace
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
