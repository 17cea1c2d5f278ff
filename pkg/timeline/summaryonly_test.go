package timeline_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/drainwatch/kubectl-drainwatch/pkg/record"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// TestSummaryOnlyKeepsTheSummary replays every example recording into an engine that keeps
// whole timelines and one with SummaryOnly: the timelines returned and the final Summary,
// recommendations included, must be the same.
func TestSummaryOnlyKeepsTheSummary(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.ndjson")
	if len(files) < 10 {
		t.Fatalf("found %d example recordings", len(files))
	}
	recommended := 0
	for _, file := range files {
		var out [2]string
		for i, only := range []bool{false, true} {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			rd, h, err := record.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			e := timeline.New(timeline.Config{SummaryOnly: only, Paths: h.TrafficPaths, PathGaps: h.TrafficPathGaps})
			var got []any
			last := h.Start
			for {
				d, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				last = d.Time
				for _, tl := range e.Apply(d) {
					got = append(got, tl)
				}
			}
			f.Close()
			open, sum := e.Finish(last)
			got = append(got, open, sum)
			b, _ := json.Marshal(got)
			out[i] = string(b)
			recommended += len(sum.Recommendations)
		}
		if out[0] != out[1] {
			t.Errorf("%s: SummaryOnly changed the output:\n%s\nwant\n%s", filepath.Base(file), out[1], out[0])
		}
	}
	if recommended == 0 {
		t.Error("no example made a recommendation: the comparison does not cover them")
	}
}
