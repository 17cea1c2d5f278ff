package tui

import (
	"fmt"
	"sort"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Hand-built snapshots shaped like the engine's output for a rollout and a node drain. Times
// are seconds after a fixed moment so that every render is reproducible.

func at(sec float64) time.Time {
	return time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC).Add(time.Duration(sec * float64(time.Second)))
}

func ptr[T any](v T) *T { return &v }

type podOpt func(*timeline.PodTimeline)

// newPod is a pod whose deletion was requested at start seconds with a 30 s grace period.
func newPod(name, node string, start float64, opts ...podOpt) timeline.PodTimeline {
	p := timeline.PodTimeline{
		APIVersion:         timeline.APIVersion,
		Kind:               "PodTimeline",
		Namespace:          "shop",
		Name:               name,
		UID:                "uid-" + name,
		Node:               node,
		Owner:              &timeline.Owner{Kind: "ReplicaSet", Name: "web-6b7f9c8d5", Revision: "3", Controller: &timeline.OwnerRef{Kind: "Deployment", Name: "web"}},
		Services:           []string{"web"},
		Cause:              timeline.CauseDelete,
		GracePeriodSeconds: ptr[int64](30),
		Deadline:           ptr(at(start + 30)),
		State:              timeline.StateTerminated,
		Start:              at(start),
		Verdict:            timeline.VerdictGraceful,
		Marks:              []timeline.Mark{{Type: timeline.MarkDeletionRequested, Time: at(start), Source: timeline.SourcePod, ServerTime: ptr(at(start))}},
		Containers:         []timeline.Container{{Name: "app", PreStop: "sleep 5s"}},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// mark adds a mark at start+off seconds.
func mark(t timeline.MarkType, off float64, src string, f ...func(*timeline.Mark)) podOpt {
	return func(p *timeline.PodTimeline) {
		m := timeline.Mark{Type: t, Time: p.Start.Add(time.Duration(off * float64(time.Second))), Source: src}
		for _, fn := range f {
			fn(&m)
		}
		p.Marks = append(p.Marks, m)
	}
}

func estimated(m *timeline.Mark) { m.Estimated = true }
func container(name string) func(*timeline.Mark) {
	return func(m *timeline.Mark) { m.Container = name }
}
func exit(code int32, reason string) func(*timeline.Mark) {
	return func(m *timeline.Mark) { m.ExitCode, m.Reason = ptr(code), reason }
}
func detail(s string) func(*timeline.Mark) { return func(m *timeline.Mark) { m.Detail = s } }
func slice(m *timeline.Mark)               { m.Service, m.Slice = "web", "web-x7k2p" }

// ended sets the end, the shutdown duration and the container outcome.
func ended(shutdown, end float64, code int32, reason string) podOpt {
	return func(p *timeline.PodTimeline) {
		p.End = ptr(p.Start.Add(time.Duration(end * float64(time.Second))))
		p.ShutdownSeconds = ptr(shutdown)
		p.GraceUsed = ptr(shutdown / 30)
		fin := p.Start.Add(time.Duration(shutdown * float64(time.Second))).Truncate(time.Second)
		p.Containers[0].ExitCode, p.Containers[0].Reason, p.Containers[0].Finished = ptr(code), reason, &fin
	}
}

func verdict(v timeline.Verdict, findings ...timeline.Finding) podOpt {
	return func(p *timeline.PodTimeline) { p.Verdict, p.Findings = v, findings }
}

// gracefulMarks is a clean termination with a 5 s preStop sleep.
func gracefulMarks(exitAt float64) []podOpt {
	return []podOpt{
		mark(timeline.MarkEndpointNotReady, 0.05, timeline.SourceEndpointSlice, slice),
		mark(timeline.MarkKilling, 0.12, timeline.SourceEvent, container("app"), detail("Stopping container app")),
		mark(timeline.MarkSIGTERM, 5.12, timeline.SourceInferred, container("app"), estimated),
		mark(timeline.MarkContainerExited, exitAt, timeline.SourcePod, container("app"), exit(0, "Completed")),
		mark(timeline.MarkEndpointRemoved, exitAt+0.1, timeline.SourceEndpointSlice, slice),
		mark(timeline.MarkPodRemoved, exitAt+0.3, timeline.SourcePod),
		ended(exitAt, exitAt+0.3, 0, "Completed"),
	}
}

const fixSIGKILL = `Make the app exit on SIGTERM, or give it more time:
spec:
  template:
    spec:
      terminationGracePeriodSeconds: 60`

const fixPreStop = `Keep serving until load balancers stopped sending traffic:
spec:
  template:
    spec:
      containers:
      - name: app
        lifecycle:
          preStop:
            sleep:
              seconds: 5`

// rolloutSnapshot is a rollout of deployment/web in progress: six old pods gone (graceful,
// killed, at-risk, failed, incomplete), one still terminating.
func rolloutSnapshot() timeline.Snapshot {
	pods := []timeline.PodTimeline{
		newPod("web-6b7f9c8d5-2xk9p", "kind-worker", 0, gracefulMarks(5.6)...),
		newPod("web-6b7f9c8d5-8fj2m", "kind-worker2", 6.2, gracefulMarks(5.4)...),
		newPod("web-6b7f9c8d5-qw7zt", "kind-worker", 12.5,
			mark(timeline.MarkEndpointNotReady, 0.04, timeline.SourceEndpointSlice, slice),
			mark(timeline.MarkKilling, 0.1, timeline.SourceEvent, container("app"), detail("Stopping container app")),
			mark(timeline.MarkSIGTERM, 5.1, timeline.SourceInferred, container("app"), estimated),
			mark(timeline.MarkSIGKILL, 30.0, timeline.SourceInferred, container("app")),
			mark(timeline.MarkContainerExited, 30.1, timeline.SourcePod, container("app"), exit(137, "Error")),
			mark(timeline.MarkEndpointRemoved, 30.2, timeline.SourceEndpointSlice, slice),
			mark(timeline.MarkPodRemoved, 30.4, timeline.SourcePod),
			ended(30.1, 30.4, 137, "Error"),
			verdict(timeline.VerdictKilled, timeline.Finding{
				ID: timeline.FindingSIGKILLAtDeadline, Severity: timeline.SeverityError, Container: "app",
				Message: "container app was still running 30.0s after deletion and was killed (exit 137): SIGTERM was ignored or shutdown took longer than the 25.0s left after preStop",
				Fix:     fixSIGKILL,
			}),
		),
		newPod("web-6b7f9c8d5-r4n8s", "kind-worker2", 19.0,
			func(p *timeline.PodTimeline) { p.Containers[0].PreStop = "" },
			mark(timeline.MarkKilling, 0.05, timeline.SourceEvent, container("app"), detail("Stopping container app")),
			mark(timeline.MarkSIGTERM, 0.05, timeline.SourceInferred, container("app"), estimated),
			mark(timeline.MarkContainerExited, 0.8, timeline.SourcePod, container("app"), exit(0, "Completed")),
			mark(timeline.MarkEndpointNotReady, 0.9, timeline.SourceEndpointSlice, slice),
			mark(timeline.MarkEndpointRemoved, 1.0, timeline.SourceEndpointSlice, slice),
			mark(timeline.MarkPodRemoved, 1.2, timeline.SourcePod),
			ended(0.8, 1.2, 0, "Completed"),
			verdict(timeline.VerdictAtRisk, timeline.Finding{
				ID: timeline.FindingStoppedBeforeDrain, Severity: timeline.SeverityWarning, Container: "app",
				Message: "container app exited 0.75s after SIGTERM, 0.10s before its endpoint went not ready and 5.10s before the drain budget (5s) ran out: requests in flight were likely refused",
				Fix:     fixPreStop,
			}),
		),
		newPod("web-6b7f9c8d5-zt5vb", "kind-worker", 25.0,
			mark(timeline.MarkEndpointNotReady, 0.05, timeline.SourceEndpointSlice, slice),
			mark(timeline.MarkKilling, 0.1, timeline.SourceEvent, container("app"), detail("Stopping container app")),
			mark(timeline.MarkSIGTERM, 5.1, timeline.SourceInferred, container("app"), estimated),
			mark(timeline.MarkContainerExited, 5.3, timeline.SourcePod, container("app"), exit(143, "Error")),
			mark(timeline.MarkEndpointRemoved, 5.4, timeline.SourceEndpointSlice, slice),
			ended(5.3, 5.5, 143, "Error"),
			verdict(timeline.VerdictFailed, timeline.Finding{
				ID: timeline.FindingNonZeroExit, Severity: timeline.SeverityWarning, Container: "app",
				Message: "container app exited with 143 (the default action of SIGTERM): the process does not handle SIGTERM",
				Fix:     "Handle SIGTERM in the app and exit 0 once in-flight requests are done.",
			}),
		),
		newPod("web-6b7f9c8d5-m9d2c", "kind-worker2", 31.0,
			func(p *timeline.PodTimeline) { p.JoinedMidway = true },
			mark(timeline.MarkContainerExited, 2.0, timeline.SourcePod, container("app"), exit(0, "Completed")),
			mark(timeline.MarkEndpointRemoved, 2.1, timeline.SourceEndpointSlice, slice),
			ended(2.0, 2.2, 0, "Completed"),
			verdict(timeline.VerdictIncomplete, timeline.Finding{
				ID: "joined-midway", Severity: timeline.SeverityInfo, Message: "the pod was already terminating when watching started",
			}),
		),
		newPod("web-6b7f9c8d5-h7w4q", "kind-worker", 40.0,
			func(p *timeline.PodTimeline) { p.State = timeline.StateTerminating },
			mark(timeline.MarkEndpointNotReady, 0.05, timeline.SourceEndpointSlice, slice),
			mark(timeline.MarkKilling, 0.1, timeline.SourceEvent, container("app"), detail("Stopping container app")),
		),
	}
	pts := []timeline.Point{{Time: at(0), Value: 4}}
	for _, p := range pods {
		if p.Name == "web-6b7f9c8d5-m9d2c" {
			continue
		}
		down := p.Start.Add(50 * time.Millisecond)
		pts = append(pts, timeline.Point{Time: down, Value: 3})
		up := p.Start.Add(3 * time.Second)
		pts = append(pts, timeline.Point{Time: up, Value: 4})
	}
	// A second pod went unready while the killed one was still terminating: the deepest dip.
	pts = append(pts, timeline.Point{Time: at(13.0), Value: 2}, timeline.Point{Time: at(14.0), Value: 3})
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Time.Before(pts[j].Time) })
	return timeline.Snapshot{
		Time: at(44.0),
		Pods: pods,
		Owners: []timeline.OwnerProgress{
			{Owner: timeline.Owner{Kind: "ReplicaSet", Name: "web-5c9d8f7b4", Revision: "4"}, Running: 6},
			{Owner: timeline.Owner{Kind: "ReplicaSet", Name: "web-6b7f9c8d5", Revision: "3"}, Running: 1, Terminating: 1, Terminated: 6},
		},
		Nodes: []timeline.NodeState{{Name: "kind-worker"}, {Name: "kind-worker2"}},
		Summary: timeline.Summary{
			APIVersion: timeline.APIVersion, Kind: "Summary", Start: at(0), End: at(44),
			Terminated: 6,
			Services: []timeline.Group{{
				Kind: "Service", Name: "web", Namespace: "shop", ReadyEndpoints: pts,
				MinReadyEndpoints: ptr(2), MaxReadyEndpoints: ptr(4),
			}},
		},
	}
}

