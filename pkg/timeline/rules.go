package timeline

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// findings applies every rule to a timeline.
func (e *Engine) findings(p *podState, tl *PodTimeline, final bool) []Finding {
	tm := p.term
	var out []Finding
	add := func(f Finding) { out = append(out, f) }
	grace := int64(-1)
	if tm.grace != nil {
		grace = *tm.grace
	}
	killed := false
	for _, c := range tm.ctrs {
		switch {
		case atDeadline(tm, c):
			killed = true
			add(e.sigkillFinding(p, tl, c, grace))
		case c.exited && c.reason == "OOMKilled":
			killed = true
			add(Finding{ID: FindingOOMKilled, Severity: SeverityError, Container: c.name,
				Basis:   []string{"state.terminated.reason OOMKilled"},
				Message: fmt.Sprintf("container %s was OOMKilled while terminating (exit %d)", c.name, c.code),
				Fix:     "raise the container's memory limit, or release memory during shutdown (stop accepting work, flush in smaller batches)"})
		case c.exited && c.code != 0 && tm.deadline == nil && tm.cause == CauseKubelet:
			add(kubeletFinding(tm, c))
		case c.exited && c.code != 0:
			f := nonZeroFinding(c)
			if f.Cause == CauseNoSIGTERMHandler {
				tl.wants(f.ID, f.Cause, need{}, false)
			}
			add(f)
		}
	}
	for _, m := range tl.Marks {
		if m.Type != MarkPreStopFailed {
			continue
		}
		c := tm.ctr(m.Container)
		if c != nil && c.hookCutOff {
			continue // the kill ended the hook; sigkill-at-deadline names the hook as cause
		}
		var ch specChange
		if c != nil {
			// Sized as if the hook were replaced by a sleep of the drain budget.
			n := e.podNeed(tm, tl, c)
			n.hook, n.hookSeconds, n.drainSeconds = hookNone, 0, e.budget(p).Duration.Seconds()
			ch, _ = n.size()
			ch.replace = c.handlerField()
		}
		add(Finding{ID: FindingPreStopFailed, Severity: SeverityError, Container: m.Container,
			Basis:   []string{"a FailedPreStopHook event; kubelet then sends SIGTERM at once (killContainer)"},
			Message: fmt.Sprintf("preStop hook of container %s failed: %s (kubelet's log has the hook's output)", m.Container, m.Detail),
			Fix:     ch.fixText("make the hook exit 0 (a command missing from the image is the usual cause); if it only delays the stop, use the built-in sleep action instead")})
	}
	for _, c := range tm.ctrs {
		// When the container was SIGKILLed, sigkill-at-deadline already names the hook as cause.
		if c.sleep != nil && grace > 0 && !c.sidecar && !atDeadline(tm, c) && ceilSeconds(*c.sleep) >= grace-MinSIGTERMSeconds {
			n := e.podNeed(tm, tl, c)
			n.grace = true
			ch, basis := n.size()
			tl.wants(FindingPreStopUsedGrace, "", n, true)
			add(Finding{ID: FindingPreStopUsedGrace, Severity: SeverityWarning, Container: c.name, Basis: basis,
				Message: fmt.Sprintf("preStop of container %s (%s) uses %s of the %ds grace period, leaving %ds for shutdown after SIGTERM",
					c.name, c.preStop, secs(*c.sleep), grace, max(MinSIGTERMSeconds, grace-ceilSeconds(*c.sleep))),
				Fix: ch.fixText("give the app its shutdown time after the hook")})
		}
	}
	if f, ok := e.drainFinding(p, tl); ok {
		add(f)
	}
	out = append(out, sidecarFindings(tm)...)
	if tm.forced {
		add(Finding{ID: FindingForceDeleted, Severity: SeverityWarning,
			Message: "the pod object was removed before its containers were seen to exit (grace period 0 or force deletion): kubelet may still have been stopping them",
			Fix:     "avoid --force --grace-period=0; let kubelet finish the graceful shutdown"})
	}
	if final && len(tl.Services) == 0 && !slices.Contains(e.cfg.Partial, "endpointslices") && !tm.joined {
		add(Finding{ID: FindingNoService, Severity: SeverityInfo,
			Message: "the pod was not behind any Service: no EndpointSlice listed it, so no traffic drain was checked"})
	}
	if !killed && tl.ShutdownSeconds != nil && grace > 0 && *tl.ShutdownSeconds > 0.8*float64(grace) {
		f := Finding{ID: FindingCloseToDeadline, Severity: SeverityInfo,
			Message: fmt.Sprintf("shutdown took %.1fs of the %ds grace period (%.0f%%): close to being SIGKILLed", *tl.ShutdownSeconds, grace, 100**tl.ShutdownSeconds/float64(grace))}
		if c := primary(tm); c != nil {
			n := e.podNeed(tm, tl, c)
			n.grace = true
			ch, basis := n.size()
			f.Basis, f.Fix = basis, ch.fixText("give the shutdown room to spare")
			tl.wants(f.ID, "", n, true)
		}
		add(f)
	}
	return out
}

