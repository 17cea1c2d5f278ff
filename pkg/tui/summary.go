package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Limits that keep SummaryText to one screen.
const (
	summaryLines    = 24 // lines in all
	summaryWorst    = 5  // pods listed
	summaryFixLines = 7  // lines of one fix
)

// SummaryText is a one-screen plain-text summary of s for the caller to print after the UI
// has exited, so that it stays in the terminal's scrollback: verdict counts, shutdown
// percentiles, the capacity dip of the Service that dipped the most, the worst pods with their
// most severe finding, and the fixes for those findings. Lines are at most width cells (0
// means 80); it holds no escape sequences, and cluster text in it is sanitized.
func SummaryText(s timeline.Snapshot, width int) string {
	if width <= 0 {
		width = 80
	}
	var lines []string
	line := func(format string, a ...any) {
		lines = append(lines, trunc(fmt.Sprintf(format, a...), width))
	}

	counts, live := verdictCounts(s.Pods)
	span := ""
	if len(s.Pods) > 0 {
		first, last := s.Pods[0].Start, s.Time
		for i := range s.Pods {
			if s.Pods[i].Start.Before(first) {
				first = s.Pods[i].Start
			}
			if e := s.Pods[i].End; e != nil && e.After(last) {
				last = *e
			}
		}
		span = fmt.Sprintf(" over %s (%s → %s)", fmtDur(last.Sub(first)), first.Format("15:04:05"), last.Format("15:04:05"))
	}
	line("drainwatch: %d pod(s) terminated%s", len(s.Pods)-live, span)
	if len(s.Pods) == 0 {
		line("  no pod terminated while watching")
	}

	var vs []string
	for _, v := range timeline.Verdicts {
		if n := counts[v]; n > 0 {
			vs = append(vs, fmt.Sprintf("%d %s", n, v))
		}
	}
	if live > 0 {
		vs = append(vs, fmt.Sprintf("%d terminating", live))
	}
	if len(vs) > 0 {
		line("  %s", strings.Join(vs, " · "))
	}
	if st := shutdownStats(s.Pods); st.n > 0 {
		line("  shutdown  p50 %s  p95 %s  max %s  (%d pods)", fmtSecs(st.p50), fmtSecs(st.p95), fmtSecs(st.max), st.n)
	}
	if c, ok := worstCapacity(s.Summary.Services); ok {
		dip := "no dip"
		if c.min < c.max {
			dip = fmt.Sprintf("dip of %d (%.0f%%)", c.max-c.min, 100*float64(c.max-c.min)/float64(c.max))
		}
		line("  capacity  svc/%s ready endpoints %d → min %d, %s", c.service, c.max, c.min, dip)
	}
	for _, w := range s.Summary.Warnings {
		line("  warning   %s", w)
	}
	for _, r := range s.Summary.Recommendations {
		var parts []string
		if r.PreStopSleepSeconds != nil {
			parts = append(parts, fmt.Sprintf("preStop sleep %ds (%s)", *r.PreStopSleepSeconds, r.Container))
		}
		if r.TerminationGracePeriodSeconds != nil {
			parts = append(parts, fmt.Sprintf("terminationGracePeriodSeconds %d", *r.TerminationGracePeriodSeconds))
		}
		if len(parts) == 0 {
			parts = append(parts, "not in the pod template")
		}
		line("  recommend %s %s: %s (kubectl patch in -o text / --json)", r.Kind, r.Name, strings.Join(parts, ", "))
	}

	worst := worstPods(s.Pods, s.Time)
	if len(worst) > 0 {
		line("worst pods:")
	}
	for i, p := range worst {
		if i == summaryWorst {
			line("  … and %d more with problems", len(worst)-summaryWorst)
			break
		}
		id := ""
		if f := topFinding(p); f != nil {
			id = "  " + string(f.ID)
		}
		line("  %s %-10s %7s  %s%s", verdictSymbol(p.Verdict), p.Verdict, fmtDur(durationOf(p, s.Time)), p.Name, id)
	}

	// Each kind of finding once, in the order the worst pods show them: its message (which
	// carries the measured numbers) and its fix, as much as fits on the screen.
	type finding struct {
		f    *timeline.Finding
		pods int
	}
	var found []*finding
	byID := map[timeline.FindingID]*finding{}
	for _, p := range worst {
		f := topFinding(p)
		if f == nil {
			continue
		}
		if x := byID[f.ID]; x != nil {
			x.pods++
			continue
		}
		x := &finding{f: f, pods: 1}
		byID[f.ID] = x
		found = append(found, x)
	}
	inner := max(width-4, 20)
	for i, x := range found {
		left := summaryLines - len(lines) - 1 // keep a line for the note below
		if i == 0 {
			left-- // the heading
		}
		if left < 3 {
			line("  %d more finding(s): see -o text or --report", len(found)-i)
			break
		}
		if i == 0 {
			line("findings:")
		}
		id := string(x.f.ID)
		if x.f.Cause != "" {
			id += " [" + x.f.Cause + "]"
		}
		msg := fmt.Sprintf("%s (%d pod(s)): %s", id, x.pods, x.f.Message)
		wrapped := strings.Split(ansi.Wordwrap(msg, inner, " "), "\n")
		if len(wrapped) > 2 {
			wrapped = append(wrapped[:1], trunc(wrapped[1]+" …", inner))
		}
		for j, l := range wrapped {
			if j == 0 {
				line("  %s", l)
			} else {
				line("    %s", l)
			}
		}
		left -= len(wrapped)
		if strings.TrimSpace(x.f.Fix) == "" || left < 1 {
			continue
		}
		fix := strings.Split(strings.TrimRight(x.f.Fix, "\n"), "\n")
		if len(fix) > left && left < 4 {
			// A fix cut to a line or two would mislead: point to where it is whole.
			line("    fix: %d lines, see -o text or --report", len(fix))
			continue
		}
		if n := min(left, summaryFixLines); len(fix) > n {
			fix = append(fix[:n-1], "…")
		}
		for j, l := range fix {
			if j == 0 {
				line("    fix: %s", l)
			} else {
				line("         %s", l)
			}
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// worstPods are the pods with problems: worst verdict first, then most severe finding, then
// longest shutdown.
func worstPods(pods []timeline.PodTimeline, now time.Time) []*timeline.PodTimeline {
	var out []*timeline.PodTimeline
	for i := range pods {
		if isProblem(&pods[i]) {
			out = append(out, &pods[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := verdictRank(out[i].Verdict), verdictRank(out[j].Verdict)
		if ri != rj {
			return ri > rj
		}
		si, sj := severityRankOf(out[i]), severityRankOf(out[j])
		if si != sj {
			return si > sj
		}
		return durationOf(out[i], now) > durationOf(out[j], now)
	})
	return out
}

func severityRankOf(p *timeline.PodTimeline) int {
	if f := topFinding(p); f != nil {
		return f.Severity.Rank()
	}
	return -1
}
