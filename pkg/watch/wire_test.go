package watch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	goruntime "runtime"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

var pb = protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)

func encodeProto(t testing.TB, obj runtime.Object) []byte {
	t.Helper()
	b, err := runtime.Encode(pb, obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeProto(t testing.TB, b []byte) runtime.Object {
	t.Helper()
	obj, _, err := pb.Decode(b, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// sameTrimmed checks that trim gives the same object from the trimmed bytes as from the
// original.
func sameTrimmed(t *testing.T, want runtime.Object, got []byte) {
	t.Helper()
	w, _ := trim(want.DeepCopyObject())
	g, _ := trim(decodeProto(t, got))
	if a, b := mustJSON(t, w), mustJSON(t, g); !bytes.Equal(a, b) {
		t.Errorf("trimmed on the wire:\n%s\nwant:\n%s", b, a)
	}
}

// bigPod is a pod as the API server sends it for a Deployment: managed fields of three
// managers, the service account token volume, default tolerations, image and container IDs.
func bigPod() *corev1.Pod {
	p := fullPod()
	for _, m := range []string{"kube-controller-manager", "kube-scheduler", "kwok"} {
		p.ManagedFields = append(p.ManagedFields, metav1.ManagedFieldsEntry{Manager: m, Operation: metav1.ManagedFieldsOperationUpdate,
			APIVersion: "v1", Time: &ts, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: bytes.Repeat([]byte(`{"f:x":{}},`), 80)}})
	}
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		}, DefaultMode: ptr.To[int32](420)}}})
	p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "kube-api-access-x7k2p", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
	p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
	p.Spec.Containers[0].TerminationMessagePath, p.Spec.Containers[0].ImagePullPolicy = "/dev/termination-log", corev1.PullIfNotPresent
	p.Spec.Tolerations = append(p.Spec.Tolerations,
		corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		corev1.Toleration{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)})
	p.Spec.DNSPolicy, p.Spec.SchedulerName, p.Spec.EnableServiceLinks = corev1.DNSClusterFirst, "default-scheduler", ptr.To(true)
	p.Spec.SecurityContext = &corev1.PodSecurityContext{}
	p.Status.HostIPs, p.Status.QOSClass = []corev1.HostIP{{IP: "10.0.0.1"}}, corev1.PodQOSBestEffort
	p.Status.ContainerStatuses[0].ContainerID = "containerd://0123456789abcdef0123456789abcdef"
	p.Status.ContainerStatuses[0].ImageID = "registry.example/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	return p
}

func TestFilterObject(t *testing.T) {
	pod, slice := bigPod(), fullSlice()
	list := &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
		ListMeta: metav1.ListMeta{ResourceVersion: "77"}, Items: []corev1.Pod{*pod, *fullPod()}}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}
	rs := &appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"}, ObjectMeta: fullMeta("web-abc"),
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3), Template: tmpl, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2}}
	dep := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"}, ObjectMeta: fullMeta("web"),
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Template: tmpl},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 4, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 3,
			TerminatingReplicas: ptr.To[int32](1), Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, LastUpdateTime: ts}}}}
	for _, obj := range []runtime.Object{pod, fullPod(), slice, rs, dep} {
		b := encodeProto(t, obj)
		got, ok := filterObject(nil, b)
		if !ok {
			t.Fatalf("%T not trimmed", obj)
		}
		if len(got) >= len(b) {
			t.Errorf("%T: %d bytes trimmed to %d", obj, len(b), len(got))
		}
		sameTrimmed(t, obj, got)
	}
	trimmed, _ := filterObject(nil, encodeProto(t, list))
	got := decodeProto(t, trimmed).(*corev1.PodList)
	if got.ResourceVersion != "77" || len(got.Items) != 2 {
		t.Fatalf("list: resourceVersion %q, %d items", got.ResourceVersion, len(got.Items))
	}
	for i := range got.Items {
		w, _ := trim(list.Items[i].DeepCopy())
		g, _ := trim(&got.Items[i])
		if a, b := mustJSON(t, w), mustJSON(t, g); !bytes.Equal(a, b) {
			t.Errorf("list item %d:\n%s\nwant:\n%s", i, b, a)
		}
	}
	// Kinds it does not trim, and what is not an object in the envelope, pass as they came.
	ev := &corev1.Event{TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "v1"}, ObjectMeta: fullMeta("e")}
	for _, b := range [][]byte{encodeProto(t, ev), []byte(`{"kind":"Pod"}`), []byte("k8s\x00\xff\xff"), nil} {
		if got, ok := filterObject(nil, b); ok {
			t.Errorf("%q trimmed to %q", b, got)
		}
	}
}

// watchFrame is one frame of a protobuf watch stream, as the API server writes it.
func watchFrame(t testing.TB, typ string, obj runtime.Object) []byte {
	t.Helper()
	ev := metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: encodeProto(t, obj)}}
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// readFrames splits a watch stream into its events.
func readFrames(t *testing.T, r io.Reader) []metav1.WatchEvent {
	t.Helper()
	var out []metav1.WatchEvent
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		var ev metav1.WatchEvent
		if err := ev.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
}

