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
	MarkKilling            MarkType = "killing"
	MarkPreStopFailed      MarkType = "prestop-failed"
	MarkSIGTERM            MarkType = "sigterm"
	MarkContainerExited    MarkType = "container-exited"
	MarkSIGKILL            MarkType = "sigkill"
	MarkPodRemoved         MarkType = "pod-removed"
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

// Finding is one problem (or notable fact) about a termination, with the measured numbers in
// Message and a concrete change in Fix (YAML where one fits).
type Finding struct {
	ID        FindingID `json:"id"`
	Severity  Severity  `json:"severity"`
	Container string    `json:"container,omitempty"`
	Message   string    `json:"message"`
	Fix       string    `json:"fix,omitempty"`
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
	Cause              string     `json:"cause,omitempty"`
	Reason             string     `json:"reason,omitempty"`
	GracePeriodSeconds *int64     `json:"gracePeriodSeconds,omitempty"`
	Deadline           *time.Time `json:"deadline,omitempty"`
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
	Verdict   Verdict   `json:"verdict"`
	Findings  []Finding `json:"findings,omitempty"`
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
}

// Summary is written once at the end: totals and one group per owner and per Service.
type Summary struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Start      time.Time       `json:"start"`
	End        time.Time       `json:"end"`
	Terminated int             `json:"terminated"`
	Verdicts   map[Verdict]int `json:"verdicts"`
	// Shutdown and GraceUsed are over every finished termination.
	Shutdown  Stats   `json:"shutdownSeconds"`
	GraceUsed Stats   `json:"graceUsed"`
	Owners    []Group `json:"owners,omitempty"`
	Services  []Group `json:"services,omitempty"`
	// Warnings are things the watch could not see or had to drop.
	Warnings []string `json:"warnings,omitempty"`
}
