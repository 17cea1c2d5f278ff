package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Watchers in the order they are shown.
var watcherOrder = []string{"drainwatch", "serve", "informer", "informer-scoped", "kubectl", "drainwatch-record", "informer-stamped", namespaceProbe}

// namespaceProbe is drainwatch started on the whole namespace (every pod in scope) and stopped
// once its caches synced: it measures the first output only.
const namespaceProbe = "drainwatch-namespace"

// The floors. scopedFloor asks the API server for what drainwatch asks for (the same
// server-side selectors) and does nothing with it: the ratios and targets are taken against it,
// since everything drainwatch costs above it is its own. unscopedFloor watches the whole
// namespace, as a plain informer would; it is shown beside.
const (
	scopedFloor   = "informer-scoped"
	unscopedFloor = "informer"
)

// Targets of the benchmark, against scopedFloor, at each of targetSizes.
const (
	targetCPURatio     = 1.2
	targetRSSRatio     = 0.8
	targetLagP99MS     = 200
	targetFirstMS      = 1500
	targetFirstInScope = 10000
	headlineSize       = 2000
)

var targetSizes = []int{2000, 5000}

// Meta is what scale.sh wrote about one size.
type Meta struct {
	Size            int                `json:"size"`
	NamespacePods   int                `json:"namespacePods"`
	NamespaceEvents int                `json:"namespaceEvents"`
	ScaleSeconds    int                `json:"scaleSeconds"`
	RolloutStart    float64            `json:"rolloutStart"`
	RolloutEnd      float64            `json:"rolloutEnd"`
	LoadAverage     string             `json:"loadAverage"`
	ComponentCPU    map[string]float64 `json:"componentCPUSeconds"`
	// KubectlRolloutStart is when kubectl's own rollout began (0: kubectl watched the first).
	KubectlRolloutStart float64 `json:"kubectlRolloutStart"`
}

// Lag is a distribution in milliseconds.
type Lag struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	// Unmatched counts outputs with no etcd commit to compare with.
	Unmatched int `json:"unmatched,omitempty"`
}

