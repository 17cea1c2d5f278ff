package serve

import (
	"sync"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Standby passes finished timelines to an export while this replica leads, and keeps the
// recent ones while it does not: every replica watches, one exports. A replica that takes over
// exports what it kept that finished after the previous leader stopped (less a slack for the
// replicas' watches not delivering at the same instant), so a failover loses no termination
// that ended in between; the terminations still in progress at the takeover were seen from
// their start. Delivery around a takeover is at least once: a timeline that finished within the
// slack may be exported by both leaders.
type Standby struct {
	mu      sync.Mutex
	leading bool
	export  func(timeline.PodTimeline) error
	kept    []kept
	window  time.Duration
	max     int
	dropped int
	now     func() time.Time
}

type kept struct {
	tl timeline.PodTimeline
	at time.Time // when this replica saw it finish
}

// TakeoverSlack is how much earlier than the previous leader's last renewal a kept timeline may
// have finished and still be exported by the new leader.
const TakeoverSlack = 2 * time.Second

// NewStandby keeps, while not leading, the timelines that finished within window, at most max
// of them (the oldest go first).
func NewStandby(export func(timeline.PodTimeline) error, window time.Duration, max int) *Standby {
	return &Standby{export: export, window: window, max: max, now: time.Now}
}

// NewLeader is a Standby that leads from the start (a single replica).
func NewLeader(export func(timeline.PodTimeline) error) *Standby {
	return &Standby{export: export, leading: true, now: time.Now}
}

// Finished exports tl when leading, else keeps it.
func (s *Standby) Finished(tl timeline.PodTimeline) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leading {
		return s.export(tl)
	}
	now := s.now()
	s.kept = append(s.kept, kept{tl, now})
	i := 0
	for i < len(s.kept) && (len(s.kept)-i > s.max || now.Sub(s.kept[i].at) > s.window) {
		i++
	}
	s.dropped += i
	s.kept = append(s.kept[:0], s.kept[i:]...)
	return nil
}

// Lead starts exporting: first the kept timelines that finished after since (when the previous
// leader last renewed or released its Lease; zero when there was none) less TakeoverSlack, then
// every new one.
func (s *Standby) Lead(since time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leading = true
	list := s.kept
	s.kept = nil
	for _, k := range list {
		if since.IsZero() || k.at.After(since.Add(-TakeoverSlack)) {
			if err := s.export(k.tl); err != nil {
				return err
			}
		}
	}
	return nil
}

// Leading says whether this replica exports.
func (s *Standby) Leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// Kept is how many timelines wait, and how many were let go at the window or the limit.
func (s *Standby) Kept() (n, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.kept), s.dropped
}
