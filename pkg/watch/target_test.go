package watch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes/scheme"
)

func sel(s string) *metav1.LabelSelector {
	ls, err := metav1.ParseToLabelSelector(s)
	if err != nil {
		panic(err)
	}
	return ls
}

func TestTargetFor(t *testing.T) {
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID("uid-" + name)}
	}
	tests := []struct {
		name     string
		obj      runtime.Object
		selector string
		want     Target
		wantErr  string
	}{
		{
			name: "deployment with match expressions",
			obj:  &appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Selector: sel("app=web,track in (stable,canary)")}},
			want: Target{Kind: KindDeployment, Name: "web", Namespace: "shop", UID: "uid-web", Display: "deploy/web",
				Pods:        Scope{Namespace: "shop", LabelSelector: "app=web,track in (canary,stable)"},
				Events:      Scope{Namespace: "shop", FieldSelector: "involvedObject.kind=Pod"},
				Slices:      Scope{Namespace: "shop"},
				ReplicaSets: &Scope{Namespace: "shop", LabelSelector: "app=web,track in (canary,stable)"}},
		},
		{
			name: "replicaset narrowed by -l", selector: "tier=front",
			obj: &appsv1.ReplicaSet{ObjectMeta: meta("web-abc"), Spec: appsv1.ReplicaSetSpec{Selector: sel("app=web,pod-template-hash=abc")}},
			want: Target{Kind: KindReplicaSet, Name: "web-abc", Namespace: "shop", UID: "uid-web-abc", Display: "rs/web-abc -l tier=front",
				Pods:        Scope{Namespace: "shop", LabelSelector: "app=web,pod-template-hash=abc,tier=front"},
				Events:      Scope{Namespace: "shop", FieldSelector: "involvedObject.kind=Pod"},
				Slices:      Scope{Namespace: "shop"},
				ReplicaSets: &Scope{Namespace: "shop", FieldSelector: "metadata.name=web-abc"}},
		},
		{
			name: "statefulset",
			obj:  &appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Selector: sel("app=db")}},
			want: Target{Kind: KindStatefulSet, Name: "db", Namespace: "shop", UID: "uid-db", Display: "sts/db",
				Pods: Scope{Namespace: "shop", LabelSelector: "app=db"}, Events: Scope{Namespace: "shop", FieldSelector: "involvedObject.kind=Pod"}, Slices: Scope{Namespace: "shop"}},
		},
		{
			name: "daemonset",
			obj:  &appsv1.DaemonSet{ObjectMeta: meta("proxy"), Spec: appsv1.DaemonSetSpec{Selector: sel("app=proxy")}},
			want: Target{Kind: KindDaemonSet, Name: "proxy", Namespace: "shop", UID: "uid-proxy", Display: "ds/proxy",
				Pods: Scope{Namespace: "shop", LabelSelector: "app=proxy"}, Events: Scope{Namespace: "shop", FieldSelector: "involvedObject.kind=Pod"}, Slices: Scope{Namespace: "shop"}},
		},
		{
			name: "job",
			obj:  &batchv1.Job{ObjectMeta: meta("backup"), Spec: batchv1.JobSpec{Selector: sel("batch.kubernetes.io/controller-uid=123")}},
			want: Target{Kind: KindJob, Name: "backup", Namespace: "shop", UID: "uid-backup", Display: "job/backup",
				Pods: Scope{Namespace: "shop", LabelSelector: "batch.kubernetes.io/controller-uid=123"}, Events: Scope{Namespace: "shop", FieldSelector: "involvedObject.kind=Pod"}, Slices: Scope{Namespace: "shop"}},
		},
		{
			name: "service",
			obj:  &corev1.Service{ObjectMeta: meta("front"), Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
			want: Target{Kind: KindService, Name: "front", Namespace: "shop", UID: "uid-front", Display: "svc/front",
				Pods:        Scope{Namespace: "shop", LabelSelector: "app=web"},
				Events:      Scope{Namespace: "shop", FieldSelector: "involvedObject.kind=Pod"},
				Slices:      Scope{Namespace: "shop", LabelSelector: "kubernetes.io/service-name=front"},
				ReplicaSets: &Scope{Namespace: "shop"}},
		},
		{
			name: "node", selector: "app=web",
			obj: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "uid-node-1"}},
			want: Target{Kind: KindNode, Name: "node-1", UID: "uid-node-1", Node: "node-1", Display: "node/node-1 -l app=web",
				Pods:   Scope{LabelSelector: "app=web", FieldSelector: "spec.nodeName=node-1"},
				Events: Scope{FieldSelector: "involvedObject.kind=Pod"}},
		},
		{
			name: "pod",
			obj:  &corev1.Pod{ObjectMeta: meta("web-1")},
			want: Target{Kind: KindPod, Name: "web-1", Namespace: "shop", UID: "uid-web-1", Display: "pod/web-1",
				Pods:   Scope{Namespace: "shop", FieldSelector: "metadata.name=web-1"},
				Events: Scope{Namespace: "shop", FieldSelector: "involvedObject.kind=Pod,involvedObject.name=web-1"},
				Slices: Scope{Namespace: "shop"}},
		},
		{
			name:    "service without selector",
			obj:     &corev1.Service{ObjectMeta: meta("external")},
			wantErr: "svc/external has no selector, so no pods belong to it; name the workload behind it instead",
		},
		{
			name:    "deployment with an empty selector",
			obj:     &appsv1.Deployment{ObjectMeta: meta("odd"), Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{}}},
			wantErr: "deploy/odd has an empty selector; name its pods with -l instead",
		},
		{
			name:    "unsupported kind",
			obj:     &corev1.ConfigMap{ObjectMeta: meta("cfg")},
			wantErr: "cannot follow a *v1.ConfigMap: drainwatch follows deploy, rs, sts, ds, job, svc, node or pod targets",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			got, err := targetFor(tt.obj, s)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, &tt.want); string(g) != string(w) {
				t.Errorf("target\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestNamespaceTarget(t *testing.T) {
	s, _ := labels.Parse("app=web")
	got := namespaceTarget("shop", false, s)
	if got.Display != "namespace/shop -l app=web" || got.Pods != (Scope{Namespace: "shop", LabelSelector: "app=web"}) || got.ReplicaSets == nil {
		t.Errorf("namespace target %+v", got)
	}
	all := namespaceTarget("shop", true, labels.Everything())
	if all.Display != "all namespaces" || all.Pods.Namespace != "" || all.Events.Namespace != "" || all.CanFinish() {
		t.Errorf("all-namespaces target %+v", all)
	}
}

func TestResolveNamedWaits(t *testing.T) {
	n := namedObject{kind: KindDeployment, name: "late", namespace: "shop"}
	notFound := apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "deployments"}, "late")
	calls := 0
	fetch := func() (runtime.Object, error) {
		calls++
		if calls < 3 {
			return nil, notFound
		}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "late"}, Spec: appsv1.DeploymentSpec{Selector: sel("app=late")}}, nil
	}
	var progress []string
	got, err := resolveNamed(context.Background(), n, fetch, labels.Everything(), ResolveOptions{
		WaitForTarget: true, PollInterval: time.Millisecond, Progress: func(s string) { progress = append(progress, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Display != "deploy/late" || calls != 3 {
		t.Errorf("display %q after %d fetches", got.Display, calls)
	}
	if len(progress) != 2 || !strings.HasPrefix(progress[0], "waiting for deploy/late to appear in namespace shop (") {
		t.Errorf("progress %q", progress)
	}

	// Without waiting: an error naming the target.
	_, err = resolveNamed(context.Background(), n, func() (runtime.Object, error) { return nil, notFound }, labels.Everything(), ResolveOptions{})
	if want := "deploy/late not found in namespace shop (--wait-for-target waits for it to appear)"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}

	// Waiting ends with the context.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = resolveNamed(ctx, n, func() (runtime.Object, error) { return nil, notFound }, labels.Everything(), ResolveOptions{WaitForTarget: true, PollInterval: time.Millisecond})
	if want := "gave up waiting for deploy/late in namespace shop"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// apiServer is just enough of an API server for resource.Builder: discovery and GETs.
type apiServer struct {
	mu      sync.Mutex
	objects map[string]runtime.Object // path -> object
	gets    atomic.Int64
}

func resources(list ...metav1.APIResource) []metav1.APIResource { return list }

func res(name, kind string, namespaced bool, short ...string) metav1.APIResource {
	return metav1.APIResource{Name: name, Kind: kind, Namespaced: namespaced, ShortNames: short,
		Verbs: metav1.Verbs{"get", "list", "watch"}, SingularName: strings.ToLower(kind)}
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	group := func(name string) metav1.APIGroup {
		gv := metav1.GroupVersionForDiscovery{GroupVersion: name + "/v1", Version: "v1"}
		return metav1.APIGroup{Name: name, Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv}
	}
	discovery := map[string]any{
		"/api": &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: "127.0.0.1"}}},
		"/apis": &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups: []metav1.APIGroup{group("apps"), group("batch"), group("discovery.k8s.io")}},
		"/api/v1": &metav1.APIResourceList{GroupVersion: "v1", APIResources: resources(
			res("pods", "Pod", true, "po"), res("services", "Service", true, "svc"), res("nodes", "Node", false, "no"),
			res("events", "Event", true, "ev"), res("configmaps", "ConfigMap", true, "cm"), res("namespaces", "Namespace", false, "ns"))},
		"/apis/apps/v1": &metav1.APIResourceList{GroupVersion: "apps/v1", APIResources: resources(
			res("deployments", "Deployment", true, "deploy"), res("replicasets", "ReplicaSet", true, "rs"),
			res("statefulsets", "StatefulSet", true, "sts"), res("daemonsets", "DaemonSet", true, "ds"))},
		"/apis/batch/v1":            &metav1.APIResourceList{GroupVersion: "batch/v1", APIResources: resources(res("jobs", "Job", true))},
		"/apis/discovery.k8s.io/v1": &metav1.APIResourceList{GroupVersion: "discovery.k8s.io/v1", APIResources: resources(res("endpointslices", "EndpointSlice", true))},
	}
	w.Header().Set("Content-Type", "application/json")
	if d, ok := discovery[r.URL.Path]; ok {
		_ = json.NewEncoder(w).Encode(d)
		return
	}
	s.gets.Add(1)
	s.mu.Lock()
	obj, ok := s.objects[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		parts := strings.Split(r.URL.Path, "/")
		st := apierrors.NewNotFound(schema.GroupResource{Resource: parts[len(parts)-2]}, parts[len(parts)-1]).ErrStatus
		st.Kind, st.APIVersion = "Status", "v1"
		_ = json.NewEncoder(w).Encode(st)
		return
	}
	gvks, _, _ := scheme.Scheme.ObjectKinds(obj)
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	_ = json.NewEncoder(w).Encode(obj)
}

