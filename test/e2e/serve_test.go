//go:build e2e

package e2e

// serve in the cluster: deploy/ with the image built from this module, scraped by a real
// Prometheus and sending spans to a real OpenTelemetry Collector, both started by up.sh with
// DRAINWATCH_CLUSTER_OBSERVE=1 (as e2e.sh does).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

const serveNS, serveLease = "drainwatch", "kubectl-drainwatch"

// observeEnv is what up.sh wrote to observe.env.
type observeEnv struct {
	prometheus, otlpEndpoint, tracesFile, image string
}

// loadObserve reads observe.env; a cluster started without Prometheus and the collector fails
// the test (a proof that did not run is not a pass).
func loadObserve(t *testing.T) observeEnv {
	t.Helper()
	kv := loadEnvFile(t, "observe.env", "the cluster runs without Prometheus and the OpenTelemetry Collector, so serve cannot be checked: start it with DRAINWATCH_CLUSTER_OBSERVE=1 test/cluster/up.sh, as test/cluster/e2e.sh does")
	o := observeEnv{prometheus: kv["PROMETHEUS_URL"], otlpEndpoint: kv["OTLP_ENDPOINT"], tracesFile: kv["OTLP_TRACES_FILE"], image: kv["DRAINWATCH_IMAGE"]}
	if o.prometheus == "" || o.otlpEndpoint == "" || o.tracesFile == "" || o.image == "" {
		t.Fatalf("incomplete observe.env: %v", kv)
	}
	return o
}

