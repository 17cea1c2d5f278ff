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

	mu      sync.Mutex
	items   []item
	tracker *doneTracker
	wake    chan struct{}
}

// item is a delta, or the point in the stream where the target finished.
type item struct {
	delta timeline.Delta
	done  bool
}

func newStream(clock func() time.Time, tracker *doneTracker) *stream {
	return &stream{clock: clock, tracker: tracker, wake: make(chan struct{}, 1)}
}

// push stamps d with the receive time and queues it.
func (s *stream) push(d timeline.Delta) {
	s.mu.Lock()
	d.Time = s.clock()
	s.items = append(s.items, item{delta: d})
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

func (s *stream) checkLocked() {
	if s.tracker.check() {
		s.items = append(s.items, item{done: true})
	}
}

func (s *stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run sends queued deltas on out until ctx ends, and closes done when it reaches the point
// where the target finished. out is unbuffered, so when done closes the consumer has received
// every delta before it.
func (s *stream) run(ctx context.Context, out chan<- timeline.Delta, done chan<- struct{}) {
	var batch []item
	for {
		s.mu.Lock()
		batch, s.items = s.items, batch[:0]
		s.mu.Unlock()
		for i, it := range batch {
			if it.done {
				close(done)
				continue
			}
			select {
			case out <- it.delta:
			case <-ctx.Done():
				return
			}
			batch[i] = item{} // let the object go once delivered
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		}
	}
}
