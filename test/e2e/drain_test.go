//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// TestDrainStalledByPDB: a PDB that wants both pods healthy refuses every eviction, so
// `kubectl drain` retries silently. drainwatch, watching the node while it is stalled, names the
// PDB, the waiting pods and the fix; once the PDB allows a disruption the drain goes on, and the
// blocker is gone.
func TestDrainStalledByPDB(t *testing.T) {
	s := newScenario(t, "pdbstall")
	s.eventually("node-2 without pods", 90*time.Second, func() (bool, error) {
		return len(podsOn(s, "node-2")) == 0, nil
	})
	t.Cleanup(func() {
		_, _ = s.kubectlOutput("uncordon", "node-1")
		_, _ = s.kubectlOutput("uncordon", "node-2")
	})
	s.kubectl("cordon", "node-1")
	a := app{name: "web", replicas: 2, args: []string{"--on-sigterm=drain", "--drain-seconds=1s"}, preStop: preStopSleep(6)}
	old := podNames(s.deploy(a))
	p := pdb(s.ns, a.name)
	p.Spec.MaxUnavailable, p.Spec.MinAvailable = nil, ptr.To(intstr.FromInt32(2))
	if _, err := env.client.PolicyV1().PodDisruptionBudgets(s.ns).Create(s.ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PDB: %v", err)
	}
	s.eventually("PDB allows no disruption", 30*time.Second, func() (bool, error) {
		p, err := env.client.PolicyV1().PodDisruptionBudgets(s.ns).Get(s.ctx, a.name, metav1.GetOptions{})
		return err == nil && p.Status.ObservedGeneration == p.Generation && p.Status.ExpectedPods == 2 && p.Status.DisruptionsAllowed == 0, err
	})
	s.kubectl("uncordon", "node-1")

	// The drain retries the refused evictions in the background.
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Minute)
	defer cancel()
	drain := exec.CommandContext(ctx, filepath.Join(env.bin, "kubectl"), "--kubeconfig", env.kubeconfig,
		"drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout", "150s")
	var drainOut strings.Builder
	drain.Stdout, drain.Stderr = &drainOut, &drainOut
	if err := drain.Start(); err != nil {
		t.Fatal(err)
	}
	drained := make(chan error, 1)
	go func() { drained <- drain.Wait() }()
	s.eventually("node-2 cordoned by the drain", 30*time.Second, func() (bool, error) {
		n, err := env.client.CoreV1().Nodes().Get(s.ctx, "node-2", metav1.GetOptions{})
		return err == nil && n.Spec.Unschedulable, err
	})

	// While stalled: a short watch of the node reports the blocker.
	out := s.startDrainwatch(append([]string{"node/node-2", "--json", "--timeout", "8s"}, recordArgs("drain-stalled")...)...).wait(time.Minute)
	if len(out.Timelines) != 0 {
		t.Errorf("timelines %v while every eviction is refused", out.podNames())
	}
	if len(out.Summary.Blockers) != 1 {
		t.Fatalf("blockers %+v; want the PDB", out.Summary.Blockers)
	}
	b := out.Summary.Blockers[0]
	if b.Kind != timeline.KindPDB || b.Name != a.name || b.Namespace != s.ns || b.DisruptionsAllowed != 0 ||
		strings.Join(b.Waiting, ",") != strings.Join(old, ",") || b.Since == nil || !strings.Contains(b.Fix, "no eviction can ever pass") {
		t.Errorf("blocker %+v; want PDB %s holding %v with the fix for a PDB that wants every pod", b, a.name, old)
	}

	// Unblock: the drain goes on, one pod at a time, and the blocker is gone at the end.
	dw := s.startDrainwatch(watchArgs("node/node-2", "")...)
	s.kubectl("patch", "pdb", a.name, "-n", s.ns, "--type", "merge", "-p", `{"spec":{"minAvailable":1}}`)
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("kubectl drain: %v\n%s", err, drainOut.String())
		}
	case <-ctx.Done():
		t.Fatalf("kubectl drain did not finish after the PDB was relaxed\n%s", drainOut.String())
	}
	out = dw.wait(2 * time.Minute)
	checkAccounted(t, out, old)
	if len(out.Summary.Blockers) != 0 {
		t.Errorf("blockers %+v after the drain went through", out.Summary.Blockers)
	}
	for _, name := range old {
		if tl := out.timeline(t, name); tl.Cause != timeline.CauseEviction {
			t.Errorf("%s: cause %q, want eviction", name, tl.Cause)
		}
	}
}
