package report

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// podView is one pod: its Gantt row and its details.
type podView struct {
	Anchor    string
	Name      string
	Verdict   string
	Live      bool
	Shutdown  string
	ShutdownS string // seconds, for sorting
	GraceUsed string

	Height int
	Segs   []seg
	Lines  []vline
	Dots   []dot
	Notes  []note

	Info     []kv
	Marks    []markRow
	Findings []findingView
}

type markRow struct {
	// Rel is the time since the deletion request; Plus asks for a sign in front of it.
	Rel       string
	Plus      bool
	Abs       string
	Type      string
	Estimated bool
	Detail    string
}

type findingView struct {
	ID, Severity, Container, Message, Cause string
	// FixAnchor and FixNum point at the fix in the list of fixes. Small reports also show the
	// fix itself under the finding, in the element FixElem.
	FixAnchor string
	FixNum    int
	Fix       string
	FixElem   string
}

// podContext is what every pod of one report shares.
type podContext struct {
	win    window
	clk    clock
	budget time.Duration
	now    time.Time
	// small is set for small reports: tooltips on the Gantt shapes and fixes under each finding.
	small         bool
	showNamespace bool
	fixes         *fixIndex
}

func (pc podContext) build(i int, pt timeline.PodTimeline) podView {
	pv := podView{
		Anchor:  "p" + strconv.Itoa(i+1),
		Name:    pt.Name,
		Verdict: string(pt.Verdict),
		Live:    pt.State == timeline.StateTerminating,
	}
	if pc.showNamespace && pt.Namespace != "" {
		pv.Name = pt.Namespace + "/" + pt.Name
	}
	if pv.Verdict == "" {
		pv.Verdict = "unknown"
	}
	if pt.ShutdownSeconds != nil {
		pv.Shutdown = fmtSeconds(*pt.ShutdownSeconds)
	}
	if pt.GraceUsed != nil {
		pv.GraceUsed = fmtPercent(*pt.GraceUsed)
	}
	pv.Info = podInfo(pt, pc.clk)
	pv.Marks = make([]markRow, 0, len(pt.Marks))
	lanes := len(laneContainers(pt))
	for _, m := range pt.Marks {
		pv.Marks = append(pv.Marks, markRowOf(m, pt, pc.clk, lanes))
	}
	ref := podRef{Anchor: pv.Anchor, Name: pv.Name}
	for i, f := range pt.Findings {
		fv := findingView{ID: string(f.ID), Severity: string(f.Severity), Container: f.Container, Message: f.Message, Cause: f.Cause}
		if f.Fix != "" {
			fv.FixAnchor, fv.FixNum = pc.fixes.add(f, ref)
			if pc.small {
				fv.Fix, fv.FixElem = f.Fix, pv.Anchor+"-f"+strconv.Itoa(i+1)
			}
		}
		pv.Findings = append(pv.Findings, fv)
	}
	if !pc.win.empty {
		g := gantt{pv: &pv, pt: pt, win: pc.win, budget: pt.DrainBudget(pc.budget), now: pc.now, small: pc.small}
		g.draw()
	}
	return pv
}

// Keys of the facts in a pod's details. Those marked shareable are shown once above the rows
// when every pod has the same value, as in a rollout, instead of once per pod.
const (
	keyNamespace  = "Namespace"
	keyNode       = "Node"
	keyOwner      = "Owner"
	keyServices   = "Services"
	keyCause      = "Cause"
	keyInitiator  = "Initiator"
	keyGrace      = "Grace period"
	keyDeadline   = "Deadline"
	keyContainers = "Containers"
)

var shareable = []string{keyNamespace, keyNode, keyOwner, keyServices, keyCause, keyGrace, keyContainers}

