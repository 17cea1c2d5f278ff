package timeline

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func pdbDelta(sec float64, allowed, healthy, desired, expected int32) Delta {
	return Delta{Time: at(sec), Type: Modified, PDB: &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &intstr.IntOrString{IntVal: desired},
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed, CurrentHealthy: healthy, DesiredHealthy: desired, ExpectedPods: expected},
	}}
}

func nodeDelta(sec float64, name string, cordoned bool) Delta {
	return Delta{Time: at(sec), Type: Modified, Node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Unschedulable: cordoned}}}
}

// A drain stalled by a PDB shows the PDB, the pods waiting on the cordoned node and those
// holding the budget; the blocker clears when the budget allows a disruption again.
func TestBlockers(t *testing.T) {
	a := newScen("web-a", 30, app("/app"), true)
	b := newScen("web-b", 30, app("/app"), true)
	b.pod.Spec.NodeName = "node-2"
	b.deltas[0].Pod.Spec.NodeName = "node-2"
	notReady := a.pod.DeepCopy()
	notReady.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	e := New(Config{})
	for _, d := range append(a.deltas, b.deltas...) {
		e.Apply(d)
	}
	e.Apply(nodeDelta(1, "node-2", true))
	e.Apply(pdbDelta(1.5, 1, 2, 1, 2))
	if bl := e.Snapshot().Summary.Blockers; len(bl) != 0 {
		t.Fatalf("blockers %+v while the PDB allows a disruption", bl)
	}
	e.Apply(Delta{Time: at(2), Type: Modified, Pod: notReady}) // web-a (node-1) is not ready: the budget is spent
	e.Apply(pdbDelta(2.1, 0, 1, 1, 2))
	bl := e.Snapshot().Summary.Blockers
	if len(bl) != 1 || bl[0].Name != "web" || strings.Join(bl[0].Waiting, ",") != "web-b" || strings.Join(bl[0].Pods, ",") != "web-a" ||
		bl[0].Since == nil || !bl[0].Since.Equal(at(2.1)) || !strings.Contains(bl[0].Fix, "not ready") {
		t.Fatalf("blockers %+v; want PDB web holding web-b, web-a holding it since 2.1s", bl)
	}
	e.Apply(pdbDelta(3, 0, 2, 2, 2)) // minAvailable = all pods: it can never allow one
	if bl := e.Snapshot().Summary.Blockers; len(bl) != 1 || !strings.Contains(bl[0].Fix, "no eviction can ever pass") || !bl[0].Since.Equal(at(2.1)) {
		t.Fatalf("blockers %+v; want the impossible PDB named, since it first allowed none", bl)
	}
	e.Apply(pdbDelta(4, 1, 2, 1, 2))
	if _, sum := e.Finish(at(5)); len(sum.Blockers) != 0 {
		t.Fatalf("blockers %+v after the budget allows a disruption again", sum.Blockers)
	}
}
