package cmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/drainwatch/kubectl-drainwatch/pkg/serve"
	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// DefaultMetricsAddr is where serve answers /metrics, /healthz and /readyz by default.
const DefaultMetricsAddr = ":9477"

const serveExample = `  # In the cluster (or anywhere): every termination of every namespace as metrics and JSON lines
  kubectl-drainwatch serve --metrics-addr :9477

  # One namespace
  kubectl-drainwatch serve -n shop

  # Replay a recording into the exporters and keep serving /metrics (demos, tests)
  kubectl-drainwatch serve --replay web.ndjson`

// newCmdServe is `serve`: the watch of every pod of the cluster (or of -n / -l) that never
// ends, each finished timeline exported as Prometheus metrics and written as a JSON line.
func newCmdServe(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	var addr string
	var le leaderElection
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Watch every termination of the cluster and export it: Prometheus metrics and JSON lines",
		Long: `serve watches the pods of every namespace (or of -n, narrowed by -l), builds each pod's
termination timeline with the same engine as the other commands, and exports every finished one:

  /metrics  drainwatch_terminations_total{namespace,owner_kind,owner,verdict},
            drainwatch_findings_total{namespace,owner_kind,owner,id,cause},
            drainwatch_shutdown_seconds and drainwatch_drain_margin_seconds histograms,
            drainwatch_cache_synced, drainwatch_watch_restarts_total,
            drainwatch_dropped_events_total, and the Go and process collectors.
            No label names a pod: the series are bounded by owners.
  stdout    one PodTimeline JSON line per finished termination (as --json).
  /healthz  200 while the process runs; /readyz 200 once the caches are synced.

Finished timelines are not kept: memory follows the terminations in progress.

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
			return o.serve(cmd.Context(), addr, le)
		},
	}
	f := cmd.Flags()
	o.ConfigFlags.AddFlags(f)
	f.StringVar(&addr, "metrics-addr", DefaultMetricsAddr, "Address to serve /metrics, /healthz and /readyz on.")
	f.StringVarP(&o.Selector, "selector", "l", "", "Only pods matching this label selector.")
	f.StringVar(&o.Replay, "replay", "", "Export a recording instead of watching a cluster, then keep serving until stopped.")
	f.BoolVar(&le.enabled, "leader-elect", false, "Run as one of several replicas: only the holder of a coordination.k8s.io Lease watches and exports; the others wait and take over when it goes.")
	f.StringVar(&le.namespace, "leader-elect-namespace", "", "Namespace of the Lease; default $POD_NAMESPACE, else the kubeconfig's namespace.")
	f.StringVar(&le.name, "leader-elect-lease", "kubectl-drainwatch", "Name of the Lease.")
	o.budget.global = o.DrainBudget
	f.Var(&o.budget, "drain-budget", "One duration for all Services, or svc/NAME=DURATION (repeatable); without it each Service gets the budget of its slowest traffic path.")
	return cmd
}

// serve runs the pipeline into the exporters until ctx is done (with leader election, while
// this replica holds the Lease).
func (o *Options) serve(ctx context.Context, addr string, le leaderElection) error {
	m := serve.NewMetrics()
	o.onWatchError = m.WatchRestart
	o.forget = true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
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
	export := func(ctx context.Context) error {
		src, err := o.source(ctx)
		if err != nil {
			return err
		}
		m.Synced()
		s := &serveSink{json: newJSONSink(o.Out, o.ErrOut), m: m, errOut: o}
		_, err = o.pipeline(ctx, src, s)
		return err
	}
	var err error
	if le.enabled {
		m.Synced() // a follower is ready: it serves its (empty) metrics and waits
		err = o.whileLeader(ctx, le, export)
	} else {
		err = export(ctx)
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

// serveSink exports each finished timeline and writes it as a JSON line.
type serveSink struct {
	json   sink
	m      *serve.Metrics
	errOut *Options
}

func (s *serveSink) finished(tl timeline.PodTimeline) error {
	s.m.Timeline(tl)
	return s.json.finished(tl)
}

func (s *serveSink) status(line string) { fmt.Fprintln(s.errOut.ErrOut, textutil.Sanitize(line)) }

func (s *serveSink) changed(eng *timeline.Engine) { s.m.Dropped(eng.Dropped()) }

// end exports the terminations still open when serving stops; no Summary is written: a serve
// has no end of its own to sum up.
func (s *serveSink) end(open []timeline.PodTimeline, _ timeline.Summary, _ timeline.Snapshot) error {
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

// whileLeader runs export while this replica holds the Lease, and returns once it lost it or
// ctx is done. A replica that loses the Lease stops exporting at once: the new holder starts
// its own watch, so terminations it did not see from the start are joinedMidway.
func (o *Options) whileLeader(ctx context.Context, le leaderElection, export func(context.Context) error) error {
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
	return runLeader(ctx, cs, ns, le.name, id, o.ErrOut, export)
}

// runLeader campaigns for the Lease ns/name as id and runs export while it holds it.
func runLeader(ctx context.Context, cs kubernetes.Interface, ns, name, id string, log io.Writer, export func(context.Context) error) error {
	lock := &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Client: cs.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: id}}
	// OnStartedLeading runs in a goroutine Run does not wait for: it only hands over the
	// leader's context, and export runs here.
	leading := make(chan context.Context, 1)
	fmt.Fprintf(log, "waiting for Lease %s/%s as %s\n", ns, name, id)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, ReleaseOnCancel: true,
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				fmt.Fprintf(log, "holding Lease %s/%s: watching and exporting\n", ns, name)
				leading <- ctx
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
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		elector.Run(ctx)
	}()
	select {
	case lctx := <-leading:
		err := export(lctx) // until the Lease is lost or ctx is done
		<-ran
		return err
	case <-ran:
		return nil // stopped before ever holding the Lease
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
