// Package reporttest builds timeline snapshots by hand for the report's tests: a small rollout
// with every kind of mark, finding and hostile cluster text, and large synthetic rollouts for
// size and speed checks.
package reporttest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/report"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Base is the deletion time of the first pod in every fixture.
var Base = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// Injected is cluster text that would run script if the report failed to escape it; it sets
// window.pwned. It sits in an event message, a finding message, a fix and a warning.
const Injected = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2">`

// Meta is the report metadata used with the fixtures.
func Meta() report.Meta {
	return report.Meta{
		Context:       "kind-drainwatch",
		Cluster:       "drainwatch-test",
		ServerVersion: "v1.37.2",
		Target:        "deploy/web",
		Namespace:     "shop",
		Version:       "v0.1.0-test",
		Generated:     Base.Add(2 * time.Minute),
		DrainBudget:   5 * time.Second,
	}
}

func at(d time.Duration) time.Time { return Base.Add(d) }

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func ptr[T any](v T) *T { return &v }

func mark(typ timeline.MarkType, d time.Duration, source string) timeline.Mark {
	return timeline.Mark{Type: typ, Time: at(d), Source: source}
}

func withServer(m timeline.Mark, s time.Time) timeline.Mark { m.ServerTime = &s; return m }

func estimated(m timeline.Mark) timeline.Mark { m.Estimated = true; return m }

func inContainer(m timeline.Mark, c string) timeline.Mark { m.Container = c; return m }

func onService(m timeline.Mark, svc, slice string) timeline.Mark {
	m.Service, m.Slice = svc, slice
	return m
}

func exited(m timeline.Mark, code int32, reason string) timeline.Mark {
	m.ExitCode, m.Reason = &code, reason
	return m
}

func detail(m timeline.Mark, reason, msg string) timeline.Mark {
	m.Reason, m.Detail = reason, msg
	return m
}

var webOwner = &timeline.Owner{Kind: "ReplicaSet", Name: "web-7d9c8b6f5", Revision: "3",
	Controller: &timeline.OwnerRef{Kind: "Deployment", Name: "web"}}

// PreStopFix is the fix the fixtures give for pods that stopped before load balancers caught up.
const PreStopFix = `spec:
  template:
    spec:
      containers:
      - name: app
        lifecycle:
          preStop:
            sleep:
              seconds: 5`

// SIGTERMFix is the fix for a container that ignores SIGTERM.
const SIGTERMFix = `# The process ignores SIGTERM (PID 1 without a handler).
# Run it under an init that forwards signals, or handle SIGTERM:
spec:
  template:
    spec:
      shareProcessNamespace: false
      containers:
      - name: app
        command: ["/bin/tini", "--", "/app/server"]`

