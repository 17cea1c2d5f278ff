package timeline

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// tolerance absorbs the delivery jitter between the watches a drain gap is measured across.
func (e *Engine) tolerance() time.Duration {
	return min(e.cfg.DrainBudget/10, 500*time.Millisecond)
}

// markOrder breaks ties between marks with the same time.
var markOrder = map[MarkType]int{
	MarkDeletionRequested: 0, MarkEndpointNotReady: 1, MarkEndpointNotServing: 2, MarkKilling: 3,
	MarkPreStopFailed: 4, MarkSIGTERM: 5, MarkReadinessFailed: 6, MarkEndpointRemoved: 7,
	MarkSIGKILL: 8, MarkContainerExited: 9, MarkPodRemoved: 10,
}

// build turns a pod's state into its timeline; final says no more deltas will come for it.
func (e *Engine) build(p *podState, final bool) PodTimeline {
	tm := p.term
	tl := PodTimeline{
		APIVersion: APIVersion, Kind: "PodTimeline",
		Namespace: p.ns, Name: p.name, Node: p.node, Owner: p.owner,
		Cause: tm.cause, Reason: tm.reason, GracePeriodSeconds: tm.grace, Deadline: tm.deadline,
		JoinedMidway: tm.joined, Start: tm.start,
		Services: slices.Clone(p.services),
		Partial:  slices.Clone(e.cfg.Partial),
	}
	if p.pod != nil {
		tl.UID = string(p.pod.UID)
	} else {
		tl.UID = string(p.uid)
	}
	sort.Strings(tl.Services)
	// Without a Killing event (events not visible, or rate limited), SIGTERM is estimated from
	// the deletion request, which kubelet acts on at once.
	if !tm.joined {
		for _, c := range tm.ctrs {
			if c.killing == nil && c.exited {
				e.sigterm(tm, c, tm.start, "estimated from the deletion request: no Killing event seen")
			}
		}
	}
	tl.Marks = slices.Clone(tm.marks)
	sort.SliceStable(tl.Marks, func(i, j int) bool {
		a, b := tl.Marks[i], tl.Marks[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return markOrder[a.Type] < markOrder[b.Type]
	})
	var lastExit time.Time
	for _, c := range tm.ctrs {
		ct := Container{Name: c.name, Sidecar: c.sidecar, PreStop: c.preStop}
		if c.exited {
			code := c.code
			ct.ExitCode, ct.Reason, ct.Finished = &code, c.reason, c.finished
			if c.exitLoc.After(lastExit) {
				lastExit = c.exitLoc
			}
		}
		tl.Containers = append(tl.Containers, ct)
	}
	switch {
	case p.removed:
		tl.State = StateRemoved
	case tm.allExited():
		tl.State = StateTerminated
	default:
		tl.State = StateTerminating
	}
	if final {
		end := e.now
		if n := len(tl.Marks); n > 0 && tl.Marks[n-1].Time.After(tm.start) {
			end = tl.Marks[n-1].Time
		}
		tl.End = &end
	}
	if tm.allExited() && !tm.joined {
		s := lastExit.Sub(tm.start).Seconds()
		tl.ShutdownSeconds = &s
		if tm.grace != nil && *tm.grace > 0 {
			u := s / float64(*tm.grace)
			tl.GraceUsed = &u
		}
	}
	tl.Findings = e.findings(p, &tl, final)
	tl.Verdict = verdictOf(tm, &tl, final)
	return tl
}

// verdictOf ranks the findings; without a problem, a termination seen end to end is graceful.
func verdictOf(tm *termState, tl *PodTimeline, final bool) Verdict {
	v := VerdictGraceful
	worse := func(x Verdict) {
		if slices.Index(Verdicts, x) > slices.Index(Verdicts, v) {
			v = x
		}
	}
	for _, f := range tl.Findings {
		switch f.ID {
		case FindingSIGKILLAtDeadline, FindingOOMKilled:
			worse(VerdictKilled)
		case FindingPreStopFailed, FindingNonZeroExit:
			worse(VerdictFailed)
		case FindingStoppedBeforeDrain, FindingPreStopUsedGrace, FindingSidecarStoppedFirst, FindingForceDeleted:
			worse(VerdictAtRisk)
		}
	}
	if v == VerdictGraceful && (!final || !tm.allExited() || (tm.joined && len(tl.Services) > 0 && !hasMark(tl, MarkEndpointNotReady, true))) {
		// Still running, never seen to exit, or joined too late to see the endpoint change.
		v = VerdictIncomplete
	}
	return v
}

func hasMark(tl *PodTimeline, t MarkType, observedOnly bool) bool {
	for _, m := range tl.Marks {
		if m.Type == t && (!observedOnly || !m.Estimated) {
			return true
		}
	}
	return false
}

// first returns the earliest mark of a type for main containers (or any mark without a container).
func first(tl *PodTimeline, t MarkType, tm *termState) *Mark {
	for i := range tl.Marks {
		m := &tl.Marks[i]
		if m.Type != t {
			continue
		}
		if c := tm.ctr(m.Container); c != nil && c.sidecar {
			continue
		}
		return m
	}
	return nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func ceilSeconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds() - 1e-9)) }

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
			add(sigkillFinding(tm, c, grace))
		case c.exited && c.reason == "OOMKilled":
			killed = true
			add(Finding{ID: FindingOOMKilled, Severity: SeverityError, Container: c.name,
				Message: fmt.Sprintf("container %s was OOMKilled while terminating (exit %d)", c.name, c.code),
				Fix:     "raise the container's memory limit, or release memory during shutdown (stop accepting work, flush in smaller batches)"})
		case c.exited && c.code != 0:
			add(nonZeroFinding(c))
		}
	}
	for _, m := range tl.Marks {
		if m.Type == MarkPreStopFailed {
			add(Finding{ID: FindingPreStopFailed, Severity: SeverityError, Container: m.Container,
				Message: fmt.Sprintf("preStop hook of container %s failed: %s (kubelet's log has the hook's output)", m.Container, m.Detail),
				Fix:     "make the hook exit 0; a command missing from the image is the usual cause. For a drain delay use the built-in action:\nlifecycle:\n  preStop:\n    sleep:\n      seconds: 5"})
		}
	}
	for _, c := range tm.ctrs {
		if c.sleep != nil && grace > 0 && !c.sidecar && ceilSeconds(*c.sleep) >= grace-2 {
			add(Finding{ID: FindingPreStopUsedGrace, Severity: SeverityWarning, Container: c.name,
				Message: fmt.Sprintf("preStop of container %s (%s) uses %s of the %ds grace period, leaving %ds for shutdown after SIGTERM",
					c.name, c.preStop, secs(*c.sleep), grace, max(0, grace-ceilSeconds(*c.sleep))),
				Fix: fmt.Sprintf("terminationGracePeriodSeconds: %d", ceilSeconds(*c.sleep)+max(10, grace/3))})
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
		add(Finding{ID: FindingCloseToDeadline, Severity: SeverityInfo,
			Message: fmt.Sprintf("shutdown took %.1fs of the %ds grace period (%.0f%%): close to being SIGKILLed", *tl.ShutdownSeconds, grace, 100**tl.ShutdownSeconds/float64(grace)),
			Fix:     fmt.Sprintf("terminationGracePeriodSeconds: %d", suggestGrace(grace, *tl.ShutdownSeconds))})
	}
	return out
}