// handlerField is the LifecycleHandler field of the container's preStop hook, to clear when a
// sleep action replaces it.
func (c *ctrState) handlerField() string {
	if c.hook == hookSleep {
		return "" // a sleep action is replaced by a sleep action
	}
	return c.handler
}

// primary is the main container whose exit ended the shutdown (the last to exit), else the first.
func primary(tm *termState) *ctrState {
	var best *ctrState
	for _, c := range tm.ctrs {
		if c.sidecar {
			continue
		}
		if best == nil || (c.exited && (!best.exited || c.exitLoc.After(best.exitLoc))) {
			best = c
		}
	}
	return best
}

// hookSeconds is how long a container's preStop hook ran: its sleep, or Killing to its failure.
func hookSeconds(c *ctrState) (float64, bool) {
	switch {
	case c.hookCutOff && c.sleep != nil:
		return c.sleep.Seconds(), true
	case c.hookFailed != nil && c.killing != nil:
		return math.Max(0, c.hookFailed.Sub(*c.killing).Seconds()), true
	case c.sleep != nil:
		return c.sleep.Seconds(), true
	}
	return 0, false
}

// afterSIGTERM is from c's SIGTERM to its exit; atLeast when it was SIGKILLed (then to the kill).
func afterSIGTERM(tm *termState, c *ctrState) (secs float64, atLeast, ok bool) {
	var sig, kill *Mark
	for i := range tm.marks {
		m := &tm.marks[i]
		if m.Container != c.name {
			continue
		}
		switch m.Type {
		case MarkSIGTERM:
			sig = m
		case MarkSIGKILL:
			kill = m
		}
	}
	if sig == nil || !c.exited {
		return 0, false, false
	}
	end := c.exitLoc
	if atDeadline(tm, c) {
		atLeast = true
		if kill != nil {
			end = kill.Time
		}
	}
	return math.Max(0, end.Sub(sig.Time).Seconds()), atLeast, true
}

// measure fills in what the rules and recommendations are sized from.
func (e *Engine) measure(tm *termState, tl *PodTimeline) *Measured {
	m := &Measured{}
	if nr, k := tl.DrainStart(), first(tl, MarkKilling, tm); nr != nil && k != nil && !nr.Estimated {
		lag := math.Max(0, nr.Time.Sub(k.Time).Seconds())
		m.EndpointLagSeconds = &lag
	}
	if c := primary(tm); c != nil {
		if h, ok := hookSeconds(c); ok {
			m.HookSeconds = &h
		}
		if a, least, ok := afterSIGTERM(tm, c); ok {
			m.AfterSIGTERMSeconds, m.AfterSIGTERMAtLeast = &a, least
		}
	}
	if *m == (Measured{}) {
		return nil
	}
	return m
}

// podNeed is what one pod's measurements ask of container c's spec.
func (e *Engine) podNeed(tm *termState, tl *PodTimeline, c *ctrState) need {
	n := need{container: c.name, sidecar: c.sidecar, hook: c.hook, specGrace: -1}
	if tm.specGrace != nil {
		n.specGrace = *tm.specGrace
	}
	if h, ok := hookSeconds(c); ok {
		n.hookSeconds = h
	}
	if a, least, ok := afterSIGTERM(tm, c); ok && !(least && c.pid1.kind == pid1Ignores) {
		// A PID 1 that ignores SIGTERM says nothing about how long a shutdown takes.
		n.afterSIGTERM, n.atLeast = a, least
	}
	return n
}

