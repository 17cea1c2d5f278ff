package cmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/drainwatch/kubectl-drainwatch/pkg/record"
	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
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

// liveSource resolves the target, checks permissions and starts the informers. It returns
// once the caches are synced; progress goes to stderr meanwhile.
func (o *Options) liveSource(ctx context.Context) (*source, error) {
	if err := o.setupKlog(); err != nil {
		return nil, err
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, usageErr("cannot load the kubeconfig: %v; check --kubeconfig, --context or $KUBECONFIG", oneLine(err))
	}
	// API deprecation warnings would otherwise be printed over the output.
	cfg.WarningHandler = rest.NoWarnings{}
	progress := func(s string) { fmt.Fprintln(o.ErrOut, textutil.Sanitize(s)) }
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
	w, err := watch.New(cfg, target, watch.Options{Progress: say, Warn: func(s string) { say("warning: " + s) }})
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
	if dc, err := discovery.NewDiscoveryClientForConfig(cfg); err == nil {
		if v, err := dc.ServerVersion(); err == nil {
			h.ServerVersion = v.GitVersion
		}
	}
	if err := w.Start(ctx); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", watch.ErrorMessage(err, cfg.Host))}
	}
	started.Store(true)
	h.Partial = w.Partial()
	fmt.Fprintf(o.ErrOut, "watching %s (caches synced)\n", textutil.Sanitize(target.Display))
	src := &source{header: h, deltas: w.Deltas(), status: status, err: func() error { return nil }}
	if o.UntilDone {
		if !target.CanFinish() {
			return nil, usageErr("--until-done needs a target that finishes (deploy/, sts/, node/, pod/); %s never does", target.Display)
		}
		src.done = w.Done()
	}
	return src, nil
}
