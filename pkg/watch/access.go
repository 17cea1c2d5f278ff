package watch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Names of partially watched resources, as timeline.Config.Partial takes them.
const (
	PartialEvents         = "events"
	PartialEndpointSlices = "endpointslices"
)

// resourceRef is one resource an informer lists and watches.
type resourceRef struct {
	group, resource string
	namespace       string // "" for cluster-scoped resources and all namespaces
}

func (r resourceRef) String() string {
	if r.group == "" {
		return r.resource
	}
	return r.resource + "." + r.group
}

func (r resourceRef) where() string {
	if r.namespace == "" {
		return "cluster-wide"
	}
	return "in namespace " + r.namespace
}

// The resources a target needs. Pods are required; without the others the watch goes on with
// less to show.
func requiredResources(t *Target) (pods resourceRef, optional []resourceRef) {
	pods = resourceRef{resource: "pods", namespace: t.Pods.Namespace}
	optional = []resourceRef{
		{resource: "events", namespace: t.Events.Namespace},
		{group: "discovery.k8s.io", resource: "endpointslices", namespace: t.Slices.Namespace},
	}
	if t.ReplicaSets != nil {
		optional = append(optional, resourceRef{group: "apps", resource: "replicasets", namespace: t.ReplicaSets.Namespace})
	}
	if t.Node != "" {
		optional = append(optional, resourceRef{resource: "nodes"},
			resourceRef{group: "policy", resource: "poddisruptionbudgets", namespace: t.Pods.Namespace})
	}
	if k, _ := kindOf(t.Kind); k.rollout {
		optional = append(optional, resourceRef{group: k.group, resource: k.resource, namespace: t.Namespace})
	}
	return pods, optional
}

// access is the outcome of the permission check.
type access struct {
	denied   map[string]bool // resourceRef.String() -> list or watch denied
	partial  []string
	warnings []string
}

func (a *access) allowed(resource string) bool { return !a.denied[resource] }

// checkAccess asks the API server (SelfSubjectAccessReview) whether the user may list and
// watch everything the target needs. No access to pods is an error that carries a Role to
// apply; anything else is a warning and the resource is left out.
func checkAccess(ctx context.Context, client kubernetes.Interface, t *Target, server string) (*access, error) {
	pods, optional := requiredResources(t)
	all := append([]resourceRef{pods}, optional...)
	type result struct {
		allowed bool
		reason  string
		err     error
	}
	results := make([][2]result, len(all))
	var wg sync.WaitGroup
	for i, r := range all {
		for j, verb := range []string{"list", "watch"} {
			wg.Go(func() {
				review, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
					Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: r.namespace, Verb: verb, Group: r.group, Resource: r.resource,
					}},
				}, metav1.CreateOptions{})
				if err != nil {
					results[i][j] = result{err: err}
					return
				}
				results[i][j] = result{allowed: review.Status.Allowed, reason: review.Status.Reason}
			})
		}
	}
	wg.Wait()

	a := &access{denied: map[string]bool{}}
	for i, r := range all {
		var missing []string
		for j, verb := range []string{"list", "watch"} {
			res := results[i][j]
			if res.err != nil {
				if apierrors.IsForbidden(res.err) || apierrors.IsNotFound(res.err) || apierrors.IsMethodNotSupported(res.err) {
					// The review API itself is unavailable: do not guess, let the informers try.
					a.warnings = appendOnce(a.warnings, fmt.Sprintf("could not check permissions (%s); a missing permission will show as a sync error", statusMessage(res.err)))
					continue
				}
				return nil, classify(res.err, server)
			}
			if !res.allowed {
				missing = append(missing, verb)
			}
		}
		if len(missing) == 0 {
			continue
		}
		a.denied[r.String()] = true
		what := fmt.Sprintf("%s %s %s", strings.Join(missing, " and "), r, r.where())
		if i == 0 {
			return nil, rbacError(ctx, client, t, "permission denied: cannot "+what)
		}
		switch r.resource {
		case "events":
			a.partial = append(a.partial, PartialEvents)
			a.warnings = append(a.warnings, fmt.Sprintf("cannot %s: timelines lack kubelet events (Killing, FailedPreStopHook)", what))
		case "endpointslices":
			a.partial = append(a.partial, PartialEndpointSlices)
			a.warnings = append(a.warnings, fmt.Sprintf("cannot %s: timelines lack endpoint changes (when traffic stopped)", what))
		case "replicasets":
			a.warnings = append(a.warnings, fmt.Sprintf("cannot %s: rollout revisions are unknown", what))
		case "nodes":
			a.warnings = append(a.warnings, fmt.Sprintf("cannot %s: cordoning is not visible and --until-done cannot tell when the drain ends", what))
		case "poddisruptionbudgets":
			a.warnings = append(a.warnings, fmt.Sprintf("cannot %s: a drain held up by a PodDisruptionBudget is not shown", what))
		case "deployments", "statefulsets":
			a.warnings = append(a.warnings, fmt.Sprintf("cannot %s: --until-done cannot tell when the rollout ends", what))
		}
	}
	return a, nil
}