// suggestGrace proposes a grace period with room to spare: half as much again, rounded up to 5 s.
func suggestGrace(grace int64, needed float64) int64 {
	return max(roundUp5(int64(math.Ceil(math.Max(float64(grace), needed)*1.5))), grace+5)
}

func roundUp5(s int64) int64 { return (s + 4) / 5 * 5 }

func sigkillFinding(tm *termState, c *ctrState, grace int64) Finding {
	f := Finding{ID: FindingSIGKILLAtDeadline, Severity: SeverityError, Container: c.name}
	when := "at the grace deadline"
	if grace >= 0 {
		when = fmt.Sprintf("at the %ds grace deadline", grace)
	}
	f.Message = fmt.Sprintf("container %s was SIGKILLed %s (exit 137)", c.name, when)
	switch {
	case c.pid1 != "":
		f.Message += fmt.Sprintf("; PID 1 is `%s`, and a shell or sleep as PID 1 ignores SIGTERM", c.pid1)
		f.Fix = "handle SIGTERM: PID 1 ignores it. Run the app with exec so it becomes PID 1 (command: [\"sh\", \"-c\", \"exec my-app\"]), add an init that forwards signals (tini, dumb-init), or trap TERM in the script"
	case c.hasHook && c.sleep == nil:
		f.Message += fmt.Sprintf("; the preStop hook (%s) may have used the grace period", c.preStop)
		f.Fix = fmt.Sprintf("bound the preStop hook's run time, or raise terminationGracePeriodSeconds to %d", suggestGrace(grace, float64(grace)))
	default:
		f.Message += ": the app did not exit after SIGTERM within the grace period"
		f.Fix = fmt.Sprintf("make the app exit on SIGTERM once in-flight work is done, or raise terminationGracePeriodSeconds to %d if it needs longer", suggestGrace(grace, float64(grace)))
	}
	return f
}

