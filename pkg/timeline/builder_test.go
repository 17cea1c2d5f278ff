package timeline

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// scen builds the deltas of one pod's life the way the API server shows them
// (termination-facts): tests describe a termination in seconds after t0.
type scen struct {
	t0     time.Time
	pod    *corev1.Pod
	slice  *discoveryv1.EndpointSlice
	deltas []Delta
	evN    int
}

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// newScen starts with a running, ready pod behind Service "web" (unless noService).
func newScen(name string, grace int64, ctr corev1.Container, noService bool) *scen {
	s := &scen{t0: t0}
	ctrl := true
	s.pod = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "shop", UID: types.UID("uid-" + name),
			Labels:          map[string]string{"app": "web", "pod-template-hash": "5d4f"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-5d4f", Controller: &ctrl}},
		},
		Spec: corev1.PodSpec{NodeName: "node-1", TerminationGracePeriodSeconds: ptr.To(grace), Containers: []corev1.Container{ctr}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	for _, c := range s.pod.Spec.Containers {
		s.pod.Status.ContainerStatuses = append(s.pod.Status.ContainerStatuses, running(c.Name))
	}
	s.deltas = append(s.deltas, Delta{Time: at(0), Type: Added, Pod: s.pod.DeepCopy()})
	if !noService {
		s.slice = &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "web-abcde", Namespace: "shop", UID: "slice-1",
				Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.244.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
					TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "other", UID: "uid-other"}},
				{Addresses: []string{"10.244.0.10"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
					TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: name, UID: s.pod.UID}},
			},
		}
		s.deltas = append(s.deltas, Delta{Time: at(0.01), Type: Added, Slice: s.slice.DeepCopy()})
	}
	return s
}

func running(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0.Add(-time.Hour))}}}
}

func app(cmd ...string) corev1.Container {
	return corev1.Container{Name: "app", Image: "app", Command: cmd}
}

func withSleep(c corev1.Container, sec int64) corev1.Container {
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: sec}}}
	return c
}

func withExec(c corev1.Container, cmd ...string) corev1.Container {
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: cmd}}}
	return c
}

func (s *scen) podDelta(sec float64, typ DeltaType, mutate func(p *corev1.Pod)) *scen {
	if mutate != nil {
		mutate(s.pod)
	}
	s.deltas = append(s.deltas, Delta{Time: at(sec), Type: typ, Pod: s.pod.DeepCopy()})
	return s
}

// deleteAt is the API DELETE: deletionTimestamp = request (whole seconds) + grace.
func (s *scen) deleteAt(sec float64) *scen {
	grace := *s.pod.Spec.TerminationGracePeriodSeconds
	return s.podDelta(sec, Modified, func(p *corev1.Pod) {
		dl := metav1.NewTime(at(sec).Truncate(time.Second).Add(time.Duration(grace) * time.Second))
		p.DeletionTimestamp = &dl
		p.DeletionGracePeriodSeconds = ptr.To(grace)
	})
}

// deleteWithGrace is a DELETE with DeleteOptions.gracePeriodSeconds (kubectl delete --grace-period).
func (s *scen) deleteWithGrace(sec float64, grace int64) *scen {
	return s.podDelta(sec, Modified, func(p *corev1.Pod) {
		dl := metav1.NewTime(at(sec).Truncate(time.Second).Add(time.Duration(grace) * time.Second))
		p.DeletionTimestamp = &dl
		p.DeletionGracePeriodSeconds = ptr.To(grace)
	})
}

// endpoint sets the pod's endpoint conditions (ready, serving, terminating) or removes it.
func (s *scen) endpoint(sec float64, ready, serving, terminating, remove bool) *scen {
	eps := s.slice.Endpoints[:1]
	if !remove {
		ep := s.slice.Endpoints[len(s.slice.Endpoints)-1]
		if ep.TargetRef.UID != s.pod.UID {
			ep = discoveryv1.Endpoint{TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: s.pod.Name, UID: s.pod.UID}}
		}
		ep.Conditions = discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating)}
		eps = append(eps, ep)
	}
	s.slice.Endpoints = eps
	s.deltas = append(s.deltas, Delta{Time: at(sec), Type: Modified, Slice: s.slice.DeepCopy()})
	return s
}

func (s *scen) notReady(sec float64) *scen { return s.endpoint(sec, false, true, true, false) }
func (s *scen) removeEP(sec float64) *scen { return s.endpoint(sec, false, false, true, true) }

// event emits a kubelet event about a container, named like client-go names events.
func (s *scen) event(sec float64, reason, container, msg string) *scen {
	s.evN++
	t := at(sec)
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", s.pod.Name, t.UnixNano()), Namespace: "shop", UID: types.UID(fmt.Sprintf("ev-%s-%d", s.pod.Name, s.evN))},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: s.pod.Name, UID: s.pod.UID,
			FieldPath: "spec.containers{" + container + "}"},
		Reason: reason, Message: msg, Type: corev1.EventTypeNormal, Count: 1,
		FirstTimestamp: metav1.NewTime(t.Truncate(time.Second)), LastTimestamp: metav1.NewTime(t.Truncate(time.Second)),
		Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}
	s.deltas = append(s.deltas, Delta{Time: t.Add(20 * time.Millisecond), Type: Added, Event: ev})
	return s
}

func (s *scen) killing(sec float64) *scen {
	return s.event(sec, "Killing", "app", "Stopping container app")
}

// exit publishes all containers' terminated states in one status patch with the terminal phase.
func (s *scen) exit(sec float64, codes map[string]int32, reasons map[string]string, finished map[string]float64) *scen {
	return s.podDelta(sec, Modified, func(p *corev1.Pod) {
		allZero := true
		set := func(list []corev1.ContainerStatus) {
			for i := range list {
				c := &list[i]
				code := codes[c.Name]
				if code != 0 {
					allZero = false
				}
				reason := reasons[c.Name]
				if reason == "" {
					reason = "Completed"
					if code != 0 {
						reason = "Error"
					}
				}
				fin := sec
				if f, ok := finished[c.Name]; ok {
					fin = f
				}
				c.Ready = false
				c.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason,
					StartedAt: metav1.NewTime(t0.Add(-time.Hour)), FinishedAt: metav1.NewTime(at(fin).Truncate(time.Second))}}
			}
		}
		set(p.Status.InitContainerStatuses)
		set(p.Status.ContainerStatuses)
		p.Status.Phase = corev1.PodSucceeded
		if !allZero {
			p.Status.Phase = corev1.PodFailed
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	})
}

func (s *scen) exitAll(sec float64, code int32) *scen {
	codes := map[string]int32{}
	for _, c := range s.pod.Spec.Containers {
		codes[c.Name] = code
	}
	return s.exit(sec, codes, nil, nil)
}

// removed is kubelet's final delete (grace 0) and the DELETED that follows.
func (s *scen) removed(sec float64) *scen {
	s.podDelta(sec, Modified, func(p *corev1.Pod) {
		p.DeletionGracePeriodSeconds = ptr.To(int64(0))
	})
	return s.podDelta(sec+0.01, Deleted, nil)
}

func run(cfg Config, deltas []Delta) ([]PodTimeline, Summary) {
	e := New(cfg)
	var out []PodTimeline
	for _, d := range deltas {
		out = append(out, e.Apply(d)...)
	}
	open, sum := e.Finish(deltas[len(deltas)-1].Time)
	return append(out, open...), sum
}
