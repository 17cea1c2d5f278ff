package timeline

import (
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// DeltaType says what happened to an object, as an informer reports it.
type DeltaType string

// Delta types. Relists after an expired watch arrive as MODIFIED for objects still present
// and DELETED (from a tombstone) for objects that vanished meanwhile.
const (
	Added    DeltaType = "ADDED"
	Modified DeltaType = "MODIFIED"
	Deleted  DeltaType = "DELETED"
)

// Kinds of object a Delta can carry.
const (
	KindPod           = "Pod"
	KindEndpointSlice = "EndpointSlice"
	KindEvent         = "Event"
	KindReplicaSet    = "ReplicaSet"
	KindNode          = "Node"
	KindPDB           = "PodDisruptionBudget"
	KindDeployment    = "Deployment"
)

// Delta is the one seam between watching and correlating: one object change, stamped with
// the local time it was received. Live watching, --record and --replay all pass Deltas.
// Exactly one of the object fields is set; objects are trimmed and never mutated afterwards.
type Delta struct {
	Time       time.Time
	Type       DeltaType
	Pod        *corev1.Pod
	Slice      *discoveryv1.EndpointSlice
	Event      *corev1.Event
	ReplicaSet *appsv1.ReplicaSet
	Node       *corev1.Node
	PDB        *policyv1.PodDisruptionBudget
	Deployment *appsv1.Deployment
	// FinalStateUnknown marks a DELETED found by a relist: the object vanished while the watch
	// was down, and the object carried is the last state seen, not the final one.
	FinalStateUnknown bool
}

// Kind names the kind of the object the delta carries ("" when it carries none).
func (d Delta) Kind() string {
	switch {
	case d.Pod != nil:
		return KindPod
	case d.Slice != nil:
		return KindEndpointSlice
	case d.Event != nil:
		return KindEvent
	case d.ReplicaSet != nil:
		return KindReplicaSet
	case d.Node != nil:
		return KindNode
	case d.PDB != nil:
		return KindPDB
	case d.Deployment != nil:
		return KindDeployment
	}
	return ""
}

// wireDelta is a Delta as one line of a recording.
type wireDelta struct {
	Time              time.Time       `json:"t"`
	Type              DeltaType       `json:"type"`
	Kind              string          `json:"kind"`
	FinalStateUnknown bool            `json:"finalStateUnknown,omitempty"`
	Object            json.RawMessage `json:"object"`
}

// MarshalJSON writes the delta as {"t","type","kind","object"}.
func (d Delta) MarshalJSON() ([]byte, error) {
	var obj any
	switch d.Kind() {
	case KindPod:
		obj = d.Pod
	case KindEndpointSlice:
		obj = d.Slice
	case KindEvent:
		obj = d.Event
	case KindReplicaSet:
		obj = d.ReplicaSet
	case KindNode:
		obj = d.Node
	case KindPDB:
		obj = d.PDB
	case KindDeployment:
		obj = d.Deployment
	default:
		return nil, fmt.Errorf("delta carries no object")
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wireDelta{Time: d.Time, Type: d.Type, Kind: d.Kind(), FinalStateUnknown: d.FinalStateUnknown, Object: raw})
}

// UnmarshalJSON reads a delta written by MarshalJSON and checks that it is complete.
func (d *Delta) UnmarshalJSON(b []byte) error {
	var w wireDelta
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Time.IsZero() {
		return fmt.Errorf("delta has no time (\"t\")")
	}
	switch w.Type {
	case Added, Modified, Deleted:
	default:
		return fmt.Errorf("unknown delta type %q", w.Type)
	}
	if len(w.Object) == 0 || string(w.Object) == "null" {
		return fmt.Errorf("%s delta has no object", w.Kind)
	}
	*d = Delta{Time: w.Time, Type: w.Type, FinalStateUnknown: w.FinalStateUnknown && w.Type == Deleted}
	var target any
	switch w.Kind {
	case KindPod:
		d.Pod = &corev1.Pod{}
		target = d.Pod
	case KindEndpointSlice:
		d.Slice = &discoveryv1.EndpointSlice{}
		target = d.Slice
	case KindEvent:
		d.Event = &corev1.Event{}
		target = d.Event
	case KindReplicaSet:
		d.ReplicaSet = &appsv1.ReplicaSet{}
		target = d.ReplicaSet
	case KindNode:
		d.Node = &corev1.Node{}
		target = d.Node
	case KindPDB:
		d.PDB = &policyv1.PodDisruptionBudget{}
		target = d.PDB
	case KindDeployment:
		d.Deployment = &appsv1.Deployment{}
		target = d.Deployment
	default:
		return fmt.Errorf("unknown object kind %q", w.Kind)
	}
	if err := json.Unmarshal(w.Object, target); err != nil {
		return fmt.Errorf("%s object: %w", w.Kind, err)
	}
	return nil
}
