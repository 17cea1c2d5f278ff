package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// sortMode orders the pod list.
type sortMode int

const (
	sortStart sortMode = iota
	sortDuration
	sortVerdict
	numSortModes
)

func (s sortMode) String() string {
	switch s {
	case sortDuration:
		return "duration"
	case sortVerdict:
		return "verdict"
	}
	return "start"
}

// linesPerPod: one line per lane.
const linesPerPod = 2

// listModel is the pod list: two lines per pod, a left block with what the pod is and how
// it ended, and its two lanes on the shared time axis. It keeps indices into the snapshot's
// pods and renders only the rows that are on screen.
type listModel struct {
	st     *styles
	keys   *keyMap
	budget time.Duration

	pods []timeline.PodTimeline
	now  time.Time
	idx  []int // pods shown, filtered and sorted

	filter       string
	problemsOnly bool
	sort         sortMode
	relative     bool

	cursor, offset int
	selUID         string
	width, height  int
	ax             axis
}

func newListModel(st *styles, keys *keyMap, budget time.Duration) listModel {
	return listModel{st: st, keys: keys, budget: budget, relative: true}
}

// Update handles the list's own keys (moving, paging, problems-only, sort, axis), the mouse
// wheel and clicks; click rows are relative to the list's first line. It reports whether the
// selection or what is shown changed.
func (l *listModel) Update(msg tea.Msg) bool {
	k := l.keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Up):
			l.move(-1)
		case key.Matches(msg, k.Down):
			l.move(1)
		case key.Matches(msg, k.PageUp):
			l.move(-l.rows())
		case key.Matches(msg, k.PageDown):
			l.move(l.rows())
		case key.Matches(msg, k.Top):
			l.move(-len(l.idx))
		case key.Matches(msg, k.Bottom):
			l.move(len(l.idx))
		case key.Matches(msg, k.Problems):
			l.problemsOnly = !l.problemsOnly
			l.refresh()
		case key.Matches(msg, k.Sort):
			l.sort = (l.sort + 1) % numSortModes
			l.refresh()
		case key.Matches(msg, k.Axis):
			l.relative = !l.relative
			l.refresh()
		default:
			return false
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			l.move(-1)
		case tea.MouseWheelDown:
			l.move(1)
		default:
			return false
		}
	case tea.MouseClickMsg:
		n, ok := l.podAt(msg.Y)
		if msg.Button != tea.MouseLeft || !ok {
			return false
		}
		l.move(n - l.cursor)
	default:
		return false
	}
	return true
}

// setFilter shows only pods whose name or node contains f (any case).
func (l *listModel) setFilter(f string) {
	l.filter = f
	l.refresh()
}

// setData shows a new snapshot. The selection stays on the same pod; when it was on the last
// row it follows new pods as they are appended.
func (l *listModel) setData(pods []timeline.PodTimeline, now time.Time) {
	atEnd := len(l.idx) == 0 || l.cursor == len(l.idx)-1
	l.pods, l.now = pods, now
	l.refresh()
	if atEnd && l.sort == sortStart && len(l.idx) > 0 {
		l.cursor = len(l.idx) - 1
		l.selUID = l.pods[l.idx[l.cursor]].UID
		l.scrollToCursor()
	}
}

func (l *listModel) setSize(w, h int) {
	l.width, l.height = w, h
	l.ax = newAxis(l.pods, l.idx, l.now, l.relative, l.laneWidth())
	l.scrollToCursor()
}

