package watch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	watchapi "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/watchlist"
	"k8s.io/utils/ptr"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

func TestWatcherStreamsPodLifecycle(t *testing.T) {
	pod := newPod("shop", "web-1", map[string]string{"app": "web"})
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	cs := fake.NewClientset(pod)
	allowAccess(cs)
	target := namespaceTarget("shop", false, labels.Everything())
	w := NewForClient(cs, target, Options{Clock: stepClock()})
	started(t, w)
	watching(t, cs, "pods")
	ctx := context.Background()

	d := next(t, w)
	if d.Type != timeline.Added || d.Pod == nil || d.Pod.Name != "web-1" {
		t.Fatalf("first delta = %s %s, want ADDED pod/web-1", d.Type, describeDelta(d))
	}
	if d.Pod.ManagedFields != nil || d.Pod.Spec.Containers[0].Image != "" {
		t.Errorf("pod not trimmed: managedFields %v, image %q", d.Pod.ManagedFields, d.Pod.Spec.Containers[0].Image)
	}
	if !d.Time.Equal(base) {
		t.Errorf("first stamp = %v, want %v", d.Time, base)
	}

	deleting := pod.DeepCopy()
	deleting.ResourceVersion = "2"
	deleting.DeletionTimestamp = &metav1.Time{Time: base.Add(30 * time.Second)}
	deleting.DeletionGracePeriodSeconds = ptr.To[int64](30)
	if _, err := cs.CoreV1().Pods("shop").Update(ctx, deleting, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d2 := next(t, w)
	if d2.Type != timeline.Modified || d2.Pod.DeletionTimestamp == nil {
		t.Fatalf("second delta = %s %s (deletionTimestamp %v), want MODIFIED with deletionTimestamp", d2.Type, describeDelta(d2), d2.Pod.DeletionTimestamp)
	}
	if err := cs.CoreV1().Pods("shop").Delete(ctx, "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	d3 := next(t, w)
	if d3.Type != timeline.Deleted || d3.Pod.Name != "web-1" || d3.FinalStateUnknown {
		t.Fatalf("third delta = %s %s, want DELETED pod/web-1", d3.Type, describeDelta(d3))
	}
	if !(d.Time.Before(d2.Time) && d2.Time.Before(d3.Time)) {
		t.Errorf("stamps not increasing: %v %v %v", d.Time, d2.Time, d3.Time)
	}
}

func TestWatcherDropsUpdatesToIgnoredFields(t *testing.T) {
	pod := newPod("shop", "web-1", nil)
	cs := fake.NewClientset(pod)
	allowAccess(cs)
	w := NewForClient(cs, namespaceTarget("shop", false, labels.Everything()), Options{})
	started(t, w)
	watching(t, cs, "pods")
	next(t, w) // ADDED

	// hostIP is not read by the timeline: the update must not become a delta.
	p := pod.DeepCopy()
	p.ResourceVersion = "2"
	p.Status.HostIP = "10.0.0.9"
	if _, err := cs.CoreV1().Pods("shop").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	noDelta(t, w, 300*time.Millisecond)

	p = p.DeepCopy()
	p.ResourceVersion = "3"
	p.Status.Phase = corev1.PodFailed
	if _, err := cs.CoreV1().Pods("shop").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if d := next(t, w); d.Type != timeline.Modified || d.Pod.Status.Phase != corev1.PodFailed {
		t.Fatalf("got %s phase %s, want MODIFIED phase Failed", d.Type, d.Pod.Status.Phase)
	}
}

func TestWatcherDropsEventsTheTimelineDoesNotRead(t *testing.T) {
	// The API server leaves out the commonest reasons only; another Event about a pod (BackOff)
	// still comes, and must make no delta. An Event about a node is the node's, whatever its
	// reason.
	event := func(name, kind, reason string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: "shop", Name: name, ResourceVersion: "1"},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: "shop", Name: "web-1"},
			Reason:         reason, Message: "m",
		}
	}
	cs := fake.NewClientset(event("a", "Pod", "BackOff"), event("b", "Pod", "Killing"))
	allowAccess(cs)
	w := NewForClient(cs, namespaceTarget("shop", false, labels.Everything()), Options{})
	started(t, w)
	if d := next(t, w); d.Event == nil || d.Event.Reason != "Killing" {
		t.Fatalf("first delta %s %s, want the Killing Event", d.Type, describeDelta(d))
	}
	noDelta(t, w, 300*time.Millisecond)
	for _, reason := range commonPodEvents {
		if timeline.ReadsPodEvent(reason) {
			t.Errorf("%s is left out by the API server but read by the timeline", reason)
		}
	}

	kept, err := trim(event("c", "Pod", "FailedMount"))
	if err != nil {
		t.Fatal(err)
	}
	if e := kept.(*corev1.Event); e.Message != "" || e.Name != "c" || e.ResourceVersion != "1" {
		t.Errorf("unread Event kept as %+v, want its key and version only", e)
	}
	kept, err = trim(event("d", "Node", "NodeNotSchedulable"))
	if err != nil {
		t.Fatal(err)
	}
	if e := kept.(*corev1.Event); e.Message != "m" {
		t.Errorf("an Event about a node lost its message: %+v", e)
	}
}

