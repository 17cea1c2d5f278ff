package watch

import (
	"sync"
	"testing"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// TestTakeEndsItsBatchWhereTheTargetFinished: done closes with the take that returns the last
// delta before the finish; what was queued after that point comes with the next take, for a
// watch that goes on (without --until-done), and the consumer is woken for it.
func TestTakeEndsItsBatchWhereTheTargetFinished(t *testing.T) {
	s := newStream(func() time.Time { return time.Time{} }, newDoneTracker(&Target{Kind: KindPod, Name: "web-1"}))
	p, other := newPod("shop", "web-1", nil), newPod("shop", "web-2", nil)
	s.push(timeline.Delta{Type: timeline.Added, Pod: p})
	s.synced()
	if got := s.take(); len(got) != 1 {
		t.Fatalf("first take: %d deltas, want 1", len(got))
	}
	s.push(timeline.Delta{Type: timeline.Added, Pod: other})
	s.push(timeline.Delta{Type: timeline.Deleted, Pod: p}) // the target finishes here
	s.push(timeline.Delta{Type: timeline.Modified, Pod: other})
	select {
	case <-s.done:
		t.Fatal("done before the take that reaches the finish")
	default:
	}
	<-s.wake
	got := s.take()
	if len(got) != 2 || got[1].Type != timeline.Deleted || got[1].Pod != p {
		t.Fatalf("take: %v, want the ADDED of web-2 and the DELETED of web-1", got)
	}
	select {
	case <-s.done:
	default:
		t.Fatal("done not closed by the take that returned the finish")
	}
	select {
	case <-s.wake:
	default:
		t.Fatal("no wake-up for what was queued after the finish")
	}
	s.push(timeline.Delta{Type: timeline.Deleted, Pod: other})
	got = s.take()
	if len(got) != 2 || got[0].Type != timeline.Modified || got[1].Type != timeline.Deleted || got[0].Pod != other || got[1].Pod != other {
		t.Errorf("take after the finish: %v, want the MODIFIED and the DELETED of web-2", got)
	}
}

// TestTakeReusesTheBatchBeforeIt: a take clears the batch before it (the objects go) and
// reuses its array.
func TestTakeReusesTheBatchBeforeIt(t *testing.T) {
	s := newStream(func() time.Time { return time.Time{} }, newDoneTracker(&Target{Kind: KindNamespace}))
	p := newPod("shop", "web-1", nil)
	s.push(timeline.Delta{Type: timeline.Added, Pod: p})
	first := s.take()
	s.push(timeline.Delta{Type: timeline.Modified, Pod: p})
	if first[0].Pod != p {
		t.Fatal("the batch changed before the next take")
	}
	s.take()
	if first[0].Pod != nil {
		t.Error("the previous batch still holds its pod after the next take")
	}
	s.push(timeline.Delta{Type: timeline.Deleted, Pod: p})
	if third := s.take(); &third[0] != &first[0] {
		t.Error("the array of the batch before the last was not reused")
	}
}

// BenchmarkStream hands deltas from two informer handlers to a consumer through the stream, as
// during a rollout: the cost of a hand-over, per delta.
func BenchmarkStream(b *testing.B) {
	pod := newPod("shop", "web-1", nil)
	s := newStream(func() time.Time { return time.Time{} }, newDoneTracker(&Target{Kind: KindNamespace}))
	const producers = 2
	b.ReportAllocs()
	for b.Loop() {
		var wg sync.WaitGroup
		for range producers {
			wg.Go(func() {
				for range 500 {
					s.push(timeline.Delta{Type: timeline.Modified, Pod: pod})
				}
			})
		}
		for n := 0; n < producers*500; {
			<-s.wake
			n += len(s.take())
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*producers*500), "ns/delta")
}
