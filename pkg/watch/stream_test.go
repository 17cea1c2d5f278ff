package watch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// BenchmarkStream hands deltas from two informer handlers to a consumer through the stream, as
// during a rollout: the cost of a hand-over, per delta.
func BenchmarkStream(b *testing.B) {
	pod := newPod("shop", "web-1", nil)
	s := newStream(func() time.Time { return time.Time{} }, newDoneTracker(&Target{Kind: KindNamespace}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, done := make(chan []timeline.Delta), make(chan struct{})
	go s.run(ctx, out, done)
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
			n += len(<-out)
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*producers*500), "ns/delta")
}
