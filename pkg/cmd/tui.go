package cmd

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/drainwatch/kubectl-drainwatch/pkg/report"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
	"github.com/drainwatch/kubectl-drainwatch/pkg/tui"
	"github.com/drainwatch/kubectl-drainwatch/pkg/version"
)

// frame is the shortest time between two snapshots sent to the TUI.
const frame = time.Second / 30

// tuiSink hands engine snapshots to the TUI, at most one per frame.
type tuiSink struct {
	ctx   context.Context
	ch    chan tui.Update
	last  time.Time
	dirty bool
}

func (t *tuiSink) send(u tui.Update) {
	select {
	case t.ch <- u:
	case <-t.ctx.Done():
	}
}

func (t *tuiSink) finished(timeline.PodTimeline) error { t.dirty = true; return nil }

func (t *tuiSink) status(s string) { t.send(tui.Update{Status: s}) }

func (t *tuiSink) changed(eng *timeline.Engine) {
	t.dirty = true
	t.flush(eng, false)
}

// flush sends a snapshot when one is due; the pipeline's ticker calls it so the last change
// of a quiet period is shown too.
func (t *tuiSink) flush(eng *timeline.Engine, force bool) {
	if !t.dirty || (!force && time.Since(t.last) < frame) {
		return
	}
	snap := eng.Snapshot()
	t.last, t.dirty = time.Now(), false
	t.send(tui.Update{Snapshot: &snap})
}

func (t *tuiSink) end(_ []timeline.PodTimeline, _ timeline.Summary, snap timeline.Snapshot) error {
	t.send(tui.Update{Snapshot: &snap, Done: true})
	return nil
}

// runTUI runs the pipeline in the background and the TUI in front; on quit it prints a
// one-screen summary that stays in the scrollback.
func (o *Options) runTUI(ctx context.Context, src *source) (timeline.Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sink := &tuiSink{ctx: ctx, ch: make(chan tui.Update, 16)}
	var snap timeline.Snapshot
	var perr error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		snap, perr = o.pipeline(ctx, src, sink)
		if perr != nil {
			sink.send(tui.Update{Err: perr, Done: true})
		}
	}()
	cfg := tui.Config{
		Context: src.header.Context, Namespace: src.header.Namespace, Target: src.header.Target,
		DrainBudget: o.DrainBudget, Color: o.Color, Replay: src.replay, Speed: o.Speed,
	}
	shown, err := tui.Run(ctx, cfg, sink.ch, o.In, o.Out)
	cancel()
	<-finished
	if err != nil {
		return snap, fmt.Errorf("terminal UI: %w", err)
	}
	if perr != nil {
		return snap, perr
	}
	if len(snap.Pods) == 0 && len(shown.Pods) > 0 {
		snap = shown
	}
	width := 80
	if f, ok := o.Out.(*os.File); ok {
		if w, _, err := term.GetSize(f.Fd()); err == nil && w > 0 {
			width = w
		}
	}
	fmt.Fprint(o.Out, tui.SummaryText(snap, width))
	return snap, nil
}

// writeReport writes the HTML report of --report.
func (o *Options) writeReport(src *source, snap timeline.Snapshot) error {
	f, err := os.Create(o.Report)
	if err != nil {
		return usageErr("cannot write --report file: %v", oneLine(err))
	}
	meta := report.Meta{
		Context: src.header.Context, ServerVersion: src.header.ServerVersion, Target: src.header.Target,
		Namespace: src.header.Namespace, Recording: o.Replay, Version: version.Get().Version,
		Generated: time.Now(), DrainBudget: o.DrainBudget,
	}
	if err := report.Write(f, meta, snap); err != nil {
		f.Close()
		return fmt.Errorf("writing --report: %w", err)
	}
	if err := f.Close(); err != nil {
		return usageErr("cannot write --report file: %v", oneLine(err))
	}
	fmt.Fprintf(o.ErrOut, "report written to %s\n", o.Report)
	return nil
}
