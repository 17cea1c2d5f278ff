package report

import (
	"math"
	"slices"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Gantt geometry in pixels. Horizontal positions are percentages of the chart width, so every
// row, the axis and the Service charts share one time axis without any script.
const (
	laneHeight = 8
	laneGap    = 5
	rowPad     = 4
	// boxWidth is the width of a row's inner box: x in units of 0.01% of the chart, so
	// positions are short integers.
	boxWidth = 10000
	// minWidth keeps an instant phase visible as a sliver.
	minWidth = 15
)

// seg is a phase drawn as a bar: a thick horizontal stroke in the row's stretched inner box,
// whose x runs from 0 to boxWidth across the chart.
type seg struct {
	Class string
	X, W  int
	Y     int // centre of the bar
	Est   bool
	Title string
}

// dot is a moment drawn as a symbol from the page's defs, placed by percentage so it keeps
// its shape.
type dot struct {
	Shape string
	Est   bool
	X     string
	Y     int
	Title string
}

// vline is a moment that concerns the whole pod, drawn across the row.
type vline struct {
	Class string
	X     int
	Est   bool
	Title string
}

// note is text in a lane, such as "no Service endpoints".
type note struct {
	Y    int
	Text string
}

type tick struct{ X, Label string }

// window is the shared time axis of the charts.
type window struct {
	// start and end are the edges of the charts; first and last the moments seen, inside
	// them.
	start, end  time.Time
	first, last time.Time
	empty       bool
}

// x places t on the axis as a percentage, clamped to the chart.
func (w window) x(t time.Time) float64 {
	span := w.end.Sub(w.start)
	if span <= 0 {
		return 0
	}
	return min(100, max(0, float64(t.Sub(w.start))/float64(span)*100))
}

// windowOf spans the summary's window and every moment seen, padded a little so marks at the
// edges stay visible. Deadlines are left out: a long grace period would squash everything
// else, and a deadline past the end is drawn at the edge.
func windowOf(snap timeline.Snapshot) window {
	var lo, hi time.Time
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if hi.IsZero() || t.After(hi) {
			hi = t
		}
	}
	see(snap.Summary.Start)
	see(snap.Summary.End)
	for _, pt := range snap.Pods {
		see(pt.Start)
		if pt.End != nil {
			see(*pt.End)
		}
		for _, m := range pt.Marks {
			see(m.Time)
		}
	}
	for _, g := range snap.Summary.Services {
		for _, p := range g.ReadyEndpoints {
			see(p.Time)
		}
	}
	if len(snap.Pods) > 0 {
		// Pods still terminating run up to the latest delta.
		see(snap.Time)
	}
	if lo.IsZero() {
		return window{empty: true}
	}
	span := max(hi.Sub(lo), time.Second)
	pad := span / 50
	return window{start: lo.Add(-pad), end: lo.Add(span + pad), first: lo, last: hi}
}

