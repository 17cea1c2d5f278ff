//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
	"github.com/drainwatch/kubectl-drainwatch/test/traffic"
)

const (
	appImage = "drainwatch.test/app:e2e"
	appPort  = 8080
)

// app describes the test Deployment of a scenario.
type app struct {
	name     string
	replicas int32
	// args of /app: how it reacts to SIGTERM.
	args []string
	// command replaces the image's entrypoint (e.g. a shell as PID 1).
	command []string
	preStop *corev1.LifecycleHandler
	grace   int64
	// nodeSelector pins the pods, e.g. to one node.
	nodeSelector map[string]string
	// sidecar, when set, is the command of a native sidecar "proxy" (an init container with
	// restartPolicy Always).
	sidecar []string
	// statefulSet deploys a StatefulSet instead of a Deployment.
	statefulSet bool
	// cpu is the container's CPU request (e.g. "600m"); priorityClass its PriorityClass.
	cpu           string
	priorityClass string
}

// kind is the workload's kubectl resource name.
func (a app) kind() string {
	if a.statefulSet {
		return "statefulset"
	}
	return "deployment"
}

// podTemplate is the pod of every scenario's workload.
func (a app) podTemplate() corev1.PodTemplateSpec {
	labels := map[string]string{"app": a.name}
	c := corev1.Container{
		Name:            "app",
		Image:           appImage,
		ImagePullPolicy: corev1.PullNever,
		Command:         a.command,
		Args:            a.args,
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: appPort}},
		Env: []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(appPort)}},
			// The first probe waits a second: an app probed before it listens logs an
			// Unhealthy event that scenarios about termination do not want.
			InitialDelaySeconds: 1,
			PeriodSeconds:       1,
			FailureThreshold:    1,
		},
	}
	if a.preStop != nil {
		c.Lifecycle = &corev1.Lifecycle{PreStop: a.preStop}
	}
	if a.cpu != "" {
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(a.cpu)}
	}
	grace := a.grace
	if grace == 0 {
		grace = 30
	}
	spec := corev1.PodSpec{
		Containers:                    []corev1.Container{c},
		TerminationGracePeriodSeconds: ptr.To(grace),
		NodeSelector:                  a.nodeSelector,
		PriorityClassName:             a.priorityClass,
		// No cluster DNS and no API access needed: avoids DNS warning events and
		// token volumes that only slow pod start-up.
		DNSPolicy:                    corev1.DNSDefault,
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
	}
	if a.sidecar != nil {
		spec.InitContainers = []corev1.Container{{Name: "proxy", Image: appImage, ImagePullPolicy: corev1.PullNever,
			Command: a.sidecar, RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
	}
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
}

func (a app) deployment(ns string) *appsv1.Deployment {
	labels := map[string]string{"app": a.name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(a.replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: ptr.To(intstr.FromInt32(0)),
					MaxSurge:       ptr.To(intstr.FromInt32(1)),
				},
			},
			Template: a.podTemplate(),
		},
	}
}

func (a app) statefulSetObject(ns string) *appsv1.StatefulSet {
	labels := map[string]string{"app": a.name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: ns, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(a.replicas),
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			ServiceName:         a.name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Template:            a.podTemplate(),
		},
	}
}

func (a app) service(ns string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": a.name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(appPort)}},
		},
	}
}

func preStopSleep(seconds int64) *corev1.LifecycleHandler {
	return &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: seconds}}
}

func preStopExec(cmd ...string) *corev1.LifecycleHandler {
	return &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: cmd}}
}

// scenario is one test's namespace and its diagnostics.
type scenario struct {
	t     *testing.T
	ns    string
	ctx   context.Context
	start time.Time
	// dumps run when the test fails, to explain it.
	mu    sync.Mutex
	dumps []func()
}

