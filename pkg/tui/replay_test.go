package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/drainwatch/kubectl-drainwatch/pkg/record"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// TestRecordings replays every shipped recording through the engine and draws a frame after
// each change, at 80x24 and 120x40 in turn, with the detail pane open for the second half:
// every frame must fit the terminal exactly. DRAINWATCH_RECORDINGS (a glob) replaces the
// shipped recordings.
func TestRecordings(t *testing.T) {
	glob := os.Getenv("DRAINWATCH_RECORDINGS")
	if glob == "" {
		glob = filepath.Join("..", "..", "examples", "*.ndjson")
	}
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no recordings match %s: nothing to replay", glob)
	}
	sizes := [][2]int{{80, 24}, {120, 40}}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".ndjson"), func(t *testing.T) {
			h, deltas, err := record.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			eng := timeline.New(timeline.Config{Partial: h.Partial})
			m := newModel(Config{Context: h.Context, Namespace: h.Namespace, Target: h.Target, Replay: true, Speed: 1})
			for i, d := range deltas {
				eng.Apply(d)
				s := eng.Snapshot()
				sz := sizes[i%len(sizes)]
				m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				if i == len(deltas)/2 {
					m.Update(press("enter")[0])
				}
				m.Update(updateMsg{snap: &s})
				checkFrame(t, m.render(), sz[0], sz[1])
				if t.Failed() {
					t.Fatalf("after delta %d of %d", i+1, len(deltas))
				}
			}
			m.Update(updateMsg{done: true})
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			// Walk the detail of every pod of the final state.
			for range m.list.idx {
				checkFrame(t, m.render(), 120, 40)
				m.Update(press("down")[0])
			}
			if !strings.Contains(ansi.Strip(m.render()), "replay finished") {
				t.Errorf("final frame does not say the replay finished")
			}
			final := eng.Snapshot()
			// A recording shows terminations, or (a stalled drain) what holds them up.
			if len(final.Pods) == 0 && len(final.Summary.Blockers) == 0 {
				t.Errorf("the recording shows no terminating pod and no blocker")
			}
			if len(final.Summary.Blockers) > 0 && !strings.Contains(ansi.Strip(m.render()), "blocked by pdb/") {
				t.Errorf("a blocked drain is not shown:\n%s", ansi.Strip(m.render()))
			}
			for _, l := range strings.Split(strings.TrimSuffix(SummaryText(final, 80), "\n"), "\n") {
				if ansi.StringWidth(l) > 80 {
					t.Errorf("summary line wider than 80: %q", l)
				}
			}
			t.Logf("%d deltas, %d pods, %d frames checked", len(deltas), len(final.Pods), len(deltas)+len(m.list.idx))
		})
	}
}
