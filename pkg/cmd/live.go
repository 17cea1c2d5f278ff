package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/drainwatch/kubectl-drainwatch/pkg/record"
	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"github.com/drainwatch/kubectl-drainwatch/pkg/trafficpath"
	"github.com/drainwatch/kubectl-drainwatch/pkg/watch"
)

// setupKlog sends client-go's diagnostics to --log-file, or nowhere: they must never land
// on top of the TUI or in the middle of JSON output.
func (o *Options) setupKlog() error {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	_ = fs.Set("v", fmt.Sprint(o.Verbosity))
	var w io.Writer = io.Discard
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return usageErr("cannot open --log-file: %v", oneLine(err))
		}
		w = f
	}
	klog.SetOutput(w)
	klog.LogToStderr(false)
	return nil
}

// WatchProcs, when above 0, is how many Ps (GOMAXPROCS) a live watch with JSON or text output,
// or serve, runs on once its caches have synced. The initial lists are decoded on every core;
// what follows is mostly waiting for the API server and handling one small change at a time,
// which one P does with fewer thread wake-ups (in the scale rig, 4.5-5.5 CPU s instead of
// 4.9-5.6 for a 2,000-pod rollout). A relist after a broken watch is then decoded on one P too.
// The TUI keeps every core: it renders frames beside the watch, and on one P a frame would delay
// the receive time stamped on the changes behind it. GOMAXPROCS in the environment decides
// instead when set. The plugin's main sets 1; tests leave it 0.
var WatchProcs int

// liveSource connects and starts watching (connect). Ctrl+C, SIGTERM or --timeout end it at
// once in every phase, even when a call of client-go's does not take the context.
func (o *Options) liveSource(ctx context.Context) (*source, error) {
	type result struct {
		src *source
		err error
	}
	ch := make(chan result, 1)
	go func() {
		src, err := o.connect(ctx)
		ch <- result{src, err}
	}()
	select {
	case r := <-ch:
		return r.src, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, usageErr("--timeout %s reached before watching started", o.Timeout)
		}
		return nil, &ExitError{Code: ExitInterrupted, Err: errors.New("interrupted before watching started")}
	}
}

// connect probes the API server, resolves the target, checks permissions and starts the
// informers. It returns once the caches are synced; progress goes to stderr meanwhile.
func (o *Options) connect(ctx context.Context) (*source, error) {
	if err := o.setupKlog(); err != nil {
		return nil, err
	}
	if err := o.checkKubeconfigFound(); err != nil {
		return nil, err
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, usageErr("cannot load the kubeconfig: %v; check --kubeconfig, --context or $KUBECONFIG", oneLine(err))
	}
	// API deprecation warnings would otherwise be printed over the output.
	cfg.WarningHandler = rest.NoWarnings{}
	var mu sync.Mutex // progress is called from more than one goroutine
	progress := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(o.ErrOut, textutil.Sanitize(s))
	}
	connected := make(chan struct{})
	go func() {
		// Say what is going on when the server is slow to answer; a quick answer or a quick
		// error needs no such line.
		select {
		case <-time.After(500 * time.Millisecond):
			progress("connecting to " + cfg.Host + "…")
		case <-connected:
		}
	}()
	serverVersion, err := watch.Probe(ctx, cfg, o.connectTimeout(cfg))
	close(connected)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	target, err := watch.Resolve(ctx, o.ConfigFlags, watch.ResolveOptions{
		Namespace: o.namespace, AllNamespaces: o.AllNamespaces, Selector: o.Selector,
		Args: o.args, WaitForTarget: o.WaitForTarget, Progress: progress,
	})
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", watch.ErrorMessage(err, cfg.Host))}
	}
	status := make(chan string, 64)
	var started atomic.Bool
	say := func(s string) {
		if !started.Load() {
			progress(s)
			return
		}
		sendStatus(ctx, status, s)
	}
	w, err := watch.New(cfg, target, watch.Options{Progress: say, Warn: func(s string) { say("warning: " + s) }, OnWatchError: o.onWatchError})
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", watch.ErrorMessage(err, cfg.Host))}
	}
	h := record.Header{Start: time.Now().UTC(), Target: target.Display, Namespace: target.Namespace}
	if raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		h.Context = raw.CurrentContext
		if o.ConfigFlags.Context != nil && *o.ConfigFlags.Context != "" {
			h.Context = *o.ConfigFlags.Context
		}
	}
	h.ServerVersion = serverVersion
	// The traffic path is read while the informers list: it is a few requests of its own, and
	// nothing uses it before the first delta.
	pathsc := make(chan trafficpath.Result, 1)
	go func() { pathsc <- discoverPaths(ctx, cfg, target.Namespace) }()
	if err := w.Start(ctx); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", watch.ErrorMessage(err, cfg.Host))}
	}
	paths := <-pathsc
	h.TrafficPaths, h.TrafficPathGaps = paths.Paths, paths.Gaps
	if WatchProcs > 0 && o.Output != OutputTUI && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(WatchProcs)
	}
	started.Store(true)
	h.Partial = w.Partial()
	progress("watching " + target.Display + " (caches synced)")
	src := &source{header: h, wake: w.Wake(), take: w.Take, status: status, err: func() error { return nil }, warnings: w.Warnings}
	if o.UntilDone {
		if !target.CanFinish() {
			return nil, usageErr("--until-done needs a target that finishes (deploy/, sts/, node/, pod/); %s never does", target.Display)
		}
		src.done = w.Done()
	}
	return src, nil
}

