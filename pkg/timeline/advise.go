package timeline

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Finding IDs only advice gives: about a workload's PodDisruptionBudget, before any drain.
const (
	FindingNoPDB          FindingID = "no-pdb"
	FindingPDBBlocksDrain FindingID = "pdb-blocks-drain"
)

// CauseSidecarNotNative: a sidecar is an ordinary container, so it gets SIGTERM with the app.
const CauseSidecarNotNative = "sidecar-not-native"

// AdviseInput is what advice reads of a workload before a rollout: its pod template, the
// Services that select it with their traffic paths and budgets, and the PDBs of its namespace.
type AdviseInput struct {
	Kind, Name, Namespace string
	Replicas              int32
	Template              corev1.PodTemplateSpec
	// Services are the Services selecting the template's pods (names in Namespace).
	Services []string
	Paths    map[string][]PathEntry // namespace/name
	Budgets  map[string]Budget      // as Config.Budgets
	// DrainBudget is the default budget (Config.DrainBudget).
	DrainBudget time.Duration
	PDBs        []policyv1.PodDisruptionBudget
}

// Advice is what will go wrong when the workload's pods terminate, before it does.
type Advice struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Target     OwnerRef `json:"target"`
	Namespace  string   `json:"namespace"`
	// Services are the Services selecting the pods, each with its traffic path and budget.
	Services []Group `json:"services"`
	// PDBs are the PodDisruptionBudgets covering the pods.
	PDBs            []string         `json:"pdbs"`
	Findings        []Finding        `json:"findings"`
	Recommendations []Recommendation `json:"recommendations"`
}

// Fails says whether a rollout or drain would, by the advice, not be graceful.
func (a Advice) Fails() bool {
	for _, f := range a.Findings {
		if f.Severity.Rank() >= SeverityWarning.Rank() {
			return true
		}
	}
	return false
}

// sidecarNames are containers that, as ordinary containers, are sidecars: proxies and agents
// that must outlive the app.
var sidecarNames = []string{"istio-proxy", "envoy", "linkerd-proxy", "cloud-sql-proxy", "oauth2-proxy", "proxy", "sidecar", "consul-connect-envoy", "vault-agent"}

