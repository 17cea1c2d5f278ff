package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/record"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// source is where deltas come from: a live cluster or a recording. Both feed the same pipeline.
type source struct {
	header record.Header
	// A recording sends its deltas on deltas and closes it at the end; a live watch signals
	// wake and the pipeline takes what is queued (take), up to ctx's end or done.
	deltas <-chan []timeline.Delta
	wake   <-chan struct{}
	take   func() []timeline.Delta
	// status carries progress and warnings, one line each.
	status <-chan string
	// done is closed, by the take that returns the last delta of it, when the watched rollout
	// or drain is complete (--until-done).
	done <-chan struct{}
	// err is read once deltas is closed: nil for a clean end.
	err func() error
	// pace says the deltas should be played back in recorded time.
	replay bool
	// warnings are what the watch or the recording could not show or had to drop; the
	// Summary lists them.
	warnings func() []string
}

// replaySource reads a recording; in the TUI it plays back at --speed, elsewhere at once.
func (o *Options) replaySource(ctx context.Context) (*source, error) {
	var f io.ReadCloser = io.NopCloser(o.In)
	if o.Replay != "-" {
		file, err := os.Open(o.Replay)
		if err != nil {
			return nil, &ExitError{Code: ExitRecording, Err: fmt.Errorf("cannot open recording: %v", oneLine(err))}
		}
		f = file
	}
	rd, h, err := record.NewReader(f)
	if err != nil {
		f.Close()
		return nil, &ExitError{Code: ExitRecording, Err: fmt.Errorf("%s: %v", o.Replay, err)}
	}
	deltas := make(chan []timeline.Delta, 4)
	status := make(chan string, 4)
	var rerr error
	var mu sync.Mutex
	var warnings []string
	warn := func(s string) {
		mu.Lock()
		warnings = append(warnings, s)
		mu.Unlock()
		sendStatus(ctx, status, "warning: "+s)
	}
	pace := o.Output == OutputTUI
	go func() {
		defer close(deltas)
		defer f.Close()
		// Deltas go out in batches of up to 256, one at a time when paced.
		var batch []timeline.Delta
		flush := func() bool {
			if len(batch) == 0 {
				return true
			}
			select {
			case deltas <- batch:
				batch = nil
				return true
			case <-ctx.Done():
				return false
			}
		}
		var prev, first time.Time
		clamped := 0
		defer func() {
			if clamped > 0 {
				warn(fmt.Sprintf("%s: %d change(s) had times out of order or impossible; each was set to the time of the change before it", o.Replay, clamped))
			}
		}()
		for {
			d, err := rd.Next()
			if err != nil && !flush() {
				return
			}
			if err == io.EOF {
				if rd.Truncated {
					warn(fmt.Sprintf("%s: the last line (%d) is cut off and was skipped", o.Replay, rd.Line()))
				}
				return
			}
			if err != nil {
				rerr = &ExitError{Code: ExitRecording, Err: fmt.Errorf("%s: %v", o.Replay, err)}
				return
			}
			if bad := d.Time.Year() < 2000 || d.Time.Year() > 2200; bad || d.Time.Before(prev) {
				// A recording is written in receive order; a time before the previous one, or
				// one no clock gives, was edited or damaged.
				clamped++
				switch {
				case !prev.IsZero():
					d.Time = prev
				case bad:
					d.Time = h.Start
				}
			}
			if first.IsZero() {
				first = d.Time
			}
			if o.Timeout > 0 && d.Time.Sub(first) > o.Timeout {
				if !flush() {
					return
				}
				sendStatus(ctx, status, fmt.Sprintf("--timeout %s reached in the recording's time", o.Timeout))
				return
			}
			if pace && !prev.IsZero() && d.Time.After(prev) {
				wait := time.Duration(float64(d.Time.Sub(prev)) / o.Speed)
				select {
				case <-time.After(min(wait, 10*time.Second)):
				case <-ctx.Done():
					return
				}
			}
			prev = d.Time
			if batch = append(batch, d); (pace || len(batch) == 256) && !flush() {
				return
			}
		}
	}()
	return &source{header: h, deltas: deltas, status: status, err: func() error { return rerr }, replay: true,
		warnings: func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(warnings)
		}}, nil
}

func sendStatus(ctx context.Context, ch chan<- string, s string) {
	select {
	case ch <- s:
	case <-ctx.Done():
	}
}

func (o *Options) source(ctx context.Context) (*source, error) {
	if o.Replay != "" {
		return o.replaySource(ctx)
	}
	return o.liveSource(ctx)
}

// sink receives what the pipeline produces.
type sink interface {
	// finished is called for each timeline as its termination completes.
	finished(tl timeline.PodTimeline) error
	// status is called for progress and warnings.
	status(s string)
	// changed says the engine state changed (live displays refresh from it).
	changed(eng *timeline.Engine)
	// end is called once with the timelines still open and the final summary.
	end(open []timeline.PodTimeline, sum timeline.Summary, snap timeline.Snapshot) error
}

// flusher is a sink that shows the engine state periodically.
type flusher interface {
	flush(eng *timeline.Engine, force bool)
}