// newScenario creates a fresh namespace for t and removes it afterwards.
func newScenario(t *testing.T, name string) *scenario {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	s := &scenario{t: t, ns: fmt.Sprintf("e2e-%s-%d", name, time.Now().UnixNano()%100000), ctx: ctx, start: time.Now()}
	_, err := env.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpState()
			stalledFailure(t.Name(), s.start, t.Logf)
		}
		t.Logf("scenario %s took %s", t.Name(), time.Since(s.start).Round(100*time.Millisecond))
		// Delete the namespace without waiting for it: the next scenario uses its own.
		_ = env.client.CoreV1().Namespaces().Delete(context.Background(), s.ns, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
		cancel()
	})
	// Wait for the namespace's default ServiceAccount: pods are refused without it.
	s.eventually("default ServiceAccount", 30*time.Second, func() (bool, error) {
		_, err := env.client.CoreV1().ServiceAccounts(s.ns).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	return s
}

func (s *scenario) onFailure(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dumps = append(s.dumps, f)
}

func (s *scenario) dumpState() {
	s.mu.Lock()
	dumps := s.dumps
	s.mu.Unlock()
	for _, f := range dumps {
		f()
	}
	out, _ := s.kubectlOutput("get", "pods,endpointslices,replicasets", "-o", "wide", "-n", s.ns)
	s.t.Logf("objects in %s:\n%s", s.ns, out)
	out, _ = s.kubectlOutput("get", "events", "-n", s.ns, "--sort-by", ".lastTimestamp")
	s.t.Logf("events in %s:\n%s", s.ns, out)
}

// eventually polls cond every 200ms until it is true, failing the test after timeout.
func (s *scenario) eventually(what string, timeout time.Duration, cond func() (bool, error)) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// kubectl runs the pinned kubectl with the admin kubeconfig and fails the test on error.
func (s *scenario) kubectl(args ...string) string {
	s.t.Helper()
	out, err := s.kubectlOutput(args...)
	if err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *scenario) kubectlOutput(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(env.bin, "kubectl"), append([]string{"--kubeconfig", env.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// deploy creates the app's Deployment and Service and waits until every replica is ready,
// listed as a ready endpoint, and answering through the ClusterIP. It returns the pods.
func (s *scenario) deploy(a app) []corev1.Pod {
	s.t.Helper()
	ctx := s.ctx
	if _, err := env.client.CoreV1().Services(s.ns).Create(ctx, a.service(s.ns), metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("create service: %v", err)
	}
	if a.statefulSet {
		if _, err := env.client.AppsV1().StatefulSets(s.ns).Create(ctx, a.statefulSetObject(s.ns), metav1.CreateOptions{}); err != nil {
			s.t.Fatalf("create statefulset: %v", err)
		}
	} else if _, err := env.client.AppsV1().Deployments(s.ns).Create(ctx, a.deployment(s.ns), metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("create deployment: %v", err)
	}
	s.waitSettled(a)
	s.eventually(fmt.Sprintf("%d ready endpoints of %s", a.replicas, a.name), 60*time.Second, func() (bool, error) {
		n, err := readyEndpoints(ctx, s.ns, a.name)
		return n == int(a.replicas), err
	})
	return s.pods(a.name)
}

// waitSettled waits until the workload is rolled out (kubectl rollout status) and no pod of
// it is left terminating, so that the next drainwatch run sees only its own rollout.
func (s *scenario) waitSettled(a app) {
	s.t.Helper()
	if !a.statefulSet {
		s.waitRolledOut(a.name, a.replicas)
		return
	}
	s.kubectl("rollout", "status", "statefulset/"+a.name, "-n", s.ns, "--timeout", "120s")
	s.eventually("statefulset "+a.name+" settled", 120*time.Second, func() (bool, error) {
		pods := s.pods(a.name)
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				return false, nil
			}
		}
		return len(pods) == int(a.replicas), nil
	})
}

// waitRolledOut waits until the Deployment's current ReplicaSet has every replica available
// and no other pod is left.
func (s *scenario) waitRolledOut(name string, replicas int32) {
	s.t.Helper()
	s.eventually("deployment "+name+" rolled out", 120*time.Second, func() (bool, error) {
		d, err := env.client.AppsV1().Deployments(s.ns).Get(s.ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := d.Status
		if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != replicas || st.AvailableReplicas != replicas || st.Replicas != replicas {
			return false, nil
		}
		return len(s.pods(name)) == int(replicas), nil
	})
}

// pods lists the app's pods, including terminating ones, sorted by name.
func (s *scenario) pods(name string) []corev1.Pod {
	s.t.Helper()
	list, err := env.client.CoreV1().Pods(s.ns).List(s.ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		s.t.Fatalf("list pods: %v", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items
}

func podNames(pods []corev1.Pod) []string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	sort.Strings(names)
	return names
}

func readyEndpoints(ctx context.Context, ns, svc string) (int, error) {
	slices, err := env.client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sl := range slices.Items {
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				n++
			}
		}
	}
	return n, nil
}

// startTraffic sends requests to the app's pods (following its EndpointSlices) and through its
// ClusterIP until the returned function is called. It first waits until the ClusterIP answers.
func (s *scenario) startTraffic(name string) func() traffic.Result {
	s.t.Helper()
	g, err := traffic.Start(s.ctx, traffic.Config{Client: env.client, Namespace: s.ns, Service: name, ClusterIP: true})
	if err != nil {
		s.t.Fatalf("traffic: %v", err)
	}
	var once sync.Once
	var res traffic.Result
	stop := func() traffic.Result {
		once.Do(func() { res = g.Stop() })
		return res
	}
	s.t.Cleanup(func() { stop() })
	s.onFailure(func() { s.t.Logf("traffic: %s", stop()) })
	return stop
}

// drainwatch is one running kubectl-drainwatch.
type drainwatch struct {
	t        *testing.T
	cmd      *exec.Cmd
	args     []string
	stdout   bytes.Buffer
	stderr   syncBuffer
	watching chan struct{}
	exited   chan struct{}
	started  time.Time
	err      error
	// record is the --record file, replayed and compared when the run is over.
	record string
}

// output is what a finished drainwatch printed.
type output struct {
	ExitCode  int
	Timelines []timeline.PodTimeline
	Summary   *timeline.Summary
	Stdout    string
	Stderr    string
	Duration  time.Duration
}

// startDrainwatch runs the plugin with args (the admin kubeconfig unless args name one) and
// waits until it says it is watching.
func (s *scenario) startDrainwatch(args ...string) *drainwatch {
	s.t.Helper()
	// client-go's diagnostics (watch errors, relists) explain failures; keep them.
	logFile := filepath.Join(s.t.TempDir(), "klog.log")
	args = append(args, "--log-file", logFile)
	// Every run records, so that its replay can be checked against what it printed live.
	record := ""
	for i, a := range args {
		if a == "--record" && i+1 < len(args) {
			record = args[i+1]
		}
	}
	if record == "" {
		record = filepath.Join(s.t.TempDir(), "recording.ndjson")
		args = append(args, "--record", record)
	}
	s.onFailure(func() {
		if b, err := os.ReadFile(logFile); err == nil {
			s.t.Logf("drainwatch --log-file:\n%s", tail(string(b), 60))
		}
	})
	d := s.startCommand(exec.Command(env.plugin, withKubeconfig(args)...), args)
	d.record = record
	return d
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func withKubeconfig(args []string) []string {
	for _, a := range args {
		if a == "--kubeconfig" || strings.HasPrefix(a, "--kubeconfig=") {
			return args
		}
	}
	return append([]string{"--kubeconfig", env.kubeconfig}, args...)
}

// startCommand runs cmd (kubectl-drainwatch, or kubectl running it as a plugin).
func (s *scenario) startCommand(cmd *exec.Cmd, args []string) *drainwatch {
	s.t.Helper()
	d := &drainwatch{t: s.t, cmd: cmd, args: args, watching: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stdout = &d.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	d.started = time.Now()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			d.stderr.WriteLine(line)
			if strings.HasPrefix(line, "watching ") {
				once.Do(func() { close(d.watching) })
			}
		}
	}()
	go func() {
		d.err = cmd.Wait()
		pw.Close()
		close(d.exited)
	}()
	s.t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = cmd.Process.Kill()
			<-d.exited
		}
	})
	s.onFailure(func() {
		s.t.Logf("drainwatch %s\n--- stderr:\n%s\n--- stdout:\n%s", strings.Join(args, " "), d.stderr.String(), d.stdout.String())
	})
	select {
	case <-d.watching:
		s.t.Logf("drainwatch watching after %s", time.Since(d.started).Round(time.Millisecond))
	case <-d.exited:
		s.t.Fatalf("drainwatch exited before watching: %v\nstderr:\n%s\nstdout:\n%s", d.err, d.stderr.String(), d.stdout.String())
	case <-time.After(30 * time.Second):
		s.t.Fatalf("drainwatch did not print its \"watching\" line within 30s; stderr:\n%s", d.stderr.String())
	}
	return d
}

