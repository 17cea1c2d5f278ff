package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// fmtDur formats a duration compactly with about three significant digits: 850ms, 1.24s,
// 12.3s, 2m03s, 1h02m.
func fmtDur(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		s = fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		s = fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Minute:
		s = fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		s = fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		s = fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	if neg {
		return "-" + s
	}
	return s
}

// fmtSecs formats a number of seconds like fmtDur.
func fmtSecs(s float64) string {
	return fmtDur(time.Duration(s * float64(time.Second)))
}

// fmtRel formats an offset from the start of a termination as the detail pane shows it.
func fmtRel(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("-%.2fs", -d.Seconds())
	}
	return fmt.Sprintf("+%.2fs", d.Seconds())
}

// fmtClock formats an absolute moment in the location it was recorded in, so that the same
// snapshot always renders the same way.
func fmtClock(t time.Time) string {
	return t.Format("15:04:05.000")
}

// fit truncates s (which may hold ANSI styling) to width cells and pads it with spaces to
// exactly width cells, so that nothing a component renders can wrap.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = ansi.StringWidth(s)
	}
	if w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// trunc truncates s to width cells without padding.
func trunc(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// joinLR places left and right on one line of exactly width cells, truncating left first so
// that the right part (usually state the user needs) stays visible.
func joinLR(left, right string, width int) string {
	rw := ansi.StringWidth(right)
	if rw >= width {
		return fit(right, width)
	}
	return fit(left, width-rw-1) + " " + right
}

// durationOf is how long a termination took so far: to its end when it ended, else to now.
func durationOf(p *timeline.PodTimeline, now time.Time) time.Duration {
	if p.ShutdownSeconds != nil {
		return time.Duration(*p.ShutdownSeconds * float64(time.Second))
	}
	return max(0, p.EndAt(now).Sub(p.Start))
}

// isLive reports whether a termination is still in progress.
func isLive(p *timeline.PodTimeline) bool {
	return p.State == timeline.StateTerminating || p.State == timeline.StateRunning
}

func verdictRank(v timeline.Verdict) int { return v.Rank() }

// isProblem reports whether a pod belongs in the problems-only view: a verdict worse than
// incomplete or a finding that is more than informational.
func isProblem(p *timeline.PodTimeline) bool {
	if verdictRank(p.Verdict) > verdictRank(timeline.VerdictIncomplete) {
		return true
	}
	for _, f := range p.Findings {
		if f.Severity == timeline.SeverityWarning || f.Severity == timeline.SeverityError {
			return true
		}
	}
	return false
}

// topFinding is the most severe finding of a pod (the first one among equals).
func topFinding(p *timeline.PodTimeline) *timeline.Finding {
	var best *timeline.Finding
	for i := range p.Findings {
		f := &p.Findings[i]
		if best == nil || f.Severity.Rank() > best.Severity.Rank() {
			best = f
		}
	}
	return best
}

// stats are the shutdown durations of finished terminations.
type stats struct {
	n             int
	p50, p95, max float64
}

// shutdownStats computes nearest-rank percentiles of ShutdownSeconds over pods that have one.
func shutdownStats(pods []timeline.PodTimeline) stats {
	var v []float64
	for i := range pods {
		if s := pods[i].ShutdownSeconds; s != nil {
			v = append(v, *s)
		}
	}
	st := timeline.StatsOf(v)
	return stats{n: st.Count, p50: st.P50, p95: st.P95, max: st.Max}
}

// verdictCounts counts pods by verdict; live pods are counted apart since their verdict is
// provisional.
func verdictCounts(pods []timeline.PodTimeline) (counts map[timeline.Verdict]int, live int) {
	counts = make(map[timeline.Verdict]int, len(timeline.Verdicts))
	for i := range pods {
		if isLive(&pods[i]) {
			live++
			continue
		}
		counts[pods[i].Verdict]++
	}
	return counts, live
}

// capacity is the ready-endpoint series of the Service that dipped the most.
type capacity struct {
	service  string
	points   []timeline.Point
	min, max int
	cur      int
	more     int // other Services not shown
}

// worstCapacity picks the Service whose ready endpoints fell furthest below their maximum.
func worstCapacity(groups []timeline.Group) (capacity, bool) {
	var best capacity
	found := false
	bestDip, withData := -1, 0
	for _, g := range groups {
		if len(g.ReadyEndpoints) == 0 && g.MinReadyEndpoints == nil {
			continue
		}
		withData++
		c := capacity{service: g.Name, points: g.ReadyEndpoints}
		c.min, c.max = math.MaxInt, 0
		for _, p := range g.ReadyEndpoints {
			c.min = min(c.min, p.Value)
			c.max = max(c.max, p.Value)
		}
		if g.MinReadyEndpoints != nil {
			c.min = *g.MinReadyEndpoints
		}
		if g.MaxReadyEndpoints != nil {
			c.max = max(c.max, *g.MaxReadyEndpoints)
		}
		if g.DesiredEndpoints != nil {
			c.max = *g.DesiredEndpoints // the end of a surge is no dip
		}
		if c.min == math.MaxInt {
			c.min = 0
		}
		if n := len(g.ReadyEndpoints); n > 0 {
			c.cur = g.ReadyEndpoints[n-1].Value
		}
		if dip := max(0, c.max-c.min); dip > bestDip {
			best, bestDip, found = c, dip, true
		}
	}
	if found {
		best.more = withData - 1
	}
	return best, found
}