// sigkillFinding decides why a container was SIGKILLed at the deadline, from the facts in this
// order: the grace period was shortened, the preStop hook used it up, PID 1 ignores SIGTERM, the
// app handles SIGTERM but is slow; else unknown, saying what is missing.
func (e *Engine) sigkillFinding(p *podState, tl *PodTimeline, c *ctrState, grace int64) Finding {
	tm := p.term
	f := Finding{ID: FindingSIGKILLAtDeadline, Severity: SeverityError, Container: c.name}
	when := "at the grace deadline"
	if grace >= 0 {
		when = fmt.Sprintf("at the %ds grace deadline", grace)
	}
	f.Message = fmt.Sprintf("container %s was SIGKILLed %s (exit 137)", c.name, when)
	n := e.podNeed(tm, tl, c)
	n.grace = true
	hook, hookKnown := hookSeconds(c)
	if !hookKnown && c.hook != hookNone && c.killingAt != nil && c.finished != nil && grace > 0 &&
		c.finished.Sub(*c.killingAt) >= time.Duration(grace+1)*time.Second {
		// Killed 2 s after Killing + grace: kubelet waited the whole grace for the hook.
		hook, hookKnown = float64(grace), true
		n.hookSeconds = hook
	}
	switch {
	case tm.specGrace != nil && grace >= 0 && grace < *tm.specGrace:
		f.Cause = CauseGraceShortened
		who, fix := caller(tm, *tm.specGrace)
		f.Basis = []string{fmt.Sprintf("metadata.deletionGracePeriodSeconds %d < spec.terminationGracePeriodSeconds %d", grace, *tm.specGrace), "deleted by " + who}
		f.Message += fmt.Sprintf(": %s shortened the grace period from the spec's %ds to %ds", who, *tm.specGrace, grace)
		f.Fix = "the fix is the caller's, not the pod spec's: " + fix
		tl.wants(f.ID, f.Cause, n, false)
	case tm.deadline == nil && tm.specGrace != nil && c.exitLoc.Sub(tm.start) < time.Duration(*tm.specGrace-1)*time.Second:
		f.Cause = CauseGraceShortened
		f.Basis = []string{fmt.Sprintf("kubelet-initiated (%s): killed %s after the termination began, before the spec's %ds", orDefault(tm.reason, "no deletion"), secs(c.exitLoc.Sub(tm.start)), *tm.specGrace)}
		f.Message += ": kubelet terminated the pod itself with a shorter grace period"
		f.Fix = "the fix is the node's configuration: node-pressure eviction uses evictionMaxPodGracePeriod (0 for hard thresholds), graceful node shutdown uses shutdownGracePeriod / shutdownGracePeriodCriticalPods; give the node more memory/disk headroom or a longer shutdown grace"
		tl.wants(f.ID, f.Cause, n, false)
	case c.hook != hookNone && hookKnown && grace > 0 && hook >= float64(grace-MinSIGTERMSeconds):
		f.Cause = CausePreStopConsumedGrace
		f.Basis = []string{fmt.Sprintf("the preStop hook (%s) ran %s of the %ds grace period", c.preStop, secs(time.Duration(hook*float64(time.Second))), grace),
			fmt.Sprintf("kubelet then gives SIGTERM only what is left, at least %ds", MinSIGTERMSeconds)}
		e.peerShutdown(&n, tl, &f)
		f.Message += fmt.Sprintf(": the preStop hook used the grace period, leaving the app only kubelet's %ds minimum after SIGTERM", MinSIGTERMSeconds)
		ch, basis := n.size()
		f.Basis = append(f.Basis, basis...)
		f.Fix = ch.fixText("give the app its shutdown time after the hook (or shorten the hook)")
		tl.wants(f.ID, f.Cause, n, true)
	case c.pid1.kind == pid1Ignores:
		f.Cause = CausePID1IgnoresSIGTERM
		f.Basis = []string{"command: " + c.pid1.cmd, c.pid1.why}
		f.Message += fmt.Sprintf("; PID 1 is `%s`: %s", c.pid1.cmd, c.pid1.why)
		f.Fix = "make PID 1 act on SIGTERM (a longer grace period does not help): exec the app so it becomes PID 1 (command: [\"sh\", \"-c\", \"exec my-app\"]), run an init that forwards signals (tini, dumb-init), or trap TERM in the script"
		tl.wants(f.ID, f.Cause, n, false)
	default:
		peers := e.peerShutdown(&n, tl, &f)
		if c.pid1.kind == pid1Traps || peers > 0 {
			f.Cause = CauseSlowShutdown
			if c.pid1.kind == pid1Traps {
				f.Basis = append([]string{"command: " + c.pid1.cmd, c.pid1.why}, f.Basis...)
			}
			f.Message += ": the app handles SIGTERM but did not finish within the grace period"
			ch, basis := n.size()
			f.Basis = append(f.Basis, basis...)
			f.Fix = ch.fixText("give the app the shutdown time it needs (or make its shutdown faster)")
			tl.wants(f.ID, f.Cause, n, true)
		} else {
			f.Cause = CauseUnknown
			f.Basis = []string{c.pid1.why, "no other pod of " + ownerText(tl) + " has finished a shutdown after SIGTERM to compare with"}
			f.Message += ": whether PID 1 handles SIGTERM is not shown"
			ch, basis := n.size()
			f.Basis = append(f.Basis, basis...)
			f.Fix = ch.fixText("make sure PID 1 handles SIGTERM (exec form, or an init such as tini); if it does, it needs more time")
			tl.wants(f.ID, f.Cause, n, true)
		}
	}
	return f
}