// podInfo is the pod's facts other than marks, left out where they repeat a mark.
func podInfo(pt timeline.PodTimeline, clk clock) []kv {
	var d []kv
	add := func(k, v string) {
		if v != "" {
			d = append(d, kv{k, v})
		}
	}
	add(keyNamespace, pt.Namespace)
	add(keyNode, pt.Node)
	if o := pt.Owner; o != nil {
		s := o.Kind + "/" + o.Name
		if o.Revision != "" {
			s += " rev " + o.Revision
		}
		if o.Controller != nil {
			s += ", " + o.Controller.Kind + "/" + o.Controller.Name
		}
		add(keyOwner, s)
	}
	add(keyServices, strings.Join(pt.Services, ", "))
	cause := pt.Cause
	if pt.Reason != "" {
		cause = strings.TrimSpace(cause + " (" + pt.Reason + ")")
	}
	add(keyCause, cause)
	add(keyInitiator, strings.TrimPrefix(pt.Initiator.String(), "by "))
	if pt.GracePeriodSeconds != nil {
		add(keyGrace, strconv.FormatInt(*pt.GracePeriodSeconds, 10)+"s")
	}
	if pt.Deadline != nil {
		add(keyDeadline, clk.server(*pt.Deadline))
	}
	// The spec side of each container; how it ended is in its marks, and is repeated here
	// only when no mark shows it.
	var cs []string
	for _, c := range pt.Containers {
		var parts []string
		if c.Sidecar {
			parts = append(parts, "sidecar")
		}
		if c.PreStop != "" {
			parts = append(parts, "preStop "+c.PreStop)
		}
		if markOf(pt, timeline.MarkContainerExited, c.Name) == nil {
			if c.ExitCode != nil {
				parts = append(parts, "exit "+itoa(*c.ExitCode))
			}
			if c.Reason != "" {
				parts = append(parts, c.Reason)
			}
			if c.Finished != nil {
				parts = append(parts, "finished "+clk.server(*c.Finished))
			}
		}
		s := c.Name
		if len(parts) > 0 {
			s += " (" + strings.Join(parts, ", ") + ")"
		}
		cs = append(cs, s)
	}
	add(keyContainers, strings.Join(cs, "; "))
	if pt.State != timeline.StateRemoved && pt.State != timeline.StateTerminated {
		add("State", pt.State)
	}
	if first := markOf(pt, timeline.MarkDeletionRequested, ""); !pt.Start.IsZero() && (first == nil || !first.Time.Equal(pt.Start)) {
		add("Deletion seen", clk.abs(pt.Start))
	}
	if pt.End != nil {
		if rm := markOf(pt, timeline.MarkPodRemoved, ""); rm == nil || !rm.Time.Equal(*pt.End) {
			add("End", clk.abs(*pt.End)+" ("+rel(*pt.End, pt.Start)+" after deletion)")
		}
	}
	if pt.JoinedMidway {
		add("Joined midway", "the pod was already terminating when watching started; earlier marks are missing or estimated")
	}
	if len(pt.Partial) > 0 {
		add("Not watched", strings.Join(pt.Partial, ", ")+": marks from them are missing")
	}
	add("UID", pt.UID)
	return d
}

// sharedFacts finds the shareable facts every pod has with the same value and removes them
// from the pods' details.
func sharedFacts(pods []podView) []kv {
	if len(pods) < 2 {
		return nil
	}
	var shared []kv
	for _, key := range shareable {
		val, same := "", true
		for i, pv := range pods {
			v := infoValue(pv.Info, key)
			if v == "" || (i > 0 && v != val) {
				same = false
				break
			}
			val = v
		}
		if same {
			shared = append(shared, kv{key, val})
		}
	}
	for i := range pods {
		pods[i].Info = slices.DeleteFunc(pods[i].Info, func(f kv) bool {
			return slices.ContainsFunc(shared, func(s kv) bool { return s.Key == f.Key })
		})
	}
	return shared
}

func infoValue(info []kv, key string) string {
	for _, f := range info {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// usualSource is where a mark of a type normally comes from; the details name the source only
// when it is another one, which keeps the table of a large report small.
func usualSource(t timeline.MarkType) string {
	switch t {
	case timeline.MarkEndpointNotReady, timeline.MarkEndpointNotServing, timeline.MarkEndpointRemoved:
		return timeline.SourceEndpointSlice
	case timeline.MarkReadinessFailed, timeline.MarkKilling, timeline.MarkPreStopFailed:
		return timeline.SourceEvent
	case timeline.MarkSIGTERM, timeline.MarkSIGKILL:
		return timeline.SourceInferred
	}
	return timeline.SourcePod
}

// markRowOf lays out one mark. The detail leaves out what goes without saying: the container
// when the pod has only one, the Service when it has only one, an event reason that merely
// names the mark, the usual source, and the cluster's whole-second timestamp unless it is a
// second or more away from the receive time (a delayed watch or a skewed clock).
func markRowOf(m timeline.Mark, pt timeline.PodTimeline, clk clock, lanes int) markRow {
	r := markRow{Abs: clk.abs(m.Time), Type: string(m.Type), Estimated: m.Estimated}
	if !pt.Start.IsZero() {
		r.Rel = rel(m.Time, pt.Start)
		r.Plus = !m.Time.Before(pt.Start)
	}
	var parts []string
	if m.Container != "" && lanes > 1 {
		parts = append(parts, m.Container)
	}
	if m.Service != "" && len(pt.Services) != 1 {
		parts = append(parts, "Service "+m.Service)
	}
	if m.ExitCode != nil {
		parts = append(parts, "exit "+itoa(*m.ExitCode))
	}
	if m.Reason != "" && !strings.EqualFold(strings.ReplaceAll(m.Reason, "-", ""), strings.ReplaceAll(string(m.Type), "-", "")) {
		parts = append(parts, m.Reason)
	}
	if m.Detail != "" {
		parts = append(parts, m.Detail)
	}
	if m.Source != usualSource(m.Type) {
		parts = append(parts, "from "+m.Source)
	}
	if m.ServerTime != nil {
		if skew := m.ServerTime.Sub(m.Time); skew >= time.Second || skew <= -time.Second {
			parts = append(parts, "server time "+clk.server(*m.ServerTime))
		}
	}
	r.Detail = strings.Join(parts, " · ")
	return r
}
