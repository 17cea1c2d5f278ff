package watch

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
)

// Target kinds.
const (
	KindDeployment  = "Deployment"
	KindReplicaSet  = "ReplicaSet"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindJob         = "Job"
	KindService     = "Service"
	KindNode        = "Node"
	KindPod         = "Pod"
	// KindNamespace is a target without a named object: every pod of a namespace, or of all
	// namespaces with -A.
	KindNamespace = "Namespace"
)

// kindInfo is what drainwatch knows about one kind of target. Every question about kinds
// (short names, API group, resource, whether --until-done can end) is answered from this one
// table, as stern's ResourceMatcher list does.
type kindInfo struct {
	kind     string
	short    string // kubectl's short name
	group    string // API group ("" for core)
	resource string
	// rollout: the object itself says when its rollout is over (watched for --until-done).
	rollout bool
	// finish: --until-done can tell when the target is done (a rollout, a drain, a pod gone).
	finish bool
	// informer makes the informer of the object itself, for rollout kinds.
	informer func(informers.SharedInformerFactory) cache.SharedIndexInformer
}

// kinds are the kinds drainwatch follows, in the order help, errors and completion list them.
var kinds = []kindInfo{
	{kind: KindDeployment, short: "deploy", group: appsv1.GroupName, resource: "deployments", rollout: true, finish: true,
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().Deployments().Informer()
		}},
	{kind: KindReplicaSet, short: "rs", group: appsv1.GroupName, resource: "replicasets"},
	{kind: KindStatefulSet, short: "sts", group: appsv1.GroupName, resource: "statefulsets", rollout: true, finish: true,
		informer: func(f informers.SharedInformerFactory) cache.SharedIndexInformer {
			return f.Apps().V1().StatefulSets().Informer()
		}},
	{kind: KindDaemonSet, short: "ds", group: appsv1.GroupName, resource: "daemonsets"},
	{kind: KindJob, short: "job", group: batchv1.GroupName, resource: "jobs"},
	{kind: KindService, short: "svc", group: corev1.GroupName, resource: "services"},
	{kind: KindNode, short: "node", group: corev1.GroupName, resource: "nodes", finish: true},
	{kind: KindPod, short: "pod", group: corev1.GroupName, resource: "pods", finish: true},
}

// kindOf looks a kind up in the table; ok is false for kinds that cannot be targets.
func kindOf(kind string) (kindInfo, bool) {
	for _, k := range kinds {
		if k.kind == kind {
			return k, true
		}
	}
	return kindInfo{}, false
}

// TargetTypes are the short names of the kinds drainwatch follows, as TYPE/ prefixes for shell
// completion.
func TargetTypes() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.short + "/"
	}
	return out
}

// cannotFollow is the error for an object of a kind drainwatch does not follow.
func cannotFollow(what string) error {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.short
	}
	last := len(names) - 1
	return &Error{Msg: fmt.Sprintf("cannot follow %s: drainwatch follows %s or %s targets", what, strings.Join(names[:last], ", "), names[last])}
}

// Label that ties an EndpointSlice to its Service.
const labelServiceName = "kubernetes.io/service-name"

// shortName is kubectl's short name of a target kind, used in Target.Display ("" when the
// kind cannot be a target).
func shortName(kind string) string {
	k, _ := kindOf(kind)
	return k.short
}

// Scope is what one informer lists and watches: a namespace ("" for all) and the selectors
// sent to the API server, so filtering happens there and not in the client.
type Scope struct {
	Namespace     string
	LabelSelector string
	FieldSelector string
}

func (s Scope) tweak(o *metav1.ListOptions) {
	o.LabelSelector = s.LabelSelector
	o.FieldSelector = s.FieldSelector
}

// Target is what the user named, resolved into what the informers list and watch.
type Target struct {
	// Kind is one of the Kind* constants; Name is empty for KindNamespace.
	Kind string
	Name string
	// Namespace is the target's namespace; "" with -A and for nodes.
	Namespace string
	// UID identifies the named object (empty for KindNamespace).
	UID types.UID
	// Display names the target the way the user would type it: "deploy/web",
	// "node/worker-1", "namespace/shop", "all namespaces"; with " -l SELECTOR" when one narrows it.
	Display string

	// Pods are the pods to follow: the target's selector, narrowed by -l.
	Pods Scope
	// Events are core/v1 Events about pods.
	Events Scope
	// Slices are the EndpointSlices to follow; the timeline matches them to pods by
	// targetRef.uid.
	Slices Scope
	// ReplicaSets, when set, are watched for their revision annotation.
	ReplicaSets *Scope
	// Node, when set, is the node watched for cordon (node targets).
	Node string
}

// CanFinish reports whether Watcher.Done can ever close for this target: a Deployment or
// StatefulSet (rollout complete), a node (drained) or a pod (removed).
func (t *Target) CanFinish() bool {
	k, _ := kindOf(t.Kind)
	return k.finish
}

