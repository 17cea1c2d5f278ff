package timeline

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// pendingEvent is an event received before its pod was seen terminating.
type pendingEvent struct {
	t  time.Time
	ev *corev1.Event
}

// relevant lists the event reasons a termination timeline uses; all others are dropped at once.
var relevant = map[string]bool{
	"Killing":             true,
	"FailedPreStopHook":   true,
	"Unhealthy":           true,
	"ExceededGracePeriod": true,
	"FailedKillPod":       true,
	// Who takes pods away (initiator.go).
	"Preempted": true,
	"Evicted":   true,
	"Disrupted": true,
	"ScaleDown": true,
}

// EventReasons are the reasons of the Events the engine reads (about pods), sorted. A live
// watch may ask the API server for these alone: the engine ignores every other Event.
func EventReasons() []string {
	return slices.Sorted(maps.Keys(relevant))
}

// ReadsPodEvent says whether the engine reads an Event about a pod with this reason.
func ReadsPodEvent(reason string) bool { return relevant[reason] }

func (e *Engine) applyEvent(t time.Time, ev *corev1.Event) []PodTimeline {
	if ev.InvolvedObject.Kind == KindNode {
		e.nodeEvent(t, ev)
		return nil
	}
	if ev.InvolvedObject.Kind != KindPod || !relevant[ev.Reason] {
		return nil
	}
	uid := ev.InvolvedObject.UID
	if uid == "" {
		uid = e.byName[podKey(ev.InvolvedObject.Namespace, ev.InvolvedObject.Name)]
	}
	if _, ok := e.done[uid]; ok {
		return nil
	}
	if p := e.pods[uid]; p != nil && p.term != nil {
		e.podEvent(p, t, ev)
		return nil
	}
	key := string(uid)
	if key == "" {
		key = podKey(ev.InvolvedObject.Namespace, ev.InvolvedObject.Name)
	}
	e.pend(key, pendingEvent{t: t, ev: ev})
	return nil
}

// containerOf reads the container name from an event's fieldPath: spec.containers{NAME}.
func containerOf(ev *corev1.Event) string {
	fp := ev.InvolvedObject.FieldPath
	i := strings.IndexByte(fp, '{')
	if i < 0 || !strings.HasSuffix(fp, "}") {
		return ""
	}
	return fp[i+1 : len(fp)-1]
}

// serverTime is when the event first happened by the emitting node's clock: the time in its
// name (see nameTime), else the seconds-precision timestamps.
func serverTime(ev *corev1.Event) *time.Time {
	if nt := nameTime(ev); nt != nil {
		return nt
	}
	ts := wholeSecondTime(ev)
	if ts.IsZero() {
		return nil
	}
	return &ts
}

func wholeSecondTime(ev *corev1.Event) time.Time {
	switch {
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	}
	return ev.LastTimestamp.Time
}

// nameTime reads the nanosecond time client-go puts in event names (<object>.<hex UnixNano>).
// It trusts the name only when it agrees with the whole-second timestamp (or, without one, is
// a plausible time at all).
func nameTime(ev *corev1.Event) *time.Time {
	i := strings.LastIndexByte(ev.Name, '.')
	if i < 0 {
		return nil
	}
	n, err := strconv.ParseUint(ev.Name[i+1:], 16, 64)
	if err != nil || n == 0 || n >= 1<<63 {
		return nil
	}
	nt := time.Unix(0, int64(n)).UTC()
	ts := wholeSecondTime(ev)
	if (ts.IsZero() && nt.Year() >= 2000) || (!ts.IsZero() && nt.Sub(ts).Abs() < 2*time.Second) {
		return &nt
	}
	return nil
}

