package report

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// page is everything the report shows, as ready-made strings: render.go only lays it out, so
// all arithmetic stays here where it is tested.
type page struct {
	Title     string
	Meta      []kv
	Generated string
	Version   string

	WindowStart, WindowEnd, WindowLength string
	TimeZone                             string

	Total, Live int
	Verdicts    []verdictCount
	Shutdown    statsView
	GraceUsed   statsView
	DrainBudget string
	Owners      []groupView
	Services    []serviceView
	Warnings    []string
	// Blockers are the Summary's: what holds a drain up, one line each.
	Blockers []string
	// Drains are the Summary's node drains, one line each.
	Drains []string
	Fixes  []fixView
	// Recommendations are the Summary's, one per owner: basis and a kubectl patch.
	Recommendations []recView

	// Small reports get a tooltip on every shape of the Gantt chart, a header on every table
	// of marks and each fix repeated under its finding. Large ones leave them out to stay
	// small: the tooltips repeat the details, the pods section explains the columns, and the
	// fixes are listed once.
	Small bool
	// Shared are the facts every pod has in common, shown once above the rows.
	Shared []kv
	Ticks  []tick
	Pods   []podView
}

// smallReport is the largest number of pods for which a report is Small.
const smallReport = 300

type kv struct{ Key, Value string }

type verdictCount struct {
	Verdict string
	Count   int
}

type statsView struct {
	Count         int
	P50, P95, Max string
}

type groupView struct {
	Kind, Name, Namespace string
	Terminated            int
	Verdicts              []verdictCount
	Shutdown, GraceUsed   statsView
}

type recView struct {
	Anchor, Title, Patch, Note string
	Basis                      []string
}

type fixView struct {
	Anchor   string
	Num      int
	ID       string
	Severity string
	Fix      string
	Pods     []podRef
	More     int
	Count    int
}

type podRef struct{ Anchor, Name string }

// maxFixPods caps the pod links listed under one fix; the rest are counted.
const maxFixPods = 12

