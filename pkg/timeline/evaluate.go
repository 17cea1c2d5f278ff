package timeline

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// tolerance absorbs the delivery jitter between the watches a drain gap is measured across.
func (e *Engine) tolerance() time.Duration {
	return min(e.cfg.DrainBudget/10, 500*time.Millisecond)
}

// markOrder breaks ties between marks with the same time.
var markOrder = map[MarkType]int{
	MarkDeletionRequested: 0, MarkEndpointNotReady: 1, MarkEndpointNotServing: 2, MarkKilling: 3,
	MarkPreStopFailed: 4, MarkSIGTERM: 5, MarkReadinessFailed: 6, MarkReadinessGate: 6, MarkEndpointRemoved: 7,
	MarkSIGKILL: 8, MarkContainerExited: 9, MarkPodRemoved: 10,
}

// build turns a pod's state into its timeline; final says no more deltas will come for it.
func (e *Engine) build(p *podState, final bool) PodTimeline {
	tm := p.term
	tl := PodTimeline{
		APIVersion: APIVersion, Kind: "PodTimeline",
		Namespace: p.ns, Name: p.name, Node: p.node, Owner: p.owner,
		Cause: tm.cause, Reason: tm.reason, GracePeriodSeconds: tm.grace, SpecGracePeriodSeconds: tm.specGrace,
		Deadline:     tm.killDeadline(),
		JoinedMidway: tm.joined, Start: tm.start,
		Services: slices.Clone(p.services),
		Partial:  slices.Clone(e.cfg.Partial),
	}
	if p.pod != nil {
		tl.UID = string(p.pod.UID)
	} else {
		tl.UID = string(p.uid)
	}
	sort.Strings(tl.Services)
	// Without a Killing event (events not visible, or rate limited), SIGTERM is estimated from
	// the deletion request, which kubelet acts on at once.
	if !tm.joined {
		for _, c := range tm.ctrs {
			if c.killing == nil && c.exited {
				e.sigterm(tm, c, tm.start, "estimated from the deletion request: no Killing event seen")
			}
		}
	}
	tl.Marks = slices.Clone(tm.marks)
	sort.SliceStable(tl.Marks, func(i, j int) bool {
		a, b := tl.Marks[i], tl.Marks[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return markOrder[a.Type] < markOrder[b.Type]
	})
	var lastExit time.Time
	for _, c := range tm.ctrs {
		ct := Container{Name: c.name, Sidecar: c.sidecar, PreStop: c.preStop}
		if c.exited {
			code := c.code
			ct.ExitCode, ct.Reason, ct.Finished = &code, c.reason, c.finished
			if c.exitLoc.After(lastExit) {
				lastExit = c.exitLoc
			}
		}
		tl.Containers = append(tl.Containers, ct)
	}
	switch {
	case p.removed:
		tl.State = StateRemoved
	case tm.allExited():
		tl.State = StateTerminated
	default:
		tl.State = StateTerminating
	}
	if final {
		end := e.now
		if n := len(tl.Marks); n > 0 && tl.Marks[n-1].Time.After(tm.start) {
			end = tl.Marks[n-1].Time
		}
		tl.End = &end
	}
	if tm.allExited() && !tm.joined {
		s := lastExit.Sub(tm.start).Seconds()
		tl.ShutdownSeconds = &s
		if tm.grace != nil && *tm.grace > 0 {
			u := s / float64(*tm.grace)
			tl.GraceUsed = &u
		}
	}
	tl.Initiator = e.initiator(p)
	b := e.budget(p)
	tl.DrainBudgetSeconds, tl.BudgetSource = b.Duration.Seconds(), b.Source
	tl.Measured = e.measure(tm, &tl)
	tl.Findings = e.findings(p, &tl, final)
	tl.Verdict = verdictOf(tm, &tl, final)
	tl.clean()
	return tl
}

// verdictOf ranks the findings; without a problem, a termination seen end to end is graceful.
func verdictOf(tm *termState, tl *PodTimeline, final bool) Verdict {
	v := VerdictGraceful
	worse := func(x Verdict) {
		if slices.Index(Verdicts, x) > slices.Index(Verdicts, v) {
			v = x
		}
	}
	for _, f := range tl.Findings {
		switch f.ID {
		case FindingSIGKILLAtDeadline, FindingOOMKilled:
			worse(VerdictKilled)
		case FindingPreStopFailed, FindingNonZeroExit:
			worse(VerdictFailed)
		case FindingStoppedBeforeDrain, FindingPreStopUsedGrace, FindingSidecarStoppedFirst, FindingForceDeleted:
			worse(VerdictAtRisk)
		}
	}
	if v == VerdictGraceful && (!final || !tm.allExited() || (tm.joined && len(tl.Services) > 0 && !hasMark(tl, MarkEndpointNotReady, true))) {
		// Still running, never seen to exit, or joined too late to see the endpoint change.
		v = VerdictIncomplete
	}
	return v
}

func hasMark(tl *PodTimeline, t MarkType, observedOnly bool) bool {
	for _, m := range tl.Marks {
		if m.Type == t && (!observedOnly || !m.Estimated) {
			return true
		}
	}
	return false
}

// first returns the earliest mark of a type for main containers (or any mark without a container).
func first(tl *PodTimeline, t MarkType, tm *termState) *Mark {
	for i := range tl.Marks {
		m := &tl.Marks[i]
		if m.Type != t {
			continue
		}
		if c := tm.ctr(m.Container); c != nil && c.sidecar {
			continue
		}
		return m
	}
	return nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func ceilSeconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds() - 1e-9)) }
