package timeline

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func adviseInput(ctrs ...corev1.Container) AdviseInput {
	ing := PathEntry{Kind: "Ingress", Name: "web", Namespace: "shop", Class: "alb", BudgetSeconds: 25, BudgetSource: "ALB"}
	paths := map[string][]PathEntry{"shop/web": {ing}}
	b, _ := SlowestPath(paths["shop/web"])
	return AdviseInput{Kind: "Deployment", Name: "web", Namespace: "shop", Replicas: 2,
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{TerminationGracePeriodSeconds: ptr.To(int64(30)), Containers: ctrs}},
		Services: []string{"web"}, Paths: paths, Budgets: map[string]Budget{"shop/web": b}, DrainBudget: DefaultDrainBudget}
}

func adviceIDs(a Advice) string {
	var out []string
	for _, f := range a.Findings {
		out = append(out, fmt.Sprintf("%s/%s/%s", f.ID, f.Cause, f.Container))
	}
	return strings.Join(out, " ")
}

func TestAdvise(t *testing.T) {
	web := corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}
	t.Run("no preStop behind a 25s path", func(t *testing.T) {
		a := Advise(adviseInput(web))
		if got := adviceIDs(a); got != "stopped-before-drain/no-prestop/app no-pdb//" {
			t.Fatalf("findings %s", got)
		}
		if !a.Fails() || len(a.Recommendations) != 1 {
			t.Fatalf("fails %v recommendations %+v", a.Fails(), a.Recommendations)
		}
		r := a.Recommendations[0]
		if r.PreStopSleepSeconds == nil || *r.PreStopSleepSeconds != 25 || r.TerminationGracePeriodSeconds == nil || *r.TerminationGracePeriodSeconds != 32 ||
			!strings.Contains(r.Patch, `kubectl patch deployment web -n shop`) {
			t.Fatalf("recommendation %+v; want preStop 25s, grace 32s and a patch", r)
		}
		if len(a.Services) != 1 || a.Services[0].BudgetSource == "" || len(a.Services[0].TrafficPath) != 1 {
			t.Fatalf("services %+v", a.Services)
		}
	})
	t.Run("a short sleep, a shell PID 1, an ordinary sidecar and an impossible PDB", func(t *testing.T) {
		app := withSleep(web, 5)
		app.Command = []string{"sh", "-c", "sleep 3600"}
		in := adviseInput(app, corev1.Container{Name: "istio-proxy"})
		in.PDBs = []policyv1.PodDisruptionBudget{{ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}
		a := Advise(in)
		want := "stopped-before-drain/prestop-too-short/app sigkill-at-deadline/pid1-ignores-sigterm/app sidecar-stopped-first/sidecar-not-native/istio-proxy pdb-blocks-drain//"
		if got := adviceIDs(a); got != want {
			t.Fatalf("findings %s\nwant %s", got, want)
		}
		if len(a.PDBs) != 1 || len(a.Recommendations) != 1 || !strings.Contains(strings.Join(a.Recommendations[0].Basis, " "), "pid1-ignores-sigterm") {
			t.Fatalf("pdbs %v recommendations %+v", a.PDBs, a.Recommendations)
		}
	})
	t.Run("a preStop that eats the grace period", func(t *testing.T) {
		in := adviseInput(withSleep(web, 30))
		a := Advise(in)
		if got := adviceIDs(a); got != "sigkill-at-deadline/prestop-consumed-grace/app no-pdb//" {
			t.Fatalf("findings %s", got)
		}
		if r := a.Recommendations; len(r) != 1 || r[0].TerminationGracePeriodSeconds == nil || *r[0].TerminationGracePeriodSeconds <= 32 {
			t.Fatalf("recommendations %+v; want a grace period above the hook", r)
		}
	})
	t.Run("nothing wrong", func(t *testing.T) {
		in := adviseInput(withSleep(web, 25))
		in.Template.Spec.TerminationGracePeriodSeconds = ptr.To(int64(40))
		in.PDBs = []policyv1.PodDisruptionBudget{{ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}
		if a := Advise(in); a.Fails() || len(a.Findings) != 0 || len(a.Recommendations) != 0 {
			t.Fatalf("advice %+v; want nothing", a)
		}
	})
}