// connectTimeout bounds the first request: --request-timeout when set, else
// watch.DefaultConnectTimeout (tests shorten it).
func (o *Options) connectTimeout(cfg *rest.Config) time.Duration {
	switch {
	case o.probeTimeout > 0:
		return o.probeTimeout
	case cfg.Timeout > 0:
		return cfg.Timeout
	}
	return watch.DefaultConnectTimeout
}

// checkKubeconfigFound says so when there is no kubeconfig and no in-cluster config: client-go
// would otherwise fall back to http://localhost:8080 and the error would be about that.
func (o *Options) checkKubeconfigFound() error {
	if o.ConfigFlags.APIServer != nil && *o.ConfigFlags.APIServer != "" || os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return nil
	}
	loader := o.ConfigFlags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil || len(raw.Clusters) > 0 {
		return nil // a broken kubeconfig is reported when it is loaded
	}
	files := loader.ConfigAccess().GetLoadingPrecedence()
	where := "no kubeconfig file"
	if len(files) > 0 {
		where = strings.Join(files, ", ")
	}
	if env := os.Getenv("KUBECONFIG"); env != "" && (o.ConfigFlags.KubeConfig == nil || *o.ConfigFlags.KubeConfig == "") {
		return usageErr("no kubeconfig found: $KUBECONFIG names %s, which has no cluster (missing or empty); pass --kubeconfig FILE or fix KUBECONFIG", where)
	}
	return usageErr("no kubeconfig found (looked for %s) and not running in a cluster; pass --kubeconfig FILE or set KUBECONFIG", where)
}

// pathTimeout bounds the traffic-path discovery: a few lists, read once at start.
const pathTimeout = 10 * time.Second

// discoverPaths reads what routes to the Services of namespace ("" for all); what it cannot
// read is a gap, never an error.
func discoverPaths(ctx context.Context, cfg *rest.Config, namespace string) trafficpath.Result {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return trafficpath.Result{Gaps: []string{"traffic path: " + oneLine(err)}}
	}
	return discoverWith(ctx, cs, cfg, namespace)
}

// discoverWith bounds the discovery by pathTimeout; without a dynamic client it skips the
// CRDs (Gateway API, TargetGroupBindings).
func discoverWith(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config, namespace string) trafficpath.Result {
	ctx, cancel := context.WithTimeout(ctx, pathTimeout)
	defer cancel()
	var dyn dynamic.Interface
	if d, err := dynamic.NewForConfig(cfg); err == nil {
		dyn = d
	}
	return trafficpath.Discover(ctx, cs, dyn, namespace)
}
