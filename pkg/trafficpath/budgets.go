package trafficpath

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// The budget of a path is how long the app must keep serving after its endpoint turns not
// ready for that path to stop sending it new requests. Each is a documented default of the
// controller, or read from the object; the README cites the source of every default.

// budget is a number of seconds and where it comes from.
type budget struct {
	seconds float64
	source  string
}

var kubeProxyBudget = budget{timeline.DefaultDrainBudget.Seconds(),
	"drainwatch's default: kube-proxy applies an EndpointSlice change within its minSyncPeriod (1s), plus the API and watch delays"}

// controllerBudgets are the budgets of the controllers that send to pod IPs themselves, by
// IngressClass spec.controller or GatewayClass spec.controllerName. "recommended" marks numbers
// no vendor documents: they come from the vendor's advice or from measurements (README).
var controllerBudgets = map[string]budget{
	"k8s.io/ingress-nginx":                                  {5, "ingress-nginx pushes endpoint changes to its Lua balancer, which applies them within BACKENDS_SYNC_INTERVAL (1s); recommended"},
	"traefik.io/ingress-controller":                         {5, "Traefik applies provider changes after providers.providersThrottleDuration (2s); recommended"},
	"traefik.io/gateway-controller":                         {5, "Traefik applies provider changes after providers.providersThrottleDuration (2s); recommended"},
	"konghq.com/kic-gateway-controller":                     {5, "Kong's controller syncs the proxy every --proxy-sync-seconds (3s); recommended"},
	"gateway.envoyproxy.io/gatewayclass-controller":         {5, "Envoy Gateway sends terminating endpoints to Envoy as draining over xDS; recommended"},
	"gateway.nginx.org/nginx-gateway-controller":            {5, "NGINX Gateway Fabric updates upstreams on endpoint changes; recommended"},
	"istio.io/gateway-controller":                           {10, "istiod debounces endpoint changes for up to PILOT_DEBOUNCE_MAX (10s) before pushing them"},
	controllerALB:                                           {albBudget, albSource},
	"gateway.k8s.aws/alb":                                   {albBudget, albSource},
	"gateway.k8s.aws/nlb":                                   {nlbBudget, nlbSource},
	"k8s.io/ingress-gce":                                    {negBudget, negSource},
	"networking.gke.io/gateway":                             {negBudget, negSource},
	"application-networking.k8s.aws/gateway-api-controller": {60, "AWS Gateway API Controller (VPC Lattice) FAQ: a preStop hook that sleeps 60 seconds"},
}

const (
	controllerALB = "ingress.k8s.aws/alb"
	// Cloud load balancers that send to pod IPs go on doing so until the target's
	// deregistration (or NEG detach) has spread: seconds to minutes, documented nowhere as a
	// number. The deregistration delay and connection draining settings bound only how long
	// requests already in flight may finish.
	albBudget = 30
	albSource = "AWS Load Balancer Controller, IP targets: the ALB stops sending to a target only once its deregistration has spread, which takes time under load (EKS best practices); recommended"
	nlbBudget = 120
	nlbSource = "AWS Load Balancer Controller, NLB IP targets: deregistration takes about 2 minutes whatever the deregistration delay (aws-load-balancer-controller#2366); recommended"
	negBudget = 40
	negSource = "GKE container-native load balancing: keep serving while the NEG endpoint is detached (Google's 502/503 troubleshooting article uses a preStop sleep of 40s); recommended"
	// With externalTrafficPolicy Local the load balancer health-checks the node's
	// healthCheckNodePort and sends to the node until that check fails.
	lbLocalBudget    = 10
	lbLocalSource    = "externalTrafficPolicy Local: the load balancer stops sending to the node once its health check of healthCheckNodePort fails (GKE: 2 checks 3s apart, plus margin)"
	lbLocalAWSBudget = 60
	lbLocalAWSSource = "externalTrafficPolicy Local on AWS: the NLB stops sending to the node once its health check fails (3 checks 10s apart by default), plus margin"
)

// Annotations read from Ingresses and Services.
const (
	annotationIngressClass  = "kubernetes.io/ingress.class"
	annotationALBTargetType = "alb.ingress.kubernetes.io/target-type"
	annotationNLBTargetType = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
	annotationAWSLBType     = "service.beta.kubernetes.io/aws-load-balancer-type"
	annotationNEG           = "cloud.google.com/neg"
	annotationNEGStatus     = "cloud.google.com/neg-status"
	// AnnotationDrainBudget on a Service, Ingress or route states the budget of that path
	// (a duration such as 25s), for paths whose real number the cluster knows better.
	AnnotationDrainBudget = "drainwatch/drain-budget"
)

// legacyClassControllers are the controllers behind the kubernetes.io/ingress.class values that
// have no IngressClass object.
var legacyClassControllers = map[string]string{
	"nginx": "k8s.io/ingress-nginx", "traefik": "traefik.io/ingress-controller", "alb": controllerALB,
	"gce": "k8s.io/ingress-gce", "gce-internal": "k8s.io/ingress-gce",
}