// deployServe applies deploy/ through an overlay that only swaps in the locally built image and
// points the standard OTLP variable at the collector, waits until both replicas are ready and
// one holds the Lease, and removes it all afterwards. It returns the holder.
func deployServe(t *testing.T, s *scenario, o observeEnv) (leader string) {
	t.Helper()
	// TestDeployManifests deletes the namespace it dry-ran in; wait until it is gone.
	s.eventually("namespace "+serveNS+" gone", 2*time.Minute, func() (bool, error) {
		_, err := env.client.CoreV1().Namespaces().Get(s.ctx, serveNS, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	dir := t.TempDir()
	base, err := filepath.Rel(dir, filepath.Join(env.repo, "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	name, tag, _ := strings.Cut(o.image, ":")
	kustomization := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
images:
- name: ghcr.io/drainwatch/kubectl-drainwatch
  newName: %s
  newTag: %s
patches:
- target: {kind: Deployment, name: kubectl-drainwatch}
  patch: |
    - op: add
      path: /spec/template/spec/containers/0/imagePullPolicy
      value: Never
    - op: add
      path: /spec/template/spec/containers/0/env/-
      value: {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: %q}
    - op: add
      path: /spec/template/spec/containers/0/env/-
      value: {name: OTEL_BSP_SCHEDULE_DELAY, value: "200"}
`, base, name, tag, o.otlpEndpoint)
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	s.kubectl("apply", "-k", dir)
	t.Cleanup(func() { _, _ = s.kubectlOutput("delete", "-k", dir, "--wait=false") })
	s.onFailure(func() {
		out, _ := s.kubectlOutput("get", "pods,lease", "-n", serveNS, "-o", "wide")
		t.Logf("serve:\n%s", out)
		out, _ = s.kubectlOutput("logs", "-n", serveNS, "-l", "app.kubernetes.io/name=kubectl-drainwatch", "--prefix", "--tail", "40")
		t.Logf("serve logs:\n%s", out)
	})
	s.kubectl("rollout", "status", "deployment/kubectl-drainwatch", "-n", serveNS, "--timeout", "120s")
	leader = serveLeader(t, s, "")
	t.Logf("serve runs in the cluster, %s holds the Lease", leader)
	return leader
}

// serveLeader waits for a holder of serve's Lease other than not, among its running pods.
func serveLeader(t *testing.T, s *scenario, not string) string {
	t.Helper()
	var holder string
	s.eventually("a serve replica holding the Lease", 60*time.Second, func() (bool, error) {
		l, err := env.client.CoordinationV1().Leases(serveNS).Get(s.ctx, serveLease, metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || *l.Spec.HolderIdentity == not {
			return false, nil
		}
		p, err := env.client.CoreV1().Pods(serveNS).Get(s.ctx, *l.Spec.HolderIdentity, metav1.GetOptions{})
		if err != nil || p.DeletionTimestamp != nil {
			return false, nil
		}
		holder = p.Name
		return true, nil
	})
	return holder
}

// promQuery runs an instant PromQL query and returns each series' value by the given label.
func promQuery(o observeEnv, query, label string) (map[string]float64, error) {
	resp, err := http.Get(o.prometheus + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  []any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", query, r.Error)
	}
	out := map[string]float64{}
	for _, res := range r.Data.Result {
		if len(res.Value) != 2 {
			continue
		}
		s, _ := res.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, err
		}
		out[res.Metric[label]] += v
	}
	return out, nil
}

// span is one span the collector wrote, with its attributes flattened to strings.
type span struct {
	TraceID, SpanID, Name string
	Start, End            time.Time
	Attrs                 map[string]string
	Events                []string
	// Instance is the exporting replica (the resource's service.instance.id).
	Instance string
}

type otlpKV struct {
	Key   string `json:"key"`
	Value struct {
		StringValue *string  `json:"stringValue"`
		IntValue    *string  `json:"intValue"`
		DoubleValue *float64 `json:"doubleValue"`
		BoolValue   *bool    `json:"boolValue"`
		ArrayValue  *struct {
			Values []struct {
				StringValue string `json:"stringValue"`
			} `json:"values"`
		} `json:"arrayValue"`
	} `json:"value"`
}

func flatten(kvs []otlpKV) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		v := kv.Value
		switch {
		case v.StringValue != nil:
			m[kv.Key] = *v.StringValue
		case v.IntValue != nil:
			m[kv.Key] = *v.IntValue
		case v.DoubleValue != nil:
			m[kv.Key] = strconv.FormatFloat(*v.DoubleValue, 'f', -1, 64)
		case v.BoolValue != nil:
			m[kv.Key] = strconv.FormatBool(*v.BoolValue)
		case v.ArrayValue != nil:
			var l []string
			for _, e := range v.ArrayValue.Values {
				l = append(l, e.StringValue)
			}
			m[kv.Key] = strings.Join(l, ",")
		}
	}
	return m
}

// collectorSpans reads every span of namespace ns from the collector's file (OTLP/JSON, one
// export request per line).
func collectorSpans(o observeEnv, ns string) ([]span, error) {
	f, err := os.Open(o.tracesFile)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []span
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var req struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []otlpKV `json:"attributes"`
				} `json:"resource"`
				ScopeSpans []struct {
					Spans []struct {
						TraceID    string   `json:"traceId"`
						SpanID     string   `json:"spanId"`
						Name       string   `json:"name"`
						Start      string   `json:"startTimeUnixNano"`
						End        string   `json:"endTimeUnixNano"`
						Attributes []otlpKV `json:"attributes"`
						Events     []struct {
							Name string `json:"name"`
						} `json:"events"`
					} `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			return nil, fmt.Errorf("%s: a line is not OTLP/JSON: %v", o.tracesFile, err)
		}
		for _, rs := range req.ResourceSpans {
			instance := flatten(rs.Resource.Attributes)["service.instance.id"]
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					a := flatten(sp.Attributes)
					if a["k8s.namespace.name"] != ns {
						continue
					}
					start, _ := strconv.ParseInt(sp.Start, 10, 64)
					end, _ := strconv.ParseInt(sp.End, 10, 64)
					s := span{TraceID: sp.TraceID, SpanID: sp.SpanID, Name: sp.Name, Start: time.Unix(0, start), End: time.Unix(0, end), Attrs: a, Instance: instance}
					for _, e := range sp.Events {
						s.Events = append(s.Events, e.Name)
					}
					out = append(out, s)
				}
			}
		}
	}
	return out, sc.Err()
}

// spansByPod waits until the collector has a span for every one of the pods (by UID) and
// returns the spans of each (more than one when two leaders exported it around a takeover).
func spansByPod(s *scenario, o observeEnv, uids map[types.UID]string) map[types.UID][]span {
	s.t.Helper()
	var by map[types.UID][]span
	s.eventually(fmt.Sprintf("a span for each of the %d terminated pods", len(uids)), 60*time.Second, func() (bool, error) {
		spans, err := collectorSpans(o, s.ns)
		if err != nil {
			return false, err
		}
		by = map[types.UID][]span{}
		for _, sp := range spans {
			by[types.UID(sp.Attrs["k8s.pod.uid"])] = append(by[types.UID(sp.Attrs["k8s.pod.uid"])], sp)
		}
		for uid := range uids {
			if len(by[uid]) == 0 {
				return false, fmt.Errorf("no span yet for %s", uids[uid])
			}
		}
		return true, nil
	})
	return by
}

// oldLeft counts the pods among uids that still exist (running or terminating).
func oldLeft(s *scenario, name string, uids map[types.UID]string) int {
	n := 0
	for _, p := range s.pods(name) {
		if _, old := uids[p.UID]; old {
			n++
		}
	}
	return n
}

// podUIDs maps the app's current pods' UIDs to their names.
func podUIDs(pods []corev1.Pod) map[types.UID]string {
	m := map[types.UID]string{}
	for _, p := range pods {
		m[p.UID] = p.Name
	}
	return m
}

// TestServeInCluster: serve, deployed from deploy/ with the image of this module, watches a
// rollout like the CLI on the host does: Prometheus's PromQL counts per verdict equal the
// CLI's, and the collector holds one span per terminated pod, in one trace, with the CLI's
// verdict and the semantic conventions' Kubernetes attributes.
func TestServeInCluster(t *testing.T) {
	o := loadObserve(t)
	s := newScenario(t, "serve")
	leader := deployServe(t, s, o)

	a := app{name: "web", replicas: 3, args: []string{"--on-sigterm=exit"}}
	s.deploy(a)
	uids := podUIDs(s.pods(a.name))
	old, out, _ := restart(t, s, a, "")
	checkAccounted(t, out, old)

	// PromQL: terminations per verdict of this namespace, as the CLI counted them.
	want := map[string]float64{}
	for _, tl := range out.Timelines {
		want[string(tl.Verdict)]++
	}
	var got map[string]float64
	query := fmt.Sprintf(`sum by (verdict) (drainwatch_terminations_total{namespace=%q,owner_kind="Deployment",owner="web"})`, s.ns)
	s.eventually("Prometheus to count the rollout's terminations", 60*time.Second, func() (bool, error) {
		var err error
		got, err = promQuery(o, query, "verdict")
		return err == nil && fmt.Sprint(got) == fmt.Sprint(want), err
	})
	t.Logf("PromQL %s = %v", query, got)
	leaders, err := promQuery(o, `sum(drainwatch_leader)`, "")
	if err != nil || leaders[""] != 1 {
		t.Errorf("sum(drainwatch_leader) = %v (%v), want 1: exactly one replica exports", leaders, err)
	}

	by := spansByPod(s, o, uids)
	trace := ""
	for uid, name := range uids {
		sp := by[uid]
		if len(sp) != 1 {
			t.Errorf("%s: %d spans, want 1 (no takeover happened)", name, len(sp))
			continue
		}
		tl := out.timeline(t, name)
		a := sp[0].Attrs
		if sp[0].Name != "k8s.pod.termination" || a["k8s.pod.name"] != name || a["k8s.deployment.name"] != "web" ||
			a["drainwatch.operation"] != "rollout" || a["drainwatch.verdict"] != string(tl.Verdict) || a["k8s.node.name"] != tl.Node {
			t.Errorf("%s: span %s with attributes %v, want k8s.pod.termination of a rollout of web, verdict %s, node %s", name, sp[0].Name, a, tl.Verdict, tl.Node)
		}
		var ids []string
		for _, f := range tl.Findings {
			ids = append(ids, string(f.ID))
		}
		if a["drainwatch.findings"] != strings.Join(ids, ",") {
			t.Errorf("%s: span findings %q, the CLI's %v", name, a["drainwatch.findings"], ids)
		}
		if len(sp[0].Events) < 3 || sp[0].Events[0] != string(timeline.MarkDeletionRequested) || !sp[0].End.After(sp[0].Start) {
			t.Errorf("%s: span events %v from %v to %v, want the marks from the deletion on", name, sp[0].Events, sp[0].Start, sp[0].End)
		}
		if trace != "" && sp[0].TraceID != trace {
			t.Errorf("%s: span in trace %s, the others in %s: one rollout is one trace", name, sp[0].TraceID, trace)
		}
		trace = sp[0].TraceID
		if sp[0].Instance != leader {
			t.Errorf("%s: span exported by %q, want the Lease holder %s", name, sp[0].Instance, leader)
		}
	}
}

// TestServeFailover: the replica that exports is deleted while a rollout runs; the other takes
// over and, together, they report every terminated pod of the rollout.
func TestServeFailover(t *testing.T) {
	o := loadObserve(t)
	s := newScenario(t, "failover")
	leader := deployServe(t, s, o)

	// Four replicas rolled one at a time, each old pod taking a few seconds to stop: the
	// rollout lasts long enough for a takeover in its middle.
	a := app{name: "api", replicas: 4, args: []string{"--on-sigterm=exit"}, preStop: preStopSleep(3)}
	s.deploy(a)
	uids := podUIDs(s.pods(a.name))
	s.kubectl("rollout", "restart", "deployment/"+a.name, "-n", s.ns)
	// The takeover happens once the first old pod is gone (the leader exported it) and while
	// the others still run or terminate.
	s.eventually("the rollout's first old pod gone", 90*time.Second, func() (bool, error) {
		return len(uids)-oldLeft(s, a.name, uids) >= 1, nil
	})
	left := oldLeft(s, a.name, uids)
	if left == 0 {
		t.Fatalf("the whole rollout ended before the takeover: nothing was proven")
	}
	standby := map[string]bool{}
	if list, err := env.client.CoreV1().Pods(serveNS).List(s.ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=kubectl-drainwatch"}); err == nil {
		for _, p := range list.Items {
			if p.Name != leader {
				standby[p.Name] = true
			}
		}
	}
	s.kubectl("delete", "pod", leader, "-n", serveNS, "--wait=false")
	deleted := time.Now()
	t.Logf("deleted the leader %s with %d of %d old pods not yet gone", leader, left, len(uids))
	next := serveLeader(t, s, leader)
	t.Logf("%s took over after %s", next, time.Since(deleted).Round(100*time.Millisecond))
	if !standby[next] {
		t.Errorf("%s took over, not the standby that had been watching (%v): the pod replacing the leader did not see what finished before it started", next, standby)
	}
	s.waitRolledOut(a.name, a.replicas)

	by := spansByPod(s, o, uids)
	exporters := map[string]int{}
	for uid, name := range uids {
		for _, sp := range by[uid] {
			exporters[sp.Instance]++
			if sp.Attrs["k8s.pod.name"] != name || sp.Attrs["drainwatch.verdict"] == "" {
				t.Errorf("%s: span %v", name, sp.Attrs)
			}
		}
		if len(by[uid]) > 1 {
			t.Logf("%s: exported by both leaders around the takeover (at least once)", name)
		}
	}
	t.Logf("spans of the rollout by exporting replica: %v", exporters)
	if exporters[leader] == 0 || exporters[next] == 0 {
		t.Errorf("spans by replica %v, want some from the old leader %s and some from the new one %s: the takeover was mid-rollout", exporters, leader, next)
	}
	// The counters of both leaders' series add up to at least every termination.
	query := fmt.Sprintf(`sum(max_over_time(drainwatch_terminations_total{namespace=%q}[10m]))`, s.ns)
	s.eventually("Prometheus to count every termination across the takeover", 60*time.Second, func() (bool, error) {
		got, err := promQuery(o, query, "")
		return err == nil && got[""] >= float64(len(uids)), err
	})
	names := make([]string, 0, len(uids))
	for _, n := range uids {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("every terminated pod reported across the takeover: %v", names)
}
