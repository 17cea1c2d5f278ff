package timeline

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// mangle reorders, duplicates and relists deltas the way concurrent informers, repeated
// events and expired watches can, keeping timestamps monotonic in delivery order.
func mangle(r *rand.Rand, in []Delta) []Delta {
	out := make([]Delta, 0, 2*len(in))
	for i := 0; i < len(in); i++ {
		d := in[i]
		switch r.IntN(6) {
		case 0: // swap with the next delta (two watches racing)
			if i+1 < len(in) {
				out = append(out, in[i+1])
				i++
			}
		case 1: // delivered twice
			out = append(out, d)
		case 2: // a relist replays an earlier state as MODIFIED
			if i > 0 {
				old := in[r.IntN(i)]
				if old.Type != Deleted {
					old.Type = Modified
					out = append(out, old)
				}
			}
		}
		out = append(out, d)
	}
	// Delivery order defines the local clock: it never goes backwards.
	for i := 1; i < len(out); i++ {
		if out[i].Time.Before(out[i-1].Time) {
			out[i].Time = out[i-1].Time.Add(time.Millisecond)
		}
	}
	return out
}

func checkInvariants(t *testing.T, tls []PodTimeline) {
	t.Helper()
	seen := map[string]bool{}
	for _, tl := range tls {
		if seen[tl.UID] {
			t.Errorf("pod %s produced two timelines", tl.Name)
		}
		seen[tl.UID] = true
		if len(tl.Marks) == 0 || tl.Marks[0].Type != MarkDeletionRequested {
			t.Errorf("pod %s: first mark is not the deletion: %+v", tl.Name, tl.Marks)
			continue
		}
		keys := map[string]bool{}
		for _, m := range tl.Marks {
			if m.Time.Before(tl.Start) {
				t.Errorf("pod %s: mark %s at %s is before the deletion at %s", tl.Name, m.Type, m.Time, tl.Start)
			}
			k := fmt.Sprint(m.Type, m.Container, m.Slice, m.Detail)
			if keys[k] {
				t.Errorf("pod %s: duplicate mark %s %s", tl.Name, m.Type, m.Container)
			}
			keys[k] = true
		}
		found := false
		for _, v := range Verdicts {
			found = found || v == tl.Verdict
		}
		if !found {
			t.Errorf("pod %s: unknown verdict %q", tl.Name, tl.Verdict)
		}
	}
}

func TestMangledDeltas(t *testing.T) {
	for _, tc := range scenarios {
		for seed := uint64(0); seed < 50; seed++ {
			r := rand.New(rand.NewPCG(seed, 7))
			tls, _ := run(tc.cfg, mangle(r, tc.build().deltas))
			if len(tls) > 1 {
				t.Errorf("%s seed %d: %d timelines", tc.name, seed, len(tls))
			}
			checkInvariants(t, tls)
		}
	}
}

// TestDuplicatesChangeNothing: every delta delivered twice gives the same verdicts, findings
// and marks as delivering it once.
func TestDuplicatesChangeNothing(t *testing.T) {
	for _, tc := range scenarios {
		deltas := tc.build().deltas
		var twice []Delta
		for _, d := range deltas {
			twice = append(twice, d, d)
		}
		a, _ := run(tc.cfg, deltas)
		b, _ := run(tc.cfg, twice)
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("%s: %d and %d timelines", tc.name, len(a), len(b))
		}
		if a[0].Verdict != b[0].Verdict || len(a[0].Marks) != len(b[0].Marks) || len(a[0].Findings) != len(b[0].Findings) {
			t.Errorf("%s: duplicates changed the result: %s/%d marks vs %s/%d marks", tc.name, a[0].Verdict, len(a[0].Marks), b[0].Verdict, len(b[0].Marks))
		}
	}
}

// FuzzEngine drives the mangling from fuzzer input: no panic, invariants hold.
func FuzzEngine(f *testing.F) {
	f.Add(uint64(1), uint8(0))
	f.Add(uint64(99), uint8(5))
	f.Fuzz(func(t *testing.T, seed uint64, which uint8) {
		tc := scenarios[int(which)%len(scenarios)]
		r := rand.New(rand.NewPCG(seed, uint64(which)))
		deltas := mangle(r, tc.build().deltas)
		// Drop a random delta too: watches can miss updates across a relist.
		if len(deltas) > 2 {
			i := r.IntN(len(deltas))
			deltas = append(deltas[:i:i], deltas[i+1:]...)
		}
		tls, _ := run(tc.cfg, deltas)
		checkInvariants(t, tls)
	})
}
