//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// A scenario measures seconds on a real cluster. When the whole machine stops (a virtual
// machine paused for a snapshot: the kernel logs "crng reseeded due to virtual machine fork")
// or no process is scheduled for seconds, every component resumes with the wall clock jumped
// ahead, and what the scenario measured is void. stallWatch notices such gaps: while a virtual
// machine is paused its monotonic clock may stand still (a kubelet once timed a preStop hook as
// 8 s that the wall clock saw take 33 s), so a tick that comes late by either clock is a stall.
type stallWatch struct {
	mu     sync.Mutex
	stalls []stall
}

type stall struct {
	at  time.Time // wall clock when the machine ran again
	gap time.Duration
}

const (
	stallTick      = 200 * time.Millisecond
	stallThreshold = 2 * time.Second
)

var stalls stallWatch

func (w *stallWatch) run() {
	prev := time.Now()
	for range time.Tick(stallTick) {
		now := time.Now()
		mono, wall := now.Sub(prev), now.Round(0).Sub(prev.Round(0))
		if gap := max(mono, wall) - stallTick; gap > stallThreshold {
			w.mu.Lock()
			w.stalls = append(w.stalls, stall{at: now.Round(0), gap: gap})
			w.mu.Unlock()
			fmt.Fprintf(os.Stderr, "e2e: STALL: nothing ran for %s (wall clock %s, monotonic %s) until %s\n",
				gap.Round(100*time.Millisecond), wall.Round(100*time.Millisecond), mono.Round(100*time.Millisecond), now.Format("15:04:05.000"))
		}
		prev = now
	}
}

// during returns the stalls that ended after since (wall clock).
func (w *stallWatch) during(since time.Time) []stall {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []stall
	for _, s := range w.stalls {
		if s.at.After(since.Round(0)) {
			out = append(out, s)
		}
	}
	return out
}

// stalledFailure is called when a scenario that started at start has failed: when the machine
// stalled meanwhile, it says so loudly and adds the top-level test to $DRAINWATCH_E2E_STALLED,
// the file test/cluster/e2e.sh reads to run such tests once more. A test that fails again is a
// failure.
func stalledFailure(name string, start time.Time, logf func(string, ...any)) {
	ss := stalls.during(start)
	if len(ss) == 0 {
		return
	}
	var gaps []string
	for _, s := range ss {
		gaps = append(gaps, fmt.Sprintf("%s until %s", s.gap.Round(100*time.Millisecond), s.at.Format("15:04:05")))
	}
	logf("STALL: the machine stopped during this scenario (%s): its timings are void", strings.Join(gaps, ", "))
	path := os.Getenv("DRAINWATCH_E2E_STALLED")
	if path == "" {
		return
	}
	top, _, _ := strings.Cut(name, "/")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = fmt.Fprintln(f, top)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		logf("cannot record the stalled test in %s: %v", path, err)
	}
}
