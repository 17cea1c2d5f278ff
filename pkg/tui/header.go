package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// headerHeight is the number of lines the header always takes, so that the layout does not
// jump when data arrives.
const headerHeight = 4

// headerModel shows where drainwatch looks, how far the rollout or drain got, the ready
// endpoints over time with their lowest point, and the verdicts so far.
type headerModel struct {
	st    *styles
	cfg   Config
	width int

	snap   *timeline.Snapshot
	paused bool
	behind int
	ended  bool // the stream ended

	// Derived from snap once per snapshot rather than once per frame.
	done, live int
	owners     []timeline.OwnerProgress
	cordoned   []string
	capacity   capacity
	hasCap     bool
	counts     map[timeline.Verdict]int
	stats      stats
}

// setSnap shows s and works out everything the header draws from it.
func (h *headerModel) setSnap(s *timeline.Snapshot) {
	h.snap = s
	h.done, h.live = 0, 0
	for i := range s.Pods {
		if isLive(&s.Pods[i]) {
			h.live++
		} else {
			h.done++
		}
	}
	h.owners = append(h.owners[:0], s.Owners...)
	sort.SliceStable(h.owners, func(i, j int) bool {
		ri, _ := strconv.Atoi(h.owners[i].Owner.Revision)
		rj, _ := strconv.Atoi(h.owners[j].Owner.Revision)
		return ri < rj
	})
	h.cordoned = h.cordoned[:0]
	for _, n := range s.Nodes {
		if n.Unschedulable {
			h.cordoned = append(h.cordoned, n.Name)
		}
	}
	h.capacity, h.hasCap = worstCapacity(s.Summary.Services)
	h.counts, _ = verdictCounts(s.Pods)
	h.stats = shutdownStats(s.Pods)
}

func newHeaderModel(st *styles, cfg Config) headerModel {
	return headerModel{st: st, cfg: cfg}
}

func (h *headerModel) View() string {
	lines := []string{h.titleLine(), h.progressLine(), h.capacityLine(), h.verdictLine()}
	for i := range lines {
		lines[i] = fit(lines[i], h.width)
	}
	return strings.Join(lines, "\n")
}

func (h *headerModel) titleLine() string {
	st := h.st
	var where []string
	if h.cfg.Context != "" {
		where = append(where, textutil.Sanitize(h.cfg.Context))
	}
	ns := h.cfg.Namespace
	if ns == "" {
		ns = "all namespaces"
	}
	where = append(where, textutil.Sanitize(ns))
	if h.cfg.Target != "" {
		where = append(where, st.bold.Render(textutil.Sanitize(h.cfg.Target)))
	}
	left := st.title.Render("drainwatch") + " " + strings.Join(where, st.faint.Render(" › "))

	mode := "live"
	if h.cfg.Replay {
		mode = "replay"
		if h.cfg.Speed > 0 && h.cfg.Speed != 1 {
			mode += " ×" + strconv.FormatFloat(h.cfg.Speed, 'g', 4, 64)
		}
	}
	follow := st.good.Render("● following")
	switch {
	case h.ended && h.cfg.Replay:
		follow = st.dim.Render("■ finished")
	case h.ended:
		follow = st.dim.Render("■ ended")
	}
	if h.paused {
		follow = st.warn.Render("‖ paused")
		if h.behind > 0 {
			follow += st.warn.Render(fmt.Sprintf(" (%d new)", h.behind))
		}
	}
	right := st.dim.Render(mode) + "  " + follow
	if h.snap != nil && !h.snap.Time.IsZero() {
		right += "  " + st.dim.Render(h.snap.Time.Format("15:04:05"))
	}
	return joinLR(left, right, h.width)
}