// Advise applies the termination rules to a pod template: the same findings, causes and sized
// fixes a run would give, from what the spec and the traffic path say instead of measurements.
func Advise(in AdviseInput) Advice {
	e := New(Config{DrainBudget: in.DrainBudget, Budgets: in.Budgets, Paths: in.Paths})
	a := Advice{APIVersion: APIVersion, Kind: "Advice", Target: OwnerRef{Kind: in.Kind, Name: in.Name}, Namespace: in.Namespace,
		Findings: []Finding{}, Recommendations: []Recommendation{}, PDBs: []string{}}
	p := &podState{ns: in.Namespace, name: in.Name, services: in.Services}
	spec := in.Template.Spec
	budget := e.budget(p)
	for _, svc := range in.Services {
		g := Group{Kind: "Service", Name: svc, Namespace: in.Namespace, Verdicts: map[Verdict]int{}}
		e.routeService(&g)
		a.Services = append(a.Services, g)
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if spec.TerminationGracePeriodSeconds != nil {
		grace = *spec.TerminationGracePeriodSeconds
	}
	shared := (spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace) || spec.HostPID
	tl := PodTimeline{Namespace: in.Namespace, Name: in.Name, Owner: &Owner{Kind: in.Kind, Name: in.Name}}
	tmpl := &template{grace: grace, sleeps: map[string]int64{}}
	add := func(f Finding, n need, fixable bool) {
		a.Findings = append(a.Findings, f)
		tl.wants(f.ID, f.Cause, n, fixable)
	}
	serving := servingContainer(spec)
	for i, c := range spec.Containers {
		cs := newCtr(c, false, shared)
		n := need{container: c.Name, hook: cs.hook, specGrace: grace}
		if h, ok := hookSeconds(cs); ok {
			n.hookSeconds = h
			if cs.hook == hookSleep {
				tmpl.sleeps[c.Name] = int64(h)
			}
		}
		if i == serving && len(in.Services) > 0 {
			switch {
			case cs.hook == hookNone, (cs.hook == hookSleep || cs.hook == hookExecSleep) && n.hookSeconds < budget.Duration.Seconds():
				dn := n
				dn.drainSeconds = budget.Duration.Seconds()
				f := Finding{ID: FindingStoppedBeforeDrain, Severity: SeverityWarning, Container: c.Name, Cause: CauseNoPreStop,
					Basis: []string{fmt.Sprintf("drain budget %s (%s)", secs(budget.Duration), budget.Source)}}
				if cs.hook == hookNone {
					f.Message = fmt.Sprintf("container %s has no preStop hook: it gets SIGTERM as its endpoint turns not ready, while what routes to it needs about %s to stop sending", c.Name, secs(budget.Duration))
				} else {
					f.Cause = CausePreStopTooShort
					f.Message = fmt.Sprintf("container %s's preStop hook (%s) ends %s before what routes to it stops sending (about %s)", c.Name, cs.preStop,
						secs(budget.Duration-time.Duration(n.hookSeconds*float64(time.Second))), secs(budget.Duration))
				}
				ch, _ := dn.size()
				f.Fix = ch.fixText("keep the app serving with a preStop sleep of the drain budget")
				add(f, dn, true)
				n.hookSeconds = math.Max(n.hookSeconds, dn.drainSeconds)
			}
		}
		if cs.hook != hookNone && n.hookSeconds > 0 && float64(grace) < n.hookSeconds+MinSIGTERMSeconds {
			gn := n
			gn.grace = true
			ch, _ := gn.size()
			add(Finding{ID: FindingSIGKILLAtDeadline, Severity: SeverityError, Container: c.Name, Cause: CausePreStopConsumedGrace,
				Basis:   []string{fmt.Sprintf("preStop %s of the %ds grace period: SIGTERM gets the %ds minimum", cs.preStop, grace, MinSIGTERMSeconds)},
				Message: fmt.Sprintf("container %s's preStop hook uses the whole grace period (%ds): the app gets SIGTERM and %ds later SIGKILL", c.Name, grace, MinSIGTERMSeconds),
				Fix:     ch.fixText("give the grace period room for the hook and the shutdown")}, gn, true)
		}
		if cs.pid1.kind == pid1Ignores {
			add(Finding{ID: FindingSIGKILLAtDeadline, Severity: SeverityError, Container: c.Name, Cause: CausePID1IgnoresSIGTERM,
				Basis:   []string{cs.pid1.why},
				Message: fmt.Sprintf("container %s runs `%s` as PID 1, which ignores SIGTERM: it will be SIGKILLed at the %ds deadline", c.Name, cs.pid1.cmd, grace),
				Fix:     causeNote[CausePID1IgnoresSIGTERM]}, need{}, false)
		}
		if i != serving && slices.Contains(sidecarNames, c.Name) {
			add(Finding{ID: FindingSidecarStoppedFirst, Severity: SeverityWarning, Container: c.Name, Cause: CauseSidecarNotNative,
				Basis:   []string{fmt.Sprintf("%s is an ordinary container: kubelet stops it together with %s", c.Name, spec.Containers[serving].Name)},
				Message: fmt.Sprintf("sidecar %s gets SIGTERM with the app: the app can lose its proxy or agent while it still drains", c.Name),
				Fix:     fmt.Sprintf("make %s a native sidecar: move it to initContainers with restartPolicy: Always (Kubernetes 1.29+), so it stops after the app", c.Name)}, need{}, false)
		}
	}
	a.PDBs, a.Findings = pdbAdvice(in, a.Findings)
	a.Recommendations = recommend([]PodTimeline{tl}, map[string]*template{ownerKey(&tl): tmpl})
	if a.Recommendations == nil {
		a.Recommendations = []Recommendation{}
	}
	return a
}

// servingContainer is the container behind the Services: the first with a port, else the first.
func servingContainer(spec corev1.PodSpec) int {
	for i, c := range spec.Containers {
		if len(c.Ports) > 0 {
			return i
		}
	}
	return 0
}

// pdbAdvice names the PDBs covering the template's pods and what is wrong with them: none for a
// workload of several replicas (a drain may take them all at once), or one that never allows an
// eviction (a drain stalls on it: blockers).
func pdbAdvice(in AdviseInput, fs []Finding) ([]string, []Finding) {
	names := []string{}
	set := labels.Set(in.Template.Labels)
	for _, p := range in.PDBs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || p.Spec.Selector == nil || !sel.Matches(set) {
			continue
		}
		names = append(names, p.Name)
		if why, blocks := neverAllows(p, in.Replicas); blocks {
			fs = append(fs, Finding{ID: FindingPDBBlocksDrain, Severity: SeverityError,
				Basis:   []string{why},
				Message: fmt.Sprintf("PodDisruptionBudget %s allows no eviction with %d replicas: a node drain stalls on these pods", p.Name, in.Replicas),
				Fix:     "use maxUnavailable: 1 (or a minAvailable below the replicas), or run more replicas"})
		}
	}
	if len(names) == 0 && in.Replicas > 1 && in.Kind != "DaemonSet" {
		fs = append(fs, Finding{ID: FindingNoPDB, Severity: SeverityInfo,
			Basis:   []string{fmt.Sprintf("no PodDisruptionBudget in %s selects the pods", in.Namespace)},
			Message: fmt.Sprintf("no PodDisruptionBudget covers the %d replicas: a node drain may evict all of them at once", in.Replicas),
			Fix:     fmt.Sprintf("add a PodDisruptionBudget with maxUnavailable: 1 selecting %s", labels.Set(in.Template.Labels))})
	}
	return names, fs
}