// drainSnapshot is `kubectl drain kind-worker` evicting three pods of two owners.
func drainSnapshot() timeline.Snapshot {
	evicted := func(p *timeline.PodTimeline) {
		p.Cause, p.Reason = timeline.CauseEviction, "EvictionByEvictionAPI"
	}
	db := func(p *timeline.PodTimeline) {
		p.Owner = &timeline.Owner{Kind: "StatefulSet", Name: "db"}
		p.Services = nil
		p.Containers = []timeline.Container{{Name: "postgres"}, {Name: "metrics", Sidecar: true}}
		p.GracePeriodSeconds = ptr[int64](10)
		p.Deadline = ptr(p.Start.Add(10 * time.Second))
	}
	pods := []timeline.PodTimeline{
		newPod("web-6b7f9c8d5-2xk9p", "kind-worker", 0, append([]podOpt{evicted}, gracefulMarks(5.5)...)...),
		newPod("db-0", "kind-worker", 0.4, evicted, db,
			mark(timeline.MarkKilling, 0.1, timeline.SourceEvent, container("postgres"), detail("Stopping container postgres")),
			mark(timeline.MarkSIGTERM, 0.1, timeline.SourceInferred, container("postgres"), estimated),
			mark(timeline.MarkContainerExited, 3.2, timeline.SourcePod, container("postgres"), exit(0, "Completed")),
			mark(timeline.MarkContainerExited, 3.2, timeline.SourcePod, container("metrics"), exit(0, "Completed")),
			mark(timeline.MarkPodRemoved, 3.5, timeline.SourcePod),
			func(p *timeline.PodTimeline) {
				p.End, p.ShutdownSeconds, p.GraceUsed = ptr(p.Start.Add(3500*time.Millisecond)), ptr(3.2), ptr(0.32)
			},
			verdict(timeline.VerdictGraceful, timeline.Finding{
				ID: timeline.FindingNoService, Severity: timeline.SeverityInfo, Message: "no Service selects this pod: only the container side was judged",
			}),
		),
		newPod("web-6b7f9c8d5-8fj2m", "kind-worker", 0.8, evicted,
			func(p *timeline.PodTimeline) { p.State = timeline.StateTerminating },
			mark(timeline.MarkEndpointNotReady, 0.05, timeline.SourceEndpointSlice, slice),
			mark(timeline.MarkReadinessFailed, 1.5, timeline.SourceEvent, container("app"), detail("Readiness probe failed: connection refused")),
			mark(timeline.MarkKilling, 0.1, timeline.SourceEvent, container("app"), detail("Stopping container app")),
		),
	}
	return timeline.Snapshot{
		Time: at(7.0),
		Pods: pods,
		Owners: []timeline.OwnerProgress{
			{Owner: timeline.Owner{Kind: "ReplicaSet", Name: "web-6b7f9c8d5", Revision: "3"}, Running: 2, Terminating: 1, Terminated: 1},
			{Owner: timeline.Owner{Kind: "StatefulSet", Name: "db"}, Terminated: 1},
		},
		Nodes: []timeline.NodeState{{Name: "kind-worker", Unschedulable: true}, {Name: "kind-worker2"}, {Name: "kind-worker3"}},
		Summary: timeline.Summary{
			Warnings: []string{"events: forbidden (the Killing event is missing; SIGTERM times are estimates)"},
			Services: []timeline.Group{{
				Kind: "Service", Name: "web", ReadyEndpoints: []timeline.Point{{Time: at(0), Value: 3}, {Time: at(0.05), Value: 2}, {Time: at(0.85), Value: 1}, {Time: at(6.5), Value: 2}},
			}},
		},
	}
}

