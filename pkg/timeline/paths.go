package timeline

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// PathEntry is one thing that routes traffic to a Service (an Ingress, a Gateway API route, a
// target group, a load balancer, kube-proxy) and the drain budget it needs: how long the app
// must keep serving after its endpoint turns not ready.
type PathEntry struct {
	Kind      string `json:"kind"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Class is the IngressClass or GatewayClass (or the load balancer's kind); Controller the
	// class's controller (IngressClass spec.controller, GatewayClass spec.controllerName).
	Class      string `json:"class,omitempty"`
	Controller string `json:"controller,omitempty"`
	// BudgetSeconds and BudgetSource: the budget and where the number came from (a documented
	// default of that controller, an annotation on the object, the user's flag).
	BudgetSeconds float64 `json:"budgetSeconds"`
	BudgetSource  string  `json:"budgetSource"`
}

// Budget is the drain budget of one Service and where it came from.
type Budget struct {
	Duration time.Duration
	// Source names it for findings: "--drain-budget", "--drain-budget svc/web=25s", or the
	// path entry that set it (e.g. "Ingress shop/web (alb): deregistration delay annotation").
	Source string
}

// String names a path entry in findings and the text output.
func (p PathEntry) String() string {
	s := p.Kind
	if p.Name != "" {
		s += " " + podKey(p.Namespace, p.Name)
	}
	if p.Class != "" {
		s += " (" + p.Class + ")"
	}
	return s
}

// SlowestPath is the budget of the path entry that needs the longest, named after it.
func SlowestPath(entries []PathEntry) (Budget, bool) {
	var b Budget
	found := false
	for _, p := range entries {
		d := time.Duration(p.BudgetSeconds * float64(time.Second))
		if !found || d > b.Duration {
			b, found = Budget{Duration: d, Source: fmt.Sprintf("%s: %s", p, p.BudgetSource)}, true
		}
	}
	return b, found
}

// budget is the drain budget of a pod: the largest of its Services' budgets, else the
// configured default.
func (e *Engine) budget(p *podState) Budget {
	b := e.defaultBudget()
	found := false
	for _, svc := range p.services {
		if sb, ok := e.serviceBudget(p.ns, svc); ok && (!found || sb.Duration > b.Duration) {
			b, found = sb, true
		}
	}
	return b
}

func (e *Engine) defaultBudget() Budget {
	return Budget{Duration: e.cfg.DrainBudget, Source: "--drain-budget"}
}

// serviceBudget is the configured budget of a Service: by namespace/name, else by name in any
// namespace ("*/name").
func (e *Engine) serviceBudget(ns, svc string) (Budget, bool) {
	if b, ok := e.cfg.Budgets[podKey(ns, svc)]; ok {
		return b, true
	}
	b, ok := e.cfg.Budgets["*/"+svc]
	return b, ok
}

// PathText lists path entries with their budgets ("Ingress shop/web (alb) 30s, ..."), for the
// text output and advice.
func PathText(entries []PathEntry) string {
	parts := make([]string, len(entries))
	for i, p := range entries {
		parts[i] = fmt.Sprintf("%s %gs", p, p.BudgetSeconds)
	}
	return strings.Join(parts, ", ")
}

// routeService fills a Service group with its traffic path and the budget its pods are judged
// against (the Summary's and advice's Services).
func (e *Engine) routeService(g *Group) {
	g.TrafficPath = slices.Clone(e.cfg.Paths[podKey(g.Namespace, g.Name)])
	b := e.defaultBudget()
	if sb, ok := e.serviceBudget(g.Namespace, g.Name); ok {
		b = sb
	}
	secs := b.Duration.Seconds()
	g.DrainBudgetSeconds, g.BudgetSource = &secs, b.Source
}
