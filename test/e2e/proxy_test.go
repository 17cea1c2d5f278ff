//go:build e2e

package e2e

// Rollouts behind a real reverse proxy: Traefik, started next to the cluster by up.sh
// (DRAINWATCH_CLUSTER_PROXY=1, as e2e.sh does), routes an Ingress or an HTTPRoute to the app.
// The client sends through Traefik, and Traefik's access log, which names the upstream pod IP
// of every request, is the ground truth of which pod lost requests.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
	"github.com/drainwatch/kubectl-drainwatch/test/traffic"
)

// proxyEnv is what up.sh wrote to proxy.env in the cluster's state directory.
type proxyEnv struct {
	url, accessLog             string
	ingressClass, gatewayClass string
	gatewayNS, gatewayName     string
}

// loadProxy reads proxy.env; a cluster started without the proxy fails the test (a proof that
// did not run is not a pass).
func loadProxy(t *testing.T) proxyEnv {
	t.Helper()
	kv := loadEnvFile(t, "proxy.env", "the cluster runs without the reverse proxy, so the proxy scenarios cannot run: start it with DRAINWATCH_CLUSTER_PROXY=1 test/cluster/up.sh, as test/cluster/e2e.sh does")
	p := proxyEnv{url: kv["PROXY_URL"], accessLog: kv["PROXY_ACCESS_LOG"], ingressClass: kv["PROXY_INGRESS_CLASS"], gatewayClass: kv["PROXY_GATEWAY_CLASS"]}
	p.gatewayNS, p.gatewayName, _ = strings.Cut(kv["PROXY_GATEWAY"], "/")
	if p.url == "" || p.accessLog == "" || p.ingressClass == "" || p.gatewayName == "" {
		t.Fatalf("incomplete proxy.env: %v", kv)
	}
	return p
}

// loadEnvFile reads the KEY=VALUE lines up.sh wrote to name in the cluster's state directory;
// when the file is missing the test fails with missing.
func loadEnvFile(t *testing.T, name, missing string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(env.dir, name))
	if os.IsNotExist(err) {
		t.Fatal(missing)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return kv
}

// routeKind is how the app is exposed through the proxy.
type routeKind string

const (
	viaIngress   routeKind = "Ingress"
	viaHTTPRoute routeKind = "HTTPRoute"
)

// kubectlApply applies a manifest with the pinned kubectl.
func (s *scenario) kubectlApply(manifest string) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(env.bin, "kubectl"), "--kubeconfig", env.kubeconfig, "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("kubectl apply: %v\n%s\n%s", err, out, manifest)
	}
}

// expose routes host through the proxy to the app's Service and waits until every ready pod
// has answered through it.
func (s *scenario) expose(p proxyEnv, kind routeKind, a app, host string) {
	s.t.Helper()
	switch kind {
	case viaIngress:
		s.kubectlApply(fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  ingressClassName: %[3]s
  rules:
  - host: %[4]s
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: %[1]s
            port:
              number: 80
`, a.name, s.ns, p.ingressClass, host))
	case viaHTTPRoute:
		s.kubectlApply(fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  parentRefs:
  - name: %[3]s
    namespace: %[4]s
  hostnames:
  - %[5]s
  rules:
  - backendRefs:
    - name: %[1]s
      port: 80
`, a.name, s.ns, p.gatewayName, p.gatewayNS, host))
	}
	s.onFailure(func() {
		out, _ := s.kubectlOutput("get", "ingress,httproute", "-n", s.ns, "-o", "yaml")
		s.t.Logf("routes in %s:\n%s", s.ns, tail(out, 80))
	})
	s.waitAnswering(p, a, host)
}

