package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

func TestLanes(t *testing.T) {
	rs := rolloutSnapshot()
	ds := drainSnapshot()
	byName := func(s timeline.Snapshot, suffix string) *timeline.PodTimeline {
		for i := range s.Pods {
			if strings.HasSuffix(s.Pods[i].Name, suffix) {
				return &s.Pods[i]
			}
		}
		t.Fatalf("no pod %s", suffix)
		return nil
	}
	removalEstimated := *byName(rs, "2xk9p")
	removalEstimated.Marks = append([]timeline.Mark(nil), removalEstimated.Marks...)
	for i := range removalEstimated.Marks {
		if removalEstimated.Marks[i].Type == timeline.MarkEndpointRemoved {
			removalEstimated.Marks[i].Estimated = true
		}
	}
	killEstimated := *byName(rs, "qw7zt")
	killEstimated.Marks = append([]timeline.Mark(nil), killEstimated.Marks...)
	for i := range killEstimated.Marks {
		if killEstimated.Marks[i].Type == timeline.MarkSIGKILL {
			killEstimated.Marks[i].Estimated = true
		}
	}
	// With a 32 s axis 64 columns wide, column n is n/2 seconds after the deletion request;
	// the deadline (30 s) is column 60.
	sp := func(n int) string { return strings.Repeat(" ", n) }
	rep := strings.Repeat
	tests := []struct {
		name   string
		pod    *timeline.PodTimeline
		now    time.Time
		ep, ct string
	}{
		{
			name: "graceful with preStop: budget marker, estimated SIGTERM, observed exit",
			pod:  byName(rs, "2xk9p"), now: at(44),
			ep: rep("╌", 10) + "┊●" + sp(48) + "┆" + sp(3),
			ct: rep("▒", 10) + "◇●" + sp(48) + "┆" + sp(3),
		},
		{
			name: "killed at the deadline",
			pod:  byName(rs, "qw7zt"), now: at(44),
			ep: rep("╌", 10) + "┊" + rep("╌", 49) + "●" + sp(3),
			ct: rep("▒", 10) + "◇" + rep("─", 49) + "✕" + sp(3),
		},
		{
			name: "SIGKILL estimated",
			pod:  &killEstimated, now: at(44),
			ep: rep("╌", 10) + "┊" + rep("╌", 49) + "●" + sp(3),
			ct: rep("▒", 10) + "◇" + rep("─", 49) + "×" + sp(3),
		},
		{
			name: "stopped before the endpoint left",
			pod:  byName(rs, "r4n8s"), now: at(44),
			ep: "━╌●" + sp(8) + "┊" + sp(48) + "┆" + sp(3),
			ct: "◇●" + sp(58) + "┆" + sp(3),
		},
		{
			name: "removal estimated is hollow",
			pod:  &removalEstimated, now: at(44),
			ep: rep("╌", 10) + "┊○" + sp(48) + "┆" + sp(3),
			ct: rep("▒", 10) + "◇●" + sp(48) + "┆" + sp(3),
		},
		{
			name: "live in preStop, drawn up to now",
			pod:  byName(rs, "h7w4q"), now: at(47.5),
			ep: rep("╌", 10) + "┊" + rep("╌", 4) + sp(45) + "┆" + sp(3),
			ct: rep("▒", 15) + sp(45) + "┆" + sp(3),
		},
		{
			name: "no Service, two containers, 10 s grace",
			pod:  byName(ds, "db-0"), now: at(7),
			ep: "no Service" + sp(10) + "┆" + sp(43),
			ct: "◇" + rep("─", 5) + "●" + sp(13) + "┆" + sp(43),
		},
		{
			name: "readiness failed while terminating",
			pod:  byName(ds, "8fj2m"), now: at(7),
			ep: "╌╌╌!" + rep("╌", 6) + "┊╌" + sp(48) + "┆" + sp(3),
			ct: rep("▒", 12) + sp(48) + "┆" + sp(3),
		},
	}
	st := newStyles()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := axis{relative: true, span: 32 * time.Second, width: 64}
			ep, ct := renderLanes(tt.pod, a, tt.now, 5*time.Second, st)
			if got := ansi.Strip(ep); got != tt.ep {
				t.Errorf("endpoint lane\n got %q\nwant %q", got, tt.ep)
			}
			if got := ansi.Strip(ct); got != tt.ct {
				t.Errorf("container lane\n got %q\nwant %q", got, tt.ct)
			}
		})
	}
}