// Watcher is the result of one watcher at one size.
type Watcher struct {
	CPUSeconds    float64 `json:"cpu_seconds"`
	UserSeconds   float64 `json:"user_seconds"`
	SystemSeconds float64 `json:"system_seconds"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
	// The resident set at its sampled peak split into anonymous memory (heap, stacks) and
	// file-backed pages (the binary).
	PeakAnonMiB   float64 `json:"peak_rss_anon_mib"`
	PeakFileMiB   float64 `json:"peak_rss_file_mib"`
	FirstOutputMS float64 `json:"first_output_ms"`
	WallSeconds   float64 `json:"wall_seconds"`
	ExitCode      int     `json:"exit_code"`
	// Stopped is true when the rig stopped the watcher; false when it exited by itself
	// (drainwatch with --until-done; kubectl when the API server closed its watch).
	Stopped bool `json:"stopped"`
	Records int  `json:"stdout_records"`
	// Lag from the etcd commit to the watcher's output: for drainwatch the PodTimeline line
	// against the pod's deletion, for kubectl each printed pod against its resourceVersion.
	Lag *Lag `json:"lag,omitempty"`
	// ReceiveLag (diagnostic runs: drainwatch --record, informer -stamps): each pod change's
	// receive time in the informer handler against the commit of its resourceVersion;
	// DeleteReceiveLag the same for pod deletions only.
	ReceiveLag       *Lag `json:"receive_lag,omitempty"`
	DeleteReceiveLag *Lag `json:"delete_receive_lag,omitempty"`
	// InternalLag (drainwatch --record): from receiving a pod's deletion in the informer
	// handler to its PodTimeline line on stdout, i.e. drainwatch's own share of Lag.
	InternalLag *Lag     `json:"internal_lag,omitempty"`
	Argv        []string `json:"argv"`
}

// SizeResult is everything measured at one Deployment size.
type SizeResult struct {
	Pods            int            `json:"pods"`
	NamespacePods   int            `json:"namespace_pods"`
	NamespaceEvents int            `json:"namespace_events_at_start"`
	Terminated      int            `json:"terminated"`
	Verdicts        map[string]int `json:"verdicts"`
	RolloutStart    time.Time      `json:"rollout_start"`
	RolloutSeconds  float64        `json:"rollout_seconds"`
	ScaleUpSeconds  int            `json:"scale_up_seconds"`
	PodCommits      int            `json:"pod_commits"`
	// KubectlOwnRollout: kubectl watched a second rollout of the same size, alone.
	KubectlOwnRollout  bool    `json:"kubectl_own_rollout,omitempty"`
	CPURatioVsInformer float64 `json:"cpu_ratio_vs_informer"`
	RSSRatioVsInformer float64 `json:"rss_ratio_vs_informer"`
	CPURatioVsScoped   float64 `json:"cpu_ratio_vs_informer_scoped"`
	RSSRatioVsScoped   float64 `json:"rss_ratio_vs_informer_scoped"`
	LagP50MS           float64 `json:"lag_p50_ms"`
	LagP99MS           float64 `json:"lag_p99_ms"`
	FirstOutputMS      float64 `json:"first_output_ms"`
	// FirstOutputNamespaceMS is the first output of drainwatch on the whole namespace.
	FirstOutputNamespaceMS float64            `json:"first_output_whole_namespace_ms,omitempty"`
	LoadAverage            string             `json:"load_average_after"`
	ComponentCPUSeconds    map[string]float64 `json:"component_cpu_seconds_during_rollout"`
	Watchers               map[string]Watcher `json:"watchers"`
}

// Target is one goal and whether the run met it.
type Target struct {
	Name   string  `json:"name"`
	Goal   string  `json:"goal"`
	Pods   int     `json:"pods"`
	Value  float64 `json:"value"`
	Met    bool    `json:"met"`
	Detail string  `json:"detail,omitempty"`
}

// Results is results.json. The top-level figures are those of the headline size (2,000 pods
// when run), first_output_ms that of the run with the most pods in scope.
type Results struct {
	Generated time.Time `json:"generated"`
	Measured  time.Time `json:"measured"`
	Source    string    `json:"source,omitempty"`
	Machine   Machine   `json:"machine"`
	Pods      int       `json:"pods"`
	// The headline: against the informer with drainwatch's selectors.
	CPURatioVsScoped float64 `json:"cpu_ratio_vs_scoped_informer"`
	RSSRatioVsScoped float64 `json:"rss_ratio_vs_scoped_informer"`
	// Against the informer on the whole namespace.
	CPURatioVsInformer float64      `json:"cpu_ratio_vs_informer"`
	RSSRatioVsInformer float64      `json:"rss_ratio_vs_informer"`
	LagP50MS           float64      `json:"lag_p50_ms"`
	LagP99MS           float64      `json:"lag_p99_ms"`
	FirstOutputMS      float64      `json:"first_output_ms"`
	FirstOutputPods    int          `json:"first_output_namespace_pods"`
	Targets            []Target     `json:"targets"`
	Sizes              []SizeResult `json:"sizes"`
	Method             []string     `json:"method"`
}

// Machine describes where the benchmark ran.
type Machine struct {
	NProc     int     `json:"nproc"`
	CPU       string  `json:"cpu"`
	MemoryGiB float64 `json:"memory_gib"`
	Kernel    string  `json:"kernel"`
	Go        string  `json:"go"`
}

var method = []string{
	"Control plane: real etcd, kube-apiserver, kube-controller-manager and kube-scheduler (v1.37.2) on this machine; kwok v0.8.0 plays every kubelet with the Stages in bench/kwok/pod-terminate.yaml.",
	"Namespace: the Deployment web (preStop sleep 5 s, grace 15 s, maxSurge 25%, maxUnavailable 50%) behind Service web (EndpointSlices of up to 100 endpoints), plus unrelated bare pods and a steady stream of unrelated Normal Events; Events expire after 5 minutes.",
	"Per size: the watchers start one after the other (each once the previous one reported its first output), then `kubectl rollout restart` replaces every pod. drainwatch exits by itself (--until-done); the others are stopped (SIGINT) right after. kubectl watches a second rollout of the same size alone (at the sizes in BENCH_KUBECTL): its CPU, 8 to 15 times drainwatch's, would share the 2 cores with the API server that delivers to the others and move their lag.",
	"CPU seconds and peak RSS: the kernel's accounting of each watcher process when it was reaped (wait4 rusage: utime+stime, ru_maxrss = VmHWM), over its whole life including start-up.",
	"First output: from starting the process to drainwatch's \"watching ... (caches synced)\" line, the informer's \"synced\" line (after WaitForCacheSync) or kubectl's first printed object.",
	"Lag: each output is stamped when the rig reads it from the watcher's stdout pipe; every write under /registry/pods/NS/ is stamped when etcd's watch (JSON gateway) delivers it to the rig. drainwatch: PodTimeline line minus the commit of that pod's deletion (the change that completes a timeline). kubectl: each printed pod minus the commit of its resourceVersion. All stamps come from one clock; the etcd stamp is itself a little after the commit (a local watch, typically well under a millisecond on an idle machine, more under load), so lags are slightly understated.",
	"The floor is bench/informer: client-go shared informers on the resources drainwatch watches for deploy/web (pods, EndpointSlices, Events, the Deployment and its ReplicaSets), protobuf, no transforms, no-op handlers. informer-scoped, the floor the ratios and targets are taken against, uses drainwatch's server-side selectors (pods and ReplicaSets of the Deployment, the Deployment by name; Events about pods without the common reasons of a pod's start, as drainwatch asks); informer watches the whole namespace.",
}

func analyzeCmd(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory with one subdirectory per size")
	out := fs.String("results", "results.json", "results file to write")
	md := fs.String("md", "results.md", "markdown table to write")
	headline := fs.Int("headline", headlineSize, "size whose figures go to the top level")
	source := fs.String("source", "", "the drainwatch source measured (git describe)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	entries, err := os.ReadDir(*dir)
	if err != nil {
		return err
	}
	res := Results{Generated: time.Now().UTC(), Source: *source, Machine: machine(), Method: method}
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(*dir, e.Name())); err != nil || !fi.IsDir() {
			continue
		}
		sr, err := analyzeSize(filepath.Join(*dir, e.Name()))
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		res.Sizes = append(res.Sizes, sr)
	}
	if len(res.Sizes) == 0 {
		return errors.New("no results")
	}
	slices.SortFunc(res.Sizes, func(a, b SizeResult) int { return a.Pods - b.Pods })
	res.Measured = res.Sizes[0].RolloutStart
	for _, s := range res.Sizes {
		if s.RolloutStart.Before(res.Measured) {
			res.Measured = s.RolloutStart
		}
	}
	head := res.Sizes[len(res.Sizes)-1]
	for _, s := range res.Sizes {
		if s.Pods == *headline {
			head = s
		}
	}
	res.Pods, res.CPURatioVsScoped, res.RSSRatioVsScoped = head.Pods, head.CPURatioVsScoped, head.RSSRatioVsScoped
	res.CPURatioVsInformer, res.RSSRatioVsInformer = head.CPURatioVsInformer, head.RSSRatioVsInformer
	res.LagP50MS, res.LagP99MS = head.LagP50MS, head.LagP99MS
	widest := res.Sizes[0]
	for _, s := range res.Sizes {
		if s.NamespacePods > widest.NamespacePods {
			widest = s
		}
	}
	// The start-up target wants the pods in scope: the whole-namespace probe has them all; without
	// it, the Deployment's pods are all drainwatch had in scope.
	firstMS, inScope, scopeDetail := widest.FirstOutputMS, widest.Pods, fmt.Sprintf("deploy/web; %d pods in the namespace", widest.NamespacePods)
	if widest.FirstOutputNamespaceMS > 0 {
		firstMS, inScope, scopeDetail = widest.FirstOutputNamespaceMS, widest.NamespacePods, "the whole namespace"
	}
	res.FirstOutputMS, res.FirstOutputPods = firstMS, widest.NamespacePods
	res.Targets = targets(res.Sizes, firstMS, inScope, scopeDetail)
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*md), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(*md, []byte(markdown(res)), 0o644)
}

// targets judges the run: CPU, peak RSS and lag at each of targetSizes (not met when a size was
// not run), and the first output with the most pods in scope.
func targets(sizes []SizeResult, firstMS float64, inScope int, scopeDetail string) []Target {
	var ts []Target
	for _, n := range targetSizes {
		i := slices.IndexFunc(sizes, func(s SizeResult) bool { return s.Pods == n })
		var s SizeResult
		detail := ""
		if i < 0 {
			detail = "not measured"
		} else {
			s = sizes[i]
		}
		ran := i >= 0
		ts = append(ts,
			Target{Name: "cpu", Goal: fmt.Sprintf("CPU <= %.1fx informer-scoped", targetCPURatio), Pods: n,
				Value: s.CPURatioVsScoped, Met: ran && s.CPURatioVsScoped <= targetCPURatio, Detail: detail},
			Target{Name: "rss", Goal: fmt.Sprintf("peak RSS <= %.1fx informer-scoped", targetRSSRatio), Pods: n,
				Value: s.RSSRatioVsScoped, Met: ran && s.RSSRatioVsScoped <= targetRSSRatio, Detail: detail},
			Target{Name: "lag", Goal: fmt.Sprintf("lag p99 <= %d ms", targetLagP99MS), Pods: n,
				Value: s.LagP99MS, Met: ran && s.LagP99MS <= targetLagP99MS, Detail: detail})
	}
	return append(ts, Target{Name: "first-output", Goal: fmt.Sprintf("first output <= %d ms with %d pods in scope", targetFirstMS, targetFirstInScope),
		Pods: inScope, Value: firstMS, Met: firstMS <= targetFirstMS && inScope >= targetFirstInScope, Detail: scopeDetail})
}

func analyzeSize(dir string) (SizeResult, error) {
	var meta Meta
	if err := readJSON(filepath.Join(dir, "meta.json"), &meta); err != nil {
		return SizeResult{}, err
	}
	sr := SizeResult{
		Pods: meta.Size, NamespacePods: meta.NamespacePods, NamespaceEvents: meta.NamespaceEvents,
		RolloutStart:   time.Unix(0, int64(meta.RolloutStart*1e9)).UTC().Round(time.Millisecond),
		RolloutSeconds: round(meta.RolloutEnd-meta.RolloutStart, 1), ScaleUpSeconds: meta.ScaleSeconds,
		LoadAverage: meta.LoadAverage, ComponentCPUSeconds: meta.ComponentCPU,
		Watchers: map[string]Watcher{}, Verdicts: map[string]int{},
	}
	commits, err := readCommits(filepath.Join(dir, "etcd.ndjson"))
	if err != nil {
		return sr, err
	}
	sr.KubectlOwnRollout = meta.KubectlRolloutStart > 0
	kubectlStart := time.Unix(0, int64(meta.KubectlRolloutStart*1e9))
	byRev := make(map[int64]Commit, len(commits))
	deleted := map[string]Commit{}
	for _, c := range commits {
		byRev[c.Rev] = c
		if sr.KubectlOwnRollout && !c.T.Before(kubectlStart) {
			continue // kubectl's rollout: only its printed pods are matched, by revision
		}
		sr.PodCommits++
		if c.Type == "DELETE" {
			deleted[c.Key] = c
		}
	}
	for _, name := range watcherOrder {
		var p Process
		err := readJSON(filepath.Join(dir, name+".json"), &p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return sr, err
		}
		w := Watcher{
			UserSeconds: round(p.UserSeconds, 2), SystemSeconds: round(p.SystemSeconds, 2),
			CPUSeconds:  round(p.UserSeconds+p.SystemSeconds, 2),
			PeakRSSMiB:  round(float64(max(p.MaxRSSKiB, p.VmHWMKiB))/1024, 1),
			PeakAnonMiB: round(float64(p.AnonKiB)/1024, 1), PeakFileMiB: round(float64(p.FileKiB)/1024, 1),
			WallSeconds: round(p.End.Sub(p.Start).Seconds(), 1), ExitCode: p.ExitCode, Stopped: p.Stopped,
			Records: p.StdoutRecords, Argv: p.Argv,
		}
		if p.FirstOutput != nil {
			w.FirstOutputMS = round(float64(p.FirstOutput.Sub(p.Start))/1e6, 0)
		}
		stamps, err := readStamps(filepath.Join(dir, name+".stamps"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return sr, err
		}
		var lags []float64
		unmatched := 0
		for _, s := range stamps {
			switch {
			case s.Kind == "PodTimeline":
				if name == "drainwatch" {
					sr.Terminated++
					sr.Verdicts[s.Verdict]++
				}
				c, ok := deleted["/registry/pods/"+s.Namespace+"/"+s.Name]
				if !ok {
					unmatched++
					continue
				}
				lags = append(lags, ms(s.T.Sub(c.T)))
			case s.RV != "":
				rev, _ := strconv.ParseInt(s.RV, 10, 64)
				c, ok := byRev[rev]
				// Objects of the initial list were written before the watch began.
				if !ok || p.FirstOutput == nil || c.T.Before(*p.FirstOutput) {
					continue
				}
				lags = append(lags, ms(s.T.Sub(c.T)))
			}
		}
		if len(lags) > 0 || unmatched > 0 {
			l := distribution(lags)
			l.Unmatched = unmatched
			w.Lag = &l
		}
		rl, err := receiveLag(filepath.Join(dir, name+".recording.ndjson"), byRev, p.FirstOutput)
		if err == nil {
			w.ReceiveLag, w.DeleteReceiveLag = &rl.all, &rl.deletes
			var internal []float64
			for _, s := range stamps {
				if t, ok := rl.deleted[s.Name]; ok && s.Kind == "PodTimeline" {
					internal = append(internal, ms(s.T.Sub(t)))
				}
			}
			if len(internal) > 0 {
				l := distribution(internal)
				w.InternalLag = &l
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return sr, err
		}
		sr.Watchers[name] = w
	}
	dw, okD := sr.Watchers["drainwatch"]
	if in, ok := sr.Watchers[unscopedFloor]; ok && okD {
		sr.CPURatioVsInformer = ratio(dw.CPUSeconds, in.CPUSeconds)
		sr.RSSRatioVsInformer = ratio(dw.PeakRSSMiB, in.PeakRSSMiB)
	}
	if in, ok := sr.Watchers[scopedFloor]; ok && okD {
		sr.CPURatioVsScoped = ratio(dw.CPUSeconds, in.CPUSeconds)
		sr.RSSRatioVsScoped = ratio(dw.PeakRSSMiB, in.PeakRSSMiB)
	}
	if probe, ok := sr.Watchers[namespaceProbe]; ok {
		sr.FirstOutputNamespaceMS = probe.FirstOutputMS
	}
	if okD {
		sr.FirstOutputMS = dw.FirstOutputMS
		if dw.Lag != nil {
			sr.LagP50MS, sr.LagP99MS = dw.Lag.P50, dw.Lag.P99
		}
	}
	return sr, nil
}

type receiveLags struct {
	all, deletes Lag
	// deleted is when each pod's deletion was received, by pod name.
	deleted map[string]time.Time
}

// receiveLag reads a drainwatch recording (or the informer's stamps in the same format):
// every pod change against the commit of its resourceVersion, for changes written after the
// watcher was ready.
func receiveLag(path string, byRev map[int64]Commit, ready *time.Time) (receiveLags, error) {
	out := receiveLags{deleted: map[string]time.Time{}}
	f, err := os.Open(path)
	if err != nil {
		return out, err
	}
	defer f.Close()
	if ready == nil {
		return out, errors.New("the recording watcher never became ready")
	}
	rd := bufio.NewReaderSize(f, 1<<20)
	var all, deletes []float64
	for {
		line, err := rd.ReadBytes('\n')
		if len(line) > 0 {
			var d struct {
				T      time.Time `json:"t"`
				Type   string    `json:"type"`
				Kind   string    `json:"kind"`
				Object struct {
					Metadata struct {
						Name            string `json:"name"`
						ResourceVersion string `json:"resourceVersion"`
					} `json:"metadata"`
				} `json:"object"`
			}
			if json.Unmarshal(line, &d) == nil && d.Kind == "Pod" {
				if d.Type == "DELETED" {
					out.deleted[d.Object.Metadata.Name] = d.T
				}
				rev, _ := strconv.ParseInt(d.Object.Metadata.ResourceVersion, 10, 64)
				if c, ok := byRev[rev]; ok && !c.T.Before(*ready) {
					all = append(all, ms(d.T.Sub(c.T)))
					if d.Type == "DELETED" {
						deletes = append(deletes, ms(d.T.Sub(c.T)))
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
	}
	out.all, out.deletes = distribution(all), distribution(deletes)
	return out, nil
}

func distribution(v []float64) Lag {
	if len(v) == 0 {
		return Lag{}
	}
	slices.Sort(v)
	q := func(p float64) float64 {
		// Nearest rank: the smallest value with at least p of the samples at or below it.
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return round(v[max(0, min(i, len(v)-1))], 1)
	}
	return Lag{Count: len(v), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: round(v[len(v)-1], 1)}
}

func readCommits(path string) ([]Commit, error) {
	var out []Commit
	err := readLines(path, func(b []byte) error {
		var c Commit
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func readStamps(path string) ([]Stamp, error) {
	var out []Stamp
	err := readLines(path, func(b []byte) error {
		var s Stamp
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

func readLines(path string, each func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := each(sc.Bytes()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return sc.Err()
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func machine() Machine {
	m := Machine{NProc: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kib, _ := strconv.ParseFloat(f[0], 64)
					m.MemoryGiB = round(kib/1024/1024, 1)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func markdown(r Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# drainwatch at scale\n\n")
	src := "drainwatch"
	if r.Source != "" {
		src += " " + r.Source
	}
	fmt.Fprintf(&b, "%s, measured by `make bench-scale` on %s on %d CPUs (%s), %.1f GiB memory, Linux %s, %s. The machine was shared with other work; the load average after each rollout is given below.\n\n",
		src, r.Measured.Format("2006-01-02 15:04 MST"), r.Machine.NProc, r.Machine.CPU, r.Machine.MemoryGiB, r.Machine.Kernel, r.Machine.Go)
	for _, s := range r.Sizes {
		if s.Pods != r.Pods {
			continue
		}
		dw, sc, in := s.Watchers["drainwatch"], s.Watchers[scopedFloor], s.Watchers[unscopedFloor]
		kubectl := " (kubectl was not run)"
		if kc, ok := s.Watchers["kubectl"]; ok {
			kubectl = fmt.Sprintf(", kubectl get pods -w %.2f s and %.1f MiB", kc.CPUSeconds, kc.PeakRSSMiB)
			if s.KubectlOwnRollout {
				kubectl += " (in a rollout of its own)"
			}
		}
		fmt.Fprintf(&b, "At %d pods drainwatch used %.2f CPU s and %.1f MiB peak RSS: **%.2fx the CPU and %.2fx the peak RSS of informer-scoped** (%.2f s, %.1f MiB; the same server-side selectors, no-op handlers). The informer on the whole namespace used %.2f s and %.1f MiB (drainwatch %.2fx, %.2fx)%s.\n\n",
			s.Pods, dw.CPUSeconds, dw.PeakRSSMiB, s.CPURatioVsScoped, s.RSSRatioVsScoped, sc.CPUSeconds, sc.PeakRSSMiB,
			in.CPUSeconds, in.PeakRSSMiB, s.CPURatioVsInformer, s.RSSRatioVsInformer, kubectl)
		if sv, ok := s.Watchers["serve"]; ok {
			lag := "-"
			if sv.Lag != nil {
				lag = fmt.Sprintf("%.0f ms", sv.Lag.P99)
			}
			fmt.Fprintf(&b, "serve on the whole cluster used %.2f CPU s and %.1f MiB peak RSS: %.2fx the CPU and %.2fx the peak RSS of the informer on the same resources (every pod, EndpointSlice, Event and ReplicaSet of the namespace, and its Deployments); lag p99 (etcd delete to its JSON line) %s.\n\n",
				sv.CPUSeconds, sv.PeakRSSMiB, ratio(sv.CPUSeconds, in.CPUSeconds), ratio(sv.PeakRSSMiB, in.PeakRSSMiB), lag)
		}
	}
	b.WriteString("## Targets\n\n| target | pods | measured | met |\n|---|---:|---:|---|\n")
	for _, t := range r.Targets {
		v := fmt.Sprintf("%.2fx", t.Value)
		if t.Name == "lag" || t.Name == "first-output" {
			v = fmt.Sprintf("%.0f ms", t.Value)
		}
		if t.Detail == "not measured" {
			v = "-"
		}
		met := "yes"
		if !t.Met {
			met = "**no**"
		}
		detail := ""
		if t.Detail != "" {
			detail = " (" + t.Detail + ")"
		}
		fmt.Fprintf(&b, "| %s | %d%s | %s | %s |\n", t.Goal, t.Pods, detail, v, met)
	}
	for _, s := range r.Sizes {
		fmt.Fprintf(&b, "\n## %d pods rolled out\n\n", s.Pods)
		fmt.Fprintf(&b, "%d pods and %d Events in the namespace at the start; %d terminations in %.1f s (verdicts: %s); %d pod writes in etcd; load average afterwards %s.\n\n",
			s.NamespacePods, s.NamespaceEvents, s.Terminated, s.RolloutSeconds, verdicts(s.Verdicts), s.PodCommits, s.LoadAverage)
		if s.FirstOutputNamespaceMS > 0 {
			fmt.Fprintf(&b, "drainwatch on the whole namespace (all %d pods in scope), started before the others and stopped once its caches synced: first output after %.0f ms.\n\n",
				s.NamespacePods, s.FirstOutputNamespaceMS)
		}
		b.WriteString("| watcher | CPU s | CPU vs informer-scoped | peak RSS MiB | RSS vs informer-scoped | RSS anon / file MiB | first output ms | lag p50 ms | lag p99 ms | lag max ms | outputs |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		in := s.Watchers[scopedFloor]
		for _, name := range watcherOrder {
			w, ok := s.Watchers[name]
			if !ok || name == namespaceProbe {
				continue
			}
			p50, p99, mx := "-", "-", "-"
			if w.Lag != nil && w.Lag.Count > 0 {
				p50, p99, mx = fmt.Sprintf("%.0f", w.Lag.P50), fmt.Sprintf("%.0f", w.Lag.P99), fmt.Sprintf("%.0f", w.Lag.Max)
			}
			note := ""
			if name != "drainwatch" && name != "drainwatch-record" && !w.Stopped {
				note = " (ended on its own)"
			}
			if name == "kubectl" && s.KubectlOwnRollout {
				note += " (own rollout)"
			}
			fmt.Fprintf(&b, "| %s%s | %.2f | %.2fx | %.1f | %.2fx | %.0f / %.0f | %.0f | %s | %s | %s | %d |\n", name, note, w.CPUSeconds,
				ratio(w.CPUSeconds, in.CPUSeconds), w.PeakRSSMiB, ratio(w.PeakRSSMiB, in.PeakRSSMiB), w.PeakAnonMiB, w.PeakFileMiB,
				w.FirstOutputMS, p50, p99, mx, w.Records)
		}
		diag := false
		for _, name := range watcherOrder {
			w, ok := s.Watchers[name]
			if !ok || w.ReceiveLag == nil {
				continue
			}
			if !diag {
				b.WriteString("\nWhere the lag comes from (diagnostic watchers, in the informer handler):\n\n")
				b.WriteString("| watcher | measured | p50 ms | p90 ms | p99 ms | max ms | count |\n|---|---|---:|---:|---:|---:|---:|\n")
				diag = true
			}
			row := func(what string, l *Lag) {
				if l != nil && l.Count > 0 {
					fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %d |\n", name, what, l.P50, l.P90, l.P99, l.Max, l.Count)
				}
			}
			row("etcd commit -> handler, every pod change", w.ReceiveLag)
			row("etcd commit -> handler, pod deletions", w.DeleteReceiveLag)
			row("handler (deletion) -> PodTimeline line", w.InternalLag)
		}
		var comps []string
		for _, c := range []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok", "events"} {
			if v, ok := s.ComponentCPUSeconds[c]; ok {
				comps = append(comps, fmt.Sprintf("%s %.1f", c, v))
			}
		}
		fmt.Fprintf(&b, "\nCPU seconds of the rest of the machine's work for this rollout: %s.\n", strings.Join(comps, ", "))
	}
	b.WriteString("\n## Method\n\n")
	for _, m := range r.Method {
		fmt.Fprintf(&b, "- %s\n", m)
	}
	return b.String()
}

func verdicts(v map[string]int) string {
	var parts []string
	for _, k := range []string{"graceful", "incomplete", "at-risk", "failed", "killed"} {
		if v[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, v[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a/b, 2)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
