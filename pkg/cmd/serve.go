package cmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/drainwatch/kubectl-drainwatch/pkg/serve"
	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
	"github.com/drainwatch/kubectl-drainwatch/pkg/version"
)

// serveGCPercent is serve's GOGC unless the variable is set.
const serveGCPercent = 50

// DefaultMetricsAddr is where serve answers /metrics, /healthz and /readyz by default.
const DefaultMetricsAddr = ":9477"

const serveExample = `  # In the cluster (or anywhere): every termination of every namespace as metrics and JSON lines
  kubectl-drainwatch serve --metrics-addr :9477

  # One namespace, with a span per termination sent to an OpenTelemetry Collector
  kubectl-drainwatch serve -n shop --otlp-endpoint http://otel-collector:4318

  # As one of two replicas (deploy/ runs it so)
  kubectl-drainwatch serve --leader-elect

  # Replay a recording into the exporters and keep serving /metrics (demos, tests)
  kubectl-drainwatch serve --replay web.ndjson`

// newCmdServe is `serve`: the watch of every pod of the cluster (or of -n / -l) that never
// ends, each finished timeline exported as Prometheus metrics and written as a JSON line.
func newCmdServe(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	var addr string
	var le leaderElection
	var otlp string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Watch every termination of the cluster and export it: Prometheus metrics, OTLP traces, JSON lines",
		Long: `serve watches the pods of every namespace (or of -n, narrowed by -l), builds each pod's
termination timeline with the same engine as the other commands, and exports every finished one:

  /metrics  drainwatch_terminations_total{namespace,owner_kind,owner,verdict},
            drainwatch_findings_total{namespace,owner_kind,owner,id,cause},
            drainwatch_shutdown_seconds and drainwatch_drain_margin_seconds histograms,
            drainwatch_cache_synced, drainwatch_watch_restarts_total,
            drainwatch_dropped_events_total, drainwatch_leader,
            drainwatch_standby_timelines, and the Go and process collectors.
            No label names a pod: the series are bounded by owners.
  traces    with --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT: a span
            k8s.pod.termination per termination over OTLP/HTTP, its marks as
            events, verdict, findings and cause as attributes; one trace per
            rollout, scale-down, drain or bare pod deletion.
  stdout    one PodTimeline JSON line per finished termination (as --json).
  /healthz  200 while the process runs; /readyz 200 once the caches are synced.

Finished timelines are not kept: memory follows the terminations in progress. The Go garbage
collector runs at GOGC=50 (a lower peak for some CPU) unless GOGC is set, and once the caches
are synced the Go runtime uses one processor (fewer thread wake-ups) unless GOMAXPROCS is set.

With --leader-elect, every replica watches and only the holder of the Lease exports; a replica
that takes over exports what finished since the previous holder stopped (at least once around
the takeover), so a failover in the middle of a rollout loses none of its terminations.

Exit codes: 0 stopped by a signal (or, with --replay, after the recording when interrupted);
2 usage, connection or permission error; 3 the recording could not be read.`,
		Example:       serveExample,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.AllNamespaces = o.Replay == "" && (o.ConfigFlags.Namespace == nil || *o.ConfigFlags.Namespace == "")
			o.JSON = true
			if err := o.Complete(cmd, nil); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			if le.enabled && o.Replay != "" {
				return usageErr("--leader-elect is for a watch of the cluster: drop it with --replay")
			}
			if err := serve.CheckOTLP(otlp); err != nil {
				return usageErr("%v", err)
			}
			if os.Getenv("GOGC") == "" {
				// A daemon that lives with a memory limit: collect at half the default heap
				// growth, trading some CPU for a lower peak (GOGC overrides it).
				debug.SetGCPercent(serveGCPercent)
			}
			return o.serve(cmd.Context(), addr, le, otlp)
		},
	}
	f := cmd.Flags()
	o.ConfigFlags.AddFlags(f)
	f.StringVar(&addr, "metrics-addr", DefaultMetricsAddr, "Address to serve /metrics, /healthz and /readyz on.")
	f.StringVarP(&o.Selector, "selector", "l", "", "Only pods matching this label selector.")
	f.StringVar(&o.Replay, "replay", "", "Export a recording instead of watching a cluster, then keep serving until stopped.")
	f.StringVar(&otlp, "otlp-endpoint", "", "Send a span per termination over OTLP/HTTP to this base URL (e.g. http://otel-collector:4318; /v1/traces is appended). Without it the standard OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables are used; with neither, no traces are sent.")
	f.BoolVar(&le.enabled, "leader-elect", false, "Run as one of several replicas: all watch, only the holder of a coordination.k8s.io Lease exports; another takes over when it goes.")
	f.StringVar(&le.namespace, "leader-elect-namespace", "", "Namespace of the Lease; default $POD_NAMESPACE, else the kubeconfig's namespace.")
	f.StringVar(&le.name, "leader-elect-lease", "kubectl-drainwatch", "Name of the Lease.")
	o.budget.global = o.DrainBudget
	f.Var(&o.budget, "drain-budget", "One duration for all Services, or svc/NAME=DURATION (repeatable); without it each Service gets the budget of its slowest traffic path.")
	return cmd
}