// listOptions collects the list and watch requests per resource.
func listOptions(cs *fake.Clientset) map[string][]string {
	got := map[string][]string{}
	for _, a := range cs.Actions() {
		var opts metav1.ListOptions
		switch act := a.(type) {
		case k8stesting.ListActionImpl:
			opts = act.GetListOptions()
		case k8stesting.WatchActionImpl:
			opts = act.GetListOptions()
		default:
			continue
		}
		key := a.GetResource().Resource
		entry := fmt.Sprintf("%s ns=%q labels=%q fields=%q", a.GetVerb(), a.GetNamespace(), opts.LabelSelector, opts.FieldSelector)
		got[key] = append(got[key], entry)
	}
	return got
}

func TestWatcherScopesInformers(t *testing.T) {
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: "d-uid"},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "front"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}},
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}
	pod := newPod("shop", "web-1", nil)
	tier, _ := labels.Parse("tier=front")

	tests := []struct {
		name   string
		target func() *Target
		want   map[string]string // resource -> list options (watch must match)
		// nodeEvents is the extra Events informer of a node target (Events about the node).
		nodeEvents string
	}{
		{
			name:   "deployment",
			target: func() *Target { t, _ := targetFor(deploy, labels.Everything()); return t },
			want: map[string]string{
				"pods":           `ns="shop" labels="app=web" fields=""`,
				"events":         `ns="shop" labels="" fields="involvedObject.kind=Pod"`,
				"endpointslices": `ns="shop" labels="" fields=""`,
				"replicasets":    `ns="shop" labels="app=web" fields=""`,
				"deployments":    `ns="shop" labels="" fields="metadata.name=web"`,
			},
		},
		{
			name:   "deployment narrowed by -l",
			target: func() *Target { t, _ := targetFor(deploy, tier); return t },
			want: map[string]string{
				"pods":           `ns="shop" labels="app=web,tier=front" fields=""`,
				"events":         `ns="shop" labels="" fields="involvedObject.kind=Pod"`,
				"endpointslices": `ns="shop" labels="" fields=""`,
				"replicasets":    `ns="shop" labels="app=web" fields=""`,
				"deployments":    `ns="shop" labels="" fields="metadata.name=web"`,
			},
		},
		{
			name:   "service",
			target: func() *Target { t, _ := targetFor(svc, labels.Everything()); return t },
			want: map[string]string{
				"pods":           `ns="shop" labels="app=web" fields=""`,
				"events":         `ns="shop" labels="" fields="involvedObject.kind=Pod"`,
				"endpointslices": `ns="shop" labels="kubernetes.io/service-name=front" fields=""`,
				"replicasets":    `ns="shop" labels="" fields=""`,
			},
		},
		{
			name:   "node",
			target: func() *Target { t, _ := targetFor(node, labels.Everything()); return t },
			want: map[string]string{
				"pods":                 `ns="" labels="" fields="spec.nodeName=node-1"`,
				"poddisruptionbudgets": `ns="" labels="" fields=""`,
				"events":               `ns="" labels="" fields="involvedObject.kind=Pod"`,
				"endpointslices":       `ns="" labels="" fields=""`,
				"nodes":                `ns="" labels="" fields="metadata.name=node-1"`,
			},
			nodeEvents: `ns="" labels="" fields="involvedObject.kind=Node,involvedObject.name=node-1"`,
		},
		{
			name:   "pod",
			target: func() *Target { t, _ := targetFor(pod, labels.Everything()); return t },
			want: map[string]string{
				"pods":           `ns="shop" labels="" fields="metadata.name=web-1"`,
				"events":         `ns="shop" labels="" fields="involvedObject.kind=Pod,involvedObject.name=web-1"`,
				"endpointslices": `ns="shop" labels="" fields=""`,
			},
		},
		{
			name:   "all namespaces with -l",
			target: func() *Target { return namespaceTarget("shop", true, tier) },
			want: map[string]string{
				"pods":           `ns="" labels="tier=front" fields=""`,
				"events":         `ns="" labels="" fields="involvedObject.kind=Pod"`,
				"endpointslices": `ns="" labels="" fields=""`,
				"replicasets":    `ns="" labels="" fields=""`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			allowAccess(cs)
			w := NewForClient(cs, tt.target(), Options{})
			stop := started(t, w)
			stop()
			got := listOptions(cs)
			if len(got) != len(tt.want) {
				t.Errorf("watched %d resources %v, want %d", len(got), keys(got), len(tt.want))
			}
			for res, want := range tt.want {
				wantOpts := []string{want}
				if res == "events" {
					// One list and watch, without the reasons of a pod's start.
					wantOpts = []string{strings.TrimSuffix(want, `"`) +
						`,reason!=Scheduled,reason!=Pulling,reason!=Pulled,reason!=Created,reason!=Started"`}
					if tt.nodeEvents != "" {
						wantOpts = append(wantOpts, tt.nodeEvents)
					}
				}
				reqs := got[res]
				for _, opts := range wantOpts {
					var verbs []string
					for _, r := range reqs {
						if verb, o, _ := strings.Cut(r, " "); o == opts {
							verbs = append(verbs, verb)
						}
					}
					if !slices.Contains(verbs, "list") || !slices.Contains(verbs, "watch") {
						t.Errorf("%s: requests %v, want a list and a watch with %s", res, reqs, opts)
					}
				}
				for _, r := range reqs {
					verb, opts, _ := strings.Cut(r, " ")
					if !slices.Contains(wantOpts, opts) {
						t.Errorf("%s %s: %s, want one of %v", verb, res, opts, wantOpts)
					}
				}
			}
		})
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// controlled serves pods from lists and watches the test controls, like an API server whose
// watch expires.
type controlled struct {
	mu      sync.Mutex
	lists   [][]corev1.Pod
	watches chan *watchapi.FakeWatcher
}

func (c *controlled) install(cs *fake.Clientset) {
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.lists) == 0 {
			return true, nil, errors.New("no more lists")
		}
		items := c.lists[0]
		c.lists = c.lists[1:]
		return true, &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "100"}, Items: items}, nil
	})
	cs.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watchapi.Interface, error) {
		w := watchapi.NewFake()
		c.watches <- w
		return true, w, nil
	})
}