// tickSteps are the round steps an axis may use.
var tickSteps = [...]time.Duration{
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// ticks picks the smallest round step giving at most eight intervals, counted from the
// window start.
func ticks(w window) []tick {
	span := w.end.Sub(w.start)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	var out []tick
	for d := time.Duration(0); d <= span; d += step {
		out = append(out, tick{X: pct(w.x(w.start.Add(d))), Label: fmtOffset(d)})
	}
	return out
}

// gantt draws one pod's row: its endpoint lane on top, then one lane per container.
type gantt struct {
	pv     *podView
	pt     timeline.PodTimeline
	win    window
	budget time.Duration
	// now is the time of the latest delta.
	now time.Time
	// small asks for a tooltip on every shape.
	small bool
	// endpoints is set once the row has an endpoint lane.
	endpoints bool
}

// bx places t in the row's inner box.
func (g *gantt) bx(t time.Time) int { return int(math.Round(g.win.x(t) * boxWidth / 100)) }

func (g *gantt) seg(class string, from, to time.Time, est bool, y, h int, title func() string) {
	if to.Before(from) {
		to = from
	}
	x0, x1 := g.bx(from), g.bx(to)
	s := seg{Class: class, X: x0, W: max(x1-x0, minWidth), Y: y + h/2, Est: est}
	if g.small {
		s.Title = title()
		if est {
			s.Title += " (estimated)"
		}
	}
	g.pv.Segs = append(g.pv.Segs, s)
}

func (g *gantt) dot(shape string, m *timeline.Mark, y int, title string) {
	d := dot{Shape: shape, Est: m.Estimated, X: pct(g.win.x(m.Time)), Y: y + laneHeight/2}
	if g.small {
		d.Title = title + " at +" + rel(m.Time, g.pt.Start)
		if m.Estimated {
			d.Title += " (estimated)"
		}
	}
	g.pv.Dots = append(g.pv.Dots, d)
}

func (g *gantt) line(class string, t time.Time, est bool, title string) {
	l := vline{Class: class, X: g.bx(t), Est: est}
	if g.small {
		l.Title = title + " at +" + rel(t, g.pt.Start)
		if est {
			l.Title += " (estimated)"
		}
	}
	g.pv.Lines = append(g.pv.Lines, l)
}

func (g *gantt) barStartsAt(t time.Time, y int) bool {
	x := g.bx(t)
	for _, s := range g.pv.Segs {
		if s.X == x && s.Y == y+laneHeight/2 {
			return true
		}
	}
	return false
}

func anyEstimated(ms ...*timeline.Mark) bool {
	for _, m := range ms {
		if m != nil && m.Estimated {
			return true
		}
	}
	return false
}

func timeOr(m *timeline.Mark, fallback time.Time) time.Time {
	if m == nil {
		return fallback
	}
	return m.Time
}

func (g *gantt) draw() {
	pt := g.pt
	end := podEnd(pt, g.now)
	y := rowPad

	// Endpoint lane: ready → not ready (terminating) → not serving → removed.
	notReady := markOf(pt, timeline.MarkEndpointNotReady, "")
	notServing := markOf(pt, timeline.MarkEndpointNotServing, "")
	removed := lastMarkOf(pt, timeline.MarkEndpointRemoved)
	g.endpoints = len(pt.Services) > 0 || notReady != nil || notServing != nil || removed != nil
	if g.endpoints {
		stop := timeOr(removed, end)
		leftReady := firstOf(notReady, notServing, removed)
		g.seg("rdy", pt.Start, timeOr(leftReady, end), anyEstimated(leftReady), y, laneHeight,
			func() string { return "endpoint ready" })
		if notReady != nil {
			g.seg("nrd", notReady.Time, timeOr(notServing, stop), anyEstimated(notReady, notServing, removed), y, laneHeight,
				func() string { return "endpoint not ready (terminating)" })
		}
		if ds := pt.DrainStart(); ds != nil {
			// Traffic may still arrive until load balancers act on the change.
			g.seg("bud", ds.Time, ds.Time.Add(g.budget), false, y+laneHeight+1, 2,
				func() string { return "drain budget " + fmtSeconds(g.budget.Seconds()) })
		}
		if notServing != nil {
			g.seg("nsv", notServing.Time, stop, anyEstimated(notServing, removed), y, laneHeight,
				func() string { return "endpoint not serving" })
		}
		if removed != nil {
			g.dot("rm", removed, y, "endpoint removed")
		}
		for i := range pt.Marks {
			if m := &pt.Marks[i]; m.Type == timeline.MarkReadinessFailed {
				g.dot("wa", m, y, "readiness probe failed")
			}
		}
	} else {
		g.pv.Notes = append(g.pv.Notes, note{Y: y + laneHeight, Text: "no Service endpoints"})
	}
	y += laneHeight + laneGap

	// Container lanes: preStop → SIGTERM → exit or SIGKILL.
	for _, name := range laneContainers(pt) {
		g.container(name, y, end)
		y += laneHeight + laneGap
	}
	g.pv.Height = y - laneGap + rowPad

	// The deletion gets a line of its own unless the ready bar already starts there.
	if dr := markOf(pt, timeline.MarkDeletionRequested, ""); dr != nil {
		if !g.endpoints || !dr.Time.Equal(pt.Start) || dr.Estimated {
			g.line("del", dr.Time, dr.Estimated, "deletion requested")
		}
	} else if !pt.Start.IsZero() && !g.endpoints {
		g.line("del", pt.Start, false, "deletion seen")
	}
	if pt.Deadline != nil {
		title := "grace deadline"
		if pt.Deadline.After(g.win.end) {
			title = "grace deadline (past the right edge)"
		}
		g.line("dl", *pt.Deadline, false, title)
	}
	if pr := markOf(pt, timeline.MarkPodRemoved, ""); pr != nil {
		g.line("gone", pr.Time, pr.Estimated, "pod removed")
	}
}

func (g *gantt) container(name string, y int, end time.Time) {
	pt := g.pt
	c := containerNamed(pt, name)
	label := name
	if label == "" {
		label = "containers"
	}
	killing := markOf(pt, timeline.MarkKilling, name)
	sigterm := markOf(pt, timeline.MarkSIGTERM, name)
	exited := markOf(pt, timeline.MarkContainerExited, name)
	sigkill := markOf(pt, timeline.MarkSIGKILL, name)
	stopped := firstOf(exited, sigkill)
	stop := timeOr(stopped, end)
	hook := c == nil || c.PreStop != ""

	preStopFailed := markOf(pt, timeline.MarkPreStopFailed, name)
	if killing != nil && hook && (sigterm == nil || sigterm.Time.After(killing.Time)) {
		// The hook runs until SIGTERM, or until it fails, when kubelet moves on to SIGTERM.
		hookEnd := firstOf(sigterm, stopped, preStopFailed)
		g.seg("pre", killing.Time, timeOr(hookEnd, stop), anyEstimated(killing, hookEnd), y, laneHeight,
			func() string {
				if c != nil && c.PreStop != "" {
					return label + ": preStop " + c.PreStop
				}
				return label + ": preStop"
			})
	}
	termFrom := sigterm
	if termFrom == nil && !hook {
		// Without a hook the Killing event is the moment SIGTERM is sent.
		termFrom = killing
	}
	if termFrom != nil {
		g.seg("trm", termFrom.Time, stop, anyEstimated(termFrom, stopped), y, laneHeight,
			func() string { return label + ": running after SIGTERM" })
	}
	// The Killing event gets a tick only where no bar starts at it.
	if killing != nil && !g.barStartsAt(killing.Time, y) {
		g.dot("ki", killing, y, label+": Killing event")
	}
	if preStopFailed != nil {
		g.dot("wa", preStopFailed, y, label+": preStop hook failed")
	}
	if sigterm != nil {
		g.dot("st", sigterm, y, label+": SIGTERM")
	}
	if sigkill != nil {
		g.dot("sk", sigkill, y, label+": SIGKILL")
	}
	if exited != nil {
		code := exitCode(exited, c)
		shape := "xo"
		if code != "" && code != "0" {
			shape = "xb"
		}
		title := label + ": exited"
		if code != "" {
			title += " " + code
		}
		g.dot(shape, exited, y, title)
	}
}

// podEnd is where open phases stop: the pod's end; for a pod still terminating, now (the
// latest delta), since its phases are still going on; else its latest mark.
func podEnd(pt timeline.PodTimeline, now time.Time) time.Time { return pt.EndAt(now) }

// markOf finds the first mark of a type for a container; marks without a container apply to
// every container.
func markOf(pt timeline.PodTimeline, typ timeline.MarkType, container string) *timeline.Mark {
	for i := range pt.Marks {
		m := &pt.Marks[i]
		if m.Type == typ && (container == "" || m.Container == "" || m.Container == container) {
			return m
		}
	}
	return nil
}

// lastMarkOf finds the latest mark of a type, e.g. the endpoint removed from the last Service.
func lastMarkOf(pt timeline.PodTimeline, typ timeline.MarkType) *timeline.Mark {
	var last *timeline.Mark
	for i := range pt.Marks {
		m := &pt.Marks[i]
		if m.Type == typ && (last == nil || !m.Time.Before(last.Time)) {
			last = m
		}
	}
	return last
}

// firstOf returns the earliest of the marks given.
func firstOf(ms ...*timeline.Mark) *timeline.Mark {
	var first *timeline.Mark
	for _, m := range ms {
		if m != nil && (first == nil || m.Time.Before(first.Time)) {
			first = m
		}
	}
	return first
}

// laneContainers lists the containers to draw: those the pod reports, then any named only by
// marks; a pod whose marks name no container gets one lane for all.
func laneContainers(pt timeline.PodTimeline) []string {
	var names []string
	for _, c := range pt.Containers {
		names = append(names, c.Name)
	}
	for _, m := range pt.Marks {
		if m.Container != "" && !slices.Contains(names, m.Container) {
			names = append(names, m.Container)
		}
	}
	if len(names) == 0 {
		names = []string{""}
	}
	return names
}

func containerNamed(pt timeline.PodTimeline, name string) *timeline.Container {
	for i := range pt.Containers {
		if pt.Containers[i].Name == name {
			return &pt.Containers[i]
		}
	}
	return nil
}

func exitCode(m *timeline.Mark, c *timeline.Container) string {
	switch {
	case m.ExitCode != nil:
		return itoa(*m.ExitCode)
	case c != nil && c.ExitCode != nil:
		return itoa(*c.ExitCode)
	}
	return ""
}