// neverAllows says whether the PDB can never allow an eviction of the workload's pods.
func neverAllows(p policyv1.PodDisruptionBudget, replicas int32) (string, bool) {
	n := int(replicas)
	if mu := p.Spec.MaxUnavailable; mu != nil {
		v, err := intstr.GetScaledValueFromIntOrPercent(mu, n, true)
		if err == nil && v <= 0 {
			return fmt.Sprintf("maxUnavailable %s of %d pods is 0", mu.String(), n), true
		}
	}
	if ma := p.Spec.MinAvailable; ma != nil {
		v, err := intstr.GetScaledValueFromIntOrPercent(ma, n, true)
		if err == nil && v >= n {
			return fmt.Sprintf("minAvailable %s of %d pods is all of them", ma.String(), n), true
		}
	}
	return "", false
}

// Text renders the advice for a terminal.
func (a Advice) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s\n", a.Target.Kind, a.Namespace, a.Target.Name)
	for _, s := range a.Services {
		fmt.Fprintf(&b, "  Service %s: drain budget %gs (%s)", s.Name, *s.DrainBudgetSeconds, s.BudgetSource)
		if len(s.TrafficPath) > 0 {
			fmt.Fprintf(&b, "; traffic path %s", PathText(s.TrafficPath))
		}
		b.WriteString("\n")
	}
	if len(a.Services) == 0 {
		b.WriteString("  no Service selects its pods: no drain to check\n")
	}
	for _, f := range a.Findings {
		cause := ""
		if f.Cause != "" {
			cause = " (" + f.Cause + ")"
		}
		fmt.Fprintf(&b, "  %s %s%s: %s\n", f.Severity, f.ID, cause, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(&b, "    fix: %s\n", strings.ReplaceAll(f.Fix, "\n", "\n    "))
		}
	}
	for _, r := range a.Recommendations {
		if r.Patch != "" {
			fmt.Fprintf(&b, "  apply: %s\n", r.Patch)
		}
	}
	if len(a.Findings) == 0 {
		b.WriteString("  nothing would go wrong by the spec: re-run drainwatch during the rollout to measure\n")
	}
	return b.String()
}