func TestWatcherRelistAfterExpiredWatch(t *testing.T) {
	a, b, c := newPod("shop", "a", nil), newPod("shop", "b", nil), newPod("shop", "c", nil)
	ctl := &controlled{
		lists:   [][]corev1.Pod{{*a, *b}, {*a, *c}}, // b vanished while the watch was down; c appeared
		watches: make(chan *watchapi.FakeWatcher, 4),
	}
	cs := fake.NewClientset()
	allowAccess(cs)
	ctl.install(cs)
	w := NewForClient(cs, namespaceTarget("shop", false, labels.Everything()), Options{})
	// Only pods matter here: deny the rest so their informers are not started.
	cs.PrependReactor("create", "selfsubjectaccessreviews", denyAllBut("pods"))
	started(t, w)

	got := map[string]timeline.DeltaType{}
	for range 2 {
		d := next(t, w)
		got[d.Pod.Name] = d.Type
	}
	if got["a"] != timeline.Added || got["b"] != timeline.Added {
		t.Fatalf("initial deltas %v, want a and b ADDED", got)
	}
	first := <-ctl.watches
	// The watch expires (410 Gone): the informer relists.
	first.Error(&apierrors.NewResourceExpired("too old resource version").ErrStatus)
	first.Stop()

	got = map[string]timeline.DeltaType{}
	for range 2 {
		d := next(t, w)
		got[d.Pod.Name] = d.Type
		if d.FinalStateUnknown != (d.Pod.Name == "b") {
			t.Errorf("%s %s: finalStateUnknown = %v", d.Type, describeDelta(d), d.FinalStateUnknown)
		}
	}
	want := map[string]timeline.DeltaType{"b": timeline.Deleted, "c": timeline.Added}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after relist got %v, want %v", got, want)
	}
	// a is unchanged: no duplicate, and above all no DELETED for it.
	noDelta(t, w, 300*time.Millisecond)
}

