package watch

import (
	"sync"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// stream merges the handlers of all informers, each running on its own goroutine, into one
// ordered sequence. A delta is stamped and queued under one lock, so stream order and time
// order agree. The queue is unbounded so a slow consumer never delays a handler (and with it
// the receive time of everything behind it); the informers buffer without bound anyway.
//
// The consumer takes what is queued itself when woken (take): no goroutine stands between the
// handlers and it, so a delta costs one goroutine wake-up, the consumer's.
type stream struct {
	clock func() time.Time

	mu    sync.Mutex
	items []timeline.Delta
	// doneAt is where in items the target finished (-1: not there).
	doneAt  int
	tracker *doneTracker
	wake    chan struct{}

	// The consumer's side, used by take alone.
	taken []timeline.Delta // the batch the consumer holds; its array is reused next
	done  chan struct{}
}

func newStream(clock func() time.Time, tracker *doneTracker) *stream {
	return &stream{clock: clock, tracker: tracker, doneAt: -1, wake: make(chan struct{}, 1), done: make(chan struct{})}
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

// signal wakes the consumer; a wake-up already pending covers this one too.
func (s *stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns everything queued since the last take, in stream order. The batch that reaches
// the point where the target finished ends there, and take closes done as it returns it; what
// came after is left for the next take (a watch without --until-done goes on). The batch is
// the caller's until its next take, which reuses the array. One goroutine takes.
func (s *stream) take() []timeline.Delta {
	clear(s.taken) // let the objects go
	s.mu.Lock()
	all, doneAt := s.items, s.doneAt
	s.items, s.doneAt = s.taken[:0], -1
	if doneAt >= 0 {
		s.items = append(s.items, all[doneAt:]...)
	}
	s.mu.Unlock()
	s.taken = all
	if doneAt < 0 {
		return all
	}
	close(s.done)
	s.signal() // for what came after, if anything did
	return all[:doneAt:doneAt]
}