func TestTrimWire(t *testing.T) {
	pod, slice := bigPod(), fullSlice()
	// The bookmark that ends a streamed initial list is recognised by its annotation.
	bookmark := &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{ResourceVersion: "90", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}
	status := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired}
	var stream []byte
	for _, f := range [][]byte{watchFrame(t, "ADDED", pod), watchFrame(t, "MODIFIED", slice), watchFrame(t, "BOOKMARK", bookmark), watchFrame(t, "ERROR", status)} {
		stream = append(stream, f...)
	}
	respond := func(contentType string, body []byte) *http.Response {
		rt := trimWire(roundTripperFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {contentType}},
				Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}, nil
		}))
		req, _ := http.NewRequest(http.MethodGet, "https://example.invalid/api/v1/pods", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	resp := respond("application/vnd.kubernetes.protobuf;stream=watch", stream)
	// One byte at a time: the decoder may read a frame in pieces.
	evs := readFrames(t, io.LimitReader(oneByte{resp.Body}, int64(len(stream))))
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	for i, want := range []runtime.Object{pod, slice, bookmark, status} {
		if evs[i].Type != []string{"ADDED", "MODIFIED", "BOOKMARK", "ERROR"}[i] {
			t.Errorf("event %d: type %s", i, evs[i].Type)
		}
		sameTrimmed(t, want, evs[i].Object.Raw)
	}
	if bm := decodeProto(t, evs[2].Object.Raw).(*corev1.Pod); bm.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Errorf("bookmark lost its annotation: %v", bm.Annotations)
	}
	if resp.ContentLength != -1 {
		t.Errorf("content length %d after trimming", resp.ContentLength)
	}

	list := &discoveryv1.EndpointSliceList{TypeMeta: metav1.TypeMeta{Kind: "EndpointSliceList", APIVersion: "discovery.k8s.io/v1"},
		Items: []discoveryv1.EndpointSlice{*slice}}
	body, _ := io.ReadAll(respond("application/vnd.kubernetes.protobuf", encodeProto(t, list)).Body)
	got := decodeProto(t, body).(*discoveryv1.EndpointSliceList)
	if len(got.Items) != 1 || got.Items[0].Endpoints[0].Zone != nil || got.Items[0].Endpoints[0].TargetRef.UID != "uid-x" || got.Items[0].Endpoints[0].TargetRef.Name != "" {
		t.Errorf("list trimmed to %+v", got.Items)
	}

	js := []byte(`{"kind":"PodList"}`)
	if body, _ := io.ReadAll(respond("application/json", js).Body); !bytes.Equal(body, js) {
		t.Errorf("JSON changed to %s", body)
	}
}

// oneByte reads at most one byte per call.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }

// BenchmarkDecodeWatchEvent decodes a pod update and an update of an EndpointSlice of 100
// endpoints as client-go does, as sent and trimmed on the wire, each then trimmed.
func BenchmarkDecodeWatchEvent(b *testing.B) {
	for _, obj := range []runtime.Object{bigPod(), slice100()} {
		frame := watchFrame(b, "MODIFIED", obj)[4:]
		var buf []byte
		kind := fmt.Sprintf("%T", obj)[4:]
		for _, wire := range []bool{false, true} {
			name := kind + " as sent"
			if wire {
				name = kind + " trimmed on the wire"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					f := frame
					if wire {
						buf, _ = filterEvent(buf[:0], frame)
						f = buf
					}
					var ev metav1.WatchEvent
					if err := ev.Unmarshal(f); err != nil {
						b.Fatal(err)
					}
					obj := decodeProto(b, ev.Object.Raw)
					if _, err := trim(obj); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(kind+" the trimming alone", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = filterEvent(buf[:0], frame)
			}
		})
	}
}

// slice100 is an EndpointSlice of 100 endpoints, as the EndpointSlice controller fills them.
func slice100() *discoveryv1.EndpointSlice {
	slice := fullSlice()
	for i := range 99 {
		e := *slice.Endpoints[0].DeepCopy()
		e.Addresses = []string{fmt.Sprintf("10.244.1.%d", i)}
		e.TargetRef.Name = fmt.Sprintf("web-abc-%d", i)
		slice.Endpoints = append(slice.Endpoints, e)
	}
	return slice
}

// BenchmarkUnchanged compares a cached object with an update that changes nothing the timeline
// reads (a relist, or only dropped fields changed): the full comparison, against the reflective
// one it replaces.
func BenchmarkUnchanged(b *testing.B) {
	slice := slice100()
	deploy := &appsv1.Deployment{ObjectMeta: fullMeta("web"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
		Status: appsv1.DeploymentStatus{Replicas: 3, Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable}, {Type: appsv1.DeploymentProgressing}}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: fullMeta("web-abc"), Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3)}}
	for _, c := range []struct {
		name string
		obj  runtime.Object
	}{{"Pod", bigPod()}, {"EndpointSlice of 100", slice}, {"Deployment", deploy}, {"ReplicaSet", rs}} {
		old, _ := trim(c.obj.DeepCopyObject())
		upd, _ := trim(c.obj.DeepCopyObject())
		upd.(metav1.Object).SetResourceVersion("43")
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !unchanged(old, upd) {
					b.Fatal("counted as changed")
				}
			}
		})
		b.Run(c.name+" reflective", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !reflective(old, upd) {
					b.Fatal("counted as changed")
				}
			}
		})
	}
}

