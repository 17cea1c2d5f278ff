// Package trafficpath finds, read-only, what sends traffic to each Service: Ingresses by their
// class's controller, Gateway API routes by their Gateway's class, AWS TargetGroupBindings,
// load balancer Services, GKE NEGs and, under all of them, kube-proxy. Each path entry carries
// the drain budget that path needs and where the number comes from (budgets.go). A resource the
// cluster does not serve, or that may not be read, is a stated gap, never an error.
package trafficpath

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Result is the traffic path of every Service found (namespace/name), and what could not be
// looked at.
type Result struct {
	Paths map[string][]timeline.PathEntry `json:"paths,omitempty"`
	Gaps  []string                        `json:"gaps,omitempty"`
}

var (
	gvrGatewayClass = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gatewayclasses"}
	gvrGateway      = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	gvrHTTPRoute    = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	gvrGRPCRoute    = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "grpcroutes"}
	gvrTGB          = schema.GroupVersionResource{Group: "elbv2.k8s.aws", Version: "v1beta1", Resource: "targetgroupbindings"}
)

// Discover lists the Services of namespace ("" for all) and everything that routes to them.
func Discover(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, namespace string) Result {
	d := &discovery{ctx: ctx, res: Result{Paths: map[string][]timeline.PathEntry{}}}
	if svcs, err := cs.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{}); d.ok("services", "", err) {
		for i := range svcs.Items {
			d.service(&svcs.Items[i])
		}
	}
	classes := map[string]string{} // IngressClass -> controller
	defaultClass := ""
	if list, err := cs.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{}); d.ok("ingressclasses", "networking.k8s.io", err) {
		for _, c := range list.Items {
			classes[c.Name] = c.Spec.Controller
			if c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
				defaultClass = c.Name
			}
		}
	}
	if list, err := cs.NetworkingV1().Ingresses(namespace).List(ctx, metav1.ListOptions{}); d.ok("ingresses", "networking.k8s.io", err) {
		for i := range list.Items {
			d.ingress(&list.Items[i], classes, defaultClass)
		}
	}
	if dyn != nil {
		d.gatewayRoutes(dyn, namespace)
		if list, err := dyn.Resource(gvrTGB).Namespace(namespace).List(ctx, metav1.ListOptions{}); d.ok("targetgroupbindings", gvrTGB.Group, err) {
			for i := range list.Items {
				d.targetGroupBinding(&list.Items[i])
			}
		}
	}
	for k := range d.res.Paths {
		sort.SliceStable(d.res.Paths[k], func(i, j int) bool { return d.res.Paths[k][i].BudgetSeconds > d.res.Paths[k][j].BudgetSeconds })
	}
	return d.res
}

type discovery struct {
	ctx context.Context
	res Result
}

// ok records why a list failed, as a gap; a resource the cluster does not serve (its CRD is not
// installed) is said as such.
func (d *discovery) ok(resource, group string, err error) bool {
	if err == nil {
		return true
	}
	name := resource
	if group != "" {
		name += "." + group
	}
	switch {
	case apierrors.IsNotFound(err):
		d.res.Gaps = append(d.res.Gaps, name+": not served by this cluster")
	case apierrors.IsForbidden(err):
		d.res.Gaps = append(d.res.Gaps, name+": no permission to list (the traffic path ignores them)")
	default:
		d.res.Gaps = append(d.res.Gaps, fmt.Sprintf("%s: %v", name, err))
	}
	return false
}

func (d *discovery) add(ns, svc string, e timeline.PathEntry) {
	k := ns + "/" + svc
	for _, x := range d.res.Paths[k] {
		if x == e {
			return
		}
	}
	d.res.Paths[k] = append(d.res.Paths[k], e)
}

// service adds what every Service has (kube-proxy) and what its own spec and annotations say
// (a cloud load balancer, a GKE NEG).
func (d *discovery) service(s *corev1.Service) {
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	d.add(s.Namespace, s.Name, kubeProxy(s))
	if e, ok := loadBalancer(s); ok {
		d.add(s.Namespace, s.Name, e)
	}
	if e, ok := neg(s); ok {
		d.add(s.Namespace, s.Name, e)
	}
}

