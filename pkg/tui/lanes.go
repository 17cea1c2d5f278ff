package tui

import (
	"strings"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// cellKind is what one cell of a lane shows; it selects the glyph's style.
type cellKind uint8

const (
	cellNone cellKind = iota
	cellReady
	cellDraining
	cellPreStop
	cellAfterTerm
	cellExitOK
	cellExitBad
	cellKill
	cellDeadline
	cellBudget
	cellEstimated
	cellWarn
	cellNote
	numCells
)

// Lane glyphs. Observed moments are filled, estimated ones hollow, so the difference survives
// without colour.
const (
	glyphReady     = '━' // endpoint ready (serving new traffic)
	glyphDraining  = '╌' // endpoint terminating: not ready, still listed
	glyphPreStop   = '▒' // preStop hook running
	glyphAfterTerm = '─' // SIGTERM sent, container still running
	glyphObserved  = '●' // observed end: endpoint removed, container exited
	glyphEstimated = '○' // estimated end
	glyphTerm      = '◆' // SIGTERM, observed
	glyphTermEst   = '◇' // SIGTERM, estimated
	glyphKill      = '✕' // SIGKILL, observed
	glyphKillEst   = '×' // SIGKILL, estimated
	glyphDeadline  = '┆' // grace deadline
	glyphBudget    = '┊' // end of the drain budget after the endpoint went not ready
	glyphWarn      = '!' // readiness failed / preStop failed
)

// axis maps moments to columns of the shared time axis. In relative mode every pod's lanes
// start at its own deletion request, so terminations that happened minutes apart line up and
// compare; in clock mode all pods share one wall-clock axis.
type axis struct {
	relative bool
	t0       time.Time // left edge in clock mode
	span     time.Duration
	width    int
}

// col returns the column of t for pod p, and false when t lies outside the axis.
func (a axis) col(p *timeline.PodTimeline, t time.Time) (int, bool) {
	if a.width <= 0 || a.span <= 0 || t.IsZero() {
		return 0, false
	}
	origin := a.t0
	if a.relative {
		origin = p.Start
	}
	d := t.Sub(origin)
	if d < 0 || d > a.span {
		return 0, false
	}
	c := int(float64(d) / float64(a.span) * float64(a.width))
	return min(c, a.width-1), true
}

// colClamped is col but pins moments outside the axis to its edges.
func (a axis) colClamped(p *timeline.PodTimeline, t time.Time) int {
	if c, ok := a.col(p, t); ok {
		return c
	}
	origin := a.t0
	if a.relative {
		origin = p.Start
	}
	if t.Before(origin) {
		return 0
	}
	return a.width
}

// extent is the last moment worth drawing for a pod.
func extent(p *timeline.PodTimeline, now time.Time) time.Time {
	end := p.EndAt(now)
	later := func(t time.Time) {
		if t.After(end) {
			end = t
		}
	}
	if p.Deadline != nil {
		later(*p.Deadline)
	}
	for i := range p.Marks {
		later(p.Marks[i].Time)
	}
	return end
}

// newAxis fits an axis of width columns to the given pods.
func newAxis(pods []timeline.PodTimeline, idx []int, now time.Time, relative bool, width int) axis {
	a := axis{relative: relative, width: width}
	var t1 time.Time
	for n, i := range idx {
		p := &pods[i]
		e := extent(p, now)
		if relative {
			a.span = max(a.span, e.Sub(p.Start))
			continue
		}
		if n == 0 || p.Start.Before(a.t0) {
			a.t0 = p.Start
		}
		if e.After(t1) {
			t1 = e
		}
	}
	if !relative && !t1.IsZero() {
		a.span = t1.Sub(a.t0)
	}
	// Leave room after the last moment so that end marks do not sit on the edge.
	a.span += a.span / 25
	a.span = max(a.span, time.Second)
	return a
}

// podMarks are the moments the lanes draw, picked out of a pod's marks once.
type podMarks struct {
	notReady, removed, killing, sigterm *timeline.Mark
	exits, kills, warns                 []*timeline.Mark
}

func pickMarks(p *timeline.PodTimeline) podMarks {
	var m podMarks
	first := func(dst **timeline.Mark, mk *timeline.Mark) {
		if *dst == nil {
			*dst = mk
		}
	}
	for i := range p.Marks {
		mk := &p.Marks[i]
		switch mk.Type {
		case timeline.MarkEndpointNotReady:
			first(&m.notReady, mk)
		case timeline.MarkEndpointNotServing:
			if m.notReady == nil {
				m.notReady = mk
			}
		case timeline.MarkEndpointRemoved:
			first(&m.removed, mk)
		case timeline.MarkKilling:
			first(&m.killing, mk)
		case timeline.MarkSIGTERM:
			first(&m.sigterm, mk)
		case timeline.MarkContainerExited:
			m.exits = append(m.exits, mk)
		case timeline.MarkSIGKILL:
			m.kills = append(m.kills, mk)
		case timeline.MarkReadinessFailed, timeline.MarkPreStopFailed:
			m.warns = append(m.warns, mk)
		}
	}
	return m
}

// lane is one row of cells being drawn.
type lane struct {
	r     []rune
	k     []cellKind
	point []bool
}

func newLane(w int) lane {
	l := lane{r: make([]rune, w), k: make([]cellKind, w), point: make([]bool, w)}
	for i := range l.r {
		l.r[i] = ' '
	}
	return l
}

// fill draws a segment over [from, to) columns; a segment shorter than one cell is not drawn.
func (l lane) fill(from, to int, r rune, k cellKind) {
	for c := max(from, 0); c < min(to, len(l.r)); c++ {
		l.r[c], l.k[c] = r, k
	}
}

// set draws a point mark; points win over segments and over other marks drawn earlier.
func (l lane) set(c int, r rune, k cellKind) {
	if c < 0 || c >= len(l.r) {
		return
	}
	l.r[c], l.k[c], l.point[c] = r, k, true
}

// under draws a background mark (deadline, drain budget) where no point is.
func (l lane) under(c int, r rune, k cellKind) {
	if c < 0 || c >= len(l.r) || l.point[c] {
		return
	}
	l.r[c], l.k[c] = r, k
}

func (l lane) text(c int, s string, k cellKind) {
	for _, r := range s {
		if c >= len(l.r) {
			return
		}
		l.set(c, r, k)
		c++
	}
}

// render joins runs of cells of the same kind into styled strings.
func (l lane) render(st *styles) string {
	var b strings.Builder
	b.Grow(len(l.r) * 4)
	for i := 0; i < len(l.r); {
		j := i + 1
		for j < len(l.r) && l.k[j] == l.k[i] {
			j++
		}
		seg := string(l.r[i:j])
		if l.k[i] == cellNone {
			b.WriteString(seg)
		} else {
			b.WriteString(st.lane[l.k[i]].Render(seg))
		}
		i = j
	}
	return b.String()
}

// renderLanes draws the endpoint lane and the container lane of one pod.
func renderLanes(p *timeline.PodTimeline, a axis, now time.Time, budget time.Duration, st *styles) (endpoint, containers string) {
	ep, ct := newLane(a.width), newLane(a.width)
	m := pickMarks(p)
	end := now
	if p.End != nil {
		end = *p.End
	} else if !isLive(p) {
		end = extent(p, now)
	}
	start := a.colClamped(p, p.Start)

	// Endpoint lane: ready until the slice marks it not ready, then terminating until it is
	// removed from the slice.
	if m.notReady == nil && m.removed == nil && len(p.Services) == 0 {
		ep.text(start, "no Service", cellNote)
	} else {
		epEnd := end
		if m.removed != nil {
			epEnd = m.removed.Time
		}
		drainFrom := epEnd
		if m.notReady != nil {
			drainFrom = m.notReady.Time
		}
		ep.fill(start, a.colClamped(p, drainFrom), glyphReady, cellReady)
		ep.fill(a.colClamped(p, drainFrom), a.colClamped(p, epEnd), glyphDraining, cellDraining)
		if ds := p.DrainStart(); ds != nil && budget > 0 {
			if c, ok := a.col(p, ds.Time.Add(budget)); ok {
				ep.under(c, glyphBudget, cellBudget)
			}
		}
		if m.removed != nil {
			if c, ok := a.col(p, m.removed.Time); ok {
				if m.removed.Estimated {
					ep.set(c, glyphEstimated, cellEstimated)
				} else {
					ep.set(c, glyphObserved, cellDraining)
				}
			}
		}
	}

	// Container lane: preStop from the Killing event to SIGTERM, then running until the last
	// container exited or was killed.
	var lastExit time.Time
	for _, x := range m.exits {
		if x.Time.After(lastExit) {
			lastExit = x.Time
		}
	}
	for _, x := range m.kills {
		if x.Time.After(lastExit) {
			lastExit = x.Time
		}
	}
	ctEnd := end
	if !lastExit.IsZero() {
		ctEnd = lastExit
	}
	termFrom := time.Time{}
	switch {
	case m.sigterm != nil:
		termFrom = m.sigterm.Time
	case m.killing != nil && hasPreStop(p) && lastExit.IsZero():
		// Killed but no SIGTERM yet: the preStop hook is still running.
		ct.fill(a.colClamped(p, m.killing.Time), a.colClamped(p, ctEnd), glyphPreStop, cellPreStop)
	case m.killing != nil:
		termFrom = m.killing.Time
	}
	if m.killing != nil && m.sigterm != nil && m.sigterm.Time.After(m.killing.Time) {
		ct.fill(a.colClamped(p, m.killing.Time), a.colClamped(p, m.sigterm.Time), glyphPreStop, cellPreStop)
	}
	if !termFrom.IsZero() {
		ct.fill(a.colClamped(p, termFrom), a.colClamped(p, ctEnd), glyphAfterTerm, cellAfterTerm)
	}

	if p.Deadline != nil {
		if c, ok := a.col(p, *p.Deadline); ok {
			ep.under(c, glyphDeadline, cellDeadline)
			ct.under(c, glyphDeadline, cellDeadline)
		}
	}

	if m.sigterm != nil {
		if c, ok := a.col(p, m.sigterm.Time); ok {
			if m.sigterm.Estimated {
				ct.set(c, glyphTermEst, cellEstimated)
			} else {
				ct.set(c, glyphTerm, cellAfterTerm)
			}
		}
	}
	for _, x := range m.warns {
		if c, ok := a.col(p, x.Time); ok {
			if x.Type == timeline.MarkReadinessFailed {
				ep.set(c, glyphWarn, cellWarn)
			} else {
				ct.set(c, glyphWarn, cellExitBad)
			}
		}
	}
	for _, x := range m.exits {
		if c, ok := a.col(p, x.Time); ok {
			switch {
			case x.Estimated:
				ct.set(c, glyphEstimated, cellEstimated)
			case x.ExitCode != nil && *x.ExitCode != 0:
				ct.set(c, glyphObserved, cellExitBad)
			default:
				ct.set(c, glyphObserved, cellExitOK)
			}
		}
	}
	for _, x := range m.kills {
		if c, ok := a.col(p, x.Time); ok {
			if x.Estimated {
				ct.set(c, glyphKillEst, cellKill)
			} else {
				ct.set(c, glyphKill, cellKill)
			}
		}
	}
	return ep.render(st), ct.render(st)
}

func hasPreStop(p *timeline.PodTimeline) bool {
	for _, c := range p.Containers {
		if c.PreStop != "" {
			return true
		}
	}
	return false
}

// niceSteps are the tick spacings the ruler may use.
func niceSteps() []time.Duration {
	return []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	}
}

