// Package tui is the live terminal UI of kubectl drainwatch: a header with the rollout or
// drain progress and the ready endpoints over time, one row per terminating pod with its
// endpoint and container lanes on a shared time axis, a detail pane with every mark and
// finding of the selected pod, and a footer with the status line and key help.
//
// The UI never reads the wall clock: every time it shows comes from the snapshots it is
// given, so the same snapshots always render the same screen. Text from the cluster is
// sanitized (see textutil.Sanitize) before it reaches the terminal.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Color modes of Config.Color.
const (
	ColorAuto   = "auto"
	ColorAlways = "always"
	ColorNever  = "never"
)

// Config describes what the UI shows about itself; it comes from the command's flags.
type Config struct {
	// Context, Namespace and Target are shown in the header ("" Namespace means all).
	Context, Namespace, Target string
	// DrainBudget is drawn after each endpoint went not ready; 0 means
	// timeline.DefaultDrainBudget.
	DrainBudget time.Duration
	// Color is ColorAuto (the default when ""), ColorAlways or ColorNever. Auto follows the
	// terminal and honours NO_COLOR; never keeps bold and reverse but no colour; always forces
	// colour even when NO_COLOR is set or the output is not a terminal.
	Color string
	// Replay and Speed are shown in the header when replaying a recording.
	Replay bool
	Speed  float64
	// Env is the environment used to detect the terminal (TERM, COLORTERM, NO_COLOR, ...);
	// nil means os.Environ().
	Env []string
}

// Update is one message from the watch side to the UI. Fields combine as follows:
//   - Snapshot, when not nil, replaces what is shown. The UI keeps the value and reads it from
//     its own goroutine: the sender must not modify it (or the slices in it) afterwards.
//   - Err, when not nil, is shown in the status line in red (e.g. a lost watch).
//   - Status, when not empty, is shown in the status line (e.g. "syncing caches"); one that
//     starts with "warning" is shown as a warning. An Update carrying nothing but an empty
//     Status clears the status line.
//   - Done says the stream ended (replay finished, --until-done reached): the UI says so and
//     stays until the user quits. Closing the channel means the same.
//
// Several updates sent faster than the UI redraws are merged: the newest Snapshot wins, and
// the newest status message (Err or Status) wins.
type Update struct {
	Snapshot *timeline.Snapshot
	Status   string
	Err      error
	Done     bool
}

// frameInterval bounds redraws caused by updates to about 30 per second.
const frameInterval = time.Second / 30

// updateMsg is one or more Updates merged for one frame.
type updateMsg struct {
	snap      *timeline.Snapshot
	statusSet bool
	status    string
	statusErr bool
	done      bool
	merged    int
}

func (m *updateMsg) merge(u Update) {
	m.merged++
	if u.Snapshot != nil {
		m.snap = u.Snapshot
	}
	switch {
	case u.Err != nil:
		m.statusSet, m.status, m.statusErr = true, u.Err.Error(), true
	case u.Status != "" || (u.Snapshot == nil && !u.Done):
		m.statusSet, m.status, m.statusErr = true, u.Status, false
	}
	if u.Done {
		m.done = true
	}
}

// pump moves updates to the program, merging everything that arrives within one frame
// interval into a single message so that a burst of changes costs one redraw. It returns when
// ctx is done, or after the last message once updates is closed.
func pump(ctx context.Context, updates <-chan Update, send func(tea.Msg), every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var pending updateMsg
	has := false
	in := updates
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-in:
			if !ok {
				in = nil
				pending.done, has = true, true
				continue
			}
			pending.merge(u)
			has = true
		case <-tick.C:
			if has {
				send(pending)
				pending, has = updateMsg{}, false
			}
			if in == nil {
				return
			}
		}
	}
}

// Run shows the UI on out, reading keys and mouse from in (nil disables input), until the
// user quits (q, Ctrl+C) or ctx is done. It returns the newest snapshot it received, also
// when the display was paused, so that the caller can print SummaryText after the terminal
// has been restored. Quitting by key and ctx being done are normal ends (nil error); the
// caller cancels its own ctx after Run returns, which is what stops the watch on Ctrl+C.
// The sender of updates must select on ctx.Done() as well: once Run returned, nobody reads
// the channel. When out is not a terminal the UI is drawn at 80x24.
func Run(ctx context.Context, cfg Config, updates <-chan Update, in io.Reader, out io.Writer) (timeline.Snapshot, error) {
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	m := newModel(cfg)
	opts := []tea.ProgramOption{
		tea.WithContext(ctx),
		tea.WithInput(in),
		tea.WithOutput(out),
		tea.WithEnvironment(env),
	}
	if p, ok := colorProfile(cfg.Color, out, env); ok {
		opts = append(opts, tea.WithColorProfile(p))
	}
	if f, ok := out.(term.File); !ok || !term.IsTerminal(f.Fd()) {
		// Not a terminal (a pipe, a test buffer): nothing reports a size, so draw 80x24.
		opts = append(opts, tea.WithWindowSize(80, 24))
	}
	prog := tea.NewProgram(m, opts...)

	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pump(pctx, updates, prog.Send, frameInterval)
	}()
	_, err := prog.Run()
	stop()
	wg.Wait()

	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted):
		return m.latest, nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return m.latest, nil
	}
	return m.latest, fmt.Errorf("terminal UI: %w", err)
}

// colorProfile turns the --color flag into a colour profile; ok is false for auto, where the
// program detects the profile itself from out and env (NO_COLOR included).
func colorProfile(mode string, out io.Writer, env []string) (colorprofile.Profile, bool) {
	switch mode {
	case ColorNever:
		return colorprofile.ASCII, true
	case ColorAlways:
		forced := make([]string, 0, len(env)+1)
		for _, kv := range env {
			if !strings.HasPrefix(kv, "NO_COLOR=") {
				forced = append(forced, kv)
			}
		}
		forced = append(forced, "CLICOLOR_FORCE=1")
		return max(colorprofile.Detect(out, forced), colorprofile.ANSI256), true
	}
	return 0, false
}