// ResolveOptions are the user's arguments, as kubectl takes them.
type ResolveOptions struct {
	// Namespace is -n, or the kubeconfig's namespace.
	Namespace string
	// AllNamespaces is -A.
	AllNamespaces bool
	// Selector is -l; it narrows the pods of any target.
	Selector string
	// Args are TYPE/NAME or TYPE NAME, or nothing for the whole namespace.
	Args []string
	// WaitForTarget waits for a named target that does not exist yet instead of failing.
	WaitForTarget bool
	// Progress, if set, receives a line every PollInterval while waiting for the target.
	Progress func(string)
	// PollInterval defaults to 2s.
	PollInterval time.Duration
}

// Resolve turns the user's arguments into a Target the way kubectl resolves them
// (resource.Builder: short names, TYPE/NAME and TYPE NAME, the kubeconfig namespace). It
// fetches the named object once to read its selector. Errors are worded for the user.
func Resolve(ctx context.Context, getter genericclioptions.RESTClientGetter, opts ResolveOptions) (*Target, error) {
	server := ""
	if cfg, err := getter.ToRESTConfig(); err == nil {
		server = cfg.Host
	}
	sel, err := labels.Parse(opts.Selector)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("invalid -l selector %q: %v", opts.Selector, err), Err: err}
	}
	if len(opts.Args) == 0 {
		return namespaceTarget(opts.Namespace, opts.AllNamespaces, sel), nil
	}
	if len(opts.Args) == 1 && !strings.Contains(opts.Args[0], "/") {
		return nil, &Error{Msg: fmt.Sprintf("%q names a type but no object: use TYPE/NAME or TYPE NAME, e.g. deploy/web", opts.Args[0])}
	}

	infos, err := resource.NewBuilder(getter).
		WithScheme(scheme.Scheme, scheme.Scheme.PrioritizedVersionsAllGroups()...).
		NamespaceParam(opts.Namespace).DefaultNamespace().
		AllNamespaces(opts.AllNamespaces).
		ResourceTypeOrNameArgs(false, opts.Args...).
		SingleResourceType().
		RequireObject(false). // fetched below, so a missing object can be waited for
		Flatten().
		Do().Infos()
	if err != nil {
		return nil, classify(err, server)
	}
	if len(infos) != 1 {
		return nil, &Error{Msg: fmt.Sprintf("%s names %d objects: drainwatch follows one target at a time", strings.Join(opts.Args, " "), len(infos))}
	}
	info := infos[0]
	kind := info.Mapping.GroupVersionKind.Kind
	if shortName(kind) == "" || !supportedGroup(info.Mapping.GroupVersionKind.Group, kind) {
		return nil, cannotFollow(info.Mapping.Resource.Resource)
	}
	fetch := func() (runtime.Object, error) {
		if err := info.Get(); err != nil {
			return nil, err
		}
		return info.Object, nil
	}
	named := namedObject{kind: kind, name: info.Name, namespace: info.Namespace}
	t, err := resolveNamed(ctx, named, fetch, sel, opts)
	if err != nil {
		return nil, classify(err, server)
	}
	return t, nil
}

func supportedGroup(group, kind string) bool {
	k, ok := kindOf(kind)
	return ok && k.group == group
}

type namedObject struct{ kind, name, namespace string }

func (n namedObject) String() string { return shortName(n.kind) + "/" + n.name }

// resolveNamed fetches the named object (waiting for it if asked) and builds its Target. It
// holds everything of Resolve that does not need a live resource.Builder.
func resolveNamed(ctx context.Context, n namedObject, fetch func() (runtime.Object, error), sel labels.Selector, opts ResolveOptions) (*Target, error) {
	poll := opts.PollInterval
	if poll <= 0 {
		poll = 2 * time.Second
	}
	start := time.Now()
	for {
		obj, err := fetch()
		if err == nil {
			return targetFor(obj, sel)
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		where := ""
		if n.namespace != "" {
			where = fmt.Sprintf(" in namespace %s", n.namespace)
		}
		if !opts.WaitForTarget {
			return nil, &Error{Msg: fmt.Sprintf("%s not found%s (--wait-for-target waits for it to appear)", n, where), Err: err}
		}
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf("waiting for %s to appear%s (%s)", n, where, time.Since(start).Round(time.Second)))
		}
		timer := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, &Error{Msg: fmt.Sprintf("gave up waiting for %s%s", n, where), Err: ctx.Err()}
		case <-timer.C:
		}
	}
}

// namespaceTarget follows every pod of a namespace (or of all namespaces).
func namespaceTarget(namespace string, all bool, sel labels.Selector) *Target {
	if all {
		namespace = ""
	}
	t := &Target{
		Kind:        KindNamespace,
		Namespace:   namespace,
		Pods:        Scope{Namespace: namespace, LabelSelector: selectorString(sel)},
		Events:      podEvents(namespace, ""),
		Slices:      Scope{Namespace: namespace},
		ReplicaSets: &Scope{Namespace: namespace},
	}
	t.Display = "namespace/" + namespace
	if all {
		t.Display = "all namespaces"
	}
	t.Display += selectorSuffix(sel)
	return t
}

