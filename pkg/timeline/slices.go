package timeline

import (
	"slices"
	"strconv"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// endpointState is one pod's endpoint in one EndpointSlice.
type endpointState struct {
	slice        string
	service      string
	ready        bool
	serving      bool
	terminating  bool
	notReadyAt   *time.Time
	notServingAt *time.Time
	// unknownSince: first seen already not ready, so the transition time is not known.
	unknownSince bool
	gen          uint64
}

type sliceState struct {
	ns, service string
	eps         map[types.UID]*endpointState
	ready       int
	gen         uint64
}

type serviceState struct {
	ns, name string
	ready    int
	series   []Point
}

func (e *Engine) applySlice(d Delta) {
	s := d.Slice
	key := podKey(s.Namespace, s.Name)
	st := e.slices[key]
	if st == nil {
		if d.Type == Deleted {
			return
		}
		st = &sliceState{ns: s.Namespace, eps: map[types.UID]*endpointState{}}
		e.slices[key] = st
	}
	st.service = s.Labels[discoveryv1.LabelServiceName]
	st.gen++
	ready := 0
	if d.Type != Deleted {
		for i := range s.Endpoints {
			ep := &s.Endpoints[i]
			ref := ep.TargetRef
			if ref == nil || ref.Kind != "Pod" || ref.UID == "" {
				continue
			}
			c := ep.Conditions
			isReady := c.Ready == nil || *c.Ready
			serving := c.Serving == nil || *c.Serving
			terminating := c.Terminating != nil && *c.Terminating
			if isReady {
				ready++
			}
			e.updateEndpoint(st, key, ref.UID, isReady, serving, terminating, d.Time)
		}
	}
	for uid, es := range st.eps {
		if es.gen != st.gen {
			delete(st.eps, uid)
			e.removeEndpoint(uid, es, d.Time)
		}
	}
	if st.service != "" {
		e.countReady(st.ns, st.service, ready-st.ready, d.Time)
	}
	st.ready = ready
	if d.Type == Deleted {
		delete(e.slices, key)
	}
}

func (e *Engine) updateEndpoint(st *sliceState, key string, uid types.UID, ready, serving, terminating bool, t time.Time) {
	es := st.eps[uid]
	fresh := es == nil
	if fresh {
		es = &endpointState{slice: key, service: st.service, ready: true, serving: true}
		if !ready || !serving {
			es.unknownSince = true
		}
		st.eps[uid] = es
		e.podEPs[uid] = append(e.podEPs[uid], es)
	}
	es.gen = st.gen
	changed := fresh || es.service != st.service
	es.service = st.service
	if es.ready && !ready {
		at := t // only transitions allocate
		es.notReadyAt, changed = &at, true
	} else if ready {
		es.notReadyAt, es.unknownSince = nil, false
	}
	if es.serving && !serving {
		at := t
		es.notServingAt, changed = &at, true
	} else if serving {
		es.notServingAt = nil
	}
	es.ready, es.serving, es.terminating = ready, serving, terminating
	if !changed {
		return
	}
	p := e.pods[uid]
	if p == nil || e.isDone(p) {
		return
	}
	p.addService(es.service)
	if p.term != nil {
		e.endpointMarks(p, es)
	}
}

// endpointMarks adds the marks an endpoint's state shows for a terminating pod. A transition
// seen before the deletion (the slice and pod watches race, or readiness was already failing)
// is shown at the deletion, never before it.
func (e *Engine) endpointMarks(p *podState, es *endpointState) {
	tm := p.term
	tm.endpointsOK = true
	at := func(ts *time.Time) (time.Time, string) {
		if ts.Before(tm.start) {
			if tm.start.Sub(*ts) > time.Second {
				return tm.start, "; already so before the deletion"
			}
			return tm.start, ""
		}
		return *ts, ""
	}
	detail := "ready=" + strconv.FormatBool(es.ready) + " serving=" + strconv.FormatBool(es.serving) +
		" terminating=" + strconv.FormatBool(es.terminating)
	if es.notReadyAt != nil {
		t, note := at(es.notReadyAt)
		tm.add("notready/"+es.slice, Mark{Type: MarkEndpointNotReady, Time: t, Estimated: es.unknownSince,
			Source: SourceEndpointSlice, Service: es.service, Slice: sliceName(es.slice), Detail: detail + note})
	}
	if es.notServingAt != nil {
		t, note := at(es.notServingAt)
		tm.add("notserving/"+es.slice, Mark{Type: MarkEndpointNotServing, Time: t, Estimated: es.unknownSince,
			Source: SourceEndpointSlice, Service: es.service, Slice: sliceName(es.slice), Detail: detail + note})
	}
}

func sliceName(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[i+1:]
		}
	}
	return key
}

func (e *Engine) removeEndpoint(uid types.UID, es *endpointState, t time.Time) {
	list := e.podEPs[uid]
	for i, x := range list {
		if x == es {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(e.podEPs, uid)
	} else {
		e.podEPs[uid] = list
	}
	p := e.pods[uid]
	if p == nil || p.term == nil || e.isDone(p) {
		return
	}
	at := t
	if at.Before(p.term.start) {
		at = p.term.start
	}
	p.term.add("removed/"+es.slice, Mark{Type: MarkEndpointRemoved, Time: at, Source: SourceEndpointSlice,
		Service: es.service, Slice: sliceName(es.slice)})
}

// countReady keeps the number of ready endpoints of a Service over time.
func (e *Engine) countReady(ns, name string, delta int, t time.Time) {
	key := podKey(ns, name)
	s := e.svc[key]
	if s == nil {
		s = &serviceState{ns: ns, name: name}
		e.svc[key] = s
	}
	if delta == 0 && len(s.series) > 0 {
		return
	}
	s.ready += delta
	if n := len(s.series); n > 0 && !s.series[n-1].Time.Before(t) {
		s.series[n-1].Value = s.ready
		return
	}
	s.series = append(s.series, Point{Time: t, Value: s.ready})
	// With Forget (a watch that never ends), finished terminations are not summarised: only
	// the live ones read the series, from their start. Older points are dropped, half the
	// series at a time so that appending stays cheap; the point in effect at that start stays.
	if half := len(s.series) / 2; e.cfg.Forget && half >= 32 && s.series[half].Time.Before(e.liveSince(t)) {
		s.series = slices.Delete(s.series, 0, half)
	}
}

// liveSince is when the oldest termination still in progress began, or t when there is none.
func (e *Engine) liveSince(t time.Time) time.Time {
	if len(e.order) > 0 && e.order[0].term != nil && e.order[0].term.start.Before(t) {
		return e.order[0].term.start
	}
	return t
}
