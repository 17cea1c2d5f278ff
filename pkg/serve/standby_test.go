package serve

import (
	"testing"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// A standby keeps what finishes; on taking over it exports what finished after the previous
// leader's last renewal (less the slack) and nothing older, then every new one.
func TestStandbyTakeover(t *testing.T) {
	var got []string
	s := NewStandby(func(tl timeline.PodTimeline) error { got = append(got, tl.Name); return nil }, time.Minute, 3)
	now := t0
	s.now = func() time.Time { return now }
	finish := func(name string, at time.Duration) {
		now = t0.Add(at)
		if err := s.Finished(timeline.PodTimeline{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	finish("old", 0)
	finish("before-renewal", 10*time.Second)
	finish("in-slack", 19*time.Second)
	finish("after-renewal", 21*time.Second)
	if n, dropped := s.Kept(); n != 3 || dropped != 1 || len(got) != 0 {
		t.Fatalf("kept %d dropped %d exported %v, want 3 kept (the limit), 1 dropped, none exported", n, dropped, got)
	}
	if err := s.Lead(t0.Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	finish("new", 30*time.Second)
	want := []string{"in-slack", "after-renewal", "new"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("exported %v, want %v", got, want)
	}
	if n, _ := s.Kept(); n != 0 || !s.Leading() {
		t.Errorf("leading %v with %d kept", s.Leading(), n)
	}
}

// The window lets go of what finished long ago.
func TestStandbyWindow(t *testing.T) {
	s := NewStandby(func(timeline.PodTimeline) error { return nil }, time.Minute, 100)
	now := t0
	s.now = func() time.Time { return now }
	for i := 0; i < 5; i++ {
		now = t0.Add(time.Duration(i) * 30 * time.Second)
		_ = s.Finished(timeline.PodTimeline{})
	}
	if n, dropped := s.Kept(); n != 3 || dropped != 2 {
		t.Errorf("kept %d dropped %d, want the 3 of the last minute", n, dropped)
	}
}