func buildPage(meta Meta, snap timeline.Snapshot) *page {
	loc := meta.Location
	if loc == nil {
		loc = time.UTC
	}
	budget := meta.DrainBudget
	if budget <= 0 {
		budget = timeline.DefaultDrainBudget
	}
	win := windowOf(snap)
	clk := clock{loc: loc, multiDay: !win.empty && !sameDay(win.start.In(loc), win.end.In(loc))}

	p := &page{
		Title:       title(meta),
		Version:     meta.Version,
		DrainBudget: fmtSeconds(budget.Seconds()),
		Total:       len(snap.Pods),
		Warnings:    snap.Summary.Warnings,
		Blockers:    blockerLines(snap.Summary.Blockers),
		Drains:      drainLines(snap.Summary.Drains),
		Small:       len(snap.Pods) <= smallReport,
		Meta:        metaRows(meta),
	}
	ref := win.start
	if win.empty {
		ref = meta.Generated
	}
	p.TimeZone = zoneName(loc, ref)
	if !meta.Generated.IsZero() {
		p.Generated = meta.Generated.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	if !win.empty {
		p.WindowStart = win.first.In(loc).Format("2006-01-02 15:04:05.000")
		p.WindowEnd = clk.abs(win.last)
		p.WindowLength = fmtSeconds(win.last.Sub(win.first).Seconds())
		p.Ticks = ticks(win)
	}

	// Counts come from the pods shown, so the filter buttons match the rows.
	counts := map[timeline.Verdict]int{}
	var shutdown, grace []float64
	for _, pt := range snap.Pods {
		counts[pt.Verdict]++
		if pt.State == timeline.StateTerminating {
			p.Live++
		}
		if pt.ShutdownSeconds != nil {
			shutdown = append(shutdown, *pt.ShutdownSeconds)
		}
		if pt.GraceUsed != nil {
			grace = append(grace, *pt.GraceUsed)
		}
	}
	p.Verdicts = verdictCounts(counts, true)
	p.Shutdown = statsOf(shutdown, fmtSeconds)
	p.GraceUsed = statsOf(grace, fmtPercent)

	for _, g := range snap.Summary.Owners {
		p.Owners = append(p.Owners, groupView{
			Kind: g.Kind, Name: g.Name, Namespace: g.Namespace, Terminated: g.Terminated,
			Verdicts:  verdictCounts(g.Verdicts, false),
			Shutdown:  groupStats(g.Shutdown, fmtSeconds),
			GraceUsed: groupStats(g.GraceUsed, fmtPercent),
		})
	}
	for _, g := range snap.Summary.Services {
		p.Services = append(p.Services, serviceChart(g, win))
	}

	namespaces := map[string]bool{}
	for _, pt := range snap.Pods {
		namespaces[pt.Namespace] = true
	}
	pc := podContext{win: win, clk: clk, budget: budget, now: snap.Time, small: p.Small, fixes: newFixIndex(),
		showNamespace: len(namespaces) > 1 || (len(namespaces) == 1 && !namespaces[meta.Namespace])}
	p.Pods = make([]podView, 0, len(snap.Pods))
	for i, pt := range snap.Pods {
		p.Pods = append(p.Pods, pc.build(i, pt))
	}
	p.Fixes = pc.fixes.list
	for i, r := range snap.Summary.Recommendations {
		title := r.Kind + " " + r.Name
		if r.PreStopSleepSeconds != nil {
			title += " · preStop sleep " + strconv.FormatInt(*r.PreStopSleepSeconds, 10) + "s (" + r.Container + ")"
		}
		if r.TerminationGracePeriodSeconds != nil {
			title += " · terminationGracePeriodSeconds " + strconv.FormatInt(*r.TerminationGracePeriodSeconds, 10)
		}
		p.Recommendations = append(p.Recommendations, recView{Anchor: "rec" + strconv.Itoa(i+1), Title: title,
			Patch: r.Patch, Note: r.Note, Basis: r.Basis})
	}
	p.Shared = sharedFacts(p.Pods)
	return p
}

func title(meta Meta) string {
	switch {
	case meta.Target != "" && meta.Namespace != "":
		return meta.Namespace + "/" + meta.Target
	case meta.Target != "":
		return meta.Target
	case meta.Namespace != "":
		return "namespace " + meta.Namespace
	}
	return "all namespaces"
}

func metaRows(meta Meta) []kv {
	ns := meta.Namespace
	if ns == "" {
		ns = "(all namespaces)"
	}
	target := meta.Target
	if target == "" {
		target = "(every pod in scope)"
	}
	rows := []kv{
		{"Context", meta.Context},
		{"Cluster", meta.Cluster},
		{"Server version", meta.ServerVersion},
		{"Target", target},
		{"Namespace", ns},
		{"Selector", meta.Selector},
		{"Recording", meta.Recording},
	}
	return slices.DeleteFunc(rows, func(r kv) bool { return r.Value == "" })
}

// verdictCounts lists counts in the order of timeline.Verdicts (all of them when all is set,
// else only those seen), then any verdict the engine may add later, by name.
func verdictCounts(m map[timeline.Verdict]int, all bool) []verdictCount {
	var out []verdictCount
	for _, v := range timeline.Verdicts {
		if all || m[v] > 0 {
			out = append(out, verdictCount{string(v), m[v]})
		}
	}
	var extra []string
	for v, n := range m {
		if n > 0 && !slices.Contains(timeline.Verdicts, v) {
			extra = append(extra, string(v))
		}
	}
	slices.Sort(extra)
	for _, v := range extra {
		name := v
		if name == "" {
			name = "unknown"
		}
		out = append(out, verdictCount{name, m[timeline.Verdict(v)]})
	}
	return out
}

// statsOf uses the nearest-rank percentile, so every value shown is one that was measured.
func statsOf(vals []float64, format func(float64) string) statsView {
	if len(vals) == 0 {
		return statsView{}
	}
	st := timeline.StatsOf(vals)
	return statsView{Count: st.Count, P50: format(st.P50), P95: format(st.P95), Max: format(st.Max)}
}

func groupStats(s timeline.Stats, format func(float64) string) statsView {
	if s.Count == 0 {
		return statsView{P50: "–", P95: "–", Max: "–"}
	}
	return statsView{Count: s.Count, P50: format(s.P50), P95: format(s.P95), Max: format(s.Max)}
}

// fixIndex gives every distinct fix one numbered block: in a rollout most pods share the same
// fix, and repeating its YAML in every pod would multiply the file size for nothing.
type fixIndex struct {
	byKey map[string]int
	// lastPod is the pod most recently counted per fix, so a pod with the same finding on two
	// containers counts once.
	lastPod map[int]string
	list    []fixView
}

func newFixIndex() *fixIndex { return &fixIndex{byKey: map[string]int{}, lastPod: map[int]string{}} }

func (f *fixIndex) add(fd timeline.Finding, pod podRef) (string, int) {
	key := string(fd.ID) + "\x00" + fd.Fix
	i, ok := f.byKey[key]
	if !ok {
		i = len(f.list)
		f.byKey[key] = i
		f.list = append(f.list, fixView{
			Anchor: "fix" + strconv.Itoa(i+1), Num: i + 1,
			ID: string(fd.ID), Severity: string(fd.Severity), Fix: fd.Fix,
		})
	}
	fx := &f.list[i]
	if f.lastPod[i] != pod.Anchor {
		f.lastPod[i] = pod.Anchor
		fx.Count++
		if len(fx.Pods) < maxFixPods {
			fx.Pods = append(fx.Pods, pod)
		} else {
			fx.More++
		}
	}
	// The block shows the worst severity any pod had for it.
	if timeline.Severity(fx.Severity).Rank() < fd.Severity.Rank() {
		fx.Severity = string(fd.Severity)
	}
	return fx.Anchor, fx.Num
}

// blockerLines words each blocker: the PDB, the pods waiting and holding it, since when, the fix.
func drainLines(ds []timeline.NodeDrain) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}

func blockerLines(bs []timeline.Blocker) []string {
	var out []string
	for _, b := range bs {
		l := "PodDisruptionBudget " + b.Namespace + "/" + b.Name + " allows " + strconv.Itoa(int(b.DisruptionsAllowed)) +
			" disruptions: " + strings.Join(b.Waiting, ", ") + " cannot be evicted"
		if len(b.Pods) > 0 {
			l += "; held by " + strings.Join(b.Pods, ", ")
		}
		if b.Since != nil {
			l += "; since " + b.Since.UTC().Format("15:04:05")
		}
		out = append(out, l+". Fix: "+b.Fix)
	}
	return out
}
