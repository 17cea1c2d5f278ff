package watch

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"
)

func deployTarget(t *testing.T) *Target {
	t.Helper()
	tg, err := targetFor(&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}, labels.Everything())
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestCheckAccess(t *testing.T) {
	tests := []struct {
		name         string
		deny         []string
		wantPartial  []string
		wantWarnings []string // substrings, in order
		wantDenied   []string
	}{
		{name: "everything allowed"},
		{
			name:         "no events",
			deny:         []string{"watch events"},
			wantPartial:  []string{PartialEvents},
			wantWarnings: []string{"cannot watch events in namespace shop: timelines lack kubelet events"},
			wantDenied:   []string{"events"},
		},
		{
			name:        "no endpointslices, no replicasets",
			deny:        []string{"list endpointslices", "watch endpointslices", "list replicasets"},
			wantPartial: []string{PartialEndpointSlices},
			wantWarnings: []string{
				"cannot list and watch endpointslices.discovery.k8s.io in namespace shop",
				"cannot list replicasets.apps in namespace shop: rollout revisions are unknown",
			},
			wantDenied: []string{"endpointslices.discovery.k8s.io", "replicasets.apps"},
		},
		{
			name:         "no deployments",
			deny:         []string{"watch deployments"},
			wantWarnings: []string{"--until-done cannot tell when the rollout ends"},
			wantDenied:   []string{"deployments.apps"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			allowAccess(cs, tt.deny...)
			acc, err := checkAccess(context.Background(), cs, deployTarget(t), server)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(acc.partial, tt.wantPartial) {
				t.Errorf("partial = %v, want %v", acc.partial, tt.wantPartial)
			}
			if len(acc.warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings = %q, want %d", acc.warnings, len(tt.wantWarnings))
			}
			for i, w := range tt.wantWarnings {
				if !strings.Contains(acc.warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, acc.warnings[i], w)
				}
			}
			for _, r := range tt.wantDenied {
				if acc.allowed(r) {
					t.Errorf("%s allowed, want denied", r)
				}
			}
			if !acc.allowed("pods") {
				t.Error("pods denied")
			}
		})
	}
}

func TestCheckAccessWithoutPods(t *testing.T) {
	cs := fake.NewClientset()
	allowAccess(cs, "list pods")
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{
			UserInfo: authenticationv1.UserInfo{Username: "dev@example.com"}}}, nil
	})
	_, err := checkAccess(context.Background(), cs, deployTarget(t), server)
	if err == nil {
		t.Fatal("no error without access to pods")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "permission denied: cannot list pods in namespace shop, so there is nothing to follow.") {
		t.Errorf("message starts %q", strings.SplitN(msg, "\n", 2)[0])
	}
	_, doc, ok := strings.Cut(msg, "\n\n")
	if !ok {
		t.Fatalf("no YAML in %q", msg)
	}
	splitYAML(t, doc)
	goldenText(t, "role-deployment.yaml", doc)
	if !strings.Contains(doc, `name: "dev@example.com"`) {
		t.Errorf("binding does not name the user:\n%s", doc)
	}
}

// splitYAML parses a multi-document YAML string, proving it is valid.
func splitYAML(t *testing.T, doc string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, part := range strings.Split(doc, "\n---\n") {
		var m map[string]any
		if err := yaml.UnmarshalStrict([]byte(part), &m); err != nil {
			t.Fatalf("invalid YAML: %v\n%s", err, part)
		}
		out = append(out, m)
	}
	return out
}

func TestRoleYAMLForNode(t *testing.T) {
	tg, err := targetFor(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, labels.Everything())
	if err != nil {
		t.Fatal(err)
	}
	pods, optional := requiredResources(tg)
	doc := roleYAML(tg, append([]resourceRef{pods}, optional...), "USER")
	docs := splitYAML(t, doc)
	goldenText(t, "role-node.yaml", doc)
	if docs[0]["kind"] != "ClusterRole" || docs[1]["kind"] != "ClusterRoleBinding" {
		t.Errorf("kinds %v/%v, want ClusterRole/ClusterRoleBinding for pods of every namespace", docs[0]["kind"], docs[1]["kind"])
	}
}

func TestCheckAccessWhenReviewsAreUnavailable(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}, "", errors.New("no"))
	})
	acc, err := checkAccess(context.Background(), cs, deployTarget(t), server)
	if err != nil {
		t.Fatalf("checkAccess: %v", err)
	}
	if len(acc.warnings) != 1 || !strings.HasPrefix(acc.warnings[0], "could not check permissions") {
		t.Errorf("warnings %q, want one 'could not check permissions'", acc.warnings)
	}
	if len(acc.partial) != 0 || !acc.allowed("events") {
		t.Errorf("unknown access treated as denied: partial %v", acc.partial)
	}
}

func TestCheckAccessConnectionError(t *testing.T) {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New(`Post "https://10.0.0.1:6443/apis/authorization.k8s.io/v1/selfsubjectaccessreviews": dial tcp: connect: connection refused`)
	})
	_, err := checkAccess(context.Background(), cs, deployTarget(t), server)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach the API server at "+server+": connection refused") {
		t.Errorf("err = %v", err)
	}
}
