package timeline

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// rollout generates the deltas of a rollout of n pods behind one Service whose
// EndpointSlices hold 100 endpoints each; pods terminate in waves of 250.
func rollout(n int) []Delta {
	return rolloutOf(n, "5d4f", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
}

// rolloutOf is rollout for the pods of ReplicaSet web-HASH, starting at base.
func rolloutOf(n int, hash string, base time.Time) []Delta {
	const perSlice, wave = 100, 250
	ms := func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) }
	ctrl := true
	pods := make([]*corev1.Pod, n)
	slices := make([]*discoveryv1.EndpointSlice, (n+perSlice-1)/perSlice)
	var out []Delta
	for i := range pods {
		pods[i] = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%s-%05d", hash, i), Namespace: "shop", UID: types.UID(fmt.Sprintf("uid-%s-%05d", hash, i)),
				Labels:          map[string]string{"app": "web", "pod-template-hash": hash},
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-" + hash, Controller: &ctrl}}},
			Spec: corev1.PodSpec{NodeName: fmt.Sprintf("node-%d", i%20), TerminationGracePeriodSeconds: ptr.To(int64(30)),
				Containers: []corev1.Container{withSleep(app("/app"), 5)}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("app")},
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}
		out = append(out, Delta{Time: ms(0), Type: Added, Pod: pods[i]})
	}
	for s := range slices {
		sl := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%03d", s), Namespace: "shop",
			Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}}
		for i := s * perSlice; i < min(n, (s+1)*perSlice); i++ {
			sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.1"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: pods[i].Name, UID: pods[i].UID}})
		}
		slices[s] = sl
		out = append(out, Delta{Time: ms(1), Type: Added, Slice: sl})
	}
	// sliceWith returns a new version of slice s with endpoint i changed or removed.
	sliceWith := func(s, i int, remove bool) *discoveryv1.EndpointSlice {
		old := slices[s]
		sl := old.DeepCopy()
		sl.Endpoints = sl.Endpoints[:0]
		for _, ep := range old.Endpoints {
			if ep.TargetRef.UID == pods[i].UID {
				if remove {
					continue
				}
				ep.Conditions = discoveryv1.EndpointConditions{Ready: ptr.To(false), Serving: ptr.To(true), Terminating: ptr.To(true)}
			}
			sl.Endpoints = append(sl.Endpoints, ep)
		}
		slices[s] = sl
		return sl
	}
	t := 1000
	for w := 0; w < n; w += wave {
		for i := w; i < min(n, w+wave); i++ {
			p := pods[i].DeepCopy()
			dl := metav1.NewTime(ms(t).Add(30 * time.Second))
			p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &dl, ptr.To(int64(30))
			out = append(out, Delta{Time: ms(t), Type: Modified, Pod: p})
			out = append(out, Delta{Time: ms(t + 5), Type: Modified, Slice: sliceWith(i/perSlice, i, false)})
			out = append(out, Delta{Time: ms(t + 8), Type: Added, Event: &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", p.Name, ms(t).UnixNano()), Namespace: "shop", UID: types.UID("ev-" + p.Name)},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: p.Name, UID: p.UID, FieldPath: "spec.containers{app}"},
				Reason:         "Killing", Message: "Stopping container app"}})
			pods[i] = p
			t += 2
		}
		t += 6000
		for i := w; i < min(n, w+wave); i++ {
			p := pods[i].DeepCopy()
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", FinishedAt: metav1.NewTime(ms(t))}}
			out = append(out, Delta{Time: ms(t), Type: Modified, Pod: p})
			out = append(out, Delta{Time: ms(t + 3), Type: Modified, Slice: sliceWith(i/perSlice, i, true)})
			g := p.DeepCopy()
			g.DeletionGracePeriodSeconds = ptr.To(int64(0))
			out = append(out, Delta{Time: ms(t + 6), Type: Modified, Pod: g})
			out = append(out, Delta{Time: ms(t + 7), Type: Deleted, Pod: g})
			t += 2
		}
	}
	return out
}

// BenchmarkRollout5000 applies a 5,000-pod rollout. Metrics: deltas/s on one core and the
// heap retained per finished timeline.
func BenchmarkRollout5000(b *testing.B) {
	deltas := rollout(5000)
	b.ReportAllocs()
	b.ResetTimer()
	var finished int
	for b.Loop() {
		e := New(Config{})
		finished = 0
		for _, d := range deltas {
			finished += len(e.Apply(d))
		}
		e.Finish(deltas[len(deltas)-1].Time)
	}
	b.StopTimer()
	if finished != 5000 {
		b.Fatalf("%d timelines finished; want 5000", finished)
	}
	b.ReportMetric(float64(len(deltas))*float64(b.N)/b.Elapsed().Seconds(), "deltas/s")
}

// heapAlloc returns the heap in use after a collection: what is still reachable.
func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkRetainedPerTimeline reports the heap an engine keeps per finished timeline, whole
// (TUI, report) and with SummaryOnly (JSON, text).
func BenchmarkRetainedPerTimeline(b *testing.B) {
	deltas := rollout(2000)
	for _, only := range []bool{false, true} {
		name := "whole"
		if only {
			name = "summary only"
		}
		b.Run(name, func(b *testing.B) {
			var per float64
			for b.Loop() {
				before := heapAlloc()
				e := New(Config{SummaryOnly: only})
				for _, d := range deltas {
					e.Apply(d)
				}
				per = (float64(heapAlloc()) - float64(before)) / 2000
				runtime.KeepAlive(e)
			}
			b.ReportMetric(per, "B-retained/timeline")
		})
	}
}

// BenchmarkRetainedForget is serve's engine (Forget) over hours of rollouts of 200 pods, one
// every 5 minutes, each with new pods, a new ReplicaSet and new Events: the heap it keeps
// after the first hour and after the fourth, per termination between them. Memory that
// follows the recent terminations only stays level: about 0 B per termination.
func BenchmarkRetainedForget(b *testing.B) {
	const pods, every = 200, 5 * time.Minute
	const rounds = 48
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var per float64
	for b.Loop() {
		e := New(Config{Forget: true, SummaryOnly: true})
		var after1h uint64
		for r := range rounds {
			// Each round is built here and dropped after: what stays is what the engine keeps.
			for _, d := range rolloutOf(pods, fmt.Sprintf("%04x", r), base.Add(time.Duration(r)*every)) {
				e.Apply(d)
			}
			if r == 11 {
				after1h = heapAlloc()
			}
		}
		per = (float64(heapAlloc()) - float64(after1h)) / float64(pods*(rounds-12))
		runtime.KeepAlive(e)
	}
	b.ReportMetric(per, "B-retained/termination")
}

// BenchmarkPeerShutdown sizes a finding from the exit times of 5,000 other pods of the owner,
// as each finding late in a 5,000-pod rollout does.
func BenchmarkPeerShutdown(b *testing.B) {
	e := New(Config{})
	tl := &PodTimeline{Namespace: "shop", Name: "web-5d4f-00001", Owner: &Owner{Kind: "ReplicaSet", Name: "web-5d4f"}}
	for i := range 5000 {
		v := float64((i*7919)%5000) / 1000
		i, _ := slices.BinarySearch(e.peers[ownerKey(tl)], v)
		e.peers[ownerKey(tl)] = slices.Insert(e.peers[ownerKey(tl)], i, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.peerShutdown(&need{}, tl, &Finding{})
	}
}