func entry(kind, name, ns, class, controller string, b budget) timeline.PathEntry {
	return timeline.PathEntry{Kind: kind, Name: name, Namespace: ns, Class: class, Controller: controller,
		BudgetSeconds: b.seconds, BudgetSource: b.source}
}

func kubeProxy(s *corev1.Service) timeline.PathEntry {
	return annotated(entry("Service", s.Name, s.Namespace, "kube-proxy", "", kubeProxyBudget), "Service", s.Annotations)
}

// loadBalancer is a Service of type LoadBalancer: with AWS's NLB in IP mode it is a target group;
// otherwise the load balancer sends to nodes, and with externalTrafficPolicy Local it keeps
// sending to a node until its health check fails.
func loadBalancer(s *corev1.Service) (timeline.PathEntry, bool) {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return timeline.PathEntry{}, false
	}
	class := "LoadBalancer"
	if s.Spec.LoadBalancerClass != nil {
		class = *s.Spec.LoadBalancerClass
	}
	aws := false
	for k := range s.Annotations {
		aws = aws || strings.HasPrefix(k, "service.beta.kubernetes.io/aws-load-balancer-")
	}
	if s.Annotations[annotationNLBTargetType] == "ip" || (s.Annotations[annotationAWSLBType] == "external" && s.Annotations[annotationNLBTargetType] != "instance") {
		return entry("Service", s.Name, s.Namespace, class, "service.k8s.aws/nlb", budget{nlbBudget, nlbSource}), true
	}
	if s.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		if aws {
			return entry("Service", s.Name, s.Namespace, class, "", budget{lbLocalAWSBudget, lbLocalAWSSource}), true
		}
		return entry("Service", s.Name, s.Namespace, class, "", budget{lbLocalBudget, lbLocalSource}), true
	}
	return entry("Service", s.Name, s.Namespace, class, "", budget{kubeProxyBudget.seconds,
		"externalTrafficPolicy Cluster: the load balancer sends to every node and kube-proxy forwards to ready endpoints: " + kubeProxyBudget.source}), true
}

// neg is a Service exposed through GKE network endpoint groups (container-native load
// balancing): the load balancer sends to pod IPs.
func neg(s *corev1.Service) (timeline.PathEntry, bool) {
	if s.Annotations[annotationNEG] == "" && s.Annotations[annotationNEGStatus] == "" {
		return timeline.PathEntry{}, false
	}
	return entry("Service", s.Name, s.Namespace, "gke-neg", "k8s.io/ingress-gce", budget{negBudget, negSource}), true
}

func ingressEntry(ing *networkingv1.Ingress, class, controller string) timeline.PathEntry {
	b, known := controllerBudgets[controller]
	switch {
	case controller == controllerALB && ing.Annotations[annotationALBTargetType] != "ip":
		// Instance targets: the ALB sends to NodePorts, kube-proxy to ready endpoints.
		b = budget{kubeProxyBudget.seconds, "AWS Load Balancer Controller (target-type instance, the default): the ALB sends to node ports and kube-proxy forwards to ready endpoints: " + kubeProxyBudget.source}
	case !known:
		b = unknownController(controller)
	}
	return annotated(entry("Ingress", ing.Name, ing.Namespace, class, controller, b), "Ingress", ing.Annotations)
}

func gatewayEntry(kind, name, ns, class, controller string, ann map[string]string) timeline.PathEntry {
	b, known := controllerBudgets[controller]
	if !known {
		b = unknownController(controller)
	}
	return annotated(entry(kind, name, ns, class, controller, b), kind, ann)
}

func targetGroupEntry(name, ns, targetType string) timeline.PathEntry {
	b := budget{albBudget, albSource}
	if targetType == "instance" {
		b = budget{kubeProxyBudget.seconds, "TargetGroupBinding with targetType instance: node ports, then kube-proxy: " + kubeProxyBudget.source}
	}
	return entry("TargetGroupBinding", name, ns, targetType, controllerALB, b)
}

func unknownController(controller string) budget {
	if controller == "" {
		return budget{kubeProxyBudget.seconds, "class or controller unknown: drainwatch's default"}
	}
	return budget{kubeProxyBudget.seconds, fmt.Sprintf("no documented budget for controller %s: drainwatch's default", controller)}
}

// annotated replaces an entry's budget by the object's drainwatch/drain-budget annotation.
func annotated(e timeline.PathEntry, kind string, ann map[string]string) timeline.PathEntry {
	v := ann[AnnotationDrainBudget]
	if v == "" {
		return e
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.BudgetSource += fmt.Sprintf("; annotation %s=%q ignored: not a positive duration", AnnotationDrainBudget, v)
		return e
	}
	e.BudgetSeconds, e.BudgetSource = d.Seconds(), fmt.Sprintf("annotation %s=%s on the %s", AnnotationDrainBudget, v, kind)
	return e
}
