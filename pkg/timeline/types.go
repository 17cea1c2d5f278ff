package timeline

import "time"

// APIVersion is the apiVersion of every object drainwatch writes (JSON output, recordings).
const APIVersion = "drainwatch/v1"

// Verdict is the judgement on one pod's termination.
type Verdict string

// Verdicts, from best to worst. Incomplete means the termination was not seen end to end and
// nothing worse was seen.
const (
	VerdictGraceful   Verdict = "graceful"
	VerdictIncomplete Verdict = "incomplete"
	VerdictAtRisk     Verdict = "at-risk"
	VerdictFailed     Verdict = "failed"
	VerdictKilled     Verdict = "killed"
)

// Verdicts lists every verdict from best to worst.
var Verdicts = []Verdict{VerdictGraceful, VerdictIncomplete, VerdictAtRisk, VerdictFailed, VerdictKilled}

// MarkType names one moment of a termination.
type MarkType string

// Mark types, roughly in the order they happen.
const (
	MarkDeletionRequested  MarkType = "deletion-requested"
	MarkEndpointNotReady   MarkType = "endpoint-not-ready"
	MarkEndpointNotServing MarkType = "endpoint-not-serving"
	MarkEndpointRemoved    MarkType = "endpoint-removed"
	MarkReadinessFailed    MarkType = "readiness-failed"
	// MarkReadinessGate is a change of a pod readiness gate's condition (spec.readinessGates:
	// conditions a load balancer controller sets, such as target health).
	MarkReadinessGate   MarkType = "readiness-gate"
	MarkKilling         MarkType = "killing"
	MarkPreStopFailed   MarkType = "prestop-failed"
	MarkSIGTERM         MarkType = "sigterm"
	MarkContainerExited MarkType = "container-exited"
	MarkSIGKILL         MarkType = "sigkill"
	MarkPodRemoved      MarkType = "pod-removed"
)

// Sources of a mark.
const (
	SourcePod           = "pod"
	SourceEndpointSlice = "endpointslice"
	SourceEvent         = "event"
	SourceInferred      = "inferred"
)