// targetFor builds the Target of a fetched object; sel (-l) narrows its pods.
func targetFor(obj runtime.Object, sel labels.Selector) (*Target, error) {
	obj, err := typed(obj)
	if err != nil {
		return nil, err
	}
	var (
		meta     metav1.Object
		kind     string
		podLabel labels.Selector
	)
	t := &Target{}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		meta, kind = o, KindDeployment
		podLabel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
		// All ReplicaSets of the Deployment, old and new, carry its selector's labels.
		t.ReplicaSets = &Scope{Namespace: o.Namespace, LabelSelector: selectorString(podLabel)}
	case *appsv1.ReplicaSet:
		meta, kind = o, KindReplicaSet
		podLabel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
		t.ReplicaSets = &Scope{Namespace: o.Namespace, FieldSelector: nameField(o.Name)}
	case *appsv1.StatefulSet:
		meta, kind = o, KindStatefulSet
		podLabel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *appsv1.DaemonSet:
		meta, kind = o, KindDaemonSet
		podLabel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *batchv1.Job:
		meta, kind = o, KindJob
		podLabel, err = metav1.LabelSelectorAsSelector(o.Spec.Selector)
	case *corev1.Service:
		meta, kind = o, KindService
		if len(o.Spec.Selector) == 0 {
			return nil, &Error{Msg: fmt.Sprintf("svc/%s has no selector, so no pods belong to it; name the workload behind it instead", o.Name)}
		}
		podLabel = labels.SelectorFromSet(o.Spec.Selector)
		t.ReplicaSets = &Scope{Namespace: o.Namespace}
	case *corev1.Node:
		// Pods of every namespace run on a node; the informers follow them all.
		t.Kind, t.Name, t.UID, t.Node = KindNode, o.Name, o.UID, o.Name
		t.Pods = Scope{LabelSelector: selectorString(sel), FieldSelector: fields.OneTermEqualSelector("spec.nodeName", o.Name).String()}
		t.Events = podEvents("", "")
		t.Display = "node/" + o.Name + selectorSuffix(sel)
		return t, nil
	case *corev1.Pod:
		t.Kind, t.Name, t.Namespace, t.UID = KindPod, o.Name, o.Namespace, o.UID
		t.Pods = Scope{Namespace: o.Namespace, LabelSelector: selectorString(sel), FieldSelector: nameField(o.Name)}
		t.Events = podEvents(o.Namespace, o.Name)
		t.Slices = Scope{Namespace: o.Namespace}
		t.Display = "pod/" + o.Name + selectorSuffix(sel)
		return t, nil
	default:
		return nil, cannotFollow(fmt.Sprintf("a %T", obj))
	}
	if err != nil {
		return nil, fmt.Errorf("%s/%s has an invalid selector: %w", shortName(kind), meta.GetName(), err)
	}
	if podLabel.Empty() {
		// An empty selector would match every pod of the namespace, which is not what was named.
		return nil, &Error{Msg: fmt.Sprintf("%s/%s has an empty selector; name its pods with -l instead", shortName(kind), meta.GetName())}
	}
	if reqs, ok := sel.Requirements(); ok && len(reqs) > 0 {
		podLabel = podLabel.Add(reqs...)
	}
	ns := meta.GetNamespace()
	t.Kind, t.Name, t.Namespace, t.UID = kind, meta.GetName(), ns, meta.GetUID()
	t.Pods = Scope{Namespace: ns, LabelSelector: podLabel.String()}
	t.Events = podEvents(ns, "")
	t.Slices = Scope{Namespace: ns}
	if kind == KindService {
		t.Slices.LabelSelector = labels.SelectorFromSet(labels.Set{labelServiceName: meta.GetName()}).String()
	}
	t.Display = shortName(kind) + "/" + meta.GetName() + selectorSuffix(sel)
	return t, nil
}

// typed converts what resource.Builder returned into a typed object.
func typed(obj runtime.Object) (runtime.Object, error) {
	u, ok := obj.(runtime.Unstructured)
	if !ok {
		return obj, nil
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	out, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", gvk.Kind, err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), out); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", gvk.Kind, err)
	}
	return out, nil
}

// podEvents selects Events about pods (and about one pod when name is set). Events about
// other kinds (Deployments, nodes) are never read by the timeline.
func podEvents(namespace, name string) Scope {
	s := Scope{Namespace: namespace}.and("involvedObject.kind", "Pod")
	if name != "" {
		s = s.and("involvedObject.name", name)
	}
	return s
}

// and narrows s by one more field, key=value.
func (s Scope) and(key, value string) Scope {
	return s.with(key + "=" + fields.EscapeValue(value))
}

// with narrows s by one more field selector term.
func (s Scope) with(term string) Scope {
	if s.FieldSelector != "" {
		term = s.FieldSelector + "," + term
	}
	s.FieldSelector = term
	return s
}

func nameField(name string) string {
	return fields.OneTermEqualSelector("metadata.name", name).String()
}

func selectorString(sel labels.Selector) string {
	if sel == nil || sel.Empty() {
		return ""
	}
	return sel.String()
}

func selectorSuffix(sel labels.Selector) string {
	if s := selectorString(sel); s != "" {
		return " -l " + s
	}
	return ""
}
