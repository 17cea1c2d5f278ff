package traffic

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

// pod is a fake pod: an HTTP server answering with its name.
func pod(t *testing.T, name string) (*httptest.Server, int32) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, name) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return srv, int32(p)
}

func slice(name, podName, ip string, port int32, ready bool) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(port)}},
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: podName},
		}},
	}
}

func snapshot(g *Generator) Result {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.result
	r.Pods = map[string]*PodStats{}
	for k, v := range g.result.Pods {
		c := *v
		r.Pods[k] = &c
	}
	return r
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopsSendingAfterPropagationDelayAndCountsFailures(t *testing.T) {
	_, portA := pod(t, "pod-a")
	srvB, portB := pod(t, "pod-b")
	client := fake.NewClientset(
		slice("web-a", "pod-a", "127.0.0.1", portA, true),
		slice("web-b", "pod-b", "127.0.0.1", portB, true),
	)
	const delay = 400 * time.Millisecond
	g, err := Start(context.Background(), Config{Client: client, Namespace: "ns", Service: "web", Interval: 5 * time.Millisecond, PropagationDelay: delay, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	waitUntil(t, "requests to both pods", func() bool {
		r := snapshot(g)
		return r.Pods["pod-a"] != nil && r.Pods["pod-a"].OK > 5 && r.Pods["pod-b"] != nil && r.Pods["pod-b"].OK > 5
	})

	// pod-b becomes not ready and stops serving at once: the load balancer keeps sending to it
	// until it learns of the change.
	changed := time.Now()
	if _, err := client.DiscoveryV1().EndpointSlices("ns").Update(context.Background(), slice("web-b", "pod-b", "127.0.0.1", portB, false), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	srvB.Close()
	time.Sleep(delay + 200*time.Millisecond)
	before := snapshot(g).Pods["pod-b"]
	time.Sleep(200 * time.Millisecond)
	r := g.Stop()

	b := r.Pods["pod-b"]
	if b.Failed == 0 {
		t.Fatalf("pod-b stopped serving before the load balancer noticed, want failed requests, got %+v", b)
	}
	if b.OK+b.Failed != before.OK+before.Failed {
		t.Errorf("requests to pod-b continued after the propagation delay: %d then %d", before.OK+before.Failed, b.OK+b.Failed)
	}
	if b.LastFailure.Sub(changed) > delay+150*time.Millisecond {
		t.Errorf("last failure %s after the change, want within the propagation delay %s", b.LastFailure.Sub(changed), delay)
	}
	if r.Failed("pod-a") != 0 {
		t.Errorf("pod-a kept serving, want no failures, got %+v", r.Pods["pod-a"])
	}
	if r.TotalFailed() != b.Failed {
		t.Errorf("TotalFailed = %d, want %d", r.TotalFailed(), b.Failed)
	}
}

func TestClusterIPAndAllowedAddresses(t *testing.T) {
	_, portA := pod(t, "pod-a")
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec:       corev1.ServiceSpec{ClusterIP: "127.0.0.1", Ports: []corev1.ServicePort{{Port: portA}}},
	}
	client := fake.NewClientset(svc,
		slice("web-a", "pod-a", "127.0.0.1", portA, true),
		// An address outside the allowed ranges must never be contacted.
		slice("web-x", "pod-x", "192.0.2.99", 80, true),
	)
	g, err := Start(context.Background(), Config{Client: client, Namespace: "ns", Service: "web", ClusterIP: true, Interval: 5 * time.Millisecond, PropagationDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "ClusterIP answers", func() bool { return snapshot(g).ClusterIP.OK > 5 })
	r := g.Stop()
	if r.ClusterIP.AnsweredBy["pod-a"] == 0 || r.ClusterIP.Failed != 0 {
		t.Errorf("ClusterIP stats = %+v, want answers from pod-a and no failures", r.ClusterIP)
	}
	if r.Pods["pod-x"] != nil {
		t.Errorf("sent requests to a non-local address: %+v", r.Pods["pod-x"])
	}
	if len(r.Refused) == 0 || r.Refused[0] != "192.0.2.99:80" {
		t.Errorf("Refused = %v, want 192.0.2.99:80", r.Refused)
	}
}

func TestBoundedByMaxRequests(t *testing.T) {
	_, portA := pod(t, "pod-a")
	client := fake.NewClientset(slice("web-a", "pod-a", "127.0.0.1", portA, true))
	g, err := Start(context.Background(), Config{Client: client, Namespace: "ns", Service: "web", Interval: time.Millisecond, PropagationDelay: -1, MaxRequests: 20})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.done:
	case <-time.After(5 * time.Second):
		t.Fatal("generator did not stop after MaxRequests")
	}
	if r := g.Stop(); r.Requests != 20 {
		t.Errorf("Requests = %d, want 20", r.Requests)
	}
}

func TestKnowsExistingEndpointsAtOnce(t *testing.T) {
	_, portA := pod(t, "pod-a")
	client := fake.NewClientset(slice("web-a", "pod-a", "127.0.0.1", portA, true))
	g, err := Start(context.Background(), Config{Client: client, Namespace: "ns", Service: "web", Interval: 5 * time.Millisecond, PropagationDelay: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	r := g.Stop()
	if r.Pods["pod-a"] == nil || r.Pods["pod-a"].OK == 0 {
		t.Fatalf("no requests to an endpoint that existed at start: %s", r)
	}
}

func TestChangeSeenLateIsTimedByItsWrite(t *testing.T) {
	const delay = 3 * time.Second
	g := &Generator{cfg: Config{PropagationDelay: delay}}
	g.listed.Store(true)
	written := time.Now().Add(-10 * time.Second)
	late := slice("web-a", "pod-a", "10.0.0.1", 80, false)
	late.ManagedFields = []metav1.ManagedFieldsEntry{
		{Manager: "kube-controller-manager", Time: &metav1.Time{Time: written.Add(-time.Minute)}},
		{Manager: "kube-controller-manager", Time: &metav1.Time{Time: written.Truncate(time.Second)}},
	}
	fresh := slice("web-b", "pod-b", "10.0.0.2", 80, false)
	fresh.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Time: &metav1.Time{Time: time.Now().Truncate(time.Second)}}}
	before := time.Now()
	g.sliceChanged(late, false)
	g.sliceChanged(fresh, false)
	g.sliceChanged(late, true)
	after := time.Now()

	// Written 10 s before the watch delivered it: the load balancer learns of it the delay after
	// the end of the second it was written in, not the delay after the generator saw it.
	want := written.Truncate(time.Second).Add(time.Second + delay)
	if got := g.pending[0].at; !got.Equal(want) {
		t.Errorf("late change takes effect at %s, want %s (the write's second's end plus the delay)", got, want)
	}
	// Written in the second it was seen: the time it was seen decides.
	for i, name := range []string{"fresh change", "deletion"} {
		if got := g.pending[i+1].at; got.Before(before.Add(delay)) || got.After(after.Add(delay)) {
			t.Errorf("%s takes effect at %s, want between %s and %s", name, got, before.Add(delay), after.Add(delay))
		}
	}
}
