package cmd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
)

// serve --replay exports a recording: /metrics counts its terminations by owner and verdict
// and its findings by ID and cause, /readyz is ready, stdout has one JSON line per pod, and the
// command keeps serving until stopped.
func TestServeReplay(t *testing.T) {
	var out, errOut lockedBuffer
	c := NewCmdDrainwatch(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	spans := make(chan *tracepb.Span, 10)
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req coltracepb.ExportTraceServiceRequest
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/base/v1/traces" || proto.Unmarshal(b, &req) != nil {
			t.Errorf("OTLP request to %s: not an ExportTraceServiceRequest", r.URL.Path)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					spans <- sp
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil)
	}))
	defer otlp.Close()
	c.SetArgs([]string{"serve", "--replay", filepath.Join("..", "..", "examples", "rollout-no-prestop.ndjson"), "--metrics-addr", "127.0.0.1:0", "--otlp-endpoint", otlp.URL + "/base"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ExecuteContext(ctx) }()
	addr := regexp.MustCompile(`on (127\.0\.0\.1:\d+)`)
	var base string
	deadline := time.Now().Add(10 * time.Second)
	for base == "" || !strings.Contains(errOut.String(), "recording exported") {
		if time.Now().After(deadline) {
			t.Fatalf("not serving: stderr %q", errOut.String())
		}
		if m := addr.FindStringSubmatch(errOut.String()); m != nil {
			base = "http://" + m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz %d, want 200", code)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		`drainwatch_terminations_total{namespace="e2e-noprestop-`, `owner="web",owner_kind="Deployment",verdict="at-risk"} 3`,
		`drainwatch_findings_total{cause="no-prestop",id="stopped-before-drain",namespace="e2e-noprestop-`,
		`drainwatch_shutdown_seconds_count{namespace="e2e-noprestop-`,
		`drainwatch_drain_margin_seconds_bucket{namespace="e2e-noprestop-`,
		"drainwatch_cache_synced 1", "drainwatch_leader 1",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(metrics, `pod="`) {
		t.Errorf("/metrics has a pod label")
	}
	if n := strings.Count(strings.TrimSpace(out.String()), "\n") + 1; n != 3 || !strings.Contains(out.String(), `"kind":"PodTimeline"`) {
		t.Errorf("stdout has %d lines, want 3 PodTimelines: %q", n, out.String())
	}
	select {
	case err := <-done:
		t.Fatalf("serve ended before it was stopped: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve ended with %v after being stopped", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	// The spans were sent by the time serve stopped: one per pod, in one trace (one rollout).
	close(spans)
	var trace []byte
	n := 0
	for sp := range spans {
		n++
		if trace != nil && string(sp.TraceId) != string(trace) {
			t.Errorf("span %s in another trace", sp.Name)
		}
		trace = sp.TraceId
		verdict := ""
		for _, kv := range sp.Attributes {
			if kv.Key == "drainwatch.verdict" {
				verdict = kv.Value.GetStringValue()
			}
		}
		if sp.Name != "k8s.pod.termination" || verdict != "at-risk" || len(sp.Events) == 0 {
			t.Errorf("span %q verdict %q with %d events, want k8s.pod.termination, at-risk, the marks", sp.Name, verdict, len(sp.Events))
		}
	}
	if n != 3 {
		t.Errorf("%d spans, want 3", n)
	}
}

// Two replicas, one Lease: only the holder exports; when it stops (releasing the Lease), the
// other takes over.
func TestLeaderElection(t *testing.T) {
	cs := fake.NewClientset()
	var exporting atomic.Int32
	var sinceB atomic.Value
	export := func(name string, started chan<- string) func(time.Time) {
		return func(since time.Time) {
			exporting.Add(1)
			if name == "b" {
				sinceB.Store(since)
			}
			started <- name
		}
	}
	started := make(chan string, 2)
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan error, 1)
	go func() { doneA <- runLeader(ctxA, cs, "drainwatch", "lease", "a", io.Discard, export("a", started)) }()
	first := <-started
	if first != "a" {
		t.Fatalf("%s exports first, want a (it started alone)", first)
	}
	go func() { _ = runLeader(ctxB, cs, "drainwatch", "lease", "b", io.Discard, export("b", started)) }()
	select {
	case who := <-started:
		t.Fatalf("%s exports while a holds the Lease", who)
	case <-time.After(3 * time.Second):
	}
	if n := exporting.Load(); n != 1 {
		t.Fatalf("%d replicas export, want 1", n)
	}
	stopA()
	released := time.Now()
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	exporting.Add(-1)
	select {
	case who := <-started:
		if who != "b" {
			t.Fatalf("%s took over, want b", who)
		}
		// b learns when a released the Lease: what finished after that is b's to export.
		if since, _ := sinceB.Load().(time.Time); since.Before(released.Add(-2*time.Second)) || since.After(time.Now()) {
			t.Errorf("b takes over from %v, want a's release at about %v", since, released)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("b did not take over after a released the Lease")
	}
}

// An OTLP endpoint that is not an http(s) URL, or a gRPC protocol variable, is a usage error
// named in one line, before anything starts.
func TestServeBadOTLP(t *testing.T) {
	for _, c := range []struct{ endpoint, protocol, want string }{
		{"otel-collector:4317", "", "is not an http:// or https:// URL"},
		{"http://otel-collector:4318", "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported"},
	} {
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", c.protocol)
		var out, errOut lockedBuffer
		cmd := NewCmdDrainwatch(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		cmd.SetArgs([]string{"serve", "--replay", filepath.Join("..", "..", "examples", "rollout-no-prestop.ndjson"), "--otlp-endpoint", c.endpoint})
		err := cmd.Execute()
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("--otlp-endpoint %s with protocol %q: %v, want exit %d and one line with %q", c.endpoint, c.protocol, err, ExitUsage, c.want)
		}
	}
}

// Exporter errors are one-line warnings, at most one per interval, counting the rest.
func TestOTLPWarnings(t *testing.T) {
	var b strings.Builder
	w := &otlpWarnings{out: &b, every: time.Hour}
	for i := 0; i < 3; i++ {
		w.Handle(errors.New("Post \"http://c:4318/v1/traces\": dial tcp: connection refused\nretrying"))
	}
	w.last = time.Time{}
	w.Handle(errors.New("refused"))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "connection refused") || !strings.Contains(lines[1], "and 2 more") {
		t.Errorf("warnings %q, want 2 lines, the second counting 2 left out", lines)
	}
}
