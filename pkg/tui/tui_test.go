package tui

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ptrv "k8s.io/utils/ptr"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

func testConfig() Config {
	return Config{Context: "kind-dw", Namespace: "shop", Target: "deployment/web"}
}

// press turns key names as the help shows them into key messages.
func press(keys ...string) []tea.Msg {
	var msgs []tea.Msg
	for _, k := range keys {
		switch k {
		case "enter":
			msgs = append(msgs, tea.KeyPressMsg{Code: tea.KeyEnter})
		case "esc":
			msgs = append(msgs, tea.KeyPressMsg{Code: tea.KeyEscape})
		case "up":
			msgs = append(msgs, tea.KeyPressMsg{Code: tea.KeyUp})
		case "down":
			msgs = append(msgs, tea.KeyPressMsg{Code: tea.KeyDown})
		case "space":
			msgs = append(msgs, tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
		case "backspace":
			msgs = append(msgs, tea.KeyPressMsg{Code: tea.KeyBackspace})
		case "pgdown":
			msgs = append(msgs, tea.KeyPressMsg{Code: tea.KeyPgDown})
		case "ctrl+c":
			msgs = append(msgs, tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
		default:
			for _, r := range k {
				msgs = append(msgs, tea.KeyPressMsg{Code: r, Text: string(r)})
			}
		}
	}
	return msgs
}

// runProgram runs the model in a real tea.Program through teatest, sends msgs, quits, and
// returns the final model and everything the program wrote to its terminal.
func runProgram(t *testing.T, w, h int, cfg Config, msgs ...tea.Msg) (*model, []byte) {
	t.Helper()
	tm := teatest.NewTestModel(t, newModel(cfg), teatest.WithInitialTermSize(w, h))
	for _, m := range msgs {
		tm.Send(m)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm, ok := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*model)
	if !ok {
		t.Fatalf("final model is %T", fm)
	}
	out, err := io.ReadAll(tm.FinalOutput(t))
	if err != nil {
		t.Fatal(err)
	}
	return fm, out
}

func snap(s timeline.Snapshot) tea.Msg { return updateMsg{snap: &s} }

// checkFrame asserts the invariants of every frame: exactly h lines, none wider than w.
func checkFrame(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Errorf("%dx%d: frame has %d lines, want %d", w, h, len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("%dx%d: line %d is %d cells wide: %q", w, h, i, lw, ansi.Strip(l))
		}
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		cfg  Config
		msgs []tea.Msg
	}{
		{name: "empty_80x24", w: 80, h: 24, cfg: testConfig()},
		{name: "rollout_80x24", w: 80, h: 24, cfg: testConfig(), msgs: []tea.Msg{snap(rolloutSnapshot())}},
		{name: "rollout_120x40", w: 120, h: 40, cfg: testConfig(), msgs: []tea.Msg{snap(rolloutSnapshot())}},
		{
			name: "narrow_64x16", w: 64, h: 16, cfg: testConfig(),
			msgs: []tea.Msg{snap(rolloutSnapshot()), updateMsg{statusSet: true, status: "warning: events are rate limited"}},
		},
		{
			name: "detail_killed_80x24", w: 80, h: 24, cfg: testConfig(),
			msgs: append([]tea.Msg{snap(rolloutSnapshot())}, press("g", "down", "down", "enter")...),
		},
		{
			name: "detail_killed_scrolled_80x24", w: 80, h: 24, cfg: testConfig(),
			msgs: append([]tea.Msg{snap(rolloutSnapshot())}, press("g", "down", "down", "enter", "pgdown")...),
		},
		{
			name: "detail_atrisk_120x40", w: 120, h: 40, cfg: testConfig(),
			msgs: append([]tea.Msg{snap(rolloutSnapshot())}, press("f", "s", "s", "down", "enter")...),
		},
		{
			name: "problems_by_verdict_120x40", w: 120, h: 40, cfg: testConfig(),
			msgs: append([]tea.Msg{snap(rolloutSnapshot())}, press("f", "s", "s")...),
		},
		{
			name: "filter_typing_80x24", w: 80, h: 24, cfg: testConfig(),
			msgs: append([]tea.Msg{snap(rolloutSnapshot())}, press("/", "8fj")...),
		},
		{
			name: "help_80x24", w: 80, h: 24, cfg: testConfig(),
			msgs: append([]tea.Msg{snap(rolloutSnapshot())}, press("?")...),
		},
		{
			name: "clock_axis_120x40", w: 120, h: 40, cfg: testConfig(),
			msgs: append([]tea.Msg{snap(rolloutSnapshot())}, press("a")...),
		},
		{
			name: "drain_replay_120x40", w: 120, h: 40,
			cfg: Config{Context: "kind-dw", Target: "node/kind-worker", Replay: true, Speed: 4},
			msgs: []tea.Msg{
				snap(drainSnapshot()),
				updateMsg{statusSet: true, status: "watch on events failed: forbidden; retrying", statusErr: true},
				updateMsg{done: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fm, _ := runProgram(t, tt.w, tt.h, tt.cfg, tt.msgs...)
			frame := fm.View().Content
			checkFrame(t, frame, tt.w, tt.h)
			golden.RequireEqual(t, []byte(ansi.Strip(frame)+"\n"))
		})
	}
}

// TestGoldenStyled keeps the styling of one frame: colours, bold, the selection marker.
func TestGoldenStyled(t *testing.T) {
	fm, _ := runProgram(t, 80, 24, testConfig(), snap(rolloutSnapshot()))
	golden.RequireEqual(t, []byte(fm.View().Content+"\n"))
}

func TestKeys(t *testing.T) {
	type check func(t *testing.T, m *model, cmd tea.Cmd)
	names := func(want ...string) check {
		return func(t *testing.T, m *model, _ tea.Cmd) {
			t.Helper()
			var got []string
			for _, i := range m.list.idx {
				got = append(got, strings.TrimPrefix(m.list.pods[i].Name, "web-6b7f9c8d5-"))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("pods shown = %v, want %v", got, want)
			}
		}
	}
	quits := func(want bool) check {
		return func(t *testing.T, _ *model, cmd tea.Cmd) {
			t.Helper()
			got := false
			if cmd != nil {
				_, got = cmd().(tea.QuitMsg)
			}
			if got != want {
				t.Errorf("quit = %v, want %v", got, want)
			}
		}
	}
	contains := func(want ...string) check {
		return func(t *testing.T, m *model, _ tea.Cmd) {
			t.Helper()
			frame := ansi.Strip(m.render())
			for _, w := range want {
				if !strings.Contains(frame, w) {
					t.Errorf("frame lacks %q:\n%s", w, frame)
				}
			}
		}
	}
	lacks := func(want ...string) check {
		return func(t *testing.T, m *model, _ tea.Cmd) {
			t.Helper()
			frame := ansi.Strip(m.render())
			for _, w := range want {
				if strings.Contains(frame, w) {
					t.Errorf("frame has %q:\n%s", w, frame)
				}
			}
		}
	}
	selected := func(want string) check {
		return func(t *testing.T, m *model, _ tea.Cmd) {
			t.Helper()
			p := m.list.selected()
			if p == nil || !strings.HasSuffix(p.Name, want) {
				t.Errorf("selected = %v, want …%s", p, want)
			}
		}
	}
	all := []string{"2xk9p", "8fj2m", "qw7zt", "r4n8s", "zt5vb", "m9d2c", "h7w4q"}
	tests := []struct {
		name   string
		msgs   []tea.Msg
		checks []check
	}{
		{name: "start order, follows newest", checks: []check{names(all...), selected("h7w4q"), quits(false)}},
		{name: "filter by name", msgs: press("/", "QW"), checks: []check{names("qw7zt"), contains("/QW█"), quits(false)}},
		{name: "filter by node", msgs: press("/", "worker2", "enter"), checks: []check{names("8fj2m", "r4n8s", "m9d2c"), contains(`filter "worker2"`)}},
		{name: "filter backspace", msgs: press("/", "qwx", "backspace"), checks: []check{names("qw7zt")}},
		{name: "filter q does not quit", msgs: press("/", "q"), checks: []check{quits(false)}},
		{name: "filter esc clears", msgs: press("/", "qw", "esc"), checks: []check{names(all...), lacks(`filter "`)}},
		{name: "esc clears kept filter", msgs: press("/", "qw", "enter", "esc"), checks: []check{names(all...)}},
		{name: "filter with no match", msgs: press("/", "nope", "enter"), checks: []check{names(), contains("no pod matches the filter")}},
		{name: "sort by duration", msgs: press("s"), checks: []check{names("qw7zt", "2xk9p", "8fj2m", "zt5vb", "h7w4q", "m9d2c", "r4n8s"), contains("sort duration")}},
		{name: "sort by verdict", msgs: press("s", "s"), checks: []check{names("qw7zt", "zt5vb", "r4n8s", "m9d2c", "2xk9p", "8fj2m", "h7w4q"), contains("sort verdict")}},
		{name: "sort wraps to start", msgs: press("s", "s", "s"), checks: []check{names(all...), contains("sort start")}},
		{name: "problems only", msgs: press("f"), checks: []check{names("qw7zt", "r4n8s", "zt5vb"), contains("problems only", "3/7 pods")}},
		{name: "problems toggles back", msgs: press("f", "f"), checks: []check{names(all...)}},
		{name: "selection keeps its pod across sorts", msgs: press("g", "down", "down", "s"), checks: []check{selected("qw7zt")}},
		{name: "up down j k", msgs: press("g", "j", "j", "k", "down", "up"), checks: []check{selected("8fj2m")}},
		{name: "bottom", msgs: press("g", "G"), checks: []check{selected("h7w4q")}},
		{name: "detail", msgs: press("g", "down", "down", "enter"), checks: []check{contains("MARKS", "web-6b7f9c8d5-qw7zt  ✕ killed", "pod 3 of 7")}},
		{name: "detail follows selection", msgs: press("g", "enter", "down", "down", "down"), checks: []check{contains("web-6b7f9c8d5-r4n8s  ▲ at-risk", "pod 4 of 7")}},
		{name: "detail closes on esc", msgs: press("enter", "esc"), checks: []check{lacks("MARKS"), contains("POD")}},
		{name: "detail closes on enter", msgs: press("enter", "enter"), checks: []check{lacks("MARKS")}},
		{name: "quit q", msgs: press("q"), checks: []check{quits(true)}},
		{name: "quit ctrl+c", msgs: press("ctrl+c"), checks: []check{quits(true)}},
		{name: "quit ctrl+c while filtering", msgs: press("/", "ctrl+c"), checks: []check{quits(true)}},
		{name: "full help", msgs: press("?"), checks: []check{contains("page down", "ep (endpoint): ━ ready", "less", "quit", "pause/follow", "┆ grace deadline")}},
		{name: "clock axis", msgs: press("a"), checks: []check{contains("clock axis", "10:00:30")}},
		{
			name:   "wheel moves selection",
			msgs:   append(press("g"), tea.MouseWheelMsg{Button: tea.MouseWheelDown, Y: 10}, tea.MouseWheelMsg{Button: tea.MouseWheelDown, Y: 10}),
			checks: []check{selected("qw7zt")},
		},
		{
			// The list starts on row 4 (after the header); its ruler takes a row, then two rows
			// per pod: row 9 is the first lane of the third pod.
			name:   "click selects",
			msgs:   []tea.Msg{tea.MouseClickMsg{Button: tea.MouseLeft, Y: 9}},
			checks: []check{selected("qw7zt")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModel(testConfig())
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			s := rolloutSnapshot()
			m.Update(updateMsg{snap: &s})
			var cmd tea.Cmd
			for _, msg := range tt.msgs {
				_, cmd = m.Update(msg)
			}
			for _, c := range tt.checks {
				c(t, m, cmd)
			}
			checkFrame(t, m.render(), 80, 24)
		})
	}
}

func TestPauseAndFollow(t *testing.T) {
	m := newModel(testConfig())
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	first, second := rolloutSnapshot(), bigSnapshot(40)
	m.Update(updateMsg{snap: &first})
	m.Update(press("space")[0])
	m.Update(updateMsg{snap: &second})
	m.Update(updateMsg{snap: &second})
	frame := ansi.Strip(m.render())
	if len(m.list.pods) != len(first.Pods) || !strings.Contains(frame, "paused (2 new)") {
		t.Fatalf("paused view changed or does not say so: %d pods\n%s", len(m.list.pods), frame)
	}
	if len(m.latest.Pods) != 40 {
		t.Fatalf("latest snapshot not kept while paused: %d pods", len(m.latest.Pods))
	}
	m.Update(press("space")[0])
	frame = ansi.Strip(m.render())
	if len(m.list.pods) != 40 || !strings.Contains(frame, "following") {
		t.Fatalf("follow did not catch up: %d pods\n%s", len(m.list.pods), frame)
	}
	// Following: the cursor was on the newest pod, so it stays on the newest pod.
	if p := m.list.selected(); p == nil || p.Name != "web-6b7f9c8d5-00039" {
		t.Fatalf("selected %v, want the newest pod", p)
	}
}

func TestStatusLine(t *testing.T) {
	m := newModel(testConfig())
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	var u updateMsg
	u.merge(Update{Status: "syncing caches"})
	m.Update(u)
	if f := ansi.Strip(m.render()); !strings.Contains(f, "syncing caches") {
		t.Fatalf("status not shown:\n%s", f)
	}
	s := rolloutSnapshot()
	u = updateMsg{}
	u.merge(Update{Snapshot: &s})
	m.Update(u)
	if f := ansi.Strip(m.render()); !strings.Contains(f, "syncing caches") {
		t.Fatalf("a snapshot without status cleared the status:\n%s", f)
	}
	u = updateMsg{}
	u.merge(Update{Err: io.ErrUnexpectedEOF})
	m.Update(u)
	if f := ansi.Strip(m.render()); !strings.Contains(f, "✗ unexpected EOF") {
		t.Fatalf("error not shown:\n%s", f)
	}
	u = updateMsg{}
	u.merge(Update{})
	m.Update(u)
	if f := ansi.Strip(m.render()); strings.Contains(f, "unexpected EOF") {
		t.Fatalf("empty status did not clear the line:\n%s", f)
	}
	u = updateMsg{}
	u.merge(Update{Done: true})
	m.Update(u)
	if f := ansi.Strip(m.render()); !strings.Contains(f, "watch ended") {
		t.Fatalf("done not shown:\n%s", f)
	}
}

// TestResize checks that every size, from tiny to wide, gives a frame of exactly the terminal's
// height with no line wider than the terminal, in every mode.
func TestResize(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}, {50, 12}, {60, 20}, {200, 60}, {81, 25}, {99, 30}, {100, 30}, {300, 10}, {49, 30}, {20, 5}, {1, 1}}
	modes := map[string][]tea.Msg{
		"list":   nil,
		"detail": press("g", "down", "down", "enter"),
		"help":   press("?"),
		"both":   press("enter", "?"),
		"filter": press("/", "web"),
	}
	for name, keys := range modes {
		m := newModel(testConfig())
		s := rolloutSnapshot()
		m.Update(updateMsg{snap: &s})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		for _, k := range keys {
			m.Update(k)
		}
		for _, sz := range sizes {
			m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			frame := m.render()
			if sz[0] < minWidth || sz[1] < minHeight {
				if lines := strings.Split(frame, "\n"); len(lines) != 1 || ansi.StringWidth(frame) > sz[0] {
					t.Errorf("%s %v: too-small notice is %q", name, sz, frame)
				}
				continue
			}
			t.Run(name, func(t *testing.T) { checkFrame(t, frame, sz[0], sz[1]) })
		}
	}

	// The same through a running program: resizes arrive as messages between updates. The
	// program starts at the final size too, since its own first size message may come late.
	msgs := []tea.Msg{snap(rolloutSnapshot())}
	for _, sz := range sizes {
		msgs = append(msgs, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
	}
	msgs = append(msgs, tea.WindowSizeMsg{Width: 90, Height: 28})
	fm, _ := runProgram(t, 90, 28, testConfig(), msgs...)
	if fm.width != 90 || fm.height != 28 {
		t.Fatalf("final size %dx%d, want 90x28", fm.width, fm.height)
	}
	checkFrame(t, fm.View().Content, 90, 28)
}

// TestSanitizedOutput puts escape sequences everywhere cluster text appears and checks that
// none reaches the terminal: they are shown as inert text instead. Cluster text is sanitized
// once, by the engine that builds the snapshot (timeline's clean), so the snapshot comes from
// an engine fed hostile deltas.
func TestSanitizedOutput(t *testing.T) {
	const evil = "\x1b]0;pwned\x07\x1b[31m"
	s := hostileSnapshot(evil)
	if len(s.Pods) != 1 || len(s.Pods[0].Findings) == 0 {
		t.Fatalf("hostile snapshot: %+v", s.Pods)
	}
	s.Summary.AddWarnings("warning " + evil) // a watch warning quoting cluster text

	msgs := []tea.Msg{snap(s), updateMsg{statusSet: true, status: "status " + evil, statusErr: true}}
	msgs = append(msgs, press("g", "enter")...)
	fm, raw := runProgram(t, 120, 40, testConfig(), msgs...)
	// The renderer writes its own CSI sequences; the OSC title and the BEL are what only the
	// payload could have brought.
	for _, bad := range []string{"\x1b]0;pwned", "\x07"} {
		if bytes.Contains(raw, []byte(bad)) {
			t.Errorf("terminal output contains raw %q", bad)
		}
	}
	if !bytes.Contains(raw, []byte(`\x1b]0;pwned`)) {
		t.Errorf("terminal output does not show the payload as text")
	}
	frame := ansi.Strip(fm.View().Content)
	if !strings.Contains(frame, `\x1b]0;pwned\x07\x1b[31m`) {
		t.Errorf("escaped text not shown:\n%s", frame)
	}

	// The detail pane, scrolled through, shows the finding and its fix inert too.
	m := newModel(testConfig())
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(updateMsg{snap: &s})
	for _, k := range press("g", "enter") {
		m.Update(k)
	}
	var seen strings.Builder
	for range 40 {
		seen.WriteString(m.render())
		m.Update(press("J")[0])
	}
	out := seen.String()
	for _, bad := range []string{"\x1b]0;pwned", "\x07", "\x1b[2J"} {
		if strings.Contains(out, bad) {
			t.Errorf("detail contains raw %q", bad)
		}
	}
	for _, want := range []string{`Stopping container app\x1b]0;pwned`, `exit 137`} {
		if !strings.Contains(ansi.Strip(out), want) {
			t.Errorf("detail does not show %q inert", want)
		}
	}
	if sum := SummaryText(s, 120); strings.ContainsAny(sum, "\x1b\x07") {
		t.Errorf("summary contains control characters:\n%q", sum)
	}
}

// hostileSnapshot is what the engine makes of a pod whose names, reasons and messages carry
// the payload: killed at its deadline behind a Service whose name carries it too.
func hostileSnapshot(evil string) timeline.Snapshot {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	ctrl := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1" + evil, Namespace: "shop", UID: "u1",
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-5d4f" + evil, Controller: &ctrl}}},
		Spec: corev1.PodSpec{NodeName: "node" + evil, TerminationGracePeriodSeconds: ptrv.To(int64(3)),
			Containers: []corev1.Container{{Name: "app", Command: []string{"sh", "-c", "sleep 9 " + evil}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "web" + evil, Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: "web" + evil}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptrv.To(true)},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: pod.Name, UID: pod.UID}}},
	}
	e := timeline.New(timeline.Config{})
	e.Apply(timeline.Delta{Time: at(0), Type: timeline.Added, Pod: pod.DeepCopy()})
	e.Apply(timeline.Delta{Time: at(0), Type: timeline.Added, Slice: slice.DeepCopy()})
	dl := metav1.NewTime(at(4))
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &dl, ptrv.To(int64(3))
	e.Apply(timeline.Delta{Time: at(1), Type: timeline.Modified, Pod: pod.DeepCopy()})
	slice.Endpoints[0].Conditions = discoveryv1.EndpointConditions{Ready: ptrv.To(false), Serving: ptrv.To(true), Terminating: ptrv.To(true)}
	e.Apply(timeline.Delta{Time: at(1.05), Type: timeline.Modified, Slice: slice.DeepCopy()})
	e.Apply(timeline.Delta{Time: at(1.1), Type: timeline.Added, Event: &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e1", Namespace: "shop", UID: "e1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: pod.Name, UID: pod.UID, FieldPath: "spec.containers{app}"},
		Reason:         "Killing", Message: "Stopping container app" + evil}})
	pod.Status.Phase = corev1.PodFailed
	pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 137, Reason: "Error" + evil, Message: "killed" + evil, FinishedAt: metav1.NewTime(at(4))}}
	e.Apply(timeline.Delta{Time: at(4.2), Type: timeline.Modified, Pod: pod.DeepCopy()})
	return e.Snapshot()
}

// A drain held up by a PodDisruptionBudget shows as blocked in the header, live.
func TestHeaderShowsBlockedDrain(t *testing.T) {
	s := rolloutSnapshot()
	s.Nodes = []timeline.NodeState{{Name: "kind-worker", Unschedulable: true}}
	s.Summary.Blockers = []timeline.Blocker{{Kind: timeline.KindPDB, Name: "web", Namespace: "shop", Waiting: []string{"web-1", "web-2"}}}
	m := newModel(testConfig())
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
	m.Update(updateMsg{snap: &s})
	if out := ansi.Strip(m.render()); !strings.Contains(out, "blocked by pdb/web (2 waiting)") {
		t.Errorf("header does not show the blocked drain:\n%s", out)
	}
}