// ingress adds the Ingress to each Service it routes to.
func (d *discovery) ingress(ing *networkingv1.Ingress, classes map[string]string, defaultClass string) {
	class := ""
	switch {
	case ing.Spec.IngressClassName != nil:
		class = *ing.Spec.IngressClassName
	case ing.Annotations[annotationIngressClass] != "":
		class = ing.Annotations[annotationIngressClass]
	default:
		class = defaultClass
	}
	controller := classes[class]
	if controller == "" {
		controller = legacyClassControllers[class]
	}
	var svcs []string
	if b := ing.Spec.DefaultBackend; b != nil && b.Service != nil {
		svcs = append(svcs, b.Service.Name)
	}
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if p.Backend.Service != nil {
				svcs = append(svcs, p.Backend.Service.Name)
			}
		}
	}
	e := ingressEntry(ing, class, controller)
	for _, svc := range svcs {
		d.add(ing.Namespace, svc, e)
	}
}

// gatewayRoutes adds each HTTPRoute and GRPCRoute to the Services it routes to, with its
// Gateways' class and controller.
func (d *discovery) gatewayRoutes(dyn dynamic.Interface, namespace string) {
	classes := map[string]string{} // GatewayClass -> controllerName
	if list, err := dyn.Resource(gvrGatewayClass).List(d.ctx, metav1.ListOptions{}); d.ok("gatewayclasses", gvrGatewayClass.Group, err) {
		for _, c := range list.Items {
			ctl, _, _ := unstructured.NestedString(c.Object, "spec", "controllerName")
			classes[c.GetName()] = ctl
		}
	} else {
		return // without the Gateway API there are no routes either
	}
	gateways := map[string]string{} // namespace/name -> GatewayClass, read as routes name them
	gatewayClass := func(ns, name string) string {
		k := ns + "/" + name
		if cls, seen := gateways[k]; seen {
			return cls
		}
		g, err := dyn.Resource(gvrGateway).Namespace(ns).Get(d.ctx, name, metav1.GetOptions{})
		cls := ""
		if err == nil {
			cls, _, _ = unstructured.NestedString(g.Object, "spec", "gatewayClassName")
		} else if !apierrors.IsNotFound(err) {
			d.ok("gateways", gvrGateway.Group, err)
		}
		gateways[k] = cls
		return cls
	}
	for _, r := range []struct {
		gvr  schema.GroupVersionResource
		kind string
	}{{gvrHTTPRoute, "HTTPRoute"}, {gvrGRPCRoute, "GRPCRoute"}} {
		list, err := dyn.Resource(r.gvr).Namespace(namespace).List(d.ctx, metav1.ListOptions{})
		if !d.ok(r.gvr.Resource, r.gvr.Group, err) {
			continue
		}
		for i := range list.Items {
			d.route(r.kind, &list.Items[i], gatewayClass, classes)
		}
	}
}

func (d *discovery) route(kind string, u *unstructured.Unstructured, gatewayClass func(ns, name string) string, classes map[string]string) {
	ns := u.GetNamespace()
	parents, _, _ := unstructured.NestedSlice(u.Object, "spec", "parentRefs")
	type class struct{ name, controller string }
	var via []class
	for _, p := range parents {
		m, _ := p.(map[string]any)
		if k, _ := m["kind"].(string); k != "" && k != "Gateway" {
			continue
		}
		pns, _ := m["namespace"].(string)
		if pns == "" {
			pns = ns
		}
		name, _ := m["name"].(string)
		cls := gatewayClass(pns, name)
		via = append(via, class{cls, classes[cls]})
	}
	if len(via) == 0 {
		via = append(via, class{})
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		refs, _ := rm["backendRefs"].([]any)
		for _, b := range refs {
			bm, _ := b.(map[string]any)
			if k, _ := bm["kind"].(string); k != "" && k != "Service" {
				continue
			}
			if g, _ := bm["group"].(string); g != "" {
				continue
			}
			bns, _ := bm["namespace"].(string)
			if bns == "" {
				bns = ns
			}
			name, _ := bm["name"].(string)
			for _, c := range via {
				d.add(bns, name, gatewayEntry(kind, u.GetName(), ns, c.name, c.controller, u.GetAnnotations()))
			}
		}
	}
}

func (d *discovery) targetGroupBinding(u *unstructured.Unstructured) {
	svc, _, _ := unstructured.NestedString(u.Object, "spec", "serviceRef", "name")
	if svc == "" {
		return
	}
	targetType, _, _ := unstructured.NestedString(u.Object, "spec", "targetType")
	d.add(u.GetNamespace(), svc, targetGroupEntry(u.GetName(), u.GetNamespace(), targetType))
}

// Budgets turns the paths into the budget of each Service: its slowest path.
func (r Result) Budgets() map[string]timeline.Budget {
	out := map[string]timeline.Budget{}
	for k, entries := range r.Paths {
		if b, ok := timeline.SlowestPath(entries); ok {
			out[k] = b
		}
	}
	return out
}
