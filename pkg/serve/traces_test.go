package serve

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func pod(name, uid string, owner *timeline.Owner, in *timeline.Initiator, v timeline.Verdict) timeline.PodTimeline {
	tl := timeline.PodTimeline{Namespace: "shop", Name: name, UID: uid, Node: "node-1", Owner: owner, Initiator: in, Verdict: v, Start: t0}
	tl.Marks = []timeline.Mark{
		{Type: timeline.MarkDeletionRequested, Time: t0, Source: timeline.SourcePod},
		{Type: timeline.MarkEndpointNotReady, Time: t0.Add(100 * time.Millisecond), Source: timeline.SourceEndpointSlice, Service: "web"},
		{Type: timeline.MarkPodRemoved, Time: t0.Add(3 * time.Second), Source: timeline.SourcePod},
	}
	return tl
}

func spansOf(t *testing.T, tls ...timeline.PodTimeline) tracetest.SpanStubs {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tr := NewTraces(sdktrace.WithSyncer(exp), "test")
	for _, tl := range tls {
		tr.Timeline(tl)
	}
	return exp.GetSpans()
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// One span per termination, its marks as events, the semantic conventions' Kubernetes
// attributes, and the pods of one rollout in one trace whose IDs any replica derives alike.
func TestTracesRollout(t *testing.T) {
	rs := &timeline.Owner{Kind: "ReplicaSet", Name: "web-5d4f", Controller: &timeline.OwnerRef{Kind: "Deployment", Name: "web"}}
	rollout := &timeline.Initiator{By: "deployment-controller", Via: "rollout", Scale: &timeline.Scale{ReplicaSet: "web-5d4f", From: 2, To: 1, Rollout: true}}
	a := pod("web-5d4f-a", "uid-a", rs, rollout, timeline.VerdictGraceful)
	b := pod("web-5d4f-b", "uid-b", rs, rollout, timeline.VerdictKilled)
	b.Findings = []timeline.Finding{{ID: "sigkill", Cause: "slow-shutdown"}}
	spans := spansOf(t, a, b)
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	if spans[0].SpanContext.TraceID() != spans[1].SpanContext.TraceID() {
		t.Errorf("the rollout's pods are in two traces")
	}
	if spans[0].SpanContext.SpanID() == spans[1].SpanContext.SpanID() {
		t.Errorf("two pods share a span ID")
	}
	again := spansOf(t, b)
	if again[0].SpanContext.TraceID() != spans[1].SpanContext.TraceID() || again[0].SpanContext.SpanID() != spans[1].SpanContext.SpanID() {
		t.Errorf("another replica would give the same termination other IDs")
	}
	s := spans[1]
	if s.Name != SpanName || !s.StartTime.Equal(t0) || !s.EndTime.Equal(t0.Add(3*time.Second)) {
		t.Errorf("span %q from %v to %v, want %q from the deletion to the pod's removal", s.Name, s.StartTime, s.EndTime, SpanName)
	}
	if s.Status.Code != codes.Error || spans[0].Status.Code == codes.Error {
		t.Errorf("statuses %v / %v, want an error only for the killed pod", spans[0].Status, s.Status)
	}
	if len(s.Events) != 3 || s.Events[1].Name != string(timeline.MarkEndpointNotReady) || !s.Events[1].Time.Equal(t0.Add(100*time.Millisecond)) {
		t.Errorf("events %+v, want the 3 marks in order", s.Events)
	}
	m := attrs(s)
	for k, want := range map[attribute.Key]string{
		"k8s.namespace.name": "shop", "k8s.pod.name": "web-5d4f-b", "k8s.pod.uid": "uid-b", "k8s.node.name": "node-1",
		"k8s.replicaset.name": "web-5d4f", "k8s.deployment.name": "web",
		"drainwatch.verdict": "killed", "drainwatch.operation": OpRollout,
		"drainwatch.owner.kind": "Deployment", "drainwatch.owner.name": "web",
	} {
		if got := m[k].AsString(); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if f := m["drainwatch.findings"].AsStringSlice(); len(f) != 1 || f[0] != "sigkill" || m["drainwatch.finding_causes"].AsStringSlice()[0] != "slow-shutdown" {
		t.Errorf("findings %v causes %v", f, m["drainwatch.finding_causes"].AsStringSlice())
	}
}

// Operations: a drain groups by node and cordon, a scale-down by its counts, a bare pod is its
// own trace, and two revisions of one Deployment are two rollouts.
func TestOperationOf(t *testing.T) {
	rs := func(n string) *timeline.Owner { return &timeline.Owner{Kind: "ReplicaSet", Name: n} }
	cordon := &timeline.Initiator{Cordon: &timeline.Cordon{Node: "node-1", Time: t0}}
	scale := &timeline.Initiator{Scale: &timeline.Scale{ReplicaSet: "web-1", From: 3, To: 1}}
	rollout := &timeline.Initiator{Scale: &timeline.Scale{ReplicaSet: "web-1", From: 3, To: 2, Rollout: true}}
	cases := []struct {
		a, b timeline.PodTimeline
		kind string
		same bool
	}{
		{pod("a", "1", rs("web-1"), cordon, ""), pod("b", "2", rs("db-1"), cordon, ""), OpDrain, true},
		{pod("a", "1", rs("web-1"), scale, ""), pod("b", "2", rs("web-1"), scale, ""), OpScaleDown, true},
		{pod("a", "1", nil, nil, ""), pod("b", "2", nil, nil, ""), OpDeletion, false},
		{pod("a", "1", rs("web-1"), rollout, ""), pod("b", "2", rs("web-2"), rollout, ""), OpRollout, false},
	}
	for _, c := range cases {
		oa, ob := OperationOf(&c.a), OperationOf(&c.b)
		if oa.Kind != c.kind {
			t.Errorf("%s: kind %s, want %s", oa.Name, oa.Kind, c.kind)
		}
		if (oa.TraceID() == ob.TraceID()) != c.same {
			t.Errorf("%q and %q: same trace %v, want %v", oa.Name, ob.Name, !c.same, c.same)
		}
	}
}
