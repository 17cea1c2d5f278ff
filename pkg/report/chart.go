package report

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// serviceView is one Service's ready endpoints as a step chart. The line is drawn in a
// 1000×100 box stretched over the chart; the dip and labels use percentages of the same width,
// so they keep their shape and line up with the Gantt rows below.
type serviceView struct {
	Name, Namespace string
	Empty           bool
	Line, Area      string
	Min, Max        int
	// Capacity is the desired count (the Deployments' replicas), else Max.
	Capacity int
	// HasDip is set when the count fell below its maximum.
	HasDip     bool
	Dip        string // the fall as a share of the maximum, e.g. "−40%"
	DipX, DipW string // where the count sat at its minimum first
	DipY, MaxY string // heights of the minimum and maximum, percent from the top
	DipFor     string // how long the count sat at its minimum in all
}

// chartTop leaves room above the maximum for the labels.
const chartTop = 8

func serviceChart(g timeline.Group, win window) serviceView {
	sv := serviceView{Name: g.Name, Namespace: g.Namespace}
	pts := slices.Clone(g.ReadyEndpoints)
	slices.SortStableFunc(pts, func(a, b timeline.Point) int { return a.Time.Compare(b.Time) })
	if len(pts) == 0 || win.empty {
		sv.Empty = true
		return sv
	}
	lo, hi := pts[0].Value, pts[0].Value
	for _, p := range pts {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	// The engine's own extremes win: it may have seen values between samples it kept.
	if g.MinReadyEndpoints != nil {
		lo = min(lo, *g.MinReadyEndpoints)
	}
	if g.MaxReadyEndpoints != nil {
		hi = max(hi, *g.MaxReadyEndpoints)
	}
	sv.Min, sv.Max = lo, hi
	// Capacity is what the Deployments want when known: the end of a surge is no dip.
	capacity := hi
	if g.DesiredEndpoints != nil {
		capacity = *g.DesiredEndpoints
	}
	sv.Capacity = capacity
	top := max(hi, 1)
	yOf := func(v int) float64 { return 100 - float64(v)/float64(top)*(100-chartTop) }
	xOf := func(t time.Time) string { return trimFloat(win.x(t)*10, 1) }

	// A step line: hold each value until the next sample. Samples closer than a tenth of a
	// percent collapse to one vertical stroke that still reaches every value they held, so
	// a brief dip stays visible in a long window.
	var b strings.Builder
	b.WriteString("M" + xOf(pts[0].Time) + " " + trimFloat(yOf(pts[0].Value), 1))
	lastX := xOf(pts[0].Time)
	for _, p := range pts[1:] {
		if x := xOf(p.Time); x != lastX {
			b.WriteString("H" + x)
			lastX = x
		}
		b.WriteString("V" + trimFloat(yOf(p.Value), 1))
	}
	b.WriteString("H1000")
	sv.Line = b.String()
	sv.Area = sv.Line + "V100H" + xOf(pts[0].Time) + "Z"
	sv.MaxY = pct(yOf(hi))

	if lo < capacity {
		sv.HasDip = true
		sv.Dip = "−" + strconv.Itoa(int(math.Round(float64(capacity-lo)/float64(capacity)*100))) + "%"
		sv.DipY = pct(yOf(lo))
		var total time.Duration
		for i, p := range pts {
			if p.Value != lo {
				continue
			}
			to := win.end
			if i+1 < len(pts) {
				to = pts[i+1].Time
			}
			total += to.Sub(p.Time)
			if sv.DipX == "" {
				x0, x1 := win.x(p.Time), win.x(to)
				sv.DipX, sv.DipW = pct(x0), pct(max(x1-x0, 0.3))
			}
		}
		if sv.DipX == "" {
			// The minimum came from the engine, between samples: mark the lowest sample.
			low := slices.MinFunc(pts, func(a, b timeline.Point) int { return a.Value - b.Value })
			sv.DipX, sv.DipW = pct(win.x(low.Time)), "0.3"
		} else {
			sv.DipFor = fmtSeconds(total.Seconds())
		}
	}
	return sv
}