// waitAnswering waits until every pod of the app has answered through the proxy and 30
// requests in a row have succeeded (the proxy no longer sends to pods that are gone).
func (s *scenario) waitAnswering(p proxyEnv, a app, host string) {
	s.t.Helper()
	want := map[string]bool{}
	for _, pod := range s.pods(a.name) {
		want[pod.Name] = true
	}
	client := &http.Client{Timeout: time.Second}
	s.eventually(fmt.Sprintf("%s answering through the proxy from each of %d pods", host, len(want)), 90*time.Second, func() (bool, error) {
		for i := 0; ; i++ {
			req, err := http.NewRequest(http.MethodGet, p.url+"/", nil)
			if err != nil {
				return false, err
			}
			req.Host = host
			resp, err := client.Do(req)
			if err != nil {
				return false, err
			}
			var b strings.Builder
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				b.WriteString(sc.Text())
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false, fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			delete(want, strings.TrimSpace(b.String()))
			if len(want) == 0 && i >= 30 {
				return true, nil
			}
			if i >= 60 {
				return false, fmt.Errorf("not answered by %v yet", want)
			}
		}
	})
}

// proxyRun is one watched rollout behind the proxy.
type proxyRun struct {
	old    []string
	out    output
	client traffic.ProxyResult
	truth  traffic.ProxyTruth
}

// proxyRestart rolls the app out again while a steady client sends through the proxy and
// drainwatch watches, then attributes the proxy's access log to the pods by their IPs.
func (s *scenario) proxyRestart(p proxyEnv, a app, host, record string) proxyRun {
	s.t.Helper()
	ips := map[string]string{}
	addPods := func() {
		for _, pod := range s.pods(a.name) {
			for _, ip := range pod.Status.PodIPs {
				ips[ip.IP] = pod.Name
			}
		}
	}
	addPods()
	old := podNames(s.pods(a.name))
	client, err := traffic.StartProxy(s.ctx, traffic.ProxyConfig{URL: p.url, Host: host, Rate: 50,
		MaxDuration: 4 * time.Minute, MaxRequests: 12000})
	if err != nil {
		s.t.Fatalf("proxy client: %v", err)
	}
	s.t.Cleanup(func() { client.Stop() })
	// A second of steady traffic before the rollout starts.
	time.Sleep(time.Second)
	dw := s.startDrainwatch(append(watchArgs(a.kind()+"/"+a.name, s.ns), recordArgs(record)...)...)
	s.kubectl("rollout", "restart", a.kind()+"/"+a.name, "-n", s.ns)
	out := dw.wait(4 * time.Minute)
	// Let the last requests to the new pods land in the log too.
	time.Sleep(time.Second)
	res := client.Stop()
	addPods()
	entries, err := traffic.ReadAccessLog(p.accessLog, func(e traffic.AccessLogEntry) bool {
		return e.RequestHost == host && !e.StartUTC.Before(res.Start) && !e.StartUTC.After(res.End)
	})
	if err != nil {
		s.t.Fatalf("access log: %v", err)
	}
	truth := traffic.Attribute(entries, func(ip string) string { return ips[ip] })
	s.t.Logf("client through the proxy: %s", res)
	s.t.Logf("proxy access log: %s", truth)
	if len(truth.UnknownAddrs) > 0 {
		s.t.Errorf("the proxy sent requests to addresses of no pod of %s: %v (pods %v)", a.name, truth.UnknownAddrs, ips)
	}
	if truth.Entries == 0 || res.Requests == 0 {
		s.t.Fatalf("no requests went through the proxy (client %d, access log %d)", res.Requests, truth.Entries)
	}
	// Every request the client sent is in the log (a few in flight at the edges may be missing).
	if d := res.Requests - truth.Entries; d > 10 || d < -10 {
		s.t.Errorf("client sent %d requests, the access log has %d", res.Requests, truth.Entries)
	}
	return proxyRun{old: old, out: out, client: res, truth: truth}
}

