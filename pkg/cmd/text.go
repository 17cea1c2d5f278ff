package cmd

import (
	"fmt"
	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"io"
	"strconv"
	"strings"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// textSink prints each pod's timeline as it completes, then a summary: for logs and pipes.
type textSink struct {
	out, errOut io.Writer
	color       bool
}

func newTextSink(out, errOut io.Writer, color bool) *textSink {
	return &textSink{out: out, errOut: errOut, color: color}
}

func (t *textSink) paint(v timeline.Verdict, s string) string {
	if !t.color {
		return s
	}
	c := v.Style().Color
	code := strconv.Itoa(30 + c)
	if c >= 8 {
		code = strconv.Itoa(90 + c - 8)
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (t *textSink) finished(tl timeline.PodTimeline) error {
	_, err := io.WriteString(t.out, t.format(tl))
	return err
}

func (t *textSink) status(s string) { fmt.Fprintln(t.errOut, textutil.Sanitize(s)) }

func (t *textSink) changed(*timeline.Engine) {}

func (t *textSink) end(open []timeline.PodTimeline, sum timeline.Summary, _ timeline.Snapshot) error {
	for _, tl := range open {
		if err := t.finished(tl); err != nil {
			return err
		}
	}
	_, err := io.WriteString(t.out, SummaryText(sum))
	return err
}

// format renders one timeline: a verdict line, its marks relative to the deletion, findings.
func (t *textSink) format(tl timeline.PodTimeline) string {
	var b strings.Builder
	head := fmt.Sprintf("%s %-10s %s/%s", tl.Verdict.Style().Symbol, tl.Verdict, tl.Namespace, tl.Name)
	fmt.Fprintf(&b, "%s", t.paint(tl.Verdict, head))
	if tl.Node != "" {
		fmt.Fprintf(&b, "  node %s", tl.Node)
	}
	if tl.Cause != "" {
		fmt.Fprintf(&b, "  cause %s", tl.Cause)
	}
	if tl.Initiator != nil {
		fmt.Fprintf(&b, " %s", tl.Initiator)
	}
	if tl.ShutdownSeconds != nil {
		fmt.Fprintf(&b, "  shutdown %.1fs", *tl.ShutdownSeconds)
		if tl.GracePeriodSeconds != nil {
			fmt.Fprintf(&b, " of %ds grace", *tl.GracePeriodSeconds)
		}
	}
	if tl.JoinedMidway {
		b.WriteString("  (joined mid-way)")
	}
	if len(tl.Partial) > 0 {
		fmt.Fprintf(&b, "  (partial: %s not visible)", strings.Join(tl.Partial, ", "))
	}
	b.WriteString("\n")
	for _, m := range tl.Marks {
		rel := m.Time.Sub(tl.Start).Seconds()
		est := " "
		if m.Estimated {
			est = "~"
		}
		line := fmt.Sprintf("    %s%+7.2fs  %-20s", est, rel, m.Type)
		var extra []string
		if m.Container != "" {
			extra = append(extra, "container "+m.Container)
		}
		if m.Service != "" {
			extra = append(extra, "service "+m.Service)
		}
		if m.ExitCode != nil {
			extra = append(extra, fmt.Sprintf("exit %d %s", *m.ExitCode, m.Reason))
		}
		if m.Detail != "" {
			extra = append(extra, m.Detail)
		}
		b.WriteString(strings.TrimRight(line+" "+strings.Join(extra, "; "), " ") + "\n")
	}
	for _, f := range tl.Findings {
		cause := ""
		if f.Cause != "" {
			cause = " (" + f.Cause + ")"
		}
		fmt.Fprintf(&b, "    %s %s%s: %s\n", strings.ToUpper(string(f.Severity)), f.ID, cause, f.Message)
		if f.Fix != "" {
			fix := strings.ReplaceAll(f.Fix, "\n", "\n           ")
			fmt.Fprintf(&b, "      fix: %s\n", fix)
		}
	}
	return b.String()
}

// SummaryText renders the summary as plain text.
func SummaryText(sum timeline.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d pod(s) terminated", sum.Terminated)
	if sum.Terminated > 0 {
		var parts []string
		for _, v := range timeline.Verdicts {
			if n := sum.Verdicts[v]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, v))
			}
		}
		fmt.Fprintf(&b, ": %s", strings.Join(parts, ", "))
	}
	if sum.Unfinished > 0 {
		fmt.Fprintf(&b, "; %d still terminating when the watch ended", sum.Unfinished)
	}
	if !sum.Start.IsZero() {
		fmt.Fprintf(&b, " (watched %s)", sum.End.Sub(sum.Start).Round(100_000_000))
	}
	b.WriteString("\n")
	groups := append(append([]timeline.Group{}, sum.Owners...), sum.Services...)
	for _, g := range groups {
		fmt.Fprintf(&b, "  %s %s/%s: %d terminated", g.Kind, g.Namespace, g.Name, g.Terminated)
		if g.Shutdown.Count > 0 {
			fmt.Fprintf(&b, ", shutdown p50 %.1fs p95 %.1fs max %.1fs", g.Shutdown.P50, g.Shutdown.P95, g.Shutdown.Max)
		}
		if g.GraceUsed.Count > 0 {
			fmt.Fprintf(&b, ", grace used p95 %.0f%%", 100*g.GraceUsed.P95)
		}
		if g.MinReadyEndpoints != nil {
			fmt.Fprintf(&b, ", ready endpoints min %d (max %d", *g.MinReadyEndpoints, *g.MaxReadyEndpoints)
			if g.DesiredEndpoints != nil {
				fmt.Fprintf(&b, ", %d desired", *g.DesiredEndpoints)
			}
			fmt.Fprintf(&b, "), dip %d", g.Dip())
		}
		b.WriteString("\n")
		if g.DrainBudgetSeconds != nil && len(g.TrafficPath) > 0 {
			fmt.Fprintf(&b, "    traffic path: %s; drain budget %gs (%s)\n", timeline.PathText(g.TrafficPath), *g.DrainBudgetSeconds, g.BudgetSource)
		}
	}
	for _, d := range sum.Drains {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	for _, bl := range sum.Blockers {
		fmt.Fprintf(&b, "  blocked by PodDisruptionBudget %s/%s (%d disruptions allowed): %s cannot be evicted", bl.Namespace, bl.Name, bl.DisruptionsAllowed, strings.Join(bl.Waiting, ", "))
		if len(bl.Pods) > 0 {
			fmt.Fprintf(&b, "; held by %s", strings.Join(bl.Pods, ", "))
		}
		fmt.Fprintf(&b, "\n    fix: %s\n", bl.Fix)
	}
	for _, r := range sum.Recommendations {
		fmt.Fprintf(&b, "  recommendation for %s %s/%s (%s):\n", r.Kind, r.Namespace, r.Name, joinIDs(r.Findings))
		for _, basis := range r.Basis {
			fmt.Fprintf(&b, "    - %s\n", basis)
		}
		if r.Patch != "" {
			fmt.Fprintf(&b, "    %s\n", r.Patch)
		}
		if r.Note != "" {
			fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(r.Note, "\n", "\n    "))
		}
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	return b.String()
}

func joinIDs(ids []timeline.FindingID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ", ")
}