// progressLine shows pods done out of those seen, each owner's progress (the old and new
// ReplicaSet of a rollout), and cordoned nodes for a drain.
func (h *headerModel) progressLine() string {
	st := h.st
	if h.snap == nil {
		return st.dim.Render("waiting for the first update…")
	}
	s := h.snap
	parts := []string{fmt.Sprintf("%s %d/%d", st.dim.Render("terminated"), h.done, len(s.Pods))}
	if h.live > 0 {
		parts[0] += st.warn.Render(fmt.Sprintf(" (%d terminating)", h.live))
	}

	for _, o := range h.owners {
		name := o.Owner.Name
		if o.Owner.Revision != "" {
			name += " r" + o.Owner.Revision
		}
		total := o.Running + o.Terminating + o.Terminated
		if o.Terminating+o.Terminated == 0 {
			parts = append(parts, fmt.Sprintf("%s %s", name, st.good.Render(fmt.Sprintf("%d running", o.Running))))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s %d/%d gone", name, bar(o.Terminated, total, 8, st), o.Terminated, total))
	}

	if cordoned := h.cordoned; len(cordoned) > 0 {
		// A drain is about nodes: they come right after the totals, before the owners.
		node := st.warn.Render("cordoned ") + strings.Join(cordoned, ", ") +
			st.dim.Render(fmt.Sprintf(" (%d/%d nodes)", len(cordoned), len(s.Nodes)))
		for _, d := range s.Summary.Drains {
			// How long the drain runs and how much is left.
			info := fmt.Sprintf(" %.0fs, %d left", d.DurationSeconds, len(d.Remaining))
			if d.CordonedBy != "" {
				info = " by " + d.CordonedBy + "," + info
			}
			node += st.dim.Render(info)
		}
		for _, b := range s.Summary.Blockers {
			// A stalled drain says so where the drain is shown.
			node += " " + st.bad.Render(fmt.Sprintf("blocked by pdb/%s (%d waiting)", b.Name, len(b.Waiting)))
		}
		parts = append(parts[:1], append([]string{node}, parts[1:]...)...)
	}
	return strings.Join(parts, st.faint.Render(" │ "))
}

// bar is a small progress bar of width cells.
func bar(n, total, width int, st *styles) string {
	if total <= 0 {
		return ""
	}
	full := n * width / total
	return st.good.Render(strings.Repeat("█", full)) + st.faint.Render(strings.Repeat("░", width-full))
}

// capacityLine is a sparkline of ready endpoints of the Service that dipped the most, with its
// lowest value: the capacity the rollout or drain cost.
func (h *headerModel) capacityLine() string {
	st := h.st
	if h.snap == nil {
		return ""
	}
	c := h.capacity
	if !h.hasCap {
		return st.dim.Render("ready endpoints: no Service selects these pods")
	}
	label := st.dim.Render("ready") + " svc/" + c.service + " "
	tail := fmt.Sprintf(" now %d", c.cur)
	dipStyle := st.good
	switch {
	case c.min == 0:
		dipStyle = st.bad
	case c.min < c.max:
		dipStyle = st.warn
	}
	tail += " · " + dipStyle.Render(fmt.Sprintf("min %d of %d", c.min, c.max))
	if c.min < c.max {
		tail += dipStyle.Render(fmt.Sprintf(" (−%d)", c.max-c.min))
	}
	if c.more > 0 {
		tail += st.dim.Render(fmt.Sprintf(" · +%d svc", c.more))
	}
	w := h.width - ansi.StringWidth(label) - ansi.StringWidth(tail)
	w = min(w, 60)
	if w < 4 {
		return label + tail
	}
	return label + sparkline(c.points, h.snap.Time, c.max, w, st) + tail
}

// sparkline draws a step series over width cells. Each cell shows the lowest value within its
// slice of time, so that a short dip is never averaged away.
func sparkline(points []timeline.Point, end time.Time, top, width int, st *styles) string {
	if len(points) == 0 || width <= 0 {
		return ""
	}
	levels := []rune("▁▂▃▄▅▆▇█")
	t0 := points[0].Time
	if end.Before(points[len(points)-1].Time) {
		end = points[len(points)-1].Time
	}
	span := end.Sub(t0)
	if span <= 0 {
		span = time.Second
	}
	cells := make([]rune, width)
	zero := make([]bool, width)
	j, cur := 0, points[0].Value
	for c := 0; c < width; c++ {
		from := t0.Add(time.Duration(float64(span) * float64(c) / float64(width)))
		to := t0.Add(time.Duration(float64(span) * float64(c+1) / float64(width)))
		for j < len(points) && !points[j].Time.After(from) {
			cur = points[j].Value
			j++
		}
		low := cur
		for k := j; k < len(points) && points[k].Time.Before(to); k++ {
			low = min(low, points[k].Value)
		}
		zero[c] = low <= 0
		lvl := 0
		if top > 0 {
			lvl = low * (len(levels) - 1) / top
		}
		cells[c] = levels[max(0, min(lvl, len(levels)-1))]
	}
	var b strings.Builder
	for c := 0; c < width; c++ {
		if zero[c] {
			b.WriteString(st.bad.Render("_"))
			continue
		}
		b.WriteString(string(cells[c]))
	}
	return st.spark.Render(b.String())
}

// verdictLine counts verdicts and shows shutdown percentiles of finished terminations.
func (h *headerModel) verdictLine() string {
	st := h.st
	if h.snap == nil {
		return ""
	}
	counts, live := h.counts, h.live
	stats := ""
	if s := h.stats; s.n > 0 {
		stats = st.faint.Render(" │ ") + st.dim.Render("shutdown") +
			fmt.Sprintf(" p50 %s p95 %s max %s", fmtSecs(s.p50), fmtSecs(s.p95), fmtSecs(s.max))
	}
	// Verdict names are dropped when the line would not fit with them; symbols remain.
	for _, long := range []bool{true, false} {
		var parts []string
		for _, v := range timeline.Verdicts {
			if n := counts[v]; n > 0 {
				sym, vs := st.verdict(v)
				if long {
					parts = append(parts, vs.Render(fmt.Sprintf("%s %d %s", sym, n, v)))
				} else {
					parts = append(parts, vs.Render(fmt.Sprintf("%s%d", sym, n)))
				}
			}
		}
		if live > 0 {
			if long {
				parts = append(parts, st.warn.Render(fmt.Sprintf("… %d live", live)))
			} else {
				parts = append(parts, st.warn.Render(fmt.Sprintf("…%d", live)))
			}
		}
		if len(parts) == 0 {
			parts = append(parts, st.dim.Render("no terminations yet"))
		}
		line := strings.Join(parts, "  ") + stats
		if !long || ansi.StringWidth(line) <= h.width {
			return line
		}
	}
	return ""
}