// summaryServices is the part of drainwatch's Summary line these tests read, decoded on its own.
type summaryServices struct {
	Services []struct {
		Kind        string `json:"kind"`
		Name        string `json:"name"`
		Namespace   string `json:"namespace"`
		TrafficPath []struct {
			Kind          string   `json:"kind"`
			Name          string   `json:"name"`
			Namespace     string   `json:"namespace"`
			Class         string   `json:"class"`
			Controller    string   `json:"controller"`
			BudgetSeconds *float64 `json:"budgetSeconds"`
			BudgetSource  string   `json:"budgetSource"`
		} `json:"trafficPath"`
	} `json:"services"`
	Recommendations []struct {
		Kind                string `json:"kind"`
		Name                string `json:"name"`
		PreStopSleepSeconds *int64 `json:"preStopSleepSeconds"`
		GracePeriodSeconds  *int64 `json:"terminationGracePeriodSeconds"`
	} `json:"recommendations"`
}

func decodeSummary(t *testing.T, o output) summaryServices {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(o.Stdout), "\n") {
		var head struct{ Kind string }
		if json.Unmarshal([]byte(line), &head) == nil && head.Kind == "Summary" {
			var s summaryServices
			if err := json.Unmarshal([]byte(line), &s); err != nil {
				t.Fatalf("summary: %v", err)
			}
			return s
		}
	}
	t.Fatalf("no Summary line")
	return summaryServices{}
}

// checkTrafficPath fails unless the Summary's group of Service svc lists the route.
func checkTrafficPath(t *testing.T, o output, ns, svc string, kind routeKind, class, controller string) {
	t.Helper()
	sum := decodeSummary(t, o)
	for _, g := range sum.Services {
		if g.Name != svc {
			continue
		}
		for _, p := range g.TrafficPath {
			if p.Kind == string(kind) && p.Name == svc && p.Namespace == ns && p.Controller == controller {
				if p.Class != class {
					t.Errorf("Service %s: trafficPath %s/%s has class %q, want %q", svc, p.Kind, p.Name, p.Class, class)
				}
				return
			}
		}
		t.Errorf("Service %s: trafficPath %+v has no %s %s/%s of controller %s", svc, g.TrafficPath, kind, ns, svc, controller)
		return
	}
	t.Errorf("the Summary has no group of Service %s: %+v", svc, sum.Services)
}

// TestProxyIngressRollout and TestProxyHTTPRouteRollout: a rollout behind Traefik, first with
// an app that exits at once on SIGTERM and no preStop hook (requests fail, and every pod that
// lost requests in Traefik's access log is one drainwatch flagged), then with the preStop
// sleep drainwatch recommended after the first run (no request fails, every pod graceful).
func TestProxyIngressRollout(t *testing.T) {
	testProxyRollout(t, viaIngress, "ingress-traefik")
}

func TestProxyHTTPRouteRollout(t *testing.T) {
	testProxyRollout(t, viaHTTPRoute, "")
}