// Rollout is a small rollout of deploy/web plus a StatefulSet pod, with one pod of each
// verdict, estimated marks, a sidecar, a live pod, a Service capacity dip and Injected text.
func Rollout() timeline.Snapshot {
	grace30 := ptr(int64(30))
	graceful := timeline.PodTimeline{
		APIVersion: timeline.APIVersion, Kind: "PodTimeline",
		Namespace: "shop", Name: "web-7d9c8b6f5-aaaaa", UID: "uid-a", Node: "worker-1", Owner: webOwner,
		Services: []string{"web"}, Cause: timeline.CauseDelete, GracePeriodSeconds: grace30,
		Deadline: ptr(at(30 * time.Second)), State: timeline.StateRemoved, Start: at(0), End: ptr(at(ms(6900))),
		Marks: []timeline.Mark{
			withServer(mark(timeline.MarkDeletionRequested, 0, timeline.SourcePod), at(0)),
			onService(mark(timeline.MarkEndpointNotReady, ms(120), timeline.SourceEndpointSlice), "web", "web-x8k2p"),
			inContainer(detail(mark(timeline.MarkKilling, ms(210), timeline.SourceEvent), "Killing", "Stopping container app"), "app"),
			inContainer(estimated(mark(timeline.MarkSIGTERM, ms(5210), timeline.SourceInferred)), "app"),
			inContainer(withServer(exited(mark(timeline.MarkContainerExited, ms(6400), timeline.SourcePod), 0, "Completed"), at(6*time.Second)), "app"),
			onService(mark(timeline.MarkEndpointRemoved, ms(6500), timeline.SourceEndpointSlice), "web", "web-x8k2p"),
			mark(timeline.MarkPodRemoved, ms(6900), timeline.SourcePod),
		},
		Containers:      []timeline.Container{{Name: "app", PreStop: "sleep 5s", ExitCode: ptr(int32(0)), Reason: "Completed", Finished: ptr(at(6 * time.Second))}},
		ShutdownSeconds: ptr(6.4), GraceUsed: ptr(6.4 / 30), Verdict: timeline.VerdictGraceful,
	}
	killed := timeline.PodTimeline{
		APIVersion: timeline.APIVersion, Kind: "PodTimeline",
		Namespace: "shop", Name: "web-7d9c8b6f5-bbbbb", UID: "uid-b", Node: "worker-2", Owner: webOwner,
		Services: []string{"web"}, Cause: timeline.CauseDelete, GracePeriodSeconds: grace30,
		Deadline: ptr(at(ms(30400))), State: timeline.StateRemoved, Start: at(ms(400)), End: ptr(at(ms(32600))),
		Marks: []timeline.Mark{
			withServer(mark(timeline.MarkDeletionRequested, ms(400), timeline.SourcePod), at(0)),
			onService(mark(timeline.MarkEndpointNotReady, ms(510), timeline.SourceEndpointSlice), "web", "web-x8k2p"),
			inContainer(detail(mark(timeline.MarkKilling, ms(600), timeline.SourceEvent), "Killing", "Stopping container app "+Injected), "app"),
			inContainer(estimated(mark(timeline.MarkSIGTERM, ms(600), timeline.SourceInferred)), "app"),
			detail(mark(timeline.MarkReadinessFailed, ms(9000), timeline.SourceEvent), "Unhealthy", `Readiness probe failed: Get "http://10.244.0.7:8080/ready": context deadline exceeded`),
			inContainer(estimated(mark(timeline.MarkSIGKILL, ms(30400), timeline.SourceInferred)), "app"),
			inContainer(withServer(exited(mark(timeline.MarkContainerExited, ms(32100), timeline.SourcePod), 137, "Error"), at(31*time.Second)), "app"),
			onService(mark(timeline.MarkEndpointRemoved, ms(32200), timeline.SourceEndpointSlice), "web", "web-x8k2p"),
			mark(timeline.MarkPodRemoved, ms(32600), timeline.SourcePod),
		},
		Containers:      []timeline.Container{{Name: "app", ExitCode: ptr(int32(137)), Reason: "Error", Finished: ptr(at(31 * time.Second))}},
		ShutdownSeconds: ptr(31.7), GraceUsed: ptr(31.7 / 30), Verdict: timeline.VerdictKilled,
		Findings: []timeline.Finding{
			{ID: timeline.FindingSIGKILLAtDeadline, Severity: timeline.SeverityError, Container: "app",
				Message: "app did not exit within the 30s grace period and was killed (exit 137) " + Injected, Fix: SIGTERMFix},
			{ID: timeline.FindingNonZeroExit, Severity: timeline.SeverityWarning, Container: "app",
				Message: "app exited with code 137"},
		},
	}
	atRisk := timeline.PodTimeline{
		APIVersion: timeline.APIVersion, Kind: "PodTimeline",
		Namespace: "shop", Name: "web-7d9c8b6f5-ccccc", UID: "uid-c", Node: "worker-1", Owner: webOwner,
		Services: []string{"web", "web-canary"}, Cause: timeline.CauseEviction, Reason: "EvictionByEvictionAPI", GracePeriodSeconds: grace30,
		Deadline: ptr(at(ms(30800))), State: timeline.StateRemoved, Start: at(ms(800)), End: ptr(at(ms(2300))),
		Marks: []timeline.Mark{
			withServer(mark(timeline.MarkDeletionRequested, ms(800), timeline.SourcePod), at(time.Second)),
			onService(mark(timeline.MarkEndpointNotReady, ms(900), timeline.SourceEndpointSlice), "web", "web-x8k2p"),
			onService(mark(timeline.MarkEndpointNotReady, ms(950), timeline.SourceEndpointSlice), "web-canary", "web-canary-q9z7d"),
			inContainer(detail(mark(timeline.MarkKilling, ms(1000), timeline.SourceEvent), "Killing", "Stopping container app"), "app"),
			inContainer(detail(mark(timeline.MarkKilling, ms(1000), timeline.SourceEvent), "Killing", "Stopping container envoy"), "envoy"),
			inContainer(estimated(mark(timeline.MarkSIGTERM, ms(1000), timeline.SourceInferred)), "app"),
			inContainer(withServer(exited(mark(timeline.MarkContainerExited, ms(1800), timeline.SourcePod), 0, "Completed"), at(time.Second)), "app"),
			inContainer(estimated(mark(timeline.MarkSIGTERM, ms(1800), timeline.SourceInferred)), "envoy"),
			inContainer(withServer(exited(mark(timeline.MarkContainerExited, ms(1800), timeline.SourcePod), 0, "Completed"), at(time.Second)), "envoy"),
			onService(detail(mark(timeline.MarkEndpointNotServing, ms(1850), timeline.SourceEndpointSlice), "", "serving=false"), "web", "web-x8k2p"),
			onService(mark(timeline.MarkEndpointRemoved, ms(1900), timeline.SourceEndpointSlice), "web", "web-x8k2p"),
			onService(mark(timeline.MarkEndpointRemoved, ms(2000), timeline.SourceEndpointSlice), "web-canary", "web-canary-q9z7d"),
			mark(timeline.MarkPodRemoved, ms(2300), timeline.SourcePod),
		},
		Containers: []timeline.Container{
			{Name: "app", ExitCode: ptr(int32(0)), Reason: "Completed", Finished: ptr(at(time.Second))},
			{Name: "envoy", Sidecar: true, PreStop: "exec: /bin/drain-envoy", ExitCode: ptr(int32(0)), Reason: "Completed", Finished: ptr(at(time.Second))},
		},
		ShutdownSeconds: ptr(1.0), GraceUsed: ptr(1.0 / 30), Verdict: timeline.VerdictAtRisk,
		Findings: []timeline.Finding{
			{ID: timeline.FindingStoppedBeforeDrain, Severity: timeline.SeverityWarning, Container: "app",
				Message: "app got SIGTERM 0.1s after its endpoint turned not ready, less than the 5s drain budget: requests in flight may fail", Fix: PreStopFix},
		},
	}
	live := timeline.PodTimeline{
		APIVersion: timeline.APIVersion, Kind: "PodTimeline",
		Namespace: "shop", Name: "web-7d9c8b6f5-ddddd", UID: "uid-d", Node: "worker-2", Owner: webOwner,
		Services: []string{"web"}, Cause: timeline.CauseDelete, GracePeriodSeconds: ptr(int64(120)),
		Deadline: ptr(at(ms(121000))), State: timeline.StateTerminating, Start: at(ms(1000)),
		Marks: []timeline.Mark{
			withServer(mark(timeline.MarkDeletionRequested, ms(1000), timeline.SourcePod), at(time.Second)),
			onService(mark(timeline.MarkEndpointNotReady, ms(1100), timeline.SourceEndpointSlice), "web", "web-x8k2p"),
			inContainer(detail(mark(timeline.MarkKilling, ms(1200), timeline.SourceEvent), "Killing", "Stopping container app"), "app"),
			inContainer(detail(mark(timeline.MarkPreStopFailed, ms(3200), timeline.SourceEvent), "FailedPreStopHook", "PreStopHook failed"), "app"),
		},
		Containers: []timeline.Container{{Name: "app", PreStop: "httpGet: :8080/drain"}},
		Verdict:    timeline.VerdictIncomplete,
		Findings: []timeline.Finding{
			{ID: timeline.FindingPreStopFailed, Severity: timeline.SeverityWarning, Container: "app",
				Message: "the preStop hook of app failed; its details are only in the kubelet log"},
		},
	}
	failed := timeline.PodTimeline{
		APIVersion: timeline.APIVersion, Kind: "PodTimeline",
		Namespace: "shop", Name: "worker-0", UID: "uid-e", Node: "worker-1",
		Owner: &timeline.Owner{Kind: "StatefulSet", Name: "worker"}, Cause: timeline.CauseDelete, GracePeriodSeconds: ptr(int64(10)),
		Deadline: ptr(at(ms(11500))), State: timeline.StateRemoved, Start: at(ms(1500)), End: ptr(at(ms(4000))),
		JoinedMidway: true, Partial: []string{"events"},
		Marks: []timeline.Mark{
			estimated(withServer(mark(timeline.MarkDeletionRequested, ms(1500), timeline.SourceInferred), at(time.Second))),
			withServer(exited(mark(timeline.MarkContainerExited, ms(3500), timeline.SourcePod), 1, "Error"), at(3*time.Second)),
			mark(timeline.MarkPodRemoved, ms(4000), timeline.SourcePod),
		},
		Containers:      []timeline.Container{{Name: "worker", ExitCode: ptr(int32(1)), Reason: "Error", Finished: ptr(at(3 * time.Second))}},
		ShutdownSeconds: ptr(2.0), GraceUsed: ptr(0.2), Verdict: timeline.VerdictFailed,
		Findings: []timeline.Finding{
			{ID: timeline.FindingNonZeroExit, Severity: timeline.SeverityError, Container: "worker",
				Message: "worker exited with code 1 on SIGTERM", Fix: "# Exit 0 after a clean shutdown on SIGTERM.\n# " + Injected},
			{ID: timeline.FindingNoService, Severity: timeline.SeverityInfo, Message: "no Service selected this pod"},
		},
	}
	pods := []timeline.PodTimeline{graceful, killed, atRisk, live, failed}
	sum := timeline.Summary{
		APIVersion: timeline.APIVersion, Kind: "Summary",
		Start: at(-time.Second), End: at(ms(34000)), Terminated: 4,
		Verdicts: map[timeline.Verdict]int{timeline.VerdictGraceful: 1, timeline.VerdictKilled: 1, timeline.VerdictAtRisk: 1, timeline.VerdictFailed: 1},
		Owners: []timeline.Group{
			{Kind: "Deployment", Name: "web", Namespace: "shop", Terminated: 3,
				Verdicts: map[timeline.Verdict]int{timeline.VerdictGraceful: 1, timeline.VerdictKilled: 1, timeline.VerdictAtRisk: 1},
				Shutdown: timeline.Stats{Count: 3, P50: 6.4, P95: 31.7, Max: 31.7}, GraceUsed: timeline.Stats{Count: 3, P50: 0.21, P95: 1.06, Max: 1.06}},
			{Kind: "StatefulSet", Name: "worker", Namespace: "shop", Terminated: 1,
				Verdicts: map[timeline.Verdict]int{timeline.VerdictFailed: 1},
				Shutdown: timeline.Stats{Count: 1, P50: 2, P95: 2, Max: 2}, GraceUsed: timeline.Stats{Count: 1, P50: 0.2, P95: 0.2, Max: 0.2}},
		},
		Services: []timeline.Group{
			{Kind: "Service", Name: "web", Namespace: "shop", Terminated: 4,
				ReadyEndpoints: []timeline.Point{
					{Time: at(-time.Second), Value: 4}, {Time: at(ms(120)), Value: 3}, {Time: at(ms(510)), Value: 2},
					{Time: at(ms(900)), Value: 1}, {Time: at(ms(1100)), Value: 0}, {Time: at(ms(4000)), Value: 1},
					{Time: at(ms(6000)), Value: 2}, {Time: at(ms(9000)), Value: 3}, {Time: at(ms(12000)), Value: 4},
				},
				MinReadyEndpoints: ptr(0), MaxReadyEndpoints: ptr(4)},
			{Kind: "Service", Name: "web-canary", Namespace: "shop", Terminated: 1,
				ReadyEndpoints:    []timeline.Point{{Time: at(-time.Second), Value: 1}, {Time: at(ms(950)), Value: 1}},
				MinReadyEndpoints: ptr(1), MaxReadyEndpoints: ptr(1)},
		},
		Warnings: []string{"events: 3 were dropped by the API server's rate limit", "watch restarted once " + Injected},
	}
	return timeline.Snapshot{Time: at(ms(34000)), Pods: pods, Summary: sum}
}