// serve runs the pipeline into the exporters until ctx is done (with leader election, until
// this replica loses the Lease).
func (o *Options) serve(ctx context.Context, addr string, le leaderElection, otlp string) error {
	m := serve.NewMetrics()
	o.onWatchError = m.WatchRestart
	o.forget = true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var traces *serve.Traces
	if serve.TracesWanted(otlp) {
		var err error
		if traces, err = serve.NewOTLPTraces(ctx, serve.OTLPConfig{Endpoint: otlp, Version: version.Get().Version}); err != nil {
			return usageErr("%v", oneLine(err))
		}
		defer func() {
			flush, stop := context.WithTimeout(context.Background(), 5*time.Second)
			defer stop()
			if err := traces.Shutdown(flush); err != nil {
				fmt.Fprintf(o.ErrOut, "warning: sending the last spans: %s\n", oneLine(err))
			}
		}()
		fmt.Fprintln(o.ErrOut, "exporting a span per termination over OTLP/HTTP")
		otel.SetErrorHandler(&otlpWarnings{out: o.ErrOut, every: time.Minute})
	}
	errc := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		errc <- serve.Serve(ctx, addr, m.Handler(), func(a net.Addr) {
			fmt.Fprintf(o.ErrOut, "serving /metrics, /healthz and /readyz on %s\n", a)
			close(listening)
		})
	}()
	select {
	case err := <-errc:
		return usageErr("cannot serve on --metrics-addr %s: %v", addr, oneLine(err))
	case <-listening:
	}
	jsonOut := newJSONSink(o.Out, o.ErrOut)
	export := func(tl timeline.PodTimeline) error {
		m.Timeline(tl)
		if traces != nil {
			traces.Timeline(tl)
		}
		return jsonOut.finished(tl)
	}
	s := &serveSink{standby: serve.NewLeader(export), m: m, errOut: o}
	m.Leading(!le.enabled)
	watchCtx := ctx
	leaderDone := make(chan error, 1)
	stopElection := func() {}
	synced := make(chan struct{})
	if le.enabled {
		// Every replica watches; only the holder of the Lease exports (standby). Losing the Lease
		// ends the watch and the process, as for any leader-elected controller. On a stop the
		// watch ends first and the Lease is released after: whatever finished after the release
		// is the next holder's to export.
		s.standby = serve.NewStandby(export, standbyWindow, standbyMax)
		s.ha = true
		var stopWatch context.CancelFunc
		watchCtx, stopWatch = context.WithCancel(ctx)
		defer stopWatch()
		var electCtx context.Context
		electCtx, stopElection = context.WithCancel(context.WithoutCancel(ctx))
		defer stopElection()
		go func() {
			// Campaign only after watching for a while: a replica that just started (often the
			// one replacing a leader that died) did not see what finished before it, so the
			// standby that has been watching all along must win the takeover. What finishes
			// during the wait is kept and exported on leading.
			select {
			case <-synced:
				select {
				case <-time.After(standbyWarmup):
				case <-electCtx.Done():
				}
			case <-electCtx.Done():
			}
			if electCtx.Err() != nil {
				leaderDone <- nil
				return
			}
			err := o.whileLeader(electCtx, le, func(since time.Time) {
				if !since.IsZero() {
					fmt.Fprintf(o.ErrOut, "exporting what finished since the previous holder's last renewal (%s)\n", since.UTC().Format(time.RFC3339Nano))
				}
				if err := s.standby.Lead(since); err != nil {
					fmt.Fprintf(o.ErrOut, "warning: %s\n", oneLine(err))
				}
				m.Leading(true)
				m.Kept(0)
			})
			if err == nil && electCtx.Err() == nil {
				err = &ExitError{Code: ExitUsage, Err: fmt.Errorf("lost Lease %s: could not renew it in time; exiting to start again as a standby", le.name)}
			}
			leaderDone <- err
			stopWatch()
		}()
	} else {
		leaderDone <- nil
	}
	src, err := o.source(watchCtx)
	if err == nil {
		m.Synced()
		close(synced)
		_, err = o.pipeline(watchCtx, src, s)
	}
	stopElection()
	if lerr := <-leaderDone; err == nil {
		err = lerr
	}
	if err != nil {
		return err
	}
	if o.Replay != "" && ctx.Err() == nil {
		fmt.Fprintln(o.ErrOut, "recording exported; serving until stopped")
		<-ctx.Done()
	}
	cancel()
	return <-errc
}