func testProxyRollout(t *testing.T, kind routeKind, record string) {
	p := loadProxy(t)
	s := newScenario(t, "proxy-"+strings.ToLower(string(kind)))
	a := app{name: "web", replicas: 3, args: []string{"--on-sigterm=exit"}}
	host := s.ns + ".drainwatch.test"
	s.deploy(a)
	s.expose(p, kind, a, host)
	class, controller := p.ingressClass, "traefik.io/ingress-controller"
	if kind == viaHTTPRoute {
		class, controller = p.gatewayClass, "traefik.io/gateway-controller"
	}

	// 1. No preStop hook: the app stops while Traefik still sends to it.
	first := s.proxyRestart(p, a, host, "")
	checkAccounted(t, first.out, first.old)
	checkTrafficPath(t, first.out, s.ns, a.name, kind, class, controller)
	if first.truth.TotalFailed() == 0 {
		t.Errorf("without a preStop hook no request through the proxy failed: the scenario proves nothing (%s)", first.truth)
	}
	if first.client.Failed == 0 {
		t.Errorf("without a preStop hook the client saw no failure through the proxy (%s)", first.client)
	}
	if first.truth.Unattributed.Failed != 0 {
		t.Logf("%d failed requests the proxy answered without an upstream (%v): no pod to pin them on", first.truth.Unattributed.Failed, first.truth.Unattributed.Errors)
	}
	flagged := map[string]bool{}
	for _, tl := range first.out.Timelines {
		if tl.Verdict.Rank() >= timeline.VerdictAtRisk.Rank() && finding(tl, timeline.FindingStoppedBeforeDrain) != nil {
			flagged[tl.Name] = true
		}
	}
	for pod, st := range first.truth.Pods {
		t.Logf("without preStop: %s: %d ok, %d failed %v", pod, st.OK, st.Failed, st.Errors)
		if st.Failed > 0 && !flagged[pod] {
			t.Errorf("%s lost %d requests behind the proxy (%v), but drainwatch did not flag it stopped-before-drain", pod, st.Failed, st.Errors)
		}
	}
	if first.out.ExitCode != 1 {
		t.Errorf("exit code %d, want 1 (pods at risk)", first.out.ExitCode)
	}
	sum := decodeSummary(t, first.out)
	if len(sum.Recommendations) == 0 || sum.Recommendations[0].PreStopSleepSeconds == nil {
		t.Fatalf("no preStop sleep recommended after the first run: %+v", sum.Recommendations)
	}
	rec := sum.Recommendations[0]
	sleep := *rec.PreStopSleepSeconds
	t.Logf("drainwatch recommends preStop sleep %ds (grace %v)", sleep, ptrString(rec.GracePeriodSeconds))

	// 2. The recommended preStop sleep: applied, rolled out, then watched in a second rollout.
	d, err := env.client.AppsV1().Deployments(s.ns).Get(s.ctx, a.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: preStopSleep(sleep)}
	if rec.GracePeriodSeconds != nil {
		d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To(*rec.GracePeriodSeconds)
	}
	if _, err := env.client.AppsV1().Deployments(s.ns).Update(s.ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("apply the recommendation: %v", err)
	}
	s.waitRolledOut(a.name, a.replicas)
	s.eventually("old pods gone", 2*time.Minute, func() (bool, error) {
		return len(s.pods(a.name)) == int(a.replicas), nil
	})
	// That rollout's pods had no preStop hook: give Traefik its providers.providersThrottleDuration
	// (2s) and more to forget them before the watched rollout starts.
	time.Sleep(3 * time.Second)
	s.waitAnswering(p, a, host)
	second := s.proxyRestart(p, a, host, record)
	checkAccounted(t, second.out, second.old)
	checkTrafficPath(t, second.out, s.ns, a.name, kind, class, controller)
	for pod, st := range second.truth.Pods {
		t.Logf("with preStop sleep %ds: %s: %d ok, %d failed %v", sleep, pod, st.OK, st.Failed, st.Errors)
	}
	if n := second.truth.TotalFailed(); n != 0 {
		t.Errorf("with the recommended preStop sleep %ds, %d requests through the proxy failed: %s", sleep, n, second.truth)
	}
	if second.client.Failed != 0 {
		t.Errorf("with the recommended preStop sleep %ds the client saw %d failures: %v", sleep, second.client.Failed, second.client.Errors)
	}
	for _, name := range second.old {
		tl := second.out.timeline(t, name)
		if tl.Verdict != timeline.VerdictGraceful {
			t.Errorf("%s: verdict %s with preStop sleep %ds, want graceful; findings %v", name, tl.Verdict, sleep, findingIDs(tl))
		}
		if second.truth.Pods[name] == nil || second.truth.Pods[name].OK == 0 {
			t.Errorf("%s: the proxy sent it no request; the ground truth is empty", name)
		}
	}
	if second.out.ExitCode != 0 {
		t.Errorf("exit code %d with the recommended preStop sleep, want 0", second.out.ExitCode)
	}
}
