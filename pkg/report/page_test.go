package report

import (
	"strings"
	"testing"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func ptr[T any](v T) *T { return &v }

func TestStatsOf(t *testing.T) {
	tests := []struct {
		name          string
		vals          []float64
		p50, p95, max string
	}{
		{"none", nil, "", "", ""},
		{"one", []float64{3}, "3.00s", "3.00s", "3.00s"},
		// Nearest rank: p50 of four values is the second, p95 the fourth.
		{"four unsorted", []float64{4, 1, 3, 2}, "2.00s", "4.00s", "4.00s"},
		{"twenty", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, "10.0s", "19.0s", "20.0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := statsOf(tt.vals, fmtSeconds)
			if s.P50 != tt.p50 || s.P95 != tt.p95 || s.Max != tt.max || s.Count != len(tt.vals) {
				t.Errorf("statsOf(%v) = %+v, want p50 %s p95 %s max %s count %d", tt.vals, s, tt.p50, tt.p95, tt.max, len(tt.vals))
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtSeconds(0.5), "0.50s"},
		{fmtSeconds(31.74), "31.7s"},
		{fmtSeconds(125), "2m5s"},
		{fmtPercent(1.057), "106%"},
		{pct(12.3456), "12.35"},
		{pct(50), "50"},
		{pct(-0.001), "0"},
		{rel(at(1500), at(0)), "1.500s"},
		{rel(at(0), at(250)), "−0.250s"},
		{fmtOffset(0), "0"},
		{fmtOffset(250 * time.Millisecond), "250ms"},
		{fmtOffset(15 * time.Second), "15s"},
		{fmtOffset(2 * time.Minute), "2m"},
		{fmtOffset(90 * time.Second), "1m30s"},
		{fmtOffset(2 * time.Hour), "2h"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestWindowAndTicks(t *testing.T) {
	snap := timeline.Snapshot{
		Time: at(9000),
		Pods: []timeline.PodTimeline{{
			Start:    at(1000),
			Deadline: ptr(at(3_600_000)), // an hour away: must not stretch the axis
			Marks:    []timeline.Mark{{Type: timeline.MarkPodRemoved, Time: at(8000)}},
		}},
	}
	w := windowOf(snap)
	// 1s to 9s padded by 2% on each side.
	if want := at(1000 - 160); !w.start.Equal(want) {
		t.Errorf("window start = %v, want %v", w.start, want)
	}
	if want := at(9000 + 160); !w.end.Equal(want) {
		t.Errorf("window end = %v, want %v", w.end, want)
	}
	if x := w.x(at(5000)); x != 50 {
		t.Errorf("x(middle) = %v, want 50", x)
	}
	if x := w.x(at(3_600_000)); x != 100 {
		t.Errorf("x(far deadline) = %v, want clamped to 100", x)
	}
	ts := ticks(w)
	if len(ts) < 4 || len(ts) > 9 {
		t.Fatalf("got %d ticks, want 4..9: %+v", len(ts), ts)
	}
	if ts[0].X != "0" || ts[0].Label != "0" || ts[1].Label != "1s" {
		t.Errorf("ticks start %+v %+v, want 0 then 1s", ts[0], ts[1])
	}
	if !windowOf(timeline.Snapshot{}).empty {
		t.Error("an empty snapshot must give an empty window")
	}
}

// onePod is a pod with a preStop sleep that was killed at the deadline, seen with an estimated
// SIGTERM and SIGKILL.
func onePod() timeline.PodTimeline {
	return timeline.PodTimeline{
		Name: "web-1", Namespace: "shop", Services: []string{"web"}, Start: at(0), End: ptr(at(32000)),
		Deadline: ptr(at(30000)), State: timeline.StateRemoved, Verdict: timeline.VerdictKilled,
		Containers: []timeline.Container{{Name: "app", PreStop: "sleep 5s"}},
		Marks: []timeline.Mark{
			{Type: timeline.MarkDeletionRequested, Time: at(0), Source: timeline.SourcePod},
			{Type: timeline.MarkEndpointNotReady, Time: at(100), Source: timeline.SourceEndpointSlice, Service: "web"},
			{Type: timeline.MarkKilling, Time: at(200), Source: timeline.SourceEvent, Container: "app", Reason: "Killing", Detail: "Stopping container app"},
			{Type: timeline.MarkSIGTERM, Time: at(5200), Source: timeline.SourceInferred, Container: "app", Estimated: true},
			{Type: timeline.MarkSIGKILL, Time: at(30000), Source: timeline.SourceInferred, Container: "app", Estimated: true},
			{Type: timeline.MarkContainerExited, Time: at(31000), Source: timeline.SourcePod, Container: "app", ExitCode: ptr(int32(137)), Reason: "Error",
				ServerTime: ptr(at(28000))},
			{Type: timeline.MarkEndpointRemoved, Time: at(31100), Source: timeline.SourceEndpointSlice, Service: "web"},
			{Type: timeline.MarkPodRemoved, Time: at(32000), Source: timeline.SourcePod},
		},
	}
}

func TestGanttLanes(t *testing.T) {
	pt := onePod()
	win := window{start: at(0), end: at(40000)}
	pv := podView{}
	g := gantt{pv: &pv, pt: pt, win: win, budget: 5 * time.Second, small: true}
	g.draw()

	segs := map[string]seg{}
	for _, s := range pv.Segs {
		segs[s.Class] = s
	}
	want := []struct {
		class string
		x, w  int
		y     int
		est   bool
	}{
		{"rdy", 0, 25, 8, false},     // deletion → not ready
		{"nrd", 25, 7750, 8, false},  // not ready → removed at 31.1s
		{"bud", 25, 1250, 14, false}, // drain budget 5s
		{"pre", 50, 1250, 21, true},  // Killing → estimated SIGTERM
		{"trm", 1300, 6200, 21, true},
	}
	for _, w := range want {
		s, ok := segs[w.class]
		if !ok {
			t.Errorf("no %s bar in %+v", w.class, pv.Segs)
			continue
		}
		if s.X != w.x || s.W != w.w || s.Y != w.y || s.Est != w.est {
			t.Errorf("%s bar = x %d w %d y %d est %v, want x %d w %d y %d est %v", w.class, s.X, s.W, s.Y, s.Est, w.x, w.w, w.y, w.est)
		}
	}
	if s := segs["trm"]; !strings.Contains(s.Title, "(estimated)") {
		t.Errorf("estimated bar title %q does not say so", s.Title)
	}

	shapes := map[string]dot{}
	for _, d := range pv.Dots {
		shapes[d.Shape] = d
	}
	if _, ok := shapes["ki"]; ok {
		t.Error("the Killing tick is drawn although the preStop bar starts there")
	}
	if d, ok := shapes["sk"]; !ok || !d.Est || d.X != "75" {
		t.Errorf("SIGKILL dot = %+v, want an estimated one at 75%%", d)
	}
	if d, ok := shapes["xb"]; !ok || d.Est || d.X != "77.5" {
		t.Errorf("exit dot = %+v, want a non-zero exit at 77.5%%", d)
	}
	if d, ok := shapes["rm"]; !ok || d.Y != 8 {
		t.Errorf("endpoint removed dot = %+v, want one in the endpoint lane", d)
	}

	lines := map[string]vline{}
	for _, l := range pv.Lines {
		lines[l.Class] = l
	}
	if _, ok := lines["del"]; ok {
		t.Error("a deletion line is drawn although the ready bar starts there")
	}
	if l := lines["dl"]; l.X != 7500 {
		t.Errorf("deadline line at %d, want 7500", l.X)
	}
	if l := lines["gone"]; l.X != 8000 {
		t.Errorf("pod removed line at %d, want 8000", l.X)
	}
	if pv.Height != rowPad+2*laneHeight+laneGap+rowPad {
		t.Errorf("height = %d for two lanes", pv.Height)
	}
}

func TestGanttWithoutServiceOrContainers(t *testing.T) {
	pt := timeline.PodTimeline{
		Name: "job", Start: at(0), State: timeline.StateTerminating,
		Marks: []timeline.Mark{
			{Type: timeline.MarkDeletionRequested, Time: at(0), Source: timeline.SourceInferred, Estimated: true},
			{Type: timeline.MarkKilling, Time: at(500), Source: timeline.SourceEvent},
		},
	}
	pv := podView{}
	g := gantt{pv: &pv, pt: pt, win: window{start: at(0), end: at(10000)}, budget: time.Second, now: at(7000)}
	g.draw()
	if len(pv.Notes) != 1 || pv.Notes[0].Text != "no Service endpoints" {
		t.Errorf("notes = %+v, want a no-Service note", pv.Notes)
	}
	// One lane for all containers; the preStop phase is still running at the latest delta.
	if len(pv.Segs) != 1 || pv.Segs[0].Class != "pre" || pv.Segs[0].X != 500 || pv.Segs[0].W != 6500 {
		t.Errorf("segs = %+v, want one preStop bar from 0.5s to 7s", pv.Segs)
	}
	if len(pv.Lines) != 1 || pv.Lines[0].Class != "del" || !pv.Lines[0].Est {
		t.Errorf("lines = %+v, want an estimated deletion line", pv.Lines)
	}
	if pv.Segs[0].Title != "" {
		t.Error("titles were made with tooltips off")
	}
}

func TestMarkRows(t *testing.T) {
	pt := onePod()
	clk := clock{loc: time.UTC}
	rows := map[timeline.MarkType]markRow{}
	for _, m := range pt.Marks {
		rows[m.Type] = markRowOf(m, pt, clk, 1)
	}
	tests := []struct {
		typ    timeline.MarkType
		detail string
	}{
		// Reason "Killing" only repeats the mark; one container and one Service go unsaid.
		{timeline.MarkKilling, "Stopping container app"},
		{timeline.MarkEndpointNotReady, ""},
		// A server time three seconds off the receive time is worth showing.
		{timeline.MarkContainerExited, "exit 137 · Error · server time 10:00:28"},
		{timeline.MarkSIGTERM, ""},
	}
	for _, tt := range tests {
		if got := rows[tt.typ].Detail; got != tt.detail {
			t.Errorf("%s detail = %q, want %q", tt.typ, got, tt.detail)
		}
	}
	if r := rows[timeline.MarkSIGTERM]; r.Rel != "5.200s" || !r.Plus || r.Abs != "10:00:05.200" || !r.Estimated {
		t.Errorf("sigterm row = %+v", r)
	}
	// With two containers and an unusual source, both are named.
	m := timeline.Mark{Type: timeline.MarkDeletionRequested, Time: at(-500), Source: timeline.SourceInferred, Container: "app"}
	r := markRowOf(m, pt, clk, 2)
	if r.Detail != "app · from inferred" || r.Plus || r.Rel != "−0.500s" {
		t.Errorf("row = %+v", r)
	}
}

func TestSharedFacts(t *testing.T) {
	pods := []podView{
		{Info: []kv{{keyNamespace, "shop"}, {keyNode, "n1"}, {keyCause, "delete"}, {"UID", "a"}}},
		{Info: []kv{{keyNamespace, "shop"}, {keyNode, "n2"}, {keyCause, "delete"}, {"UID", "b"}}},
	}
	shared := sharedFacts(pods)
	if len(shared) != 2 || shared[0] != (kv{keyNamespace, "shop"}) || shared[1] != (kv{keyCause, "delete"}) {
		t.Errorf("shared = %+v, want namespace and cause", shared)
	}
	for _, p := range pods {
		if len(p.Info) != 2 || p.Info[0].Key != keyNode || p.Info[1].Key != "UID" {
			t.Errorf("pod info = %+v, want node and UID left", p.Info)
		}
	}
	one := []podView{{Info: []kv{{keyNamespace, "shop"}}}}
	if s := sharedFacts(one); s != nil || len(one[0].Info) != 1 {
		t.Errorf("a single pod shares nothing: %+v", s)
	}
}

func TestFixIndex(t *testing.T) {
	f := newFixIndex()
	fd := timeline.Finding{ID: timeline.FindingPreStopFailed, Severity: timeline.SeverityWarning, Fix: "x: 1"}
	for i := range maxFixPods + 3 {
		ref := podRef{Anchor: "p" + string(rune('a'+i)), Name: "pod"}
		a, n := f.add(fd, ref)
		if a != "fix1" || n != 1 {
			t.Fatalf("add = %s %d, want fix1 1", a, n)
		}
		// The same finding on a second container of the same pod counts once.
		f.add(fd, ref)
	}
	other := fd
	other.Fix = "x: 2"
	other.Severity = timeline.SeverityError
	if a, _ := f.add(other, podRef{Anchor: "pz"}); a != "fix2" {
		t.Errorf("a different fix got %s", a)
	}
	fx := f.list[0]
	if fx.Count != maxFixPods+3 || len(fx.Pods) != maxFixPods || fx.More != 3 {
		t.Errorf("fix1 count %d pods %d more %d", fx.Count, len(fx.Pods), fx.More)
	}
	if f.list[1].Severity != "error" {
		t.Errorf("fix2 severity %s", f.list[1].Severity)
	}
}

func TestServiceChart(t *testing.T) {
	win := window{start: at(0), end: at(10000)}
	g := timeline.Group{Name: "web", ReadyEndpoints: []timeline.Point{
		{Time: at(1000), Value: 4}, {Time: at(2000), Value: 2}, {Time: at(4000), Value: 3},
		{Time: at(6000), Value: 2}, {Time: at(7000), Value: 4},
	}}
	sv := serviceChart(g, win)
	if sv.Min != 2 || sv.Max != 4 || !sv.HasDip || sv.Dip != "−50%" {
		t.Errorf("chart = %+v, want a 50%% dip from 4 to 2", sv)
	}
	// The first span at the minimum is marked; the total time at it is 2s + 1s.
	if sv.DipX != "20" || sv.DipW != "20" || sv.DipFor != "3.00s" {
		t.Errorf("dip at %s width %s for %s", sv.DipX, sv.DipW, sv.DipFor)
	}
	if want := "M100 8H200V54H400V31H600V54H700V8H1000"; sv.Line != want {
		t.Errorf("line = %s, want %s", sv.Line, want)
	}
	flat := serviceChart(timeline.Group{ReadyEndpoints: []timeline.Point{{Time: at(0), Value: 3}}}, win)
	if flat.HasDip || flat.Empty {
		t.Errorf("flat chart = %+v", flat)
	}
	if !serviceChart(timeline.Group{}, win).Empty {
		t.Error("a Service without samples must be empty")
	}
}

func TestGanttPreStopFailure(t *testing.T) {
	pt := timeline.PodTimeline{
		Name: "web-2", Start: at(0), State: timeline.StateTerminating, Services: []string{"web"},
		Containers: []timeline.Container{{Name: "app", PreStop: "httpGet: :8080/drain"}},
		Marks: []timeline.Mark{
			{Type: timeline.MarkKilling, Time: at(1000), Source: timeline.SourceEvent, Container: "app"},
			{Type: timeline.MarkPreStopFailed, Time: at(3000), Source: timeline.SourceEvent, Container: "app"},
		},
	}
	pv := podView{}
	g := gantt{pv: &pv, pt: pt, win: window{start: at(0), end: at(10000)}, budget: time.Second, now: at(9000)}
	g.draw()
	var pre, rdy *seg
	for i := range pv.Segs {
		switch pv.Segs[i].Class {
		case "pre":
			pre = &pv.Segs[i]
		case "rdy":
			rdy = &pv.Segs[i]
		}
	}
	// The hook ends where it failed; the endpoint, never seen leaving, is ready until now.
	if pre == nil || pre.X != 1000 || pre.W != 2000 {
		t.Errorf("preStop bar = %+v, want 1s to 3s", pre)
	}
	if rdy == nil || rdy.X != 0 || rdy.W != 9000 {
		t.Errorf("ready bar = %+v, want 0 to 9s", rdy)
	}
	if len(pv.Dots) != 1 || pv.Dots[0].Shape != "wa" || pv.Dots[0].X != "30" {
		t.Errorf("dots = %+v, want only the failure at 30%% (the bar shows the Killing event)", pv.Dots)
	}
}
