//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDeployManifests: the kustomize manifests of deploy/ are valid for the real API server
// (server-side dry run: schema, RBAC rules, the Deployment's security settings), as kubectl's
// own kustomize renders them.
func TestDeployManifests(t *testing.T) {
	s := newScenario(t, "deploy")
	// A dry run cannot place objects in a namespace it only pretends to create.
	if _, err := env.client.CoreV1().Namespaces().Create(s.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "drainwatch"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace drainwatch: %v", err)
	}
	t.Cleanup(func() {
		_ = env.client.CoreV1().Namespaces().Delete(s.ctx, "drainwatch", metav1.DeleteOptions{})
	})
	out := s.kubectl("apply", "-k", filepath.Join(env.repo, "deploy"), "--dry-run=server", "-o", "name")
	for _, want := range []string{"serviceaccount/kubectl-drainwatch", "clusterrole.rbac.authorization.k8s.io/kubectl-drainwatch",
		"role.rbac.authorization.k8s.io/kubectl-drainwatch-leader", "deployment.apps/kubectl-drainwatch",
		"service/kubectl-drainwatch", "poddisruptionbudget.policy/kubectl-drainwatch"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run of deploy/ lacks %s:\n%s", want, out)
		}
	}
}