// rbacError is the error for a user who cannot watch pods: there is nothing to follow, so it
// carries the Role (and binding) an admin can apply as is.
func rbacError(ctx context.Context, client kubernetes.Interface, t *Target, reason string) error {
	pods, optional := requiredResources(t)
	user, hint := whoAmI(ctx, client), ""
	if user == "" {
		user, hint = "USER", " (replace USER with your user name)"
	}
	return &Error{Msg: fmt.Sprintf("%s, so there is nothing to follow.\n"+
		"Ask an admin to apply this%s:\n\n%s", reason, hint, roleYAML(t, append([]resourceRef{pods}, optional...), user))}
}

// whoAmI is the user name the API server sees ("" if it cannot tell), so the printed binding
// can be applied as is.
func whoAmI(ctx context.Context, client kubernetes.Interface) string {
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return ""
	}
	return review.Status.UserInfo.Username
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// roleYAML is the smallest Role (a ClusterRole for cluster-wide targets) and binding that let
// drainwatch follow t: get on the named object, list and watch on what the informers read.
func roleYAML(t *Target, resources []resourceRef, user string) string {
	type rule struct {
		group     string
		resources []string
		verbs     []string
	}
	var rules []rule
	add := func(group, resource string, verbs ...string) {
		for i := range rules {
			if rules[i].group == group && slices.Equal(rules[i].verbs, verbs) {
				if !slices.Contains(rules[i].resources, resource) {
					rules[i].resources = append(rules[i].resources, resource)
				}
				return
			}
		}
		rules = append(rules, rule{group: group, resources: []string{resource}, verbs: verbs})
	}
	target, isKind := kindOf(t.Kind) // the target is fetched (get) as its resource
	for _, r := range resources {
		if isKind && target.resource == r.resource {
			add(r.group, r.resource, "get", "list", "watch")
		} else {
			add(r.group, r.resource, "list", "watch")
		}
	}
	if isKind && !slices.ContainsFunc(resources, func(r resourceRef) bool { return r.resource == target.resource }) {
		add(target.group, target.resource, "get")
	}

	clusterWide := t.Pods.Namespace == ""
	var b strings.Builder
	role, binding, ns := "Role", "RoleBinding", ""
	if clusterWide {
		role, binding = "ClusterRole", "ClusterRoleBinding"
	} else {
		ns = "\n  namespace: " + t.Pods.Namespace
	}
	fmt.Fprintf(&b, "apiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata:\n  name: drainwatch%s\nrules:\n", role, ns)
	for _, r := range rules {
		fmt.Fprintf(&b, "- apiGroups: [%q]\n  resources: [%s]\n  verbs: [%s]\n", r.group, quoteList(r.resources), quoteList(r.verbs))
	}
	fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata:\n  name: drainwatch%s\n"+
		"roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: %s\n  name: drainwatch\n"+
		"subjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: %q\n", binding, ns, role, user)
	return b.String()
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