// wait waits for drainwatch to exit on its own and parses its JSON lines.
func (d *drainwatch) wait(timeout time.Duration) output {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(timeout):
		_ = d.cmd.Process.Kill()
		<-d.exited
		d.t.Fatalf("drainwatch did not exit within %s (--until-done should have ended it)\nstderr:\n%s\nstdout:\n%s", timeout, d.stderr.String(), d.stdout.String())
	}
	out := output{ExitCode: d.cmd.ProcessState.ExitCode(), Stdout: d.stdout.String(), Stderr: d.stderr.String(), Duration: time.Since(d.started)}
	if out.ExitCode < 0 {
		d.t.Fatalf("drainwatch died: %v\nstderr:\n%s", d.err, out.Stderr)
	}
	d.t.Logf("drainwatch exited %d after %s", out.ExitCode, out.Duration.Round(100*time.Millisecond))
	for i, line := range strings.Split(strings.TrimSpace(out.Stdout), "\n") {
		if line == "" {
			continue
		}
		var head struct{ APIVersion, Kind string }
		if err := json.Unmarshal([]byte(line), &head); err != nil {
			d.t.Fatalf("stdout line %d is not JSON: %v\n%s", i+1, err, line)
		}
		if head.APIVersion != timeline.APIVersion {
			d.t.Errorf("stdout line %d: apiVersion %q, want %q", i+1, head.APIVersion, timeline.APIVersion)
		}
		switch head.Kind {
		case "PodTimeline":
			if out.Summary != nil {
				d.t.Errorf("stdout line %d: PodTimeline after the Summary", i+1)
			}
			var tl timeline.PodTimeline
			if err := json.Unmarshal([]byte(line), &tl); err != nil {
				d.t.Fatalf("stdout line %d: %v", i+1, err)
			}
			out.Timelines = append(out.Timelines, tl)
		case "Summary":
			if out.Summary != nil {
				d.t.Errorf("stdout line %d: a second Summary", i+1)
			}
			var sum timeline.Summary
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				d.t.Fatalf("stdout line %d: %v", i+1, err)
			}
			out.Summary = &sum
		default:
			d.t.Errorf("stdout line %d: unknown kind %q", i+1, head.Kind)
		}
	}
	for _, tl := range out.Timelines {
		d.t.Logf("  %s on %s: %s %v cause=%s marks: %s", tl.Name, tl.Node, tl.Verdict, findingIDs(tl), tl.Cause, markList(tl))
	}
	if out.Summary == nil {
		d.t.Fatalf("no Summary line in drainwatch's output\nstdout:\n%s\nstderr:\n%s", out.Stdout, out.Stderr)
	}
	if d.record != "" {
		checkReplay(d.t, d.record, out)
	}
	return out
}