// Mark is one moment in a pod's termination. Time is the local receive time of the change that
// showed it (or, when Estimated, the inferred moment on the same clock); ServerTime is the
// cluster's own timestamp for it where one exists.
type Mark struct {
	Type       MarkType   `json:"type"`
	Time       time.Time  `json:"time"`
	ServerTime *time.Time `json:"serverTime,omitempty"`
	Estimated  bool       `json:"estimated,omitempty"`
	Source     string     `json:"source"`
	Container  string     `json:"container,omitempty"`
	Service    string     `json:"service,omitempty"`
	Slice      string     `json:"endpointSlice,omitempty"`
	ExitCode   *int32     `json:"exitCode,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Detail     string     `json:"detail,omitempty"`
}

// Severity of a finding.
type Severity string

// Severities.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Rank orders severities: error above warning above info, anything else lowest.
func (s Severity) Rank() int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// FindingID is the stable identifier of a kind of finding.
type FindingID string

// Finding IDs (documented in the README; stable across releases).
const (
	FindingSIGKILLAtDeadline   FindingID = "sigkill-at-deadline"
	FindingStoppedBeforeDrain  FindingID = "stopped-before-drain"
	FindingPreStopFailed       FindingID = "prestop-failed"
	FindingPreStopUsedGrace    FindingID = "prestop-used-grace"
	FindingNonZeroExit         FindingID = "nonzero-exit"
	FindingOOMKilled           FindingID = "oomkilled"
	FindingSidecarStoppedFirst FindingID = "sidecar-stopped-first"
	FindingNoService           FindingID = "no-service"
	FindingCloseToDeadline     FindingID = "close-to-deadline"
	FindingForceDeleted        FindingID = "force-deleted"
)

// Causes of a finding: why it happened, decided from the facts listed in Finding.Basis.
const (
	// sigkill-at-deadline
	CauseGraceShortened       = "grace-shortened"        // the deletion's grace was below the spec's
	CausePreStopConsumedGrace = "prestop-consumed-grace" // the hook ran through the grace period
	CausePID1IgnoresSIGTERM   = "pid1-ignores-sigterm"   // the command shows a PID 1 without a handler
	CauseSlowShutdown         = "slow-shutdown"          // the app handles SIGTERM but needs longer
	// nonzero-exit
	CauseNoSIGTERMHandler = "no-sigterm-handler" // exit 143: SIGTERM's default action
	CauseKilledEarly      = "killed-early"       // exit 137 before the deadline
	CauseVanished         = "container-vanished" // ContainerStatusUnknown
	CauseExitError        = "exit-error"         // another non-zero code
	// kubelet-initiated terminations (no deletion: the pod object stays, phase Failed)
	CauseNodePressure = "node-pressure-eviction" // status.reason Evicted
	CauseNodeShutdown = "node-shutdown"          // graceful node shutdown
	CauseKubeletOther = "kubelet-terminated"     // another kubelet-initiated termination
	// stopped-before-drain
	CauseNoPreStop        = "no-prestop"         // SIGTERM came with the Killing event
	CausePreStopTooShort  = "prestop-too-short"  // the hook ended before the drain budget
	CausePreStopHookError = "prestop-hook-error" // the hook failed, so SIGTERM came at once
	CauseExitedOnItsOwn   = "exited-on-its-own"  // the container exited before any SIGTERM
	// CauseUnknown (above) says the facts do not decide; Basis says what is missing.
)

// Finding is one problem (or notable fact) about a termination, with the measured numbers in
// Message and a concrete change in Fix (YAML at the pod spec's level where one fits). Cause
// names why, and Basis lists the facts that decided it.
type Finding struct {
	ID        FindingID `json:"id"`
	Severity  Severity  `json:"severity"`
	Container string    `json:"container,omitempty"`
	Cause     string    `json:"cause,omitempty"`
	Basis     []string  `json:"basis,omitempty"`
	Message   string    `json:"message"`
	Fix       string    `json:"fix,omitempty"`
}

// Measured holds the durations drainwatch measured for one pod, in seconds; recommendations are
// sized from them. A field is absent when the facts to measure it were not seen.
type Measured struct {
	// EndpointLagSeconds is from the Killing event to the endpoint turning not ready (0 when the
	// endpoint changed first).
	EndpointLagSeconds *float64 `json:"endpointLagSeconds,omitempty"`
	// HookSeconds is how long the preStop hook ran: its sleep, or Killing to its failure.
	HookSeconds *float64 `json:"hookSeconds,omitempty"`
	// AfterSIGTERMSeconds is from SIGTERM to the exit of the last main container. When
	// AfterSIGTERMAtLeast is set the container was SIGKILLed: shutdown needed longer than this.
	AfterSIGTERMSeconds *float64 `json:"afterSigtermSeconds,omitempty"`
	AfterSIGTERMAtLeast bool     `json:"afterSigtermAtLeast,omitempty"`
}

// Recommendation is the change to one owner's pod template that the measurements of its pods
// call for. A field is set only when it changes the spec; a grace period is never lowered.
type Recommendation struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Container is the container whose preStop hook is set.
	Container                     string `json:"container,omitempty"`
	PreStopSleepSeconds           *int64 `json:"preStopSleepSeconds,omitempty"`
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// Findings are the finding IDs of the owner's pods this answers.
	Findings []FindingID `json:"findings"`
	// Basis lists the measurements behind each number.
	Basis []string `json:"basis"`
	// Patch is a kubectl command applying the change (strategic merge on spec.template.spec);
	// empty when the fix is not in the pod template (Note says where it is).
	Patch string `json:"patch,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Owner is what controls a pod: its direct owner and, for ReplicaSets, the Deployment.
type Owner struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Revision string `json:"revision,omitempty"`
	// Controller is the Deployment behind a ReplicaSet, when known.
	Controller *OwnerRef `json:"controller,omitempty"`
}

// OwnerRef names an object.
type OwnerRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Container is the outcome for one container of a terminated pod.
type Container struct {
	Name    string `json:"name"`
	Sidecar bool   `json:"sidecar,omitempty"`
	// PreStop describes the hook: "sleep 5s", "exec: ...", "httpGet: ..." ("" when none).
	PreStop  string     `json:"preStop,omitempty"`
	ExitCode *int32     `json:"exitCode,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	Finished *time.Time `json:"finishedAt,omitempty"`
}

// Cause of a deletion.
const (
	CauseDelete     = "delete"
	CauseEviction   = "eviction"
	CausePreemption = "preemption"
	CauseTaint      = "taint"
	CausePodGC      = "pod-gc"
	CauseKubelet    = "kubelet"
	CauseUnknown    = "unknown"
)

// Pod states shown while a timeline is live.
const (
	StateRunning     = "running"
	StateTerminating = "terminating"
	StateTerminated  = "terminated"
	StateRemoved     = "removed"
)

// PodTimeline is everything drainwatch knows about one pod's termination. It is written as one
// JSON line when the termination completes.
type PodTimeline struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
	Node       string `json:"node,omitempty"`
	Owner      *Owner `json:"owner,omitempty"`
	// Services are the Services whose EndpointSlices listed the pod.
	Services []string `json:"services,omitempty"`
	// Cause of the deletion; Reason is the DisruptionTarget or status reason behind it.
	Cause  string `json:"cause,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Initiator is who asked for the termination, where the API shows it.
	Initiator *Initiator `json:"initiator,omitempty"`
	// DrainBudgetSeconds is the budget the pod was judged against (its Services' largest) and
	// BudgetSource where it came from (--drain-budget, or a traffic path).
	DrainBudgetSeconds float64 `json:"drainBudgetSeconds,omitempty"`
	BudgetSource       string  `json:"budgetSource,omitempty"`
	// GracePeriodSeconds is the grace of this deletion (deletionGracePeriodSeconds), which a
	// caller may have shortened; SpecGracePeriodSeconds is the pod spec's default.
	GracePeriodSeconds     *int64 `json:"gracePeriodSeconds,omitempty"`
	SpecGracePeriodSeconds *int64 `json:"specGracePeriodSeconds,omitempty"`
	// Deadline is when kubelet's grace runs out: the Killing event (nanoseconds) plus the grace,
	// else deletionTimestamp (whole seconds).
	Deadline *time.Time `json:"deadline,omitempty"`
	// JoinedMidway is true when the pod was already terminating when watching started.
	JoinedMidway bool `json:"joinedMidway,omitempty"`
	// Partial lists what could not be watched ("events", "endpointslices").
	Partial    []string    `json:"partial,omitempty"`
	State      string      `json:"state"`
	Start      time.Time   `json:"start"`
	End        *time.Time  `json:"end,omitempty"`
	Marks      []Mark      `json:"marks"`
	Containers []Container `json:"containers,omitempty"`
	// ShutdownSeconds is from the deletion request to the last container exit.
	ShutdownSeconds *float64 `json:"shutdownSeconds,omitempty"`
	// GraceUsed is ShutdownSeconds divided by the grace period.
	GraceUsed *float64  `json:"graceUsed,omitempty"`
	Measured  *Measured `json:"measured,omitempty"`
	Verdict   Verdict   `json:"verdict"`
	Findings  []Finding `json:"findings,omitempty"`

	// needs are what the findings ask of the pod spec, for the Summary's recommendations.
	needs []findingNeed
}

