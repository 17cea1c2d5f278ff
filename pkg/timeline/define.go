package timeline

import "time"

// DrainStart is when the pod's endpoint stopped being offered new traffic by an up-to-date data
// path: the earliest of its endpoint turning not ready, not serving, or being removed from the
// slice. The drain budget runs from it; nil when no EndpointSlice change was seen. The engine's
// stopped-before-drain rule and every view use this one definition.
func (tl *PodTimeline) DrainStart() *Mark {
	var out *Mark
	for i := range tl.Marks {
		m := &tl.Marks[i]
		switch m.Type {
		case MarkEndpointNotReady, MarkEndpointNotServing, MarkEndpointRemoved:
			if out == nil || m.Time.Before(out.Time) {
				out = m
			}
		}
	}
	return out
}

// EndAt is where the timeline ends: End once finished, else its latest mark, or now while the
// pod is still terminating.
func (tl *PodTimeline) EndAt(now time.Time) time.Time {
	if tl.End != nil {
		return *tl.End
	}
	end := tl.Start
	for _, m := range tl.Marks {
		if m.Time.After(end) {
			end = m.Time
		}
	}
	if tl.State == StateTerminating && now.After(end) {
		end = now
	}
	return end
}

// VerdictStyle is how every view shows a verdict, from one table so that the text output, the
// TUI and the report agree. Symbols differ so that verdicts stay apart without colour.
type VerdictStyle struct {
	Symbol string
	// Color is an ANSI colour number: 1 red, 2 green, 3 yellow, 5 magenta, 8 grey.
	Color int
}

var verdictStyles = map[Verdict]VerdictStyle{
	VerdictGraceful:   {"✓", 2},
	VerdictIncomplete: {"?", 8},
	VerdictAtRisk:     {"▲", 3},
	VerdictFailed:     {"✗", 1},
	VerdictKilled:     {"✕", 5},
}

// Style is the verdict's symbol and colour ("·" and grey for an unknown verdict).
func (v Verdict) Style() VerdictStyle {
	if s, ok := verdictStyles[v]; ok {
		return s
	}
	return VerdictStyle{"·", 8}
}

// Rank orders verdicts from best (0) to worst; an unknown verdict ranks -1.
func (v Verdict) Rank() int {
	for i, x := range Verdicts {
		if x == v {
			return i
		}
	}
	return -1
}

// DrainBudget is how long the pod had to keep serving after its endpoint turned not ready: the
// budget it was judged against, else def (a timeline from before budgets were recorded).
func (tl *PodTimeline) DrainBudget(def time.Duration) time.Duration {
	if tl.DrainBudgetSeconds > 0 {
		return time.Duration(tl.DrainBudgetSeconds * float64(time.Second))
	}
	return def
}

// OwnerOf names what the pod belongs to for grouping: the Deployment behind a ReplicaSet, else
// the direct controller, else the pod itself.
func (tl *PodTimeline) OwnerOf() (kind, name string) { return ownerOfTimeline(tl) }

// DrainMargin is how long the app kept serving after its endpoint turned not ready, minus the
// drain budget it was judged against (negative: it stopped too soon), in seconds. Stopping is
// the first SIGTERM of a container that acted on it (one SIGKILLed at the deadline did not) or
// the first exit. ok is false when the pod had no endpoint or never stopped in view.
func (tl *PodTimeline) DrainMargin() (float64, bool) {
	ds := tl.DrainStart()
	if ds == nil || tl.DrainBudgetSeconds <= 0 {
		return 0, false
	}
	killed := map[string]bool{}
	for _, m := range tl.Marks {
		if m.Type == MarkSIGKILL {
			killed[m.Container] = true
		}
	}
	var stop *time.Time
	for i := range tl.Marks {
		m := &tl.Marks[i]
		if (m.Type == MarkSIGTERM && !killed[m.Container]) || m.Type == MarkContainerExited {
			if stop == nil || m.Time.Before(*stop) {
				stop = &m.Time
			}
		}
	}
	if stop == nil {
		return 0, false
	}
	return stop.Sub(ds.Time).Seconds() - tl.DrainBudgetSeconds, true
}