// renderRuler labels the axis with ticks at least minGap columns apart.
func renderRuler(a axis) string {
	if a.width <= 0 {
		return ""
	}
	line := []rune(strings.Repeat(" ", a.width))
	minGap := 7
	if !a.relative {
		minGap = 10
	}
	steps := niceSteps()
	step := steps[len(steps)-1]
	for _, s := range steps {
		if float64(s)/float64(a.span)*float64(a.width) >= float64(minGap) {
			step = s
			break
		}
	}
	var first time.Duration
	if !a.relative {
		// Ticks on round clock times.
		first = a.t0.Truncate(step).Add(step).Sub(a.t0)
		if a.t0.Truncate(step).Equal(a.t0) {
			first = 0
		}
	}
	next := 0
	for d := first; d <= a.span; d += step {
		c := int(float64(d) / float64(a.span) * float64(a.width))
		label := tickLabel(d, a.t0.Add(d), a.relative, step)
		if c < next || c+len(label) > a.width {
			continue
		}
		copy(line[c:], []rune(label))
		next = c + len(label) + 1
	}
	return string(line)
}

func tickLabel(d time.Duration, t time.Time, relative bool, step time.Duration) string {
	if !relative {
		if step < time.Second {
			return t.Format("05.0s")
		}
		return t.Format("15:04:05")
	}
	switch {
	case d == 0:
		return "0s"
	case step < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return strings.Replace(d.Round(time.Second).String(), "m0s", "m", 1)
}
