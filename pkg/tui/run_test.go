package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// syncBuffer is a bytes.Buffer the program can write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sgrAttrs reports whether the output sets any foreground or background colour, and whether
// it sets bold.
func sgrAttrs(out string) (color, bold bool) {
	sgr := regexp.MustCompile(`\x1b\[([0-9;:]*)m`)
	for _, m := range sgr.FindAllStringSubmatch(out, -1) {
		params := strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' })
		for i := 0; i < len(params); i++ {
			n, _ := strconv.Atoi(params[i])
			switch {
			case n == 38 || n == 48:
				return true, bold
			case (n >= 30 && n <= 37) || (n >= 40 && n <= 47) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107):
				color = true
			case n == 1:
				bold = true
			}
		}
	}
	return color, bold
}

// runUI runs Run with one snapshot, waits until it is drawn, then quits with the key q.
func runUI(t *testing.T, cfg Config) (string, timeline.Snapshot) {
	t.Helper()
	inR, inW := io.Pipe()
	defer inW.Close()
	var out syncBuffer
	updates := make(chan Update)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type result struct {
		s   timeline.Snapshot
		err error
	}
	res := make(chan result, 1)
	go func() {
		s, err := Run(ctx, cfg, updates, inR, &out)
		res <- result{s, err}
	}()
	s := rolloutSnapshot()
	select {
	case updates <- Update{Snapshot: &s}:
	case <-time.After(10 * time.Second):
		t.Fatal("Run does not read updates")
	}
	waitFor(t, "the first frame", func() bool { return strings.Contains(out.String(), "qw7zt") })
	if _, err := inW.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-res:
		if r.err != nil {
			t.Fatalf("Run: %v", r.err)
		}
		return out.String(), r.s
	case <-time.After(10 * time.Second):
		t.Fatal("q did not end Run")
	}
	return "", timeline.Snapshot{}
}

func TestRunColorModes(t *testing.T) {
	tests := []struct {
		name      string
		color     string
		env       []string
		wantColor bool
	}{
		{name: "never on a truecolor terminal", color: ColorNever, env: []string{"TTY_FORCE=1", "TERM=xterm-256color", "COLORTERM=truecolor"}},
		{name: "auto honours NO_COLOR", color: ColorAuto, env: []string{"TTY_FORCE=1", "TERM=xterm-256color", "NO_COLOR=1"}},
		{name: "auto on a 256 colour terminal", color: "", env: []string{"TTY_FORCE=1", "TERM=xterm-256color"}, wantColor: true},
		{name: "auto when not a terminal", color: ColorAuto, env: []string{"TERM=xterm-256color"}},
		{name: "always beats NO_COLOR and a pipe", color: ColorAlways, env: []string{"TERM=dumb", "NO_COLOR=1"}, wantColor: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Color, cfg.Env = tt.color, tt.env
			out, final := runUI(t, cfg)
			color, bold := sgrAttrs(out)
			if color != tt.wantColor {
				t.Errorf("colour in output = %v, want %v", color, tt.wantColor)
			}
			if tt.color == ColorNever && !bold {
				t.Errorf("--color never dropped bold too; only colour should go")
			}
			if len(final.Pods) != 7 || !final.Time.Equal(at(44)) {
				t.Errorf("Run returned %d pods at %v, want the snapshot it was sent", len(final.Pods), final.Time)
			}
		})
	}
}

func TestRunEndsWithContext(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	var out syncBuffer
	updates := make(chan Update, 1)
	ctx, cancel := context.WithCancel(context.Background())
	s := rolloutSnapshot()
	updates <- Update{Snapshot: &s}
	done := make(chan error, 1)
	var final timeline.Snapshot
	go func() {
		var err error
		final, err = Run(ctx, testConfig(), updates, inR, &out)
		done <- err
	}()
	waitFor(t, "the first frame", func() bool { return strings.Contains(out.String(), "qw7zt") })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
		if len(final.Pods) != 7 {
			t.Fatalf("Run returned %d pods, want 7", len(final.Pods))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling ctx did not end Run")
	}
}

func TestPumpCoalesces(t *testing.T) {
	const every = 20 * time.Millisecond
	updates := make(chan Update)
	var mu sync.Mutex
	var got []updateMsg
	send := func(m tea.Msg) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m.(updateMsg))
	}
	done := make(chan struct{})
	go func() {
		pump(context.Background(), updates, send, every)
		close(done)
	}()

	start := time.Now()
	snaps := make([]timeline.Snapshot, 3000)
	for i := range snaps {
		snaps[i].Time = at(float64(i))
		updates <- Update{Snapshot: &snaps[i]}
		if i%500 == 0 {
			time.Sleep(3 * every)
		}
	}
	updates <- Update{Status: "synced"}
	updates <- Update{Err: errors.New("watch closed")}
	close(updates)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("pump did not return after the channel closed")
	}
	elapsed := time.Since(start)

	mu.Lock()
	defer mu.Unlock()
	if limit := int(elapsed/every) + 2; len(got) > limit || len(got) < 2 {
		t.Fatalf("%d messages in %v, want between 2 and %d (one per %v at most)", len(got), elapsed, limit, every)
	}
	merged := 0
	for _, m := range got {
		merged += m.merged
	}
	if merged != len(snaps)+2 {
		t.Fatalf("merged %d updates, want %d", merged, len(snaps)+2)
	}
	last := got[len(got)-1]
	if last.snap != &snaps[len(snaps)-1] || !last.done || !last.statusErr || last.status != "watch closed" {
		t.Fatalf("last message = %+v, want the newest snapshot, done, and the error", last)
	}
	t.Logf("%d updates in %v became %d messages", merged, elapsed, len(got))
}

func TestPumpStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		pump(ctx, make(chan Update), func(tea.Msg) { t.Error("nothing to send") }, time.Millisecond)
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pump ignored ctx")
	}
}

// TestFrameInterval pins the redraw budget: updates cause at most about 30 frames a second.
func TestFrameInterval(t *testing.T) {
	if fps := time.Second / frameInterval; fps > 31 || fps < 20 {
		t.Fatalf("frame interval %v gives %d frames/s", frameInterval, fps)
	}
}
