package watch

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got (as indented JSON) with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	goldenText(t, name, string(b)+"\n")
}

// goldenText compares got with testdata/name, or rewrites it with -update.
func goldenText(t *testing.T, name, got string) {
	t.Helper()
	b := []byte(got)
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, b)
	}
}

var ts = metav1.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func fullMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: "shop", UID: "uid-x", ResourceVersion: "42", Generation: 3,
		CreationTimestamp: ts, DeletionTimestamp: &ts, DeletionGracePeriodSeconds: ptr.To[int64](30),
		Labels: map[string]string{"app": "web", "pod-template-hash": "abc"},
		Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"huge":"json"}`,
			annotationRevision: "7",
			annotationMirror:   "hash",
		},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-abc", UID: "rs-uid", Controller: ptr.To(true)}},
		Finalizers:      []string{"example.com/keep"},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate}},
	}
}

func fullPod() *corev1.Pod {
	container := corev1.Container{
		Name: "app", Image: "registry.example/web:1.2", Command: []string{"/web"}, Args: []string{"--port=8080"},
		Env:          []corev1.EnvVar{{Name: "SECRET", Value: "dropped"}},
		Resources:    corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}},
		VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
		Lifecycle: &corev1.Lifecycle{
			PreStop:   &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}},
			PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"dropped"}}},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 2, FailureThreshold: 3, TimeoutSeconds: 1,
		},
		LivenessProbe: &corev1.Probe{PeriodSeconds: 10},
	}
	sidecar := corev1.Container{Name: "proxy", Image: "proxy:1", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}
	terminated := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error", StartedAt: ts, FinishedAt: ts}}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: fullMeta("web-abc-1"),
		Spec: corev1.PodSpec{
			NodeName: "node-1", TerminationGracePeriodSeconds: ptr.To[int64](30), ServiceAccountName: "dropped",
			InitContainers: []corev1.Container{sidecar},
			Containers:     []corev1.Container{container},
			Volumes:        []corev1.Volume{{Name: "data"}},
			Tolerations:    []corev1.Toleration{{Key: "dropped"}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodFailed, Reason: "Evicted", Message: "low on memory", PodIP: "10.244.0.7", HostIP: "10.0.0.1",
			PodIPs:     []corev1.PodIP{{IP: "10.244.0.7"}},
			StartTime:  &ts,
			Conditions: []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI", LastTransitionTime: ts}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Ready: false, State: terminated, RestartCount: 2, Image: "dropped", ImageID: "dropped", ContainerID: "containerd://dropped",
				LastTerminationState: terminated,
			}},
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "proxy", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ts}}}},
		},
	}
}

func fullSlice() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		TypeMeta:    metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta:  fullMeta("front-x1"),
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"10.244.0.7"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false), Serving: ptr.To(true), Terminating: ptr.To(true)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-abc-1", UID: "uid-x"},
			NodeName:   ptr.To("node-1"), Zone: ptr.To("dropped"), Hostname: ptr.To("dropped"),
			Hints: &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "dropped"}}},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
}

func TestTrim(t *testing.T) {
	slice := fullSlice()
	event := &corev1.Event{
		ObjectMeta:          fullMeta("web-abc-1.18a2b3c4d5e6f708"),
		InvolvedObject:      corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-abc-1", UID: "uid-x", FieldPath: "spec.containers{app}"},
		Reason:              "Killing",
		Message:             "Stopping container app",
		Source:              corev1.EventSource{Component: "kubelet", Host: "node-1"},
		Type:                corev1.EventTypeNormal,
		Count:               2,
		FirstTimestamp:      ts,
		LastTimestamp:       ts,
		EventTime:           metav1.MicroTime{Time: ts.Time},
		ReportingController: "kubelet",
		ReportingInstance:   "dropped",
		Action:              "dropped",
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: fullMeta("web-abc"),
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3), Template: corev1.PodTemplateSpec{Spec: fullPod().Spec}},
		Status:     appsv1.ReplicaSetStatus{Replicas: 3},
	}
	node := &corev1.Node{
		ObjectMeta: fullMeta("node-1"),
		Spec:       corev1.NodeSpec{Unschedulable: true, PodCIDR: "dropped", Taints: []corev1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: ts, LastTransitionTime: ts},
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: ts},
			},
			Images: []corev1.ContainerImage{{Names: []string{"dropped"}, SizeBytes: 1}},
		},
	}
	deploy := &appsv1.Deployment{
		ObjectMeta: fullMeta("web"),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Template: corev1.PodTemplateSpec{Spec: fullPod().Spec}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 4, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3,
			TerminatingReplicas: ptr.To[int32](1), CollisionCount: ptr.To[int32](9)},
	}

	tests := []struct {
		name string
		in   any
	}{
		{"pod.json", fullPod()},
		{"endpointslice.json", slice},
		{"event.json", event},
		{"replicaset.json", rs},
		{"node.json", node},
		{"deployment.json", deploy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := json.Marshal(tt.in)
			out, err := trim(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "trim-"+tt.name, out)
			// Pods and EndpointSlices are trimmed in place; other kinds are left alone.
			_, isPod := tt.in.(*corev1.Pod)
			_, isSlice := tt.in.(*discoveryv1.EndpointSlice)
			if after, _ := json.Marshal(tt.in); isPod || isSlice {
				if out != tt.in {
					t.Error("not trimmed in place")
				}
			} else if !bytes.Equal(before, after) {
				t.Error("trim changed its input")
			}
			if bytes.Contains(mustJSON(t, out), []byte("dropped")) || bytes.Contains(mustJSON(t, out), []byte("managedFields")) {
				t.Errorf("trimmed object still holds a dropped field:\n%s", mustJSON(t, out))
			}
			again, _ := trim(out)
			if !bytes.Equal(mustJSON(t, again), mustJSON(t, out)) {
				t.Error("trim is not idempotent")
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrimPassesThroughUnknownObjects(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "x", ManagedFields: []metav1.ManagedFieldsEntry{{}}}}
	out, err := trim(svc)
	if err != nil || out != any(svc) {
		t.Errorf("trim(service) = %v, %v; want it unchanged", out, err)
	}
}

func TestTrimShrinksObjects(t *testing.T) {
	in := fullPod()
	before := len(mustJSON(t, in))
	after := len(mustJSON(t, trimPod(in)))
	t.Logf("pod JSON %d -> %d bytes", before, after)
	if after >= before*3/4 {
		t.Errorf("trimmed pod is %d bytes of %d: expected a real reduction", after, before)
	}
}

func TestUnchanged(t *testing.T) {
	a := trimPod(fullPod())
	b := trimPod(fullPod())
	b.ResourceVersion = "43"
	if !unchanged(a, b) {
		t.Error("same pod under a new resourceVersion counted as changed")
	}
	if a.ResourceVersion != "42" || b.ResourceVersion != "43" {
		t.Error("unchanged wrote to its arguments")
	}
	c := trimPod(fullPod())
	c.Status.Phase = corev1.PodSucceeded
	if unchanged(a, c) {
		t.Error("a phase change counted as unchanged")
	}
	// Each field the quick check reads, and one it does not (an exit code: only the full
	// comparison sees it).
	changes := map[string]func(p *corev1.Pod){
		"deletion": func(p *corev1.Pod) { later := metav1.NewTime(ts.Add(time.Second)); p.DeletionTimestamp = &later },
		"condition": func(p *corev1.Pod) {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget})
		},
		"readiness": func(p *corev1.Pod) { p.Status.ContainerStatuses[0].Ready = !p.Status.ContainerStatuses[0].Ready },
		"state": func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}
		},
		"exit code":    func(p *corev1.Pod) { p.Status.ContainerStatuses[0].State.Terminated.ExitCode = 137 },
		"grace period": func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = new(int64(5)) },
	}
	for name, change := range changes {
		d := trimPod(fullPod())
		d.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}
		e := trimPod(fullPod())
		e.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}
		if !unchanged(d, e) {
			t.Fatalf("%s: identical pods counted as changed", name)
		}
		change(e)
		if unchanged(d, e) {
			t.Errorf("a %s change counted as unchanged", name)
		}
	}
	if unchanged(a, trimNode(&corev1.Node{})) {
		t.Error("objects of different types counted as unchanged")
	}
	n1 := trimNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, LastHeartbeatTime: ts}}}})
	later := metav1.NewTime(ts.Add(10e9))
	n2 := trimNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "2"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, LastHeartbeatTime: later}}}})
	if !unchanged(n1, n2) {
		t.Error("a node heartbeat counted as a change")
	}
}

func TestPodStatusChanged(t *testing.T) {
	a := trimPod(fullPod())
	if podStatusChanged(a, trimPod(fullPod())) {
		t.Error("identical pods reported changed")
	}
	later := metav1.NewTime(ts.Add(time.Second))
	for name, change := range map[string]func(p *corev1.Pod){
		"phase":     func(p *corev1.Pod) { p.Status.Phase = corev1.PodUnknown },
		"deletion":  func(p *corev1.Pod) { p.DeletionTimestamp = &later },
		"condition": func(p *corev1.Pod) { p.Status.Conditions = nil },
		"readiness": func(p *corev1.Pod) { p.Status.ContainerStatuses[0].Ready = !p.Status.ContainerStatuses[0].Ready },
		"state":     func(p *corev1.Pod) { p.Status.ContainerStatuses[0].State = corev1.ContainerState{} },
	} {
		b := trimPod(fullPod())
		change(b)
		if !podStatusChanged(a, b) {
			t.Errorf("a %s change not seen by the quick check", name)
		}
	}
}

// A node keeps only who owns spec.unschedulable and spec.taints, a Deployment who owns
// spec.replicas: each reduced to manager, time and the one field.
func TestTrimKeepsFieldManagers(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	entry := func(manager, sub, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, Time: &at,
			Subresource: sub, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	n := trimNode(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", ManagedFields: []metav1.ManagedFieldsEntry{
		entry("kubelet", "", `{"f:metadata":{"f:labels":{}},"f:spec":{"f:podCIDR":{}}}`),
		entry("kubelet", "status", `{"f:status":{"f:conditions":{},"f:unschedulable":{}}}`),
		entry("kubectl", "", `{"f:spec":{"f:unschedulable":{}}}`),
		entry("kubectl-taint", "", `{"f:spec":{"f:taints":{}}}`),
	}}})
	var got []string
	for _, m := range n.ManagedFields {
		got = append(got, m.Manager+" "+string(m.FieldsV1.Raw))
	}
	if want := []string{`kubectl {"f:spec":{"f:unschedulable":{}}}`, `kubectl-taint {"f:spec":{"f:taints":{}}}`}; !slices.Equal(got, want) {
		t.Errorf("node managedFields %q, want %q", got, want)
	}
	d := trimDeployment(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", ManagedFields: []metav1.ManagedFieldsEntry{
		entry("kube-controller-manager", "status", `{"f:status":{"f:replicas":{}}}`),
		entry("keda", "scale", `{"f:spec":{"f:replicas":{}}}`),
	}}})
	if len(d.ManagedFields) != 1 || d.ManagedFields[0].Manager != "keda" || d.ManagedFields[0].Subresource != "scale" {
		t.Errorf("deployment managedFields %+v, want keda's scale entry only", d.ManagedFields)
	}
}

// TestSameAgreesWithReflection changes every field of full objects, one at a time, and checks
// that the comparison without reflection and the reflective one agree on the trimmed objects:
// samePod, sameSlice, sameDeployment and the ReplicaSet's cannot miss a field their trim keeps.
func TestSameAgreesWithReflection(t *testing.T) {
	mfs := []metav1.ManagedFieldsEntry{
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1", Time: &ts, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}},
		{Manager: "hpa", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "scale", Time: &ts, FieldsType: "FieldsV1",
			FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}},
	}
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"},
		ObjectMeta: fullMeta("web-abc"),
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3), MinReadySeconds: 5},
		Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2},
	}
	rs.Annotations[annotationDesiredReplicas] = "3"
	deploy := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
		ObjectMeta: fullMeta("web"),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), MinReadySeconds: 5},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 4, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3,
			TerminatingReplicas: ptr.To[int32](1), CollisionCount: ptr.To[int32](9),
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated",
				Message: "progressing", LastUpdateTime: ts, LastTransitionTime: ts}}},
	}
	deploy.ManagedFields = mfs
	agree(t, "pod", bigPod(), trimPod, samePod, 70)
	agree(t, "EndpointSlice", fullSlice(), trimSlice, sameSlice, 25)
	agree(t, "ReplicaSet", rs, trimReplicaSet, func(a, b *appsv1.ReplicaSet) bool { return unchanged(a, b) }, 20)
	agree(t, "Deployment", deploy, trimDeployment, sameDeployment, 40)
}

func agree[T any, P interface {
	*T
	DeepCopy() P
	SetResourceVersion(string)
}](t *testing.T, kind string, base P, trimFn func(P) P, same func(a, b P) bool, minKept int) {
	t.Helper()
	muts := map[string]func(reflect.Value){}
	mutations(reflect.ValueOf(base).Elem(), func(r reflect.Value) reflect.Value { return r }, kind, muts)
	kept := 0
	for name, mutate := range muts {
		p := base.DeepCopy()
		mutate(reflect.ValueOf(p).Elem())
		a, b := trimFn(base.DeepCopy()), trimFn(p)
		want := sameExceptVersion(a, b)
		if got := same(a, b); got != want {
			t.Errorf("%s changed: the comparison says same=%v, the reflective one %v", name, got, want)
		}
		if !want {
			kept++
		}
	}
	if kept < minKept {
		t.Errorf("only %d of %d changes reach the trimmed %s: the fixture is too thin", kept, len(muts), kind)
	}
}

// mutations adds to out, for every field under v (v is get(root) for the root passed in), a
// function that changes that field of another root.
func mutations(v reflect.Value, get func(reflect.Value) reflect.Value, name string, out map[string]func(reflect.Value)) {
	leaf := func(f func(reflect.Value)) { out[name] = func(r reflect.Value) { f(get(r)) } }
	if v.Type() == reflect.TypeFor[metav1.Time]() {
		leaf(func(x reflect.Value) {
			x.Set(reflect.ValueOf(metav1.NewTime(x.Interface().(metav1.Time).Add(time.Second))))
		})
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				mutations(v.Field(i), func(r reflect.Value) reflect.Value { return get(r).Field(i) }, name+"."+f.Name, out)
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			leaf(func(x reflect.Value) { x.Set(reflect.New(x.Type().Elem())) })
			return
		}
		mutations(v.Elem(), func(r reflect.Value) reflect.Value { return get(r).Elem() }, name, out)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			leaf(func(x reflect.Value) { x.SetBytes(append(x.Bytes(), 'x')) })
			return
		}
		out[name+"+"] = func(r reflect.Value) { x := get(r); x.Set(reflect.Append(x, reflect.Zero(x.Type().Elem()))) }
		for i := range v.Len() {
			mutations(v.Index(i), func(r reflect.Value) reflect.Value { return get(r).Index(i) }, fmt.Sprintf("%s[%d]", name, i), out)
		}
	case reflect.Map:
		leaf(func(x reflect.Value) {
			if x.IsNil() {
				x.Set(reflect.MakeMap(x.Type()))
			}
			x.SetMapIndex(reflect.ValueOf("added").Convert(x.Type().Key()), reflect.Zero(x.Type().Elem()))
		})
		for _, k := range v.MapKeys() {
			out[fmt.Sprintf("%s[%v]", name, k)] = func(r reflect.Value) { get(r).SetMapIndex(k, reflect.Zero(v.Type().Elem())) }
		}
	case reflect.String:
		leaf(func(x reflect.Value) { x.SetString(x.String() + "x") })
	case reflect.Int, reflect.Int32, reflect.Int64:
		leaf(func(x reflect.Value) { x.SetInt(x.Int() + 1) })
	case reflect.Bool:
		leaf(func(x reflect.Value) { x.SetBool(!x.Bool()) })
	}
}

func TestTrimKeepsTheConditionsTheTimelineReads(t *testing.T) {
	gate := corev1.PodConditionType("target-health.elbv2.k8s.aws/web")
	pod := fullPod()
	pod.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: gate}}
	cond := func(typ corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
		return corev1.PodCondition{Type: typ, Status: s, LastTransitionTime: ts}
	}
	pod.Status.Conditions = []corev1.PodCondition{
		cond(corev1.PodScheduled, corev1.ConditionTrue), cond(corev1.PodInitialized, corev1.ConditionTrue),
		cond(corev1.ContainersReady, corev1.ConditionTrue), cond(corev1.PodReady, corev1.ConditionFalse),
		cond(gate, corev1.ConditionFalse), cond(corev1.DisruptionTarget, corev1.ConditionTrue),
	}
	got, _ := trim(pod.DeepCopy())
	var types []corev1.PodConditionType
	for _, c := range got.(*corev1.Pod).Status.Conditions {
		types = append(types, c.Type)
	}
	if want := []corev1.PodConditionType{corev1.PodReady, gate, corev1.DisruptionTarget}; !slices.Equal(types, want) {
		t.Errorf("kept conditions %v, want %v", types, want)
	}

	// A change to a dropped condition alone is no change; one to a kept condition is.
	upd := pod.DeepCopy()
	upd.ResourceVersion = "43"
	upd.Status.Conditions[2].Status = corev1.ConditionFalse // ContainersReady
	old, _ := trim(pod.DeepCopy())
	if n, _ := trim(upd.DeepCopy()); !unchanged(old, n) {
		t.Error("a change of ContainersReady alone was passed on")
	}
	upd.Status.Conditions[4].Status = corev1.ConditionTrue // the readiness gate
	if n, _ := trim(upd.DeepCopy()); unchanged(old, n) {
		t.Error("a change of a readiness gate's condition was dropped")
	}
}

// TestPreStopComparisonCoversEveryField changes every field of a preStop handler with every
// action set, one at a time: samePreStop must agree with the reflective comparison, so a field
// the API adds to a handler fails here until samePreStop compares it.
func TestPreStopComparisonCoversEveryField(t *testing.T) {
	base := &corev1.LifecycleHandler{
		Exec: &corev1.ExecAction{Command: []string{"sleep", "5"}},
		HTTPGet: &corev1.HTTPGetAction{Path: "/drain", Port: intstr.FromInt32(8080), Host: "h", Scheme: corev1.URISchemeHTTP,
			HTTPHeaders: []corev1.HTTPHeader{{Name: "X", Value: "y"}}},
		TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http"), Host: "h"},
		Sleep:     &corev1.SleepAction{Seconds: 5},
	}
	muts := map[string]func(reflect.Value){}
	mutations(reflect.ValueOf(base).Elem(), func(r reflect.Value) reflect.Value { return r }, "preStop", muts)
	if len(muts) < 12 {
		t.Fatalf("only %d mutations of a full preStop handler", len(muts))
	}
	if !samePreStop(base, base.DeepCopy()) {
		t.Fatal("a copy counted as different")
	}
	for name, mutate := range muts {
		h := base.DeepCopy()
		mutate(reflect.ValueOf(h).Elem())
		if got, want := samePreStop(base, h), equality.Semantic.DeepEqual(base, h); got != want {
			t.Errorf("%s changed: samePreStop says same=%v, the reflective comparison %v", name, got, want)
		}
	}
	if samePreStop(base, nil) || !samePreStop(nil, nil) {
		t.Error("nil handlers compared wrongly")
	}
}