func TestRuler(t *testing.T) {
	tests := []struct {
		name string
		a    axis
		want string
	}{
		// 10 s ticks are the first at least 7 columns apart; 30s still fits at column 37.
		{name: "seconds", a: axis{relative: true, span: 32 * time.Second, width: 40}, want: "0s          10s          20s         30s"},
		{name: "sub-second", a: axis{relative: true, span: 2 * time.Second, width: 30}, want: "0s     500ms   1s     1.5s    "},
		{name: "minutes", a: axis{relative: true, span: 5 * time.Minute, width: 30}, want: "0s          2m          4m    "},
		// Clock ticks sit on round times, at least 10 columns apart; 10:00:40 would not fit.
		{name: "clock", a: axis{t0: at(3), span: 40 * time.Second, width: 40}, want: "       10:00:10  10:00:20  10:00:30     "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderRuler(tt.a); got != tt.want {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSummaryText(t *testing.T) {
	tests := []struct {
		name  string
		snap  timeline.Snapshot
		width int
		want  []string
	}{
		{
			name: "rollout", snap: rolloutSnapshot(), width: 80,
			want: []string{"6 pod(s) terminated", "2 graceful · 1 incomplete · 1 at-risk · 1 failed · 1 killed · 1 terminating",
				"p50 5.30s", "svc/web ready endpoints 4 → min 2, dip of 2 (50%)", "sigkill-at-deadline", "terminationGracePeriodSeconds: 60"},
		},
		{name: "drain", snap: drainSnapshot(), width: 100, want: []string{"warning   events: forbidden"}},
		{name: "empty", snap: timeline.Snapshot{}, width: 0, want: []string{"no pod terminated while watching"}},
		{name: "narrow", snap: rolloutSnapshot(), width: 40, want: []string{"worst pods:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SummaryText(tt.snap, tt.width)
			w := tt.width
			if w == 0 {
				w = 80
			}
			for i, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				if ansi.StringWidth(l) > w {
					t.Errorf("line %d is wider than %d: %q", i, w, l)
				}
			}
			if strings.Contains(got, "\x1b") {
				t.Errorf("summary holds escape sequences")
			}
			if n := strings.Count(got, "\n"); n > 24 {
				t.Errorf("summary is %d lines, more than a screen", n)
			}
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("summary lacks %q", want)
				}
			}
			golden.RequireEqual(t, []byte(got))
		})
	}
}

// TestLargeList renders 1,000 pods and checks that only the rows on screen are drawn and that
// moving to the end keeps the frame intact.
func TestLargeList(t *testing.T) {
	m := newModel(testConfig())
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	s := bigSnapshot(1000)
	m.Update(updateMsg{snap: &s})
	frame := m.render()
	checkFrame(t, frame, 120, 40)
	rows := m.list.rows()
	if got := strings.Count(ansi.Strip(frame), "web-6b7f9c8d5-"); got != rows {
		t.Fatalf("frame shows %d pods, want the %d that fit", got, rows)
	}
	if p := m.list.selected(); p == nil || p.Name != "web-6b7f9c8d5-00999" {
		t.Fatalf("selection %v, want the newest pod", p)
	}
	for _, k := range press("g", "pgdown", "pgdown", "f", "s", "s", "enter", "G") {
		m.Update(k)
	}
	checkFrame(t, m.render(), 120, 40)
	if !strings.Contains(ansi.Strip(m.render()), "problems only · sort verdict · 27/1000 pods") {
		t.Fatalf("problem filter on 1,000 pods:\n%s", ansi.Strip(m.render()))
	}
}

// BenchmarkView is the cost of one frame with 1,000 pods at 120x40.
func BenchmarkView(b *testing.B) {
	m := newModel(testConfig())
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	s := bigSnapshot(1000)
	m.Update(updateMsg{snap: &s})
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkUpdateAndView is the cost of taking a new 1,000-pod snapshot (filter, sort, axis)
// and drawing it: the work behind each of the at most 30 update frames a second.
func BenchmarkUpdateAndView(b *testing.B) {
	m := newModel(testConfig())
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	s := bigSnapshot(1000)
	b.ReportAllocs()
	for b.Loop() {
		m.Update(updateMsg{snap: &s})
		_ = m.View()
	}
}