// bigSnapshot has n pods terminating over a long rollout, a mix of verdicts, the last ten
// still live.
func bigSnapshot(n int) timeline.Snapshot {
	pods := make([]timeline.PodTimeline, 0, n)
	pts := make([]timeline.Point, 0, 2*n)
	for i := 0; i < n; i++ {
		start := float64(i) * 0.7
		name := fmt.Sprintf("web-6b7f9c8d5-%05d", i)
		node := fmt.Sprintf("node-%03d", i%50)
		var p timeline.PodTimeline
		switch {
		case i >= n-10:
			p = newPod(name, node, start,
				func(p *timeline.PodTimeline) { p.State = timeline.StateTerminating },
				mark(timeline.MarkEndpointNotReady, 0.05, timeline.SourceEndpointSlice, slice),
				mark(timeline.MarkKilling, 0.1, timeline.SourceEvent, container("app")))
		case i%37 == 0:
			p = rolloutSnapshot().Pods[2]
			p.Name, p.UID, p.Node = name, "uid-"+name, node
			shift := at(start).Sub(p.Start)
			p.Start = p.Start.Add(shift)
			*p.End = p.End.Add(shift)
			*p.Deadline = p.Deadline.Add(shift)
			marks := append([]timeline.Mark(nil), p.Marks...)
			for j := range marks {
				marks[j].Time = marks[j].Time.Add(shift)
			}
			p.Marks = marks
		default:
			p = newPod(name, node, start, gracefulMarks(5+float64(i%10)*0.1)...)
		}
		pods = append(pods, p)
		pts = append(pts, timeline.Point{Time: at(start), Value: 20 - i%3}, timeline.Point{Time: at(start + 0.3), Value: 20})
	}
	last := float64(n) * 0.7
	return timeline.Snapshot{
		Time:   at(last + 1),
		Pods:   pods,
		Owners: []timeline.OwnerProgress{{Owner: timeline.Owner{Kind: "ReplicaSet", Name: "web-6b7f9c8d5", Revision: "3"}, Terminating: 10, Terminated: n - 10}},
		Summary: timeline.Summary{
			Services: []timeline.Group{{Kind: "Service", Name: "web", ReadyEndpoints: pts}},
		},
	}
}