// checkReplay replays a recording and fails unless it gives the same timelines as the live run:
// live watching and --replay feed the same deltas to the same engine.
func checkReplay(t *testing.T, record string, live output) {
	t.Helper()
	cmd := exec.Command(env.plugin, "--replay", record, "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code != live.ExitCode {
		t.Errorf("--replay %s: %v (exit %d, live run exited %d)\n%s", record, err, code, live.ExitCode, stderr.String())
		return
	}
	if code != live.ExitCode {
		t.Errorf("--replay exited %d, the live run %d", code, live.ExitCode)
	}
	byName := map[string]string{}
	var summary string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var head struct{ Kind, Name string }
		if json.Unmarshal([]byte(line), &head) != nil {
			t.Errorf("--replay printed a non-JSON line: %q", line)
			continue
		}
		if head.Kind == "Summary" {
			summary = line
		} else {
			byName[head.Name] = line
		}
	}
	for _, tl := range live.Timelines {
		want, _ := json.Marshal(tl)
		got, ok := byName[tl.Name]
		if !ok {
			t.Errorf("--replay has no timeline of %s", tl.Name)
			continue
		}
		var liveJSON, replayJSON any
		if err := json.Unmarshal(want, &liveJSON); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(got), &replayJSON); err != nil {
			t.Errorf("--replay timeline of %s: %v", tl.Name, err)
			continue
		}
		if path := jsonDiff(liveJSON, replayJSON, ""); path != "" {
			t.Errorf("--replay gives another timeline of %s than the live run (first difference at %s):\nlive:   %s\nreplay: %s", tl.Name, path, want, got)
		}
		delete(byName, tl.Name)
	}
	for name := range byName {
		t.Errorf("--replay has a timeline of %s that the live run did not print", name)
	}
	var sum timeline.Summary
	if err := json.Unmarshal([]byte(summary), &sum); err != nil {
		t.Errorf("--replay summary: %v", err)
	} else if sum.Terminated != live.Summary.Terminated || fmt.Sprint(sum.Verdicts) != fmt.Sprint(live.Summary.Verdicts) {
		t.Errorf("--replay summary: %d terminated %v, live: %d terminated %v", sum.Terminated, sum.Verdicts, live.Summary.Terminated, live.Summary.Verdicts)
	}
}