func nonZeroFinding(c *ctrState) Finding {
	f := Finding{ID: FindingNonZeroExit, Severity: SeverityError, Container: c.name}
	switch {
	case c.reason == "ContainerStatusUnknown":
		f.Message = fmt.Sprintf("container %s vanished (ContainerStatusUnknown, exit %d): its runtime or node lost it", c.name, c.code)
		f.Fix = "check the node and container runtime logs for the time of the termination"
	case c.code == 143:
		f.Message = fmt.Sprintf("container %s exited 143: SIGTERM killed it without a handler, cutting off in-flight work", c.name)
		f.Fix = "handle SIGTERM: stop accepting new work, finish in-flight requests, then exit 0"
	case c.code == 137:
		f.Message = fmt.Sprintf("container %s was SIGKILLed (exit 137) before the grace deadline, by something other than kubelet's deadline", c.name)
		f.Fix = "find what sends SIGKILL (a shutdown script using kill -9, a supervisor) and let the app exit on SIGTERM instead"
	default:
		f.Message = fmt.Sprintf("container %s exited with code %d during shutdown", c.name, c.code)
		f.Fix = "make the shutdown path exit 0; the container's last log lines say why it failed"
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
	notReady := first(tl, MarkEndpointNotReady, tm)
	if nr := first(tl, MarkEndpointRemoved, tm); nr != nil && (notReady == nil || nr.Time.Before(notReady.Time)) {
		notReady = nr
	}
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
	budget := e.cfg.DrainBudget
	f := Finding{ID: FindingStoppedBeforeDrain, Severity: SeverityWarning, Container: s.m.Container}
	var lag time.Duration // how long after Killing the endpoint turned not ready
	switch {
	case notReady == nil && exit != nil:
		f.Severity = SeverityError
		f.Message = fmt.Sprintf("%s while its endpoint was still ready: the EndpointSlice was not yet updated, so clients were still sent to it", s.what)
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
			f.Message = fmt.Sprintf("%s%s %s after the endpoint was marked not ready; load balancers and kube-proxy need about %s (--drain-budget) to stop sending traffic", s.what, est, secs(gap), secs(budget))
		}
		if k := first(tl, MarkKilling, tm); k != nil && notReady.Time.After(k.Time) {
			lag = notReady.Time.Sub(k.Time)
		}
	}
	f.Fix = drainFix(tm, s.m.Container, max(budget, budget+lag-e.tolerance()))
	return f, true
}

// drainFix proposes a preStop sleep covering the budget and a grace period that still leaves the
// app its shutdown time after it.
func drainFix(tm *termState, container string, need time.Duration) string {
	sleep := ceilSeconds(need)
	c := tm.ctr(container)
	var b strings.Builder
	if c != nil && c.sleep != nil {
		fmt.Fprintf(&b, "raise the preStop sleep of container %s from %s to %ds:\n", c.name, c.sleep, sleep)
	} else if c != nil && c.hasHook {
		fmt.Fprintf(&b, "make the preStop hook of container %s wait at least %ds before the app stops:\n", c.name, sleep)
	} else {
		fmt.Fprintf(&b, "add preStop sleep %d so the app keeps serving while endpoints drain:\n", sleep)
	}
	b.WriteString("lifecycle:\n  preStop:\n    sleep:\n      seconds: " + fmt.Sprint(sleep))
	if tm.grace != nil {
		shutdown := int64(0)
		if c != nil && c.exited && c.killing != nil {
			after := c.exitLoc.Sub(*c.killing)
			if c.sleep != nil {
				after -= *c.sleep
			}
			shutdown = max(0, ceilSeconds(after))
		}
		if want := sleep + shutdown + 5; want > *tm.grace {
			fmt.Fprintf(&b, "\nterminationGracePeriodSeconds: %d", roundUp5(want))
		}
	}
	return b.String()
}