// refresh rebuilds the visible index after the data, the filter, the sort or the axis changed.
func (l *listModel) refresh() {
	l.idx = l.idx[:0]
	f := strings.ToLower(l.filter)
	for i := range l.pods {
		p := &l.pods[i]
		if l.problemsOnly && !isProblem(p) {
			continue
		}
		if f != "" && !strings.Contains(strings.ToLower(p.Name), f) && !strings.Contains(strings.ToLower(p.Node), f) {
			continue
		}
		l.idx = append(l.idx, i)
	}
	pods, now := l.pods, l.now
	byStart := func(a, b *timeline.PodTimeline) bool {
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.Name < b.Name
	}
	switch l.sort {
	case sortStart:
		sort.SliceStable(l.idx, func(i, j int) bool { return byStart(&pods[l.idx[i]], &pods[l.idx[j]]) })
	case sortDuration:
		sort.SliceStable(l.idx, func(i, j int) bool {
			a, b := &pods[l.idx[i]], &pods[l.idx[j]]
			da, db := durationOf(a, now), durationOf(b, now)
			if da != db {
				return da > db
			}
			return byStart(a, b)
		})
	case sortVerdict:
		sort.SliceStable(l.idx, func(i, j int) bool {
			a, b := &pods[l.idx[i]], &pods[l.idx[j]]
			ra, rb := verdictRank(a.Verdict), verdictRank(b.Verdict)
			if ra != rb {
				return ra > rb
			}
			return byStart(a, b)
		})
	}
	l.cursor = min(l.cursor, max(len(l.idx)-1, 0))
	for n, i := range l.idx {
		if l.pods[i].UID == l.selUID && l.selUID != "" {
			l.cursor = n
			break
		}
	}
	if len(l.idx) > 0 {
		l.selUID = l.pods[l.idx[l.cursor]].UID
	}
	l.ax = newAxis(l.pods, l.idx, l.now, l.relative, l.laneWidth())
	l.scrollToCursor()
}

// selected returns the pod under the cursor, or nil.
func (l *listModel) selected() *timeline.PodTimeline {
	if len(l.idx) == 0 {
		return nil
	}
	return &l.pods[l.idx[l.cursor]]
}

// rows is how many pods fit below the ruler.
func (l *listModel) rows() int {
	return max((l.height-1)/linesPerPod, 1)
}

func (l *listModel) move(delta int) {
	if len(l.idx) == 0 {
		return
	}
	l.cursor = max(0, min(len(l.idx)-1, l.cursor+delta))
	l.selUID = l.pods[l.idx[l.cursor]].UID
	l.scrollToCursor()
}

func (l *listModel) scrollToCursor() {
	rows := l.rows()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+rows {
		l.offset = l.cursor - rows + 1
	}
	l.offset = max(0, min(l.offset, len(l.idx)-rows))
}

// podAt returns the list position of the pod drawn on line y of the list, if any.
func (l *listModel) podAt(y int) (int, bool) {
	if y < 1 {
		return 0, false
	}
	n := l.offset + (y-1)/linesPerPod
	return n, n < len(l.idx) && (y-1)/linesPerPod < l.rows()
}

// Column layout.
const (
	laneLabelWidth = 3 // "ep " / "ct "
	minLaneWidth   = 10
)

func (l *listModel) leftWidth() int {
	switch {
	case l.width >= 100:
		return min(64, 36+(l.width-100))
	case l.width >= 72:
		return 36
	}
	// Narrow terminals: a short left block without the node and state columns, so that the
	// lanes keep at least a third of the width.
	return 24
}

// narrow reports whether the left block drops its node and state columns.
func (l *listModel) narrow() bool { return l.leftWidth() < 36 }

func (l *listModel) laneWidth() int {
	return max(l.width-l.leftWidth()-1-laneLabelWidth, 0)
}

func (l *listModel) View() string {
	if l.height <= 0 || l.width <= 0 {
		return ""
	}
	lines := make([]string, 0, l.height)
	lines = append(lines, l.rulerLine())
	if len(l.idx) == 0 {
		msg := "waiting for pods to terminate…"
		switch {
		case len(l.pods) > 0 && l.problemsOnly && l.filter == "":
			msg = "no problems so far (f shows all pods)"
		case len(l.pods) > 0:
			msg = "no pod matches the filter (esc clears it)"
		}
		lines = append(lines, l.st.dim.Render(fit("  "+msg, l.width)))
	}
	end := min(len(l.idx), l.offset+l.rows())
	for n := l.offset; n < end; n++ {
		a, b := l.renderPod(&l.pods[l.idx[n]], n == l.cursor)
		lines = append(lines, a, b)
	}
	for len(lines) < l.height {
		lines = append(lines, "")
	}
	return strings.Join(lines[:l.height], "\n")
}