// denyAllBut allows list/watch only on the given resources.
func denyAllBut(allowed ...string) k8stesting.ReactionFunc {
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		out := r.DeepCopy()
		for _, res := range allowed {
			if r.Spec.ResourceAttributes.Resource == res {
				out.Status.Allowed = true
			}
		}
		return true, out, nil
	}
}

func TestHandlerUnwrapsTombstones(t *testing.T) {
	w := NewForClient(fake.NewClientset(), namespaceTarget("shop", false, labels.Everything()), Options{Clock: stepClock()})
	in := &informer{name: "pods"}
	h := w.handler(in)
	pod := newPod("shop", "gone", nil)
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "shop/gone", Obj: pod})
	h.OnDelete(&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "s"}})

	d := next(t, w)
	if d.Type != timeline.Deleted || d.Pod != pod || !d.FinalStateUnknown {
		t.Errorf("got %s %s (finalStateUnknown %v), want DELETED with the tombstone's pod, final state unknown", d.Type, describeDelta(d), d.FinalStateUnknown)
	}
	if d := next(t, w); d.Type != timeline.Deleted || d.Slice == nil || d.FinalStateUnknown {
		t.Errorf("got %s %s (finalStateUnknown %v), want a plain DELETED endpointslice", d.Type, describeDelta(d), d.FinalStateUnknown)
	}
}

func TestStreamOrdersConcurrentHandlers(t *testing.T) {
	w := NewForClient(fake.NewClientset(), namespaceTarget("shop", false, labels.Everything()), Options{})
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			h := w.handler(&informer{})
			for j := range each {
				h.OnAdd(newPod("shop", fmt.Sprintf("p-%d-%d", i, j), nil), false)
			}
		})
	}
	var prev time.Time
	seen := map[string]bool{}
	for n := range writers * each {
		d := next(t, w)
		if d.Time.Before(prev) {
			t.Fatalf("delta %d stamped %v before the previous one %v", n, d.Time, prev)
		}
		prev = d.Time
		seen[d.Pod.Name] = true
	}
	wg.Wait()
	if len(seen) != writers*each {
		t.Errorf("%d distinct pods, want %d", len(seen), writers*each)
	}
	if d, ok := receive(w, 50*time.Millisecond); ok {
		t.Errorf("an extra delta: %s", describeDelta(d))
	}
}

