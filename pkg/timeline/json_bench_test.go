package timeline

import (
	"encoding/json"
	"io"
	"testing"
)

// finishedTimelines runs a rollout of n pods through an engine and returns the timelines it
// completed: what `kubectl drainwatch --json` writes, one line each.
func finishedTimelines(tb testing.TB, n int) []PodTimeline {
	tb.Helper()
	e := New(Config{})
	var out []PodTimeline
	for _, d := range rollout(n) {
		out = append(out, e.Apply(d)...)
	}
	if len(out) != n {
		tb.Fatalf("%d timelines finished; want %d", len(out), n)
	}
	return out
}

// BenchmarkPodTimelineJSON encodes one finished PodTimeline the way --json writes it (a
// json.Encoder on the output). Reports the size of a line as B/op throughput.
func BenchmarkPodTimelineJSON(b *testing.B) {
	tl := finishedTimelines(b, 250)[0]
	line, err := json.Marshal(tl)
	if err != nil {
		b.Fatal(err)
	}
	enc := json.NewEncoder(io.Discard)
	b.SetBytes(int64(len(line) + 1))
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(tl); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPodTimelineJSONRollout5000 encodes the 5,000 timelines of a rollout: the output
// side of BenchmarkRollout5000.
func BenchmarkPodTimelineJSONRollout5000(b *testing.B) {
	tls := finishedTimelines(b, 5000)
	enc := json.NewEncoder(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		for i := range tls {
			if err := enc.Encode(tls[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(tls))*float64(b.N)/b.Elapsed().Seconds(), "timelines/s")
}
