package trafficpath

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func svc(name string, mutate func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func ingress(name, class string, ann map[string]string, backends ...string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: ann}}
	if class != "" {
		ing.Spec.IngressClassName = ptr.To(class)
	}
	var paths []networkingv1.HTTPIngressPath
	for _, b := range backends {
		paths = append(paths, networkingv1.HTTPIngressPath{Path: "/", Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: b}}})
	}
	ing.Spec.Rules = []networkingv1.IngressRule{{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}}
	return ing
}

func class(name, controller string) *networkingv1.IngressClass {
	return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
}

func u(apiVersion, kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "spec": spec}}
	obj.SetName(name)
	if ns != "" {
		obj.SetNamespace(ns)
	}
	return obj
}

func describe(r Result) string {
	var b strings.Builder
	for _, k := range []string{"shop/web", "shop/api", "shop/lb", "shop/grpc"} {
		for _, e := range r.Paths[k] {
			fmt.Fprintf(&b, "%s: %s %s/%s class=%s controller=%s %gs\n", k, e.Kind, e.Namespace, e.Name, e.Class, e.Controller, e.BudgetSeconds)
		}
	}
	return b.String()
}

func TestDiscover(t *testing.T) {
	cs := fake.NewClientset(
		svc("web", nil), svc("api", nil),
		svc("lb", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalTrafficPolicy = corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal
		}),
		svc("grpc", func(s *corev1.Service) {
			s.Annotations = map[string]string{annotationNEG: `{"ingress": true}`}
		}),
		class("alb", controllerALB), class("traefik", "traefik.io/ingress-controller"),
		ingress("front", "traefik", nil, "web"),
		ingress("public", "alb", map[string]string{annotationALBTargetType: "ip"}, "web", "api"),
		ingress("slow", "traefik", map[string]string{AnnotationDrainBudget: "45s"}, "web"),
		ingress("legacy", "", map[string]string{annotationIngressClass: "nginx"}, "api"),
	)
	scheme := runtime.NewScheme()
	gvrs := map[schema.GroupVersionResource]string{gvrGatewayClass: "GatewayClassList", gvrGateway: "GatewayList", gvrHTTPRoute: "HTTPRouteList",
		gvrGRPCRoute: "GRPCRouteList", gvrTGB: "TargetGroupBindingList"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, gvrs,
		u("gateway.networking.k8s.io/v1", "GatewayClass", "", "eg", map[string]any{"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"}),
		u("gateway.networking.k8s.io/v1", "HTTPRoute", "shop", "web", map[string]any{
			"parentRefs": []any{map[string]any{"name": "edge", "namespace": "infra"}},
			"rules":      []any{map[string]any{"backendRefs": []any{map[string]any{"name": "web", "port": int64(80)}}}},
		}),
		u("elbv2.k8s.aws/v1beta1", "TargetGroupBinding", "shop", "api-tg", map[string]any{"serviceRef": map[string]any{"name": "api"}, "targetType": "ip"}),
	)
	// The fake would file a Gateway under "gatewaies" (its guess from the kind): create it by
	// its resource.
	gw := u("gateway.networking.k8s.io/v1", "Gateway", "infra", "edge", map[string]any{"gatewayClassName": "eg"})
	if _, err := dyn.Resource(gvrGateway).Namespace("infra").Create(context.Background(), gw, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := Discover(context.Background(), cs, dyn, "shop")
	want := `shop/web: Ingress shop/slow class=traefik controller=traefik.io/ingress-controller 45s
shop/web: Ingress shop/public class=alb controller=ingress.k8s.aws/alb 30s
shop/web: Service shop/web class=kube-proxy controller= 5s
shop/web: Ingress shop/front class=traefik controller=traefik.io/ingress-controller 5s
shop/web: HTTPRoute shop/web class=eg controller=gateway.envoyproxy.io/gatewayclass-controller 5s
shop/api: Ingress shop/public class=alb controller=ingress.k8s.aws/alb 30s
shop/api: TargetGroupBinding shop/api-tg class=ip controller=ingress.k8s.aws/alb 30s
shop/api: Service shop/api class=kube-proxy controller= 5s
shop/api: Ingress shop/legacy class=nginx controller=k8s.io/ingress-nginx 5s
shop/lb: Service shop/lb class=LoadBalancer controller= 10s
shop/lb: Service shop/lb class=kube-proxy controller= 5s
shop/grpc: Service shop/grpc class=gke-neg controller=k8s.io/ingress-gce 40s
shop/grpc: Service shop/grpc class=kube-proxy controller= 5s
`
	if got := describe(r); got != want {
		t.Errorf("paths:\n%s\nwant:\n%s", got, want)
	}
	if len(r.Gaps) != 0 {
		t.Errorf("gaps %v", r.Gaps)
	}
	if b := r.Budgets()["shop/web"]; b.Duration.Seconds() != 45 || !strings.Contains(b.Source, "Ingress shop/slow (traefik): annotation drainwatch/drain-budget=45s") {
		t.Errorf("budget of web %+v; want the 45s of the annotated Ingress", b)
	}
	if b := r.Budgets()["shop/api"]; b.Duration.Seconds() != 30 || !strings.Contains(b.Source, "Ingress shop/public (alb): AWS Load Balancer Controller") {
		t.Errorf("budget of api %+v; want the ALB's", b)
	}
}

// A cluster without the Gateway API or the AWS CRDs: the paths it has, and the gaps said.
func TestDiscoverGaps(t *testing.T) {
	cs := fake.NewClientset(svc("web", nil))
	// Every list is a 404, as for a CRD that is not installed.
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		gvrGatewayClass: "GatewayClassList", gvrTGB: "TargetGroupBindingList"})
	dyn.PrependReactor("list", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(a.GetResource().GroupResource(), "")
	})
	r := Discover(context.Background(), cs, dyn, "shop")
	if len(r.Paths["shop/web"]) != 1 || r.Paths["shop/web"][0].Class != "kube-proxy" {
		t.Errorf("paths %+v; want kube-proxy only", r.Paths)
	}
	if want := "gatewayclasses.gateway.networking.k8s.io: not served by this cluster,targetgroupbindings.elbv2.k8s.aws: not served by this cluster"; strings.Join(r.Gaps, ",") != want {
		t.Errorf("gaps %q, want %q", r.Gaps, want)
	}
}