func TestStartReportsSyncProgress(t *testing.T) {
	var objs []runtime.Object
	for i := range 50 {
		objs = append(objs, newPod("shop", fmt.Sprintf("p-%d", i), nil))
	}
	cs := fake.NewClientset(objs...)
	allowAccess(cs)
	var mu sync.Mutex
	var msgs []string
	w := NewForClient(cs, namespaceTarget("shop", false, labels.Everything()), Options{
		Progress: func(s string) { mu.Lock(); msgs = append(msgs, s); mu.Unlock() },
	})
	started(t, w)
	mu.Lock()
	defer mu.Unlock()
	if len(msgs) == 0 || !strings.HasPrefix(msgs[len(msgs)-1], "synced pods 50, events 0, endpointslices 0, replicasets 0 in ") {
		t.Errorf("progress %q, want a last line starting with \"synced pods 50, events 0, ...\"", msgs)
	}
	for range 50 {
		if d := next(t, w); d.Type != timeline.Added {
			t.Fatalf("initial delta %s, want ADDED", d.Type)
		}
	}
}

func TestStartFailsWhenCachesNeverSync(t *testing.T) {
	cs := fake.NewClientset()
	allowAccess(cs)
	refused := errors.New(`Get "https://10.0.0.1:6443/api/v1/namespaces/shop/pods": dial tcp 10.0.0.1:6443: connect: connection refused`)
	for _, res := range []string{"pods", "events"} {
		cs.PrependReactor("list", res, func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, refused
		})
	}
	w := NewForClient(cs, namespaceTarget("shop", false, labels.Everything()), Options{SyncTimeout: 2 * time.Second})
	w.server = "https://10.0.0.1:6443"
	start := time.Now()
	err := w.Start(context.Background())
	if err == nil {
		t.Fatal("Start succeeded without pods")
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("Start took %s with a 2s sync timeout", took)
	}
	// Each resource named once.
	want := "timed out after 2s waiting for pods, events to sync: cannot reach the API server at https://10.0.0.1:6443: connection refused"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q\nwant prefix %q", err, want)
	}
	select {
	case <-w.Stopped():
	case <-time.After(5 * time.Second):
		t.Error("not stopped 5s after a failed Start")
	}
	if got := w.Take(); len(got) != 0 {
		t.Errorf("%d deltas after a failed Start", len(got))
	}
}

func TestStartDropsForbiddenOptionalInformer(t *testing.T) {
	// The access review says yes, the list says no (e.g. a webhook authorizer that answers
	// reviews differently): the watch goes on without that resource, with one warning.
	for _, tt := range []struct{ resource, group, partial string }{
		{"endpointslices", "discovery.k8s.io", PartialEndpointSlices},
		{"events", "", PartialEvents},
	} {
		t.Run(tt.resource, func(t *testing.T) {
			cs := fake.NewClientset(newPod("shop", "a", nil))
			allowAccess(cs)
			cs.PrependReactor("list", tt.resource, func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: tt.group, Resource: tt.resource}, "", errors.New("nope"))
			})
			var warnings []string
			var mu sync.Mutex
			w := NewForClient(cs, namespaceTarget("shop", false, labels.Everything()), Options{
				Warn: func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() },
			})
			started(t, w)
			if got := w.Partial(); len(got) != 1 || got[0] != tt.partial {
				t.Errorf("Partial() = %v, want [%s]", got, tt.partial)
			}
			mu.Lock()
			if len(warnings) != 1 || !strings.Contains(warnings[0], "not watching "+tt.resource+": permission denied") {
				t.Errorf("warnings %q, want one about %s", warnings, tt.resource)
			}
			mu.Unlock()
			if d := next(t, w); d.Pod == nil || d.Pod.Name != "a" {
				t.Errorf("got %s, want pod/a", describeDelta(d))
			}
		})
	}
}