// otlpWarnings prints the OTLP exporter's errors (an unreachable collector, a refused batch)
// as one-line warnings, at most one per interval, with how many were left out.
type otlpWarnings struct {
	mu      sync.Mutex
	out     io.Writer
	every   time.Duration
	last    time.Time
	skipped int
}

func (w *otlpWarnings) Handle(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now := time.Now(); now.Sub(w.last) >= w.every {
		more := ""
		if w.skipped > 0 {
			more = fmt.Sprintf(" (and %d more since the last warning)", w.skipped)
		}
		fmt.Fprintf(w.out, "warning: sending spans: %s%s; check --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT\n", oneLine(err), more)
		w.last, w.skipped = now, 0
		return
	}
	w.skipped++
}

// A replica that does not hold the Lease keeps what finished in the last standbyWindow (more
// than a Lease's duration plus its renew deadline), at most standbyMax timelines.
//
// standbyWarmup is how long a replica watches after its caches synced before it campaigns for
// the Lease: the Lease's duration, so a replica that has been watching takes over first.
const (
	standbyWarmup = 15 * time.Second
	standbyWindow = time.Minute
	standbyMax    = 4096
)

// serveSink exports each finished timeline (through the standby) and counts the watch's health.
type serveSink struct {
	standby *serve.Standby
	m       *serve.Metrics
	errOut  *Options
	// ha: other replicas watch too, so terminations still open at the end are theirs to finish.
	ha bool
}

func (s *serveSink) finished(tl timeline.PodTimeline) error {
	err := s.standby.Finished(tl)
	if !s.standby.Leading() {
		n, _ := s.standby.Kept()
		s.m.Kept(n)
	}
	return err
}

func (s *serveSink) status(line string) { fmt.Fprintln(s.errOut.ErrOut, textutil.Sanitize(line)) }

func (s *serveSink) changed(eng *timeline.Engine) { s.m.Dropped(eng.Dropped()) }

// end exports the terminations still open when serving stops, unless another replica watches
// them too; no Summary is written: a serve has no end of its own to sum up.
func (s *serveSink) end(open []timeline.PodTimeline, _ timeline.Summary, _ timeline.Snapshot) error {
	if s.ha {
		return nil
	}
	for _, tl := range open {
		if err := s.finished(tl); err != nil {
			return err
		}
	}
	return nil
}

// leaderElection is serve's --leader-elect flags.
type leaderElection struct {
	enabled         bool
	namespace, name string
}

// whileLeader campaigns for the Lease and calls lead once this replica holds it, with the time
// the previous holder last renewed or released it. It returns once the Lease is lost or ctx is
// done.
func (o *Options) whileLeader(ctx context.Context, le leaderElection, lead func(since time.Time)) error {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return usageErr("cannot load the kubeconfig: %v; check --kubeconfig, --context or $KUBECONFIG", oneLine(err))
	}
	ns := firstNonEmpty(le.namespace, os.Getenv("POD_NAMESPACE"))
	if ns == "" {
		if ns, _, err = o.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	id, err := os.Hostname()
	if err != nil || id == "" {
		id = fmt.Sprintf("drainwatch-%d", os.Getpid())
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return runLeader(ctx, cs, ns, le.name, id, o.ErrOut, lead)
}

// observingLock remembers the latest renewal it read of a Lease held by another replica (or
// released: a release writes an empty holder and the time).
type observingLock struct {
	resourcelock.Interface
	mu   sync.Mutex
	last time.Time
}

func (l *observingLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	r, b, err := l.Interface.Get(ctx)
	if err == nil && r != nil && r.HolderIdentity != l.Identity() && r.RenewTime.After(l.last) {
		l.mu.Lock()
		l.last = r.RenewTime.Time
		l.mu.Unlock()
	}
	return r, b, err
}

func (l *observingLock) lastOther() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// runLeader campaigns for the Lease ns/name as id and calls lead once it holds it (see
// whileLeader); it returns when the Lease is lost or ctx is done, after releasing it.
func runLeader(ctx context.Context, cs kubernetes.Interface, ns, name, id string, log io.Writer, lead func(since time.Time)) error {
	lock := &observingLock{Interface: &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Client: cs.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: id}}}
	fmt.Fprintf(log, "waiting for Lease %s/%s as %s\n", ns, name, id)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, ReleaseOnCancel: true,
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {
				fmt.Fprintf(log, "holding Lease %s/%s: exporting\n", ns, name)
				lead(lock.lastOther())
			},
			OnStoppedLeading: func() { fmt.Fprintf(log, "Lease %s/%s lost or released: stopped exporting\n", ns, name) },
			OnNewLeader: func(holder string) {
				if holder != id {
					fmt.Fprintf(log, "Lease %s/%s held by %s\n", ns, name, textutil.Sanitize(holder))
				}
			},
		},
	})
	if err != nil {
		return usageErr("leader election: %v", oneLine(err))
	}
	elector.Run(ctx)
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
