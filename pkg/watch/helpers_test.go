package watch

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// base is the first time the test clock returns.
var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// stepClock returns base, base+1ms, base+2ms, ...: every stamp is distinct and ordered.
func stepClock() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return base.Add(time.Duration(n-1) * time.Millisecond)
	}
}

// allowAccess answers every SelfSubjectAccessReview with allowed unless deny says otherwise
// for "verb resource".
func allowAccess(cs *fake.Clientset, deny ...string) {
	denied := map[string]bool{}
	for _, d := range deny {
		denied[d] = true
	}
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		attr := r.Spec.ResourceAttributes
		out := r.DeepCopy()
		out.Status.Allowed = !denied[attr.Verb+" "+attr.Resource]
		return true, out, nil
	})
}

func newPod(ns, name string, lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Labels: lbls, ResourceVersion: "1"},
		Spec: corev1.PodSpec{
			NodeName:   "node-1",
			Containers: []corev1.Container{{Name: "app", Image: "busybox"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// started starts w and returns a function that cancels it and waits until it has stopped.
func started(t *testing.T, w *Watcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.Start(ctx); err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-w.Stopped():
			case <-time.After(5 * time.Second):
				t.Errorf("not stopped 5s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// watching waits until the fake clientset has a watch open on each resource. The fake does not
// replay changes made between a list and its watch, so a test must not change objects before.
func watching(t *testing.T, cs *fake.Clientset, resources ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		open := map[string]bool{}
		for _, a := range cs.Actions() {
			if a.GetVerb() == "watch" {
				open[a.GetResource().Resource] = true
			}
		}
		missing := 0
		for _, r := range resources {
			if !open[r] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no watch on %v within 5s", resources)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pending holds the rest of a batch next has begun, per Watcher (the tests run one at a time).
var pending = map[*Watcher][]timeline.Delta{}

// receive returns the next delta, and false when nothing comes within d.
func receive(w *Watcher, d time.Duration) (timeline.Delta, bool) {
	timeout := time.After(d)
	for len(pending[w]) == 0 {
		select {
		case <-w.Wake():
			// Copied: the next Take reuses the array.
			pending[w] = slices.Clone(w.Take())
		case <-timeout:
			return timeline.Delta{}, false
		}
	}
	got := pending[w][0]
	pending[w] = pending[w][1:]
	return got, true
}

// next returns the next delta or fails after a timeout.
func next(t *testing.T, w *Watcher) timeline.Delta {
	t.Helper()
	d, ok := receive(w, 5*time.Second)
	if !ok {
		t.Fatal("no delta within 5s")
	}
	return d
}

// noDelta fails if a delta arrives within d.
func noDelta(t *testing.T, w *Watcher, d time.Duration) {
	t.Helper()
	if got, ok := receive(w, d); ok {
		t.Fatalf("unexpected delta %s %s", got.Type, describeDelta(got))
	}
}

func describeDelta(d timeline.Delta) string {
	switch {
	case d.Pod != nil:
		return "pod/" + d.Pod.Name
	case d.Slice != nil:
		return "endpointslice/" + d.Slice.Name
	case d.Event != nil:
		return "event/" + d.Event.Name
	case d.ReplicaSet != nil:
		return "rs/" + d.ReplicaSet.Name
	case d.Node != nil:
		return "node/" + d.Node.Name
	case d.Deployment != nil:
		return "deploy/" + d.Deployment.Name
	}
	return "?"
}