// pipeline feeds deltas through the engine into a sink until the source ends, the target is
// done (--until-done) or ctx is cancelled. It returns the final snapshot.
func (o *Options) pipeline(ctx context.Context, src *source, s sink) (timeline.Snapshot, error) {
	eng := timeline.New(timeline.Config{DrainBudget: o.DrainBudget, Partial: src.header.Partial,
		Budgets: o.budget.budgets(src.header.TrafficPaths), Paths: src.header.TrafficPaths, PathGaps: src.header.TrafficPathGaps,
		Forget: o.forget, SummaryOnly: o.Output != OutputTUI && o.Report == ""})
	var rec *record.Writer
	if o.Record != "" {
		f, err := os.Create(o.Record)
		if err != nil {
			return timeline.Snapshot{}, usageErr("cannot write --record file: %v", oneLine(err))
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer bw.Flush()
		h := src.header
		if rec, err = record.NewWriter(bw, h); err != nil {
			return timeline.Snapshot{}, usageErr("cannot write --record file: %v", oneLine(err))
		}
		defer rec.Flush()
	}
	var last time.Time
	var srcErr error
	var tick <-chan time.Time
	fl, isFlusher := s.(flusher)
	if isFlusher {
		t := time.NewTicker(frame)
		defer t.Stop()
		tick = t.C
	}
	apply := func(batch []timeline.Delta) error {
		if len(batch) == 0 {
			return nil
		}
		for _, d := range batch {
			if rec != nil {
				if err := rec.Write(d); err != nil {
					return usageErr("cannot write --record file: %v", oneLine(err))
				}
			}
			last = d.Time
			for _, tl := range eng.Apply(d) {
				if err := s.finished(tl); err != nil {
					return err
				}
			}
		}
		s.changed(eng)
		return nil
	}
loop:
	for {
		select {
		case <-tick:
			fl.flush(eng, false)
		case <-src.wake:
			if err := apply(src.take()); err != nil {
				return timeline.Snapshot{}, err
			}
			// done closes in the take that reaches the end of an --until-done target: stop
			// there, before whatever came after it is taken.
			select {
			case <-src.done:
				break loop
			default:
			}
		case batch, ok := <-src.deltas:
			if !ok {
				srcErr = src.err()
				break loop
			}
			if err := apply(batch); err != nil {
				return timeline.Snapshot{}, err
			}
		case msg := <-src.status:
			s.status(msg)
		case <-ctx.Done():
			break loop
		}
	}
	// Warnings sent just before the end still belong to this run.
	for drained := false; !drained; {
		select {
		case msg := <-src.status:
			s.status(msg)
		default:
			drained = true
		}
	}
	if srcErr != nil {
		return timeline.Snapshot{}, srcErr
	}
	end := last
	switch {
	case !src.replay:
		end = time.Now()
	case end.IsZero() && !src.header.Start.IsZero():
		end = src.header.Start // a recording without a change
	case end.IsZero():
		end = time.Now().UTC()
	}
	open, sum := eng.Finish(end)
	if src.warnings != nil {
		sum.AddWarnings(src.warnings()...)
	}
	snap := eng.Snapshot()
	snap.Summary = sum
	if err := s.end(open, sum, snap); err != nil {
		return snap, err
	}
	return snap, nil
}

// exitFor is 0 when every termination finished, and gracefully.
func exitFor(sum timeline.Summary) error {
	if sum.Unfinished > 0 {
		return &ExitError{Code: ExitNotGraceful}
	}
	for v, n := range sum.Verdicts {
		if n > 0 && v != timeline.VerdictGraceful {
			return &ExitError{Code: ExitNotGraceful}
		}
	}
	return nil
}

// jsonSink writes one PodTimeline per line as each completes, then the Summary.
type jsonSink struct {
	enc    *json.Encoder
	errOut io.Writer
}

func newJSONSink(out, errOut io.Writer) *jsonSink {
	return &jsonSink{enc: json.NewEncoder(out), errOut: errOut}
}

func (j *jsonSink) finished(tl timeline.PodTimeline) error {
	if err := j.enc.Encode(tl); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func (j *jsonSink) status(s string) { fmt.Fprintln(j.errOut, textutil.Sanitize(s)) }

func (j *jsonSink) changed(*timeline.Engine) {}

func (j *jsonSink) end(open []timeline.PodTimeline, sum timeline.Summary, _ timeline.Snapshot) error {
	for _, tl := range open {
		if err := j.finished(tl); err != nil {
			return err
		}
	}
	if err := j.enc.Encode(sum); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// run executes the pipeline with the sink for the output mode and sets the exit code.
func (o *Options) run(ctx context.Context, src *source) error {
	var snap timeline.Snapshot
	var err error
	switch o.Output {
	case OutputJSON:
		snap, err = o.pipeline(ctx, src, newJSONSink(o.Out, o.ErrOut))
	case OutputText:
		snap, err = o.pipeline(ctx, src, newTextSink(o.Out, o.ErrOut, o.Color == "always"))
	case OutputTUI:
		snap, err = o.runTUI(ctx, src)
	}
	if err != nil {
		return err
	}
	if o.Report != "" {
		if err := o.writeReport(src, snap); err != nil {
			return err
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && o.UntilDone {
		fmt.Fprintf(o.ErrOut, "warning: --timeout %s reached before the rollout or drain was done\n", o.Timeout)
	}
	return exitFor(snap.Summary)
}