// Stats are duration statistics in seconds.
type Stats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	Max   float64 `json:"max"`
}

// Point is one sample of a series.
type Point struct {
	Time  time.Time `json:"t"`
	Value int       `json:"v"`
}

// Group summarizes the terminations of one owner (Deployment, StatefulSet, node, ...) or Service.
type Group struct {
	Kind       string          `json:"kind"`
	Name       string          `json:"name"`
	Namespace  string          `json:"namespace,omitempty"`
	Terminated int             `json:"terminated"`
	Verdicts   map[Verdict]int `json:"verdicts"`
	Shutdown   Stats           `json:"shutdownSeconds"`
	GraceUsed  Stats           `json:"graceUsed"`
	// For Services: ready endpoints over time and the fewest seen while pods terminated.
	ReadyEndpoints    []Point `json:"readyEndpoints,omitempty"`
	MinReadyEndpoints *int    `json:"minReadyEndpoints,omitempty"`
	MaxReadyEndpoints *int    `json:"maxReadyEndpoints,omitempty"`
	// DesiredEndpoints is the replicas the Deployments behind the Service want (their
	// ReplicaSets' desired-replicas annotation); Dip is measured against it when set.
	DesiredEndpoints *int `json:"desiredEndpoints,omitempty"`
	// For Services: what routes traffic to it, and the drain budget its pods were judged
	// against with where it came from.
	TrafficPath        []PathEntry `json:"trafficPath,omitempty"`
	DrainBudgetSeconds *float64    `json:"drainBudgetSeconds,omitempty"`
	BudgetSource       string      `json:"budgetSource,omitempty"`
}

// Summary is written once at the end: totals and one group per owner and per Service.
type Summary struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Terminated int       `json:"terminated"`
	// Unfinished counts pods still terminating when the watch ended (not in Terminated or
	// Verdicts; their timelines have state terminating and verdict incomplete or worse).
	Unfinished int             `json:"unfinished"`
	Verdicts   map[Verdict]int `json:"verdicts"`
	// Shutdown and GraceUsed are over every finished termination.
	Shutdown  Stats   `json:"shutdownSeconds"`
	GraceUsed Stats   `json:"graceUsed"`
	Owners    []Group `json:"owners,omitempty"`
	Services  []Group `json:"services,omitempty"`
	// Blockers are the PodDisruptionBudgets holding a drain up (see Blocker).
	Blockers []Blocker `json:"blockers,omitempty"`
	// Drains are the watched nodes that were cordoned, one timeline each.
	Drains []NodeDrain `json:"drains,omitempty"`
	// TrafficPathGaps are what the traffic-path discovery could not look at (a resource the
	// cluster does not serve, a missing permission): the Services' trafficPath may miss them.
	TrafficPathGaps []string `json:"trafficPathGaps,omitempty"`
	// Recommendations: one per owner whose pods had a problem the pod template can fix; in the
	// final Summary (Engine.Finish) only.
	Recommendations []Recommendation `json:"recommendations,omitempty"`
	// Warnings are things the watch could not see or had to drop.
	// It is always present, [] when there are none.
	Warnings []string `json:"warnings"`
}