func (l *listModel) nameWidths() (name, node, rev int) {
	left := l.leftWidth()
	rev = 3
	switch {
	case l.narrow():
		node = 0
	case left >= 46:
		node = 14
	default:
		node = 10
	}
	name = left - 3 - 1 - rev
	if node > 0 {
		name -= node + 1
	}
	return name, node, rev
}

func (l *listModel) rulerLine() string {
	nameW, nodeW, revW := l.nameWidths()
	head := "   " + fit("POD", nameW) + " "
	if nodeW > 0 {
		head += fit("NODE", nodeW) + " "
	}
	head += fit("REV", revW)
	axisName := "@"
	if l.relative {
		axisName = "+t"
	}
	ruler := ""
	if len(l.idx) > 0 {
		ruler = renderRuler(l.ax)
	}
	return l.st.dim.Render(fit(head, l.leftWidth())+"│"+fit(axisName, laneLabelWidth)) +
		l.st.rule.Render(ruler)
}

func (l *listModel) renderPod(p *timeline.PodTimeline, selected bool) (string, string) {
	st := l.st
	nameW, nodeW, revW := l.nameWidths()
	sym, vs := st.verdict(p.Verdict)
	live := isLive(p)
	if live {
		vs = st.dim
	}
	marker := " "
	name := fitMiddle(p.Name, nameW)
	if selected {
		marker = st.accent.Render("▌")
		name = st.selected.Render(name)
	}
	rev := "-"
	if p.Owner != nil && p.Owner.Revision != "" {
		rev = "r" + p.Owner.Revision
	}
	line1 := marker + vs.Render(sym) + " " + name + " "
	if nodeW > 0 {
		line1 += st.dim.Render(fitMiddle(p.Node, nodeW)) + " "
	}
	line1 += st.dim.Render(fit(rev, revW))

	state := p.State
	stateStyle := st.dim
	if live {
		stateStyle = st.warn
	}
	d := fmtDur(durationOf(p, l.now))
	if live {
		d += "…"
	}
	line2 := marker + "  "
	if !l.narrow() {
		line2 += stateStyle.Render(fit(state, 11)) + " "
	}
	line2 += vs.Render(fit(string(p.Verdict), 10)) + " " + fmt.Sprintf("%7s", d)
	// The most severe finding names the problem when it fits whole.
	if f := topFinding(p); f != nil {
		id := "  " + string(f.ID)
		if ansi.StringWidth(line2)+ansi.StringWidth(id) <= l.leftWidth() {
			line2 += st.dim.Render(id)
		}
	}

	left := l.leftWidth()
	ep, ct := renderLanes(p, l.ax, l.now, p.DrainBudget(l.budget), st)
	sep := st.rule.Render("│")
	return fit(line1, left) + sep + st.faint.Render("ep ") + ep,
		fit(line2, left) + sep + st.faint.Render("ct ") + ct
}

// fitMiddle fits s into width cells, cutting the middle out when it is too long: pod and node
// names differ mostly at their ends.
func fitMiddle(s string, width int) string {
	w := ansi.StringWidth(s)
	if w <= width {
		return s + strings.Repeat(" ", width-w)
	}
	if width < 5 {
		return fit(s, width)
	}
	head := (width - 1) / 2
	tail := width - 1 - head
	return fit(ansi.Truncate(s, head, "")+"…"+ansi.TruncateLeft(s, w-tail, ""), width)
}
