package watch

import (
	"sync"
	"testing"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// TestTakeStopsWhereTheTargetFinished: done closes with the take that returns the last delta
// before the finish, and nothing queued after that point is returned.
func TestTakeStopsWhereTheTargetFinished(t *testing.T) {
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
	got := s.take()
	if len(got) != 2 || got[1].Type != timeline.Deleted || got[1].Pod != p {
		t.Fatalf("take: %v, want the ADDED of web-2 and the DELETED of web-1", got)
	}
	select {
	case <-s.done:
	default:
		t.Fatal("done not closed by the take that returned the finish")
	}
	s.push(timeline.Delta{Type: timeline.Deleted, Pod: other})
	if got := s.take(); len(got) != 0 {
		t.Errorf("take after the finish: %d deltas, want none", len(got))
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