// reflective is the comparison unchanged used before it compared fields one by one.
func reflective(old, upd any) bool {
	switch o := old.(type) {
	case *corev1.Pod:
		return sameExceptVersion(o, upd)
	case *discoveryv1.EndpointSlice:
		return sameExceptVersion(o, upd)
	case *appsv1.Deployment:
		return sameExceptVersion(o, upd)
	case *appsv1.ReplicaSet:
		return sameExceptVersion(o, upd)
	}
	return false
}

// BenchmarkRetainedPerEvent is what one cached Event costs: a kubelet's Killing Event decoded
// and trimmed as the Events informer does, kept in an indexer by namespace as an informer keeps
// it. serve holds every Event with a reason the timeline reads that the API server still has
// (an hour of them).
func BenchmarkRetainedPerEvent(b *testing.B) {
	const n = 5000
	frames := make([][]byte, n)
	for i := range frames {
		name := fmt.Sprintf("web-7c8dd656c9-%05d", i)
		t := metav1.NewTime(time.Date(2026, 12, 1, 22, 32, 26, 0, time.UTC).Add(time.Duration(i) * time.Second))
		frames[i] = watchFrame(b, "ADDED", &corev1.Event{TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", name, 0x187d3a4b5c6d0000+i), Namespace: "shop",
				UID: types.UID(fmt.Sprintf("0c9b6f2e-5d1a-4f3e-9a7b-%012d", i)), ResourceVersion: fmt.Sprint(100000 + i), CreationTimestamp: t},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: name, UID: types.UID(fmt.Sprintf("7f3e2a1b-0c9d-4e8f-b7a6-%012d", i)),
				APIVersion: "v1", ResourceVersion: fmt.Sprint(90000 + i), FieldPath: "spec.containers{app}"},
			Reason: "Killing", Message: "Stopping container app", Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
			FirstTimestamp: t, LastTimestamp: t, Count: 1, Type: corev1.EventTypeNormal,
			ReportingController: "kubelet", ReportingInstance: "node-1",
		})[4:]
	}
	b.ReportMetric(retained(b, frames), "B-retained/event")
}

// BenchmarkRetainedPerPod is what one cached pod costs: a running pod of a Deployment (one
// container with a preStop hook and a readiness probe) decoded and trimmed as the pod informer
// does, kept in an indexer by namespace. During a rollout the informer holds the old, the
// terminating and the new pods at once.
func BenchmarkRetainedPerPod(b *testing.B) {
	b.ReportMetric(retained(b, podFrames(b, 5000)), "B-retained/pod")
}

// podFrames are watch events that add n running pods of a Deployment.
func podFrames(tb testing.TB, n int) [][]byte {
	frames := make([][]byte, n)
	for i := range frames {
		p := bigPod()
		p.Name = fmt.Sprintf("web-7c8dd656c9-%05d", i)
		p.UID = types.UID(fmt.Sprintf("7f3e2a1b-0c9d-4e8f-b7a6-%012d", i))
		p.ResourceVersion = fmt.Sprint(100000 + i)
		p.DeletionTimestamp, p.DeletionGracePeriodSeconds, p.Finalizers = nil, nil, nil
		delete(p.Annotations, annotationMirror) // a static pod's
		p.Spec.InitContainers, p.Status.InitContainerStatuses = nil, nil
		ip := fmt.Sprintf("10.244.%d.%d", i/250, i%250)
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			HostIP: "10.0.0.1", HostIPs: p.Status.HostIPs, StartTime: &ts, QOSClass: corev1.PodQOSBestEffort,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, Started: ptr.To(true), Image: "registry.example/web:1.2",
				ImageID: p.Status.ContainerStatuses[0].ImageID, ContainerID: p.Status.ContainerStatuses[0].ContainerID,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ts}}}}}
		for _, c := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: ts})
		}
		frames[i] = watchFrame(tb, "ADDED", p)[4:]
	}
	return frames
}

// retained decodes the watch event frames as the informers do (trimmed on the wire, decoded,
// trimmed), keeps the objects in an indexer by namespace and returns the heap they hold, per
// object.
func retained(b *testing.B, frames [][]byte) float64 {
	var per float64
	for b.Loop() {
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		store := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		var buf []byte
		for _, frame := range frames {
			f := frame
			if out, ok := filterEvent(buf[:0], frame); ok {
				buf, f = out, out
			}
			var ev metav1.WatchEvent
			if err := ev.Unmarshal(f); err != nil {
				b.Fatal(err)
			}
			obj, err := trim(decodeProto(b, ev.Object.Raw))
			if err != nil {
				b.Fatal(err)
			}
			if err := store.Add(obj); err != nil {
				b.Fatal(err)
			}
		}
		goruntime.GC()
		goruntime.ReadMemStats(&after)
		per = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(frames))
		goruntime.KeepAlive(store)
	}
	return per
}