func TestDoneClosesAfterTheLastDelta(t *testing.T) {
	uid := types.UID("d-uid")
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: uid, Generation: 2,
			Annotations: map[string]string{annotationRevision: "2"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		// Mid-rollout: the new pod is up, the old one still terminating.
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1},
	}
	oldRS := replicaSet("web-old", "1")
	newRS := replicaSet("web-new", "2")
	oldPod := ownedPod("web-old-x", "web-old")
	oldPod.DeletionTimestamp = &metav1.Time{Time: base}
	newPod := ownedPod("web-new-y", "web-new")
	cs := fake.NewClientset(deploy, oldRS, newRS, oldPod, newPod)
	allowAccess(cs)
	target, err := targetFor(deploy, labels.Everything())
	if err != nil {
		t.Fatal(err)
	}
	w := NewForClient(cs, target, Options{})
	started(t, w)
	watching(t, cs, "pods", "deployments")
	ctx := context.Background()
	for range 5 { // two pods, two ReplicaSets, the Deployment
		next(t, w)
	}

	// Status says complete, but the old pod is still terminating: not done yet.
	dep := deploy.DeepCopy()
	dep.Status.Replicas = 1
	if _, err := cs.AppsV1().Deployments("shop").UpdateStatus(ctx, dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Done closes only in a Take: keep taking (receive does) until nothing comes for 300 ms.
	for {
		_, ok := receive(w, 300*time.Millisecond)
		select {
		case <-w.Done():
			t.Fatal("done while an old pod is still terminating")
		default:
		}
		if !ok {
			break
		}
	}

	if err := cs.CoreV1().Pods("shop").Delete(ctx, oldPod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Done must not overtake the delta that completed the rollout: by the time it closes, the
	// DELETED has been received.
	var seen []string
	timeout := time.After(5 * time.Second)
	for {
		select {
		case <-w.Wake():
			for _, d := range w.Take() {
				if d.Deployment == nil { // its status updates come and go with the pods
					seen = append(seen, string(d.Type)+" "+describeDelta(d))
				}
			}
			continue
		case <-w.Done():
		case <-timeout:
			t.Fatalf("not done after the last old pod was removed; deltas %v", seen)
		}
		break
	}
	if want := []string{"DELETED pod/" + oldPod.Name}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("deltas before done: %v, want %v", seen, want)
	}

	// A watch without --until-done goes on after the rollout: the next change still comes.
	if _, err := cs.CoreV1().Pods("shop").Create(ctx, ownedPod("web-new-z", "web-new"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		d, ok := receive(w, 5*time.Second)
		if !ok {
			t.Fatal("nothing taken after done: the watch stopped with the rollout")
		}
		if d.Pod != nil && d.Pod.Name == "web-new-z" {
			break
		}
	}
}

func replicaSet(name, revision string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Namespace: "shop", Name: name, UID: types.UID("uid-" + name),
		Labels:      map[string]string{"app": "web"},
		Annotations: map[string]string{annotationRevision: revision, "other": "dropped"},
	}}
}

func ownedPod(name, rs string) *corev1.Pod {
	p := newPod("shop", name, map[string]string{"app": "web"})
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: types.UID("uid-" + rs), Controller: ptr.To(true)}}
	return p
}

func TestStartFailsFastWhenPodsAreForbidden(t *testing.T) {
	cs := fake.NewClientset()
	allowAccess(cs) // the review says yes, the list says no
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "dev" cannot list resource "pods" in API group "" in the namespace "shop"`))
	})
	w := NewForClient(cs, namespaceTarget("shop", false, labels.Everything()), Options{SyncTimeout: time.Minute})
	start := time.Now()
	err := w.Start(context.Background())
	if err == nil {
		t.Fatal("Start succeeded without pods")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s: a 403 must not wait for the sync timeout", took)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, `permission denied: pods is forbidden: User "dev" cannot list resource "pods"`) || !strings.Contains(msg, "kind: Role\n") {
		t.Errorf("error %q, want the reason and a Role", msg)
	}
}

func TestInformersListThenWatch(t *testing.T) {
	if !watchlist.DoesClientNotSupportWatchListSemantics(listThenWatch{fake.NewClientset()}) {
		t.Error("informers would stream their initial list (watch-list) instead of listing")
	}
}