// podEvent applies an event to a terminating pod.
func (e *Engine) podEvent(p *podState, t time.Time, ev *corev1.Event) {
	tm := p.term
	id := eventID(ev)
	if _, dup := tm.events[id]; dup {
		return // a repeat (count++) or a relist
	}
	tm.events[id] = struct{}{}
	if _, ok := actorEvents[ev.Reason]; ok {
		tm.noteActor(ev)
		return
	}
	if ev.Reason == "Unhealthy" && t.Before(tm.start.Add(-time.Second)) {
		return // readiness was failing before the deletion, not because of it
	}
	if t.Before(tm.start) {
		t = tm.start // the event and pod watches raced: nothing is shown before the deletion
	}
	name := containerOf(ev)
	msg := truncate(ev.Message, 300)
	m := Mark{Time: t, ServerTime: serverTime(ev), Source: SourceEvent, Container: name, Detail: msg}
	switch ev.Reason {
	case "Killing":
		c := tm.ctr(name)
		if c == nil || !strings.HasPrefix(ev.Message, "Stopping container") || c.killing != nil {
			return // restarts say "... will be restarted"
		}
		kt := t
		c.killing, c.killingAt = &kt, nameTime(ev)
		m.Type = MarkKilling
		if c.hook != hookNone {
			m.Detail = msg + "; preStop hook started (" + c.preStop + ")"
		} else {
			m.Detail = msg + "; no preStop hook: SIGTERM sent"
		}
		tm.add("killing/"+name, m)
		e.sigterm(tm, c, t, "")
	case "FailedPreStopHook":
		m.Type = MarkPreStopFailed
		if !tm.add("prestop-failed/"+name, m) {
			return
		}
		if c := tm.ctr(name); c != nil && !c.sidecar {
			ft := t
			c.hookFailed = &ft
			if c.killing != nil && tm.grace != nil && ranThroughGrace(c, ev, t, *tm.grace) {
				// Kubelet waits for a hook at most the grace period, then sends SIGTERM; the
				// kill then ends the hook, which reports that as a failure.
				c.hookCutOff = true
				tm.marks[len(tm.marks)-1].Detail += "; the hook was still running when the grace period ran out: cut off by the kill, not a failure of its own"
				e.setSIGTERM(tm, c, c.killing.Add(time.Duration(*tm.grace)*time.Second), "kubelet stopped waiting for the preStop hook at the grace period")
				return
			}
			// A failed hook does not stop the kill: kubelet goes on to SIGTERM at once with
			// the grace that is left (killContainer).
			e.setSIGTERM(tm, c, t, "the preStop hook failed: kubelet sends SIGTERM right after")
		}
	case "Unhealthy":
		if !strings.HasPrefix(ev.Message, "Readiness probe") {
			return
		}
		m.Type = MarkReadinessFailed
		tm.readyFalse = true
		tm.add("readiness", m)
	case "ExceededGracePeriod":
		tm.exceeded = true
		for _, c := range tm.ctrs {
			if atDeadline(tm, c) {
				tm.add("kill/"+c.name, Mark{Type: MarkSIGKILL, Time: c.exitLoc, Source: SourceInferred, Estimated: true,
					Container: c.name, Detail: msg})
			}
		}
	case "FailedKillPod":
		m.Type = MarkKilling
		tm.add("failedkill/"+id, m)
	}
}

// sigterm adds the SIGTERM mark of a main container once its Killing is known (at) or estimated
// from the deletion request (why says so). Sidecars get SIGTERM only after the main containers
// exited, at a moment no object shows.
func (e *Engine) sigterm(tm *termState, c *ctrState, at time.Time, why string) {
	if c.sidecar {
		return
	}
	m := Mark{Type: MarkSIGTERM, Time: at, Source: SourceInferred, Estimated: true, Container: c.name}
	switch {
	case c.hook == hookNone:
		m.Detail = "no preStop hook: SIGTERM follows Killing"
	case c.sleep != nil && tm.grace != nil && *c.sleep > time.Duration(*tm.grace)*time.Second:
		// Kubelet waits for the hook at most the grace period, then sends SIGTERM.
		m.Time = at.Add(time.Duration(*tm.grace) * time.Second)
		m.Detail = fmt.Sprintf("the preStop sleep (%s) outlasts the %ds grace period: kubelet stops waiting for it", c.sleep, *tm.grace)
	case c.sleep != nil:
		m.Time = at.Add(*c.sleep)
		m.Detail = "after the preStop sleep (" + c.sleep.String() + ")"
	default:
		return // the hook's length is unknown, and so is SIGTERM
	}
	if why != "" {
		m.Detail += "; " + why
	}
	tm.add("sigterm/"+c.name, m)
}

// ranThroughGrace says whether a FailedPreStopHook came once the grace period was over, by the
// node's clock when the events carry nanoseconds, else by receive times.
func ranThroughGrace(c *ctrState, ev *corev1.Event, t time.Time, grace int64) bool {
	g := time.Duration(grace) * time.Second
	if at := nameTime(ev); at != nil && c.killingAt != nil {
		return at.Sub(*c.killingAt) >= g-time.Second
	}
	return t.Sub(*c.killing) >= g-500*time.Millisecond
}

// setSIGTERM puts the SIGTERM mark of c at t (estimated) unless one at or before t exists.
func (e *Engine) setSIGTERM(tm *termState, c *ctrState, t time.Time, detail string) {
	for i := range tm.marks {
		m := &tm.marks[i]
		if m.Type == MarkSIGTERM && m.Container == c.name {
			if m.Time.After(t) {
				m.Time, m.Detail = t, detail
			}
			return
		}
	}
	tm.add("sigterm/"+c.name, Mark{Type: MarkSIGTERM, Time: t, Source: SourceInferred, Estimated: true, Container: c.name, Detail: detail})
}