func (s *apiServer) add(path string, obj runtime.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[path] = obj
}

// testGetter returns ConfigFlags for a kubeconfig pointing at srv, with a private cache.
func testGetter(t *testing.T, url string) genericclioptions.RESTClientGetter {
	t.Helper()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "` + url + `"}
contexts:
- name: test
  context: {cluster: test, user: test, namespace: shop}
current-context: test
users:
- name: test
  user: {token: secret}
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(true)
	cache := filepath.Join(dir, "cache")
	flags.KubeConfig, flags.CacheDir = &kubeconfig, &cache
	return flags
}

func TestResolve(t *testing.T) {
	api := &apiServer{objects: map[string]runtime.Object{
		"/api/v1/namespaces/shop": &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		"/apis/apps/v1/namespaces/shop/deployments/web": &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", UID: "d-uid"},
			Spec:       appsv1.DeploymentSpec{Selector: sel("app=web")}},
		"/apis/apps/v1/namespaces/shop/statefulsets/db": &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"}, Spec: appsv1.StatefulSetSpec{Selector: sel("app=db")}},
		"/apis/batch/v1/namespaces/shop/jobs/backup": &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "backup"}, Spec: batchv1.JobSpec{Selector: sel("job=backup")}},
		"/api/v1/namespaces/shop/services/front": &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "front"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
		"/api/v1/nodes/node-1":                        &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}},
		"/api/v1/namespaces/shop/pods/web-1":          &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1"}},
		"/api/v1/namespaces/shop/configmaps/settings": &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "settings"}},
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	getter := testGetter(t, srv.URL)

	tests := []struct {
		name        string
		args        []string
		all         bool
		selector    string
		wantDisplay string
		wantPods    Scope
		wantErr     string
	}{
		{name: "TYPE/NAME short name", args: []string{"deploy/web"}, wantDisplay: "deploy/web", wantPods: Scope{Namespace: "shop", LabelSelector: "app=web"}},
		{name: "TYPE NAME", args: []string{"deployment", "web"}, wantDisplay: "deploy/web", wantPods: Scope{Namespace: "shop", LabelSelector: "app=web"}},
		{name: "resource.group", args: []string{"deployments.apps/web"}, wantDisplay: "deploy/web", wantPods: Scope{Namespace: "shop", LabelSelector: "app=web"}},
		{name: "narrowed by -l", args: []string{"deploy/web"}, selector: "tier!=cache", wantDisplay: "deploy/web -l tier!=cache", wantPods: Scope{Namespace: "shop", LabelSelector: "app=web,tier!=cache"}},
		{name: "statefulset", args: []string{"sts/db"}, wantDisplay: "sts/db", wantPods: Scope{Namespace: "shop", LabelSelector: "app=db"}},
		{name: "job", args: []string{"job", "backup"}, wantDisplay: "job/backup", wantPods: Scope{Namespace: "shop", LabelSelector: "job=backup"}},
		{name: "service", args: []string{"svc/front"}, wantDisplay: "svc/front", wantPods: Scope{Namespace: "shop", LabelSelector: "app=web"}},
		{name: "node, cluster-scoped even with -A", args: []string{"no/node-1"}, all: true, wantDisplay: "node/node-1", wantPods: Scope{FieldSelector: "spec.nodeName=node-1"}},
		{name: "pod", args: []string{"po", "web-1"}, wantDisplay: "pod/web-1", wantPods: Scope{Namespace: "shop", FieldSelector: "metadata.name=web-1"}},
		{name: "namespace", wantDisplay: "namespace/shop", wantPods: Scope{Namespace: "shop"}},
		{name: "all namespaces", all: true, selector: "app=web", wantDisplay: "all namespaces -l app=web", wantPods: Scope{LabelSelector: "app=web"}},
		{name: "missing", args: []string{"deploy/nope"}, wantErr: "deploy/nope not found in namespace shop (--wait-for-target waits for it to appear)"},
		{name: "unknown type", args: []string{"foo/bar"}, wantErr: `the server doesn't have a resource type "foo"`},
		{name: "unsupported type", args: []string{"cm/settings"}, wantErr: "cannot follow configmaps: drainwatch follows deploy, rs, sts, ds, job, svc, node or pod targets"},
		{name: "type only", args: []string{"deploy"}, wantErr: `"deploy" names a type but no object: use TYPE/NAME or TYPE NAME, e.g. deploy/web`},
		{name: "two names", args: []string{"deploy", "web", "api"}, wantErr: "deploy web api names 2 objects: drainwatch follows one target at a time"},
		{name: "by name across namespaces", args: []string{"deploy/web"}, all: true, wantErr: "a resource cannot be retrieved by name across all namespaces"},
		{name: "bad selector", selector: "a in (", wantErr: `invalid -l selector "a in ("`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(context.Background(), getter, ResolveOptions{
				Namespace: "shop", AllNamespaces: tt.all, Selector: tt.selector, Args: tt.args,
			})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Display != tt.wantDisplay || got.Pods != tt.wantPods {
				t.Errorf("got %q %+v, want %q %+v", got.Display, got.Pods, tt.wantDisplay, tt.wantPods)
			}
		})
	}

	t.Run("wait for target", func(t *testing.T) {
		var progress []string
		api.gets.Store(0)
		go func() {
			for api.gets.Load() < 8 {
				time.Sleep(5 * time.Millisecond)
			}
			api.add("/apis/apps/v1/namespaces/shop/deployments/late", &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "late"}, Spec: appsv1.DeploymentSpec{Selector: sel("app=late")}})
		}()
		got, err := Resolve(context.Background(), getter, ResolveOptions{
			Namespace: "shop", Args: []string{"deploy/late"}, WaitForTarget: true, PollInterval: 10 * time.Millisecond,
			Progress: func(s string) { progress = append(progress, s) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Display != "deploy/late" || len(progress) == 0 {
			t.Errorf("got %q after progress %q", got.Display, progress)
		}
	})
}
