//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// advise runs `drainwatch advise` and decodes its JSON.
func (s *scenario) advise(target string) (timeline.Advice, int) {
	s.t.Helper()
	cmd := exec.Command(env.plugin, withKubeconfig([]string{"advise", target, "-n", s.ns, "--json"})...)
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("advise: %v", err)
	}
	var a timeline.Advice
	if err := json.Unmarshal(out, &a); err != nil {
		s.t.Fatalf("advise output %q: %v", out, err)
	}
	return a, code
}

// TestAdviseBehindIngress: a Deployment without a preStop hook behind an Ingress whose path
// needs 8 s (stated on the Ingress). advise says, before any rollout, that the pods will stop
// before the drain and gives the patch; the rollout then shows exactly that, judged against the
// Ingress's budget, and after advise's patch a rollout is graceful and advise has nothing left.
func TestAdviseBehindIngress(t *testing.T) {
	s := newScenario(t, "advise")
	a := app{name: "web", replicas: 2, args: []string{"--on-sigterm=exit"}}
	s.deploy(a)
	class := s.ns + "-lb"
	if _, err := env.client.NetworkingV1().IngressClasses().Create(s.ctx, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/e2e-lb"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create IngressClass: %v", err)
	}
	t.Cleanup(func() { _ = env.client.NetworkingV1().IngressClasses().Delete(s.ctx, class, metav1.DeleteOptions{}) })
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: s.ns, Annotations: map[string]string{"drainwatch/drain-budget": "8s"}},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To(class), DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: a.name, Port: networkingv1.ServiceBackendPort{Number: 80}}}},
	}
	if _, err := env.client.NetworkingV1().Ingresses(s.ns).Create(s.ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Ingress: %v", err)
	}

	adv, code := s.advise("deploy/" + a.name)
	if code != 1 {
		t.Errorf("advise exit %d, want 1 (the pods would stop before the drain)", code)
	}
	if !slices.ContainsFunc(adv.Findings, func(f timeline.Finding) bool {
		return f.ID == timeline.FindingStoppedBeforeDrain && f.Cause == timeline.CauseNoPreStop && f.Container == "app"
	}) {
		t.Errorf("advice findings %s, want stopped-before-drain (no-prestop) for app", jsonOf(adv.Findings))
	}
	checkIngressPath(t, adv.Services, a.name, s.ns, class)
	if len(adv.Recommendations) != 1 || adv.Recommendations[0].PreStopSleepSeconds == nil || *adv.Recommendations[0].PreStopSleepSeconds < 8 {
		t.Fatalf("advice recommendations %s, want a preStop sleep of at least the Ingress's 8s", jsonOf(adv.Recommendations))
	}
	patch := adv.Recommendations[0].Patch

	// The rollout shows what advise said, judged against the Ingress's budget.
	old, out, _ := restart(t, s, a, "ingress-budget")
	checkAccounted(t, out, old)
	for _, name := range old {
		tl := out.timeline(t, name)
		f := finding(tl, timeline.FindingStoppedBeforeDrain)
		if tl.DrainBudgetSeconds != 8 || !strings.Contains(tl.BudgetSource, "Ingress "+s.ns+"/web") || f == nil {
			t.Errorf("%s: budget %v (%s), findings %v; want stopped-before-drain against the Ingress's 8s", name, tl.DrainBudgetSeconds, tl.BudgetSource, findingIDs(tl))
		}
	}
	checkIngressPath(t, out.Summary.Services, a.name, s.ns, class)

	// advise's patch, then a rollout: graceful, and nothing left to advise.
	cmd := exec.Command("sh", "-c", patch)
	cmd.Env = append(envWith(env.bin), "KUBECONFIG="+env.kubeconfig)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("advise's patch failed: %v\n%s", err, b)
	}
	s.waitSettled(a)
	old, out, res := restart(t, s, a, "")
	checkAccounted(t, out, old)
	for _, name := range old {
		if tl := out.timeline(t, name); tl.Verdict != timeline.VerdictGraceful || res.Failed(name) != 0 {
			t.Errorf("after advise's patch, %s: verdict %s findings %v, %d requests failed", name, tl.Verdict, findingIDs(tl), res.Failed(name))
		}
	}
	if adv, code := s.advise("deploy/" + a.name); code != 0 || adv.Fails() {
		t.Errorf("advise after its patch: exit %d, findings %s", code, jsonOf(adv.Findings))
	}
}

func checkIngressPath(t *testing.T, svcs []timeline.Group, svc, ns, class string) {
	t.Helper()
	for _, g := range svcs {
		if g.Name != svc {
			continue
		}
		for _, p := range g.TrafficPath {
			if p.Kind == "Ingress" && p.Name == "web" && p.Namespace == ns && p.Class == class && p.BudgetSeconds == 8 &&
				strings.Contains(p.BudgetSource, "drainwatch/drain-budget=8s") {
				if g.DrainBudgetSeconds == nil || *g.DrainBudgetSeconds != 8 {
					t.Errorf("Service %s: budget %v, want the Ingress's 8s", svc, g.DrainBudgetSeconds)
				}
				return
			}
		}
		t.Errorf("Service %s: traffic path %s, want Ingress %s/web (%s) with 8s from its annotation", svc, jsonOf(g.TrafficPath), ns, class)
		return
	}
	t.Errorf("no Service %s in %s", svc, jsonOf(svcs))
}