// Empty is a snapshot in which nothing terminated.
func Empty() timeline.Snapshot {
	return timeline.Snapshot{Summary: timeline.Summary{APIVersion: timeline.APIVersion, Kind: "Summary", Start: Base, End: Base.Add(time.Minute), Verdicts: map[timeline.Verdict]int{}}}
}

// Synthetic is a rollout of n pods over a Service, deterministic for a seed: pods are deleted
// every 150ms, most shut down gracefully behind a preStop sleep, some are killed, fail, stop
// too early or are still terminating at the end. It exercises the report at scale.
func Synthetic(n int, seed uint64) timeline.Snapshot {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	owner := &timeline.Owner{Kind: "ReplicaSet", Name: "checkout-5c9f7b8d6", Revision: "12",
		Controller: &timeline.OwnerRef{Kind: "Deployment", Name: "checkout"}}
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	name := func() string {
		b := []byte("checkout-5c9f7b8d6-")
		for range 5 {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		return string(b)
	}
	grace := int64(30)
	var pods []timeline.PodTimeline
	verdicts := map[timeline.Verdict]int{}
	var last time.Time
	ready := n
	var series []timeline.Point
	series = append(series, timeline.Point{Time: Base.Add(-time.Second), Value: ready})
	for i := range n {
		start := Base.Add(time.Duration(i) * 150 * time.Millisecond)
		d := func(msec int) time.Time { return start.Add(ms(msec)) }
		p := timeline.PodTimeline{
			APIVersion: timeline.APIVersion, Kind: "PodTimeline", Namespace: "shop", Name: name(),
			UID: fmt.Sprintf("5f0c2a7e-%04x-4b8e-9d3c-%012x", i, rng.Uint64()&0xffffffffffff), Node: fmt.Sprintf("worker-%d", rng.IntN(40)+1),
			Owner: owner, Services: []string{"checkout"}, Cause: timeline.CauseDelete, GracePeriodSeconds: &grace,
			Deadline: ptr(start.Add(time.Duration(grace) * time.Second)), Start: start, State: timeline.StateRemoved,
		}
		sidecar := rng.IntN(5) == 0
		p.Containers = []timeline.Container{{Name: "app", PreStop: "sleep 5s"}}
		if sidecar {
			p.Containers = append(p.Containers, timeline.Container{Name: "istio-proxy", Sidecar: true})
		}
		nr := 80 + rng.IntN(200)
		kill := 100 + rng.IntN(300)
		p.Marks = []timeline.Mark{
			{Type: timeline.MarkDeletionRequested, Time: start, ServerTime: ptr(start.Truncate(time.Second)), Source: timeline.SourcePod},
			{Type: timeline.MarkEndpointNotReady, Time: d(nr), Source: timeline.SourceEndpointSlice, Service: "checkout", Slice: "checkout-7xq2m"},
			{Type: timeline.MarkKilling, Time: d(kill), Source: timeline.SourceEvent, Container: "app", Reason: "Killing", Detail: "Stopping container app"},
		}
		roll := rng.IntN(100)
		var exitAt int
		var code int32
		switch {
		case roll < 5: // ignores SIGTERM: killed at the deadline
			p.Verdict = timeline.VerdictKilled
			exitAt = 30000 + 200 + rng.IntN(1500)
			code = 137
			p.Marks = append(p.Marks,
				timeline.Mark{Type: timeline.MarkSIGTERM, Time: d(kill + 5000), Estimated: true, Source: timeline.SourceInferred, Container: "app"},
				timeline.Mark{Type: timeline.MarkSIGKILL, Time: d(30000), Estimated: true, Source: timeline.SourceInferred, Container: "app"})
			p.Findings = append(p.Findings, timeline.Finding{ID: timeline.FindingSIGKILLAtDeadline, Severity: timeline.SeverityError, Container: "app",
				Message: fmt.Sprintf("app did not exit within the %ds grace period and was killed (exit 137)", grace), Fix: SIGTERMFix})
		case roll < 9: // exits non-zero
			p.Verdict = timeline.VerdictFailed
			exitAt = kill + 5000 + 200 + rng.IntN(3000)
			code = 1
			p.Marks = append(p.Marks, timeline.Mark{Type: timeline.MarkSIGTERM, Time: d(kill + 5000), Estimated: true, Source: timeline.SourceInferred, Container: "app"})
			p.Findings = append(p.Findings, timeline.Finding{ID: timeline.FindingNonZeroExit, Severity: timeline.SeverityError, Container: "app",
				Message: "app exited with code 1 after SIGTERM", Fix: "# Return 0 from the SIGTERM handler once in-flight requests are done."})
		case roll < 17: // preStop too short for the drain budget
			p.Verdict = timeline.VerdictAtRisk
			exitAt = kill + 1000 + rng.IntN(1500)
			p.Marks = append(p.Marks, timeline.Mark{Type: timeline.MarkSIGTERM, Time: d(kill + 1000), Estimated: true, Source: timeline.SourceInferred, Container: "app"})
			p.Findings = append(p.Findings, timeline.Finding{ID: timeline.FindingStoppedBeforeDrain, Severity: timeline.SeverityWarning, Container: "app",
				Message: fmt.Sprintf("app got SIGTERM %.1fs after its endpoint turned not ready, less than the 5s drain budget", float64(kill+1000-nr)/1000), Fix: PreStopFix})
		default:
			p.Verdict = timeline.VerdictGraceful
			exitAt = kill + 5000 + 300 + rng.IntN(4000)
			p.Marks = append(p.Marks, timeline.Mark{Type: timeline.MarkSIGTERM, Time: d(kill + 5000), Estimated: true, Source: timeline.SourceInferred, Container: "app"})
		}
		live := i >= n-3 // the last few are still terminating when the snapshot is taken
		reason := "Completed"
		if code != 0 {
			reason = "Error"
		}
		if live {
			p.State, p.Verdict = timeline.StateTerminating, timeline.VerdictIncomplete
			p.Findings = nil
		} else {
			exit := d(exitAt)
			p.Marks = append(p.Marks, timeline.Mark{Type: timeline.MarkContainerExited, Time: exit, ServerTime: ptr(exit.Truncate(time.Second)),
				Source: timeline.SourcePod, Container: "app", ExitCode: ptr(code), Reason: reason})
			p.Containers[0].ExitCode, p.Containers[0].Reason, p.Containers[0].Finished = ptr(code), reason, ptr(exit.Truncate(time.Second))
			if sidecar {
				se := exit.Add(ms(50 + rng.IntN(300)))
				p.Marks = append(p.Marks,
					timeline.Mark{Type: timeline.MarkSIGTERM, Time: exit, Estimated: true, Source: timeline.SourceInferred, Container: "istio-proxy"},
					timeline.Mark{Type: timeline.MarkContainerExited, Time: se, ServerTime: ptr(se.Truncate(time.Second)), Source: timeline.SourcePod, Container: "istio-proxy", ExitCode: ptr(int32(0)), Reason: "Completed"})
				p.Containers[1].ExitCode, p.Containers[1].Reason, p.Containers[1].Finished = ptr(int32(0)), "Completed", ptr(se.Truncate(time.Second))
				exit = se
			}
			rm := exit.Add(ms(30 + rng.IntN(200)))
			gone := rm.Add(ms(100 + rng.IntN(400)))
			p.Marks = append(p.Marks,
				timeline.Mark{Type: timeline.MarkEndpointRemoved, Time: rm, Source: timeline.SourceEndpointSlice, Service: "checkout", Slice: "checkout-7xq2m"},
				timeline.Mark{Type: timeline.MarkPodRemoved, Time: gone, Source: timeline.SourcePod})
			p.End = &gone
			s := exit.Sub(start).Seconds()
			p.ShutdownSeconds, p.GraceUsed = ptr(s), ptr(s/float64(grace))
			if gone.After(last) {
				last = gone
			}
		}
		verdicts[p.Verdict]++
		pods = append(pods, p)
	}
	// Ready endpoints: each pod leaves at its not-ready mark and a replacement turns ready
	// about 2s later.
	type step struct {
		t time.Time
		v int
	}
	var steps []step
	for _, p := range pods {
		steps = append(steps, step{p.Marks[1].Time, -1}, step{p.Marks[1].Time.Add(ms(2000 + rng.IntN(1500))), +1})
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.t.Compare(b.t) })
	lo, hi := ready, ready
	for _, s := range steps {
		ready += s.v
		lo, hi = min(lo, ready), max(hi, ready)
		series = append(series, timeline.Point{Time: s.t, Value: ready})
	}
	end := last.Add(time.Second)
	sum := timeline.Summary{
		APIVersion: timeline.APIVersion, Kind: "Summary", Start: Base.Add(-time.Second), End: end,
		Terminated: n - 3, Verdicts: verdicts,
		Owners: []timeline.Group{{Kind: "Deployment", Name: "checkout", Namespace: "shop", Terminated: n - 3, Verdicts: verdicts}},
		Services: []timeline.Group{{Kind: "Service", Name: "checkout", Namespace: "shop", Terminated: n - 3,
			ReadyEndpoints: series, MinReadyEndpoints: ptr(lo), MaxReadyEndpoints: ptr(hi)}},
	}
	return timeline.Snapshot{Time: end, Pods: pods, Summary: sum}
}