// timeline returns the timeline of pod, failing the test when there is none or more than one.
func (o output) timeline(t *testing.T, pod string) timeline.PodTimeline {
	t.Helper()
	var found []timeline.PodTimeline
	for _, tl := range o.Timelines {
		if tl.Name == pod {
			found = append(found, tl)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one timeline of pod %s, got %d (timelines of %v)", pod, len(found), o.podNames())
	}
	return found[0]
}

func (o output) podNames() []string {
	var names []string
	for _, tl := range o.Timelines {
		names = append(names, tl.Name)
	}
	sort.Strings(names)
	return names
}

// checkAccounted fails unless the output has exactly one finished timeline for each pod and
// none for any other pod, with sane marks and a Summary that counts them.
func checkAccounted(t *testing.T, o output, pods []string) {
	t.Helper()
	if got := o.podNames(); strings.Join(got, ",") != strings.Join(pods, ",") {
		t.Errorf("timelines for %v, want one for each of %v", got, pods)
	}
	for _, tl := range o.Timelines {
		checkSane(t, tl)
	}
	if o.Summary != nil && o.Summary.Terminated != len(pods) {
		t.Errorf("summary.terminated = %d, want %d", o.Summary.Terminated, len(pods))
	}
}

// checkSane checks what must hold for every finished timeline.
func checkSane(t *testing.T, tl timeline.PodTimeline) {
	t.Helper()
	if tl.APIVersion != timeline.APIVersion || tl.Kind != "PodTimeline" {
		t.Errorf("%s: apiVersion/kind %q/%q", tl.Name, tl.APIVersion, tl.Kind)
	}
	if tl.End == nil {
		t.Errorf("%s: finished timeline without end", tl.Name)
	}
	if tl.State != timeline.StateRemoved && tl.State != timeline.StateTerminated {
		t.Errorf("%s: state %q, want removed or terminated", tl.Name, tl.State)
	}
	seen := map[string]int{}
	for _, m := range tl.Marks {
		key := fmt.Sprintf("%s/%s/%s/%s", m.Type, m.Container, m.Service, m.Slice)
		seen[key]++
		if seen[key] == 2 {
			t.Errorf("%s: duplicate mark %s (%+v)", tl.Name, key, m)
		}
	}
	for _, want := range []timeline.MarkType{timeline.MarkDeletionRequested, timeline.MarkPodRemoved} {
		if !hasMark(tl, want) {
			t.Errorf("%s: no %s mark; marks: %s", tl.Name, want, markList(tl))
		}
	}
}

func hasMark(tl timeline.PodTimeline, typ timeline.MarkType) bool {
	for _, m := range tl.Marks {
		if m.Type == typ {
			return true
		}
	}
	return false
}

func markList(tl timeline.PodTimeline) string {
	var s []string
	for _, m := range tl.Marks {
		s = append(s, fmt.Sprintf("%s@%s", m.Type, m.Time.Format("15:04:05.000")))
	}
	return strings.Join(s, " ")
}

func findingIDs(tl timeline.PodTimeline) []string {
	var ids []string
	for _, f := range tl.Findings {
		ids = append(ids, string(f.ID))
	}
	return ids
}

func finding(tl timeline.PodTimeline, id timeline.FindingID) *timeline.Finding {
	for i := range tl.Findings {
		if tl.Findings[i].ID == id {
			return &tl.Findings[i]
		}
	}
	return nil
}

// recordArgs adds --record for the scenarios whose recordings are the project's examples.
func recordArgs(name string) []string {
	if env.recordDir == "" || name == "" {
		return nil
	}
	return []string{"--record", filepath.Join(env.recordDir, name+".ndjson"), "--overwrite"}
}

// syncBuffer collects lines written by one goroutine and read by others.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
	b.b.WriteByte('\n')
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// pdb returns a PodDisruptionBudget allowing one of the app's pods to be down.
func pdb(ns, name string) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
		},
	}
}

// envWith returns the process environment with PATH prefixed by dirs.
func envWith(dirs ...string) []string {
	e := os.Environ()
	path := strings.Join(dirs, string(os.PathListSeparator))
	for i, kv := range e {
		if strings.HasPrefix(kv, "PATH=") {
			e[i] = "PATH=" + path + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
			return e
		}
	}
	return append(e, "PATH="+path)
}

// jsonDiff returns the path of the first difference between two decoded JSON values, "" when
// they are equal. Numbers may differ by a microsecond's worth: a live run measures durations on
// the monotonic clock, a recording keeps wall-clock times.
func jsonDiff(a, b any, path string) string {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return path
		}
		keys := map[string]bool{}
		for k := range a {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := jsonDiff(a[k], bm[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return path
		}
		for i := range a {
			if d := jsonDiff(a[i], bs[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case float64:
		bf, ok := b.(float64)
		if !ok || math.Abs(a-bf) > 1e-6 {
			return path
		}
		return ""
	default:
		if a != b {
			return path
		}
		return ""
	}
}