// peerShutdown sizes n's shutdown from the other pods of the same owner that exited 0 after
// SIGTERM (their p95), when they needed longer than this pod had. It returns how many there were.
func (e *Engine) peerShutdown(n *need, tl *PodTimeline, f *Finding) int {
	peers := e.peers[ownerKey(tl)]
	if len(peers) == 0 {
		return 0
	}
	p95 := statsOfSorted(peers).P95
	f.Basis = append(f.Basis, fmt.Sprintf("%d other pod(s) of %s exited 0 after SIGTERM: p95 %.1fs", len(peers), ownerText(tl), p95))
	if !n.atLeast || p95 > n.afterSIGTERM {
		n.afterSIGTERM, n.atLeast = math.Max(p95, n.afterSIGTERM), false
	}
	return len(peers)
}

// caller names who shortened a deletion's grace period and what they should do instead.
func caller(tm *termState, spec int64) (who, fix string) {
	switch tm.cause {
	case CauseEviction:
		return "an eviction", fmt.Sprintf("an Eviction with DeleteOptions.gracePeriodSeconds (kubectl drain --grace-period, an autoscaler or operator) cut it; drain without --grace-period, or with at least %d, so the pod's own grace period applies", spec)
	case CauseDelete:
		return "the DELETE request", fmt.Sprintf("a DELETE with gracePeriodSeconds (kubectl delete --grace-period, an API client's DeleteOptions) cut it; delete without --grace-period, or with at least %d", spec)
	}
	return "the deletion (" + tm.cause + ")", fmt.Sprintf("whoever deleted the pod passed a gracePeriodSeconds below the spec's %d; let it use the pod's own grace period", spec)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func nonZeroFinding(c *ctrState) Finding {
	f := Finding{ID: FindingNonZeroExit, Severity: SeverityError, Container: c.name,
		Basis: []string{fmt.Sprintf("state.terminated: exit %d, reason %s", c.code, orDefault(c.reason, "none"))}}
	switch {
	case c.reason == "ContainerStatusUnknown":
		f.Cause = CauseVanished
		f.Message = fmt.Sprintf("container %s vanished (ContainerStatusUnknown, exit %d): its runtime or node lost it", c.name, c.code)
		f.Fix = "check the node and container runtime logs for the time of the termination"
	case c.code == 143:
		f.Cause = CauseNoSIGTERMHandler
		f.Basis = append(f.Basis, "143 = 128 + SIGTERM (15): the signal's default action ended the process, unless the app exits 143 on purpose (the JVM does after its shutdown hooks)")
		f.Message = fmt.Sprintf("container %s exited 143: SIGTERM killed it without a handler, cutting off in-flight work", c.name)
		f.Fix = "handle SIGTERM: stop accepting new work, finish in-flight requests, then exit 0"
	case c.code == 137:
		f.Cause = CauseKilledEarly
		f.Message = fmt.Sprintf("container %s was SIGKILLed (exit 137) before the grace deadline, by something other than kubelet's deadline", c.name)
		f.Fix = "find what sends SIGKILL (a shutdown script using kill -9, a supervisor) and let the app exit on SIGTERM instead"
	default:
		f.Cause = CauseExitError
		f.Message = fmt.Sprintf("container %s exited with code %d during shutdown", c.name, c.code)
		f.Fix = "make the shutdown path exit 0; the container's last log lines say why it failed"
	}
	return f
}

// kubeletFinding explains a non-zero exit of a termination kubelet started itself (no API
// deletion): node-pressure eviction, graceful node shutdown, or another kubelet decision, read
// from the pod's status reason and message.
func kubeletFinding(tm *termState, c *ctrState) Finding {
	f := Finding{ID: FindingNonZeroExit, Severity: SeverityError, Container: c.name,
		Basis: []string{"no deletionTimestamp: kubelet terminated the pod itself", fmt.Sprintf("status.reason %q, message %q", tm.statusReason, tm.statusMessage),
			fmt.Sprintf("state.terminated: exit %d, reason %s", c.code, orDefault(c.reason, "none"))}}
	what := "kubelet terminated the pod"
	msg := strings.ToLower(tm.statusMessage)
	switch {
	case tm.statusReason == "Evicted" || strings.Contains(msg, "low on resource"):
		f.Cause, what = CauseNodePressure, "kubelet evicted the pod under node pressure"
		f.Fix = "node-pressure eviction uses evictionMaxPodGracePeriod (soft thresholds) or no grace at all (hard): set requests and limits that fit (BestEffort and Burstable pods over their requests go first), or give the node more headroom"
	case strings.Contains(msg, "shutdown") || tm.statusReason == "Terminated" || tm.statusReason == "Shutdown":
		f.Cause, what = CauseNodeShutdown, "the node shut down (graceful node shutdown)"
		f.Fix = "graceful node shutdown gives pods shutdownGracePeriod minus shutdownGracePeriodCriticalPods (kubelet configuration), not terminationGracePeriodSeconds: raise those on the node, or drain nodes before shutting them down"
	default:
		f.Cause = CauseKubeletOther
		f.Fix = "the pod's status message says why kubelet stopped it; kubelet-initiated terminations do not use the pod's grace period"
	}
	f.Message = fmt.Sprintf("container %s exited %d: %s", c.name, c.code, what)
	if tm.statusMessage != "" {
		f.Message += " (" + truncate(tm.statusMessage, 160) + ")"
	}
	return f
}

func sidecarFindings(tm *termState) []Finding {
	var lastMain *ctrState
	for _, c := range tm.ctrs {
		if !c.sidecar && c.finished != nil && (lastMain == nil || c.finished.After(*lastMain.finished)) {
			lastMain = c
		}
	}
	var out []Finding
	for _, c := range tm.ctrs {
		if c.sidecar && lastMain != nil && c.finished != nil && c.finished.Before(*lastMain.finished) {
			out = append(out, Finding{ID: FindingSidecarStoppedFirst, Severity: SeverityWarning, Container: c.name,
				Basis:   []string{fmt.Sprintf("finishedAt of %s before finishedAt of %s", c.name, lastMain.name)},
				Message: fmt.Sprintf("sidecar %s stopped %s before main container %s", c.name, secs(lastMain.finished.Sub(*c.finished)), lastMain.name),
				Fix:     "run it as a native sidecar (initContainers with restartPolicy: Always) so it stops after the main containers, and let it exit only on SIGTERM"})
		}
	}
	return out
}

// drainFinding: did the pod stop serving less than the drain budget after its endpoint was
// marked not ready? Stopping means SIGTERM (observed or estimated), or the exit when SIGTERM is
// unknown or came later. Failing readiness is not counted: apps that drain on SIGTERM fail
// readiness on purpose while they go on serving.
func (e *Engine) drainFinding(p *podState, tl *PodTimeline) (Finding, bool) {
	tm := p.term
	if len(tl.Services) == 0 || slices.Contains(e.cfg.Partial, "endpointslices") {
		return Finding{}, false
	}
	notReady := tl.DrainStart()
	if tm.joined && (notReady == nil || notReady.Estimated) {
		return Finding{}, false
	}
	type stop struct {
		m    *Mark
		what string
	}
	var stops []stop
	if m := first(tl, MarkSIGTERM, tm); m != nil {
		// A container SIGKILLed at the deadline evidently did not act on SIGTERM: it went on
		// serving until it was killed, so its exit is when it stopped.
		if c := tm.ctr(m.Container); c == nil || !atDeadline(tm, c) {
			stops = append(stops, stop{m, "SIGTERM"})
		}
	}
	exit := first(tl, MarkContainerExited, tm)
	if exit != nil {
		stops = append(stops, stop{exit, "container " + exit.Container + " exited"})
	}
	if len(stops) == 0 {
		return Finding{}, false
	}
	s := stops[0]
	for _, x := range stops[1:] {
		if x.m.Time.Before(s.m.Time) {
			s = x
		}
	}
	b := e.budget(p)
	budget := b.Duration
	f := Finding{ID: FindingStoppedBeforeDrain, Severity: SeverityWarning, Container: s.m.Container}
	var lag time.Duration // how long after Killing the endpoint turned not ready
	switch {
	case notReady == nil && exit != nil:
		f.Severity = SeverityError
		f.Message = fmt.Sprintf("%s while its endpoint was still ready: the EndpointSlice was not yet updated, so clients were still sent to it", s.what)
		f.Basis = []string{s.what + " before any EndpointSlice marked the endpoint not ready"}
	case notReady == nil:
		return Finding{}, false
	default:
		gap := s.m.Time.Sub(notReady.Time)
		if gap >= budget-e.tolerance() {
			return Finding{}, false
		}
		if exit != nil && !exit.Time.After(notReady.Time) {
			f.Severity = SeverityError
		}
		est := ""
		if s.m.Estimated {
			est = " (estimated)"
		}
		if gap < 0 && gap > -e.tolerance() {
			gap = 0 // the two watches raced; the moments are the same within measurement
		}
		if gap < 0 {
			f.Message = fmt.Sprintf("%s%s %s before the endpoint was marked not ready; load balancers need about %s after that", s.what, est, secs(-gap), secs(budget))
		} else {
			f.Message = fmt.Sprintf("%s%s %s after the endpoint was marked not ready; load balancers and kube-proxy need about %s (%s) to stop sending traffic", s.what, est, secs(gap), secs(budget), b.Source)
		}
		f.Basis = []string{fmt.Sprintf("%s%s %s after %s; drain budget %s (%s)", s.what, est, secs(gap), notReady.Type, secs(budget), b.Source)}
		if k := first(tl, MarkKilling, tm); k != nil && notReady.Time.After(k.Time) {
			lag = notReady.Time.Sub(k.Time)
			f.Basis = append(f.Basis, fmt.Sprintf("the endpoint turned not ready %s after Killing", secs(lag)))
		}
	}
	c := tm.ctr(s.m.Container)
	if c == nil {
		c = primary(tm)
	}
	if c == nil {
		return f, true
	}
	switch {
	case s.m.Type == MarkContainerExited && c.killing != nil && s.m.Time.Before(*c.killing):
		f.Cause = CauseExitedOnItsOwn
	case c.hookFailed != nil && !c.hookCutOff:
		f.Cause = CausePreStopHookError
	case c.hook == hookNone:
		f.Cause = CauseNoPreStop
	default:
		f.Cause = CausePreStopTooShort
	}
	n := e.podNeed(tm, tl, c)
	n.drainSeconds = max(budget, budget+lag-e.tolerance()).Seconds()
	ch, basis := n.size()
	f.Basis = append(f.Basis, basis...)
	prose := "add a preStop sleep so the app keeps serving while endpoints drain"
	switch {
	case c.sleep != nil && ch.sleep != nil:
		prose = fmt.Sprintf("raise the preStop sleep of container %s from %s to %ds", c.name, c.sleep, *ch.sleep)
	case c.hook != hookNone && ch.sleep == nil:
		prose = fmt.Sprintf("make the preStop hook of container %s wait at least %ds before the app stops", c.name, ceilSeconds(time.Duration(n.drainSeconds*float64(time.Second))))
	}
	f.Fix = ch.fixText(prose)
	tl.wants(f.ID, f.Cause, n, true)
	return f, true
}
