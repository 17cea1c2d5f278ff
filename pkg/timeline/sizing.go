package timeline

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// MinSIGTERMSeconds is the least time kubelet leaves between SIGTERM and SIGKILL, however much
// of the grace period the preStop hook used (killContainer's minimumGracePeriodInSeconds).
const MinSIGTERMSeconds = 2

// marginSeconds is the room a proposed grace period leaves above the measured need: 5 s or a
// quarter of the need, whichever is larger.
func marginSeconds(need float64) float64 { return math.Max(5, math.Ceil(need/4)) }

// need is what measurements ask of one container's pod spec: the input of every sized fix, for
// one pod (a finding's fix) or for all pods of an owner (a recommendation).
type need struct {
	container string
	sidecar   bool
	hook      hookKind
	// hookSeconds is the current preStop length (sleep or measured), 0 without a hook.
	hookSeconds float64
	specGrace   int64 // -1 when unknown
	// drainSeconds: how long after Killing the app must keep serving (budget + endpoint lag);
	// 0 when the drain was fine.
	drainSeconds float64
	// afterSIGTERM: seconds the app needs from SIGTERM to exit; atLeast when it was SIGKILLed
	// first, so only a lower bound is known.
	afterSIGTERM float64
	atLeast      bool
	// measuredPods: afterSIGTERM is the p95 over this many pods (0 or 1: one pod's measurement).
	measuredPods int
	// grace says the grace period must cover hook + shutdown (the pod was killed or close).
	grace bool
}

// specChange is a change to a pod spec: a preStop sleep for one container and a grace period.
type specChange struct {
	container string
	sidecar   bool
	// replace is the LifecycleHandler field ("exec", "httpGet") of the current hook, cleared
	// when the sleep action replaces it.
	replace string
	sleep   *int64
	grace   *int64
}

func (c specChange) empty() bool { return c.sleep == nil && c.grace == nil }

// size turns a need into a spec change and the basis of each number. It never lowers the grace
// period and never proposes a preStop sleep that does not fit the grace period it leaves.
func (n need) size() (specChange, []string) {
	ch := specChange{container: n.container, sidecar: n.sidecar}
	var basis []string
	hook := n.hookSeconds
	cover := n.grace // whether the grace period must be checked against hook + shutdown
	if n.drainSeconds > 0 {
		want := int64(math.Ceil(n.drainSeconds - 1e-9))
		switch n.hook {
		case hookNone, hookSleep, hookExecSleep:
			if float64(want) > n.hookSeconds {
				ch.sleep = &want
				if n.hook == hookExecSleep {
					ch.replace = "exec"
				}
				hook, cover = float64(want), true
				basis = append(basis, fmt.Sprintf("preStop sleep %ds: the app must keep serving %.1fs after Killing (drain budget plus the endpoint lag seen)", want, n.drainSeconds))
			}
		default:
			basis = append(basis, fmt.Sprintf("the preStop hook of %s must keep the app serving at least %ds after Killing; it is not a plain sleep, so it is left as is", n.container, want))
			hook, cover = math.Max(hook, float64(want)), true // the grace must still cover it
		}
	}
	if !cover {
		return ch, basis
	}
	shutdown := math.Max(n.afterSIGTERM, 0)
	if n.atLeast {
		shutdown = math.Max(1.5*shutdown, 2*MinSIGTERMSeconds)
		basis = append(basis, fmt.Sprintf("shutdown after SIGTERM not measured (SIGKILLed after %.1fs): half as much again, %.1fs, is assumed; re-run to measure", n.afterSIGTERM, shutdown))
	} else if n.measuredPods > 1 {
		basis = append(basis, fmt.Sprintf("shutdown after SIGTERM %.1fs (p95 measured over %d pods)", n.afterSIGTERM, n.measuredPods))
	} else if n.afterSIGTERM > 0 {
		basis = append(basis, fmt.Sprintf("shutdown after SIGTERM %.1fs (measured)", n.afterSIGTERM))
	}
	total := hook + shutdown
	g := int64(math.Ceil(total + marginSeconds(total) - 1e-9))
	if n.specGrace >= 0 && g <= n.specGrace {
		if ch.sleep != nil {
			basis = append(basis, fmt.Sprintf("the spec's grace period of %ds fits preStop %.0fs + shutdown %.1fs + margin", n.specGrace, hook, shutdown))
		}
		return ch, basis
	}
	ch.grace = &g
	basis = append(basis, fmt.Sprintf("terminationGracePeriodSeconds %d = preStop %.0fs + shutdown %.1fs + margin %.0fs (5 s or a quarter, whichever is larger), rounded up", g, hook, shutdown, marginSeconds(total)))
	return ch, basis
}

// list is the pod spec field that holds the container: native sidecars are init containers.
func (c specChange) list() string {
	if c.sidecar {
		return "initContainers"
	}
	return "containers"
}

// yaml renders the change at the pod spec's level, so it can be pasted under
// spec.template.spec (or a Pod's spec).
func (c specChange) yaml() string {
	var b strings.Builder
	b.WriteString("# pod spec (spec.template.spec of the workload)\n")
	if c.grace != nil {
		fmt.Fprintf(&b, "terminationGracePeriodSeconds: %d\n", *c.grace)
	}
	if c.sleep != nil {
		fmt.Fprintf(&b, "%s:\n- name: %s\n  lifecycle:\n    preStop:\n", c.list(), c.container)
		if c.replace != "" {
			fmt.Fprintf(&b, "      %s: null\n", c.replace)
		}
		fmt.Fprintf(&b, "      sleep:\n        seconds: %d\n", *c.sleep)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// patch is the strategic merge patch of the change on a workload (spec.template.spec).
func (c specChange) patch() string {
	spec := map[string]any{}
	if c.grace != nil {
		spec["terminationGracePeriodSeconds"] = *c.grace
	}
	if c.sleep != nil {
		preStop := map[string]any{"sleep": map[string]any{"seconds": *c.sleep}}
		if c.replace != "" {
			preStop[c.replace] = nil
		}
		spec[c.list()] = []any{map[string]any{"name": c.container, "lifecycle": map[string]any{"preStop": preStop}}}
	}
	b, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": spec}}})
	return string(b)
}

// fixText is a fix's prose followed by the change as YAML.
func (c specChange) fixText(prose string) string {
	if c.empty() {
		return prose
	}
	return prose + ":\n" + c.yaml()
}

// patchResources are the owners whose pod template kubectl can patch, by kind.
var patchResources = map[string]string{
	"Deployment":            "deployment",
	"StatefulSet":           "statefulset",
	"DaemonSet":             "daemonset",
	"ReplicaSet":            "replicaset",
	"ReplicationController": "replicationcontroller",
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
