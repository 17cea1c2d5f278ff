package watch

import (
	"context"
	"sync"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// stream merges the handlers of all informers, each running on its own goroutine, into one
// ordered sequence. A delta is stamped and queued under one lock, so stream order and time
// order agree. The queue is unbounded so a slow consumer never delays a handler (and with it
// the receive time of everything behind it); the informers buffer without bound anyway.
type stream struct {
	clock func() time.Time

	mu    sync.Mutex
	items []timeline.Delta
	// doneAt is where in items the target finished (-1: not there).
	doneAt  int
	tracker *doneTracker
	wake    chan struct{}
}

func newStream(clock func() time.Time, tracker *doneTracker) *stream {
	return &stream{clock: clock, tracker: tracker, doneAt: -1, wake: make(chan struct{}, 1)}
}

// push stamps d with the receive time and queues it.
func (s *stream) push(d timeline.Delta) {
	s.mu.Lock()
	d.Time = s.clock()
	s.items = append(s.items, d)
	s.tracker.observe(d)
	if d.Event == nil && d.Slice == nil {
		// Only pods, ReplicaSets and nodes can finish a target; Events and EndpointSlices,
		// most of the stream, need no check.
		s.checkLocked()
	}
	s.mu.Unlock()
	s.signal()
}

// deployment feeds the target Deployment to the done check; it is not a delta.
func (s *stream) workload(obj any, deleted bool) {
	s.mu.Lock()
	s.tracker.observeWorkload(obj, deleted)
	s.checkLocked()
	s.mu.Unlock()
	s.signal()
}

// synced tells the done check that every informer has listed.
func (s *stream) synced() {
	s.mu.Lock()
	s.tracker.synced = true
	s.checkLocked()
	s.mu.Unlock()
	s.signal()
}

// checkLocked marks the point where the target finished; the tracker says so once.
func (s *stream) checkLocked() {
	if s.tracker.check() {
		s.doneAt = len(s.items)
	}
}

func (s *stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run sends what is queued on out, in batches, until ctx ends, and closes done when it reaches
// the point where the target finished. A batch is everything queued since the last one, so a
// busy consumer takes many deltas per hand-over. out is unbuffered, so when done closes the
// consumer has received every delta before it; and once it received a batch it is done with
// the one before, whose array is then reused.
func (s *stream) run(ctx context.Context, out chan<- []timeline.Delta, done chan<- struct{}) {
	var sent, spare []timeline.Delta
	for {
		s.mu.Lock()
		batch, doneAt := s.items, s.doneAt
		s.items, s.doneAt = spare[:0], -1
		s.mu.Unlock()
		spare = nil
		parts := [2][]timeline.Delta{batch}
		if doneAt >= 0 {
			parts = [2][]timeline.Delta{batch[:doneAt:doneAt], batch[doneAt:]}
		}
		handed := false
		for i, part := range parts {
			if i == 1 && doneAt >= 0 {
				close(done)
			}
			if len(part) == 0 {
				continue
			}
			select {
			case out <- part:
				handed = true
			case <-ctx.Done():
				return
			}
		}
		if !handed {
			spare = batch[:0]
			if doneAt >= 0 {
				continue
			}
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		clear(sent) // let the objects go
		spare, sent = sent[:0], batch
	}
}
