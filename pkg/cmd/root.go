// Package cmd is the kubectl-drainwatch command line: flags, output modes and exit codes.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Exit codes.
const (
	ExitOK          = 0 // every pod terminated gracefully
	ExitNotGraceful = 1 // some pod did not
	ExitUsage       = 2 // usage, connection or permission error
	ExitRecording   = 3 // the recording could not be read
	// ExitInterrupted: Ctrl+C or SIGTERM before watching started (after, the run ends with its
	// summary and the usual code).
	ExitInterrupted = 130
)

// ExitError carries the exit code of a failed run.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by Execute to the process exit code.
func ExitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err != nil {
		return ExitUsage
	}
	return ExitOK
}

func usageErr(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// Output modes.
const (
	OutputTUI  = "tui"
	OutputJSON = "json"
	OutputText = "text"
)

// Options holds the flags of kubectl drainwatch and what Complete derives from them.
type Options struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	AllNamespaces bool
	Selector      string
	JSON          bool
	Output        string
	Record        string
	Overwrite     bool
	Replay        string
	Report        string
	Speed         float64
	DrainBudget   time.Duration
	budget        budgetFlag
	UntilDone     bool
	Timeout       time.Duration
	Color         string
	WaitForTarget bool
	LogFile       string
	Verbosity     int32

	args      []string
	namespace string
	// isTerminal reports whether a writer is a terminal; tests replace it.
	isTerminal func(io.Writer) bool
	// probeTimeout overrides the connect timeout (tests).
	probeTimeout time.Duration
	// onWatchError is told of every broken watch (serve counts them); forget drops finished
	// timelines from the engine (serve never ends).
	onWatchError func()
	forget       bool
}

// NewOptions returns Options with defaults.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		IOStreams:   streams,
		DrainBudget: timeline.DefaultDrainBudget,
		Speed:       1,
		Color:       "auto",
		isTerminal: func(w io.Writer) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(f.Fd())
		},
	}
}

const example = `  # Watch a rollout: one live timeline per terminating pod (a TUI on a terminal)
  kubectl drainwatch deploy/web
  kubectl rollout restart deploy/web      # in another terminal

  # Watch a node drain
  kubectl drainwatch node/worker-1 --until-done

  # In a CD pipeline: JSON lines, exit 1 if any pod did not terminate gracefully
  kubectl drainwatch deploy/web -n shop --json --until-done --timeout 10m

  # Record a session for a bug report, and replay it later (no cluster needed)
  kubectl drainwatch deploy/web --record web.ndjson
  kubectl drainwatch --replay web.ndjson

  # Before a rollout: what will drop requests or be SIGKILLed, and the patch
  kubectl drainwatch advise deploy/web

  # A Service behind a load balancer that needs 30s to stop sending
  kubectl drainwatch deploy/web --drain-budget svc/web=30s

  # Write a self-contained HTML report when done
  kubectl drainwatch --replay web.ndjson --report rollout.html`

// NewCmdDrainwatch returns the root command.
func NewCmdDrainwatch(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmd(NewOptions(streams))
}

func newCmd(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		// The name is the binary's, so that shell completion registers for kubectl-drainwatch;
		// help shows it as it is used, "kubectl drainwatch".
		Use:         "kubectl-drainwatch [TYPE/NAME | TYPE NAME]",
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl drainwatch"},
		Short:       "Watch pods terminate and tell whether they drained traffic and shut down gracefully",
		Long: `kubectl drainwatch watches Pods, EndpointSlices and Events while pods terminate (a rollout,
a node drain, a scale-down) and turns them into one timeline per pod: deletion, endpoint not
ready, preStop, SIGTERM, exit or SIGKILL. Each finished timeline gets a verdict (graceful,
at-risk, failed, killed, incomplete) and findings with a concrete fix.

TYPE/NAME is what kubectl accepts: deploy/NAME, rs/, sts/, ds/, job/, svc/NAME, node/NAME,
pod/NAME. Without one, every pod in the namespace is watched; -A watches all namespaces and
-l narrows any of them.

Output: a live TUI when stdout is a terminal, JSON lines with --json (one PodTimeline per pod
as it finishes, one Summary at the end), a plain text report otherwise.

Each finding names its cause (e.g. grace-shortened, prestop-consumed-grace,
pid1-ignores-sigterm, slow-shutdown) and the facts behind it; the Summary's recommendations
size a preStop sleep and a grace period per owner from what was measured, with a kubectl patch.

Pods are judged against the drain budget of what routes to their Services (Ingresses, Gateway
API routes, load balancers, kube-proxy: the traffic path, read at start), or --drain-budget.
Before a rollout, "kubectl drainwatch advise deploy/web" says what will go wrong.

Exit codes: 0 every pod terminated gracefully; 1 some pod did not (or its termination was not
seen end to end, or it was still terminating when the watch ended); 2 usage, connection or
permission error; 3 the recording could not be read; 130 interrupted before watching started.`,
		Example:       example,
		Args:          cobra.MaximumNArgs(2),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.ConfigFlags.AddFlags(f)
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "Watch pods in all namespaces.")
	f.StringVarP(&o.Selector, "selector", "l", "", "Only pods matching this label selector (e.g. app=web).")
	f.BoolVar(&o.JSON, "json", false, "Write JSON lines: one PodTimeline per pod as its termination completes, then one Summary (same as -o json).")
	f.StringVarP(&o.Output, "output", "o", "", "Output: tui, json or text. Default: tui on a terminal, text otherwise.")
	f.StringVar(&o.Record, "record", "", "Also write every received change to FILE (NDJSON), for --replay or a bug report.")
	f.BoolVar(&o.Overwrite, "overwrite", false, "Let --record replace an existing file (without it, an existing file is refused).")
	f.StringVar(&o.Replay, "replay", "", "Read changes from a recording made with --record instead of a cluster (- reads standard input). Lines longer than 16 MiB are refused.")
	f.StringVar(&o.Report, "report", "", "When done, write a self-contained HTML report to FILE.")
	f.Float64Var(&o.Speed, "speed", 1, "Playback speed of --replay in the TUI, 0.01 to 1000 (2 = twice as fast); other outputs replay at once.")
	o.budget.global = o.DrainBudget
	f.Var(&o.budget, "drain-budget", "Time what routes to a Service needs after an endpoint turns not ready; a pod that stops serving sooner is at risk. One duration for all Services, or svc/NAME=DURATION (repeatable) for one. Without it each Service gets the budget of its slowest traffic path (Ingress, Gateway route, load balancer, kube-proxy), else 5s. Must be greater than 0.")
	f.BoolVar(&o.UntilDone, "until-done", false, "Exit when the rollout or drain of the target is complete and no watched pod is still terminating.")
	f.DurationVar(&o.Timeout, "timeout", 0, "Stop watching after this long (e.g. 10m); 0 means until interrupted. On a replay, in the recording's time.")
	f.StringVar(&o.Color, "color", o.Color, "Colors in the TUI and text output: auto, always or never (NO_COLOR is honoured).")
	f.BoolVar(&o.WaitForTarget, "wait-for-target", false, "If the target does not exist yet, wait for it instead of failing.")
	f.StringVar(&o.LogFile, "log-file", "", "Write client-go diagnostics (klog) to FILE; by default they are discarded.")
	f.Int32VarP(&o.Verbosity, "v", "v", 0, "Verbosity of the client-go diagnostics written to --log-file.")
	o.registerCompletion(cmd)
	cmd.AddCommand(NewCmdVersion(o.IOStreams))
	cmd.AddCommand(newCmdAdvise(o.IOStreams))
	cmd.AddCommand(newCmdServe(o.IOStreams))
	strictCompletionCmd(cmd)
	return cmd
}

// strictCompletionCmd makes `completion SHELL` refuse a shell cobra has no script for (exit 2,
// naming the shells) instead of printing help and exiting 0.
func strictCompletionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	c, _, err := root.Find([]string{"completion"})
	if err != nil || c == root {
		return
	}
	var shells []string
	for _, s := range c.Commands() {
		shells = append(shells, s.Name())
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return usageErr("no completion for shell %q: use one of %s", args[0], strings.Join(shells, ", "))
	}
}

// Complete turns flags and arguments into what Run needs.
func (o *Options) Complete(cmd *cobra.Command, args []string) error {
	o.args = args
	if o.JSON {
		if o.Output != "" && o.Output != OutputJSON {
			return usageErr("--json and -o %s disagree: use one of them", o.Output)
		}
		o.Output = OutputJSON
	}
	if o.Output == "" {
		o.Output = OutputText
		if o.isTerminal(o.Out) {
			o.Output = OutputTUI
		}
	}
	if o.Output != OutputTUI {
		o.Out = &pipeGuard{w: o.Out}
	}
	if o.Color == "auto" && os.Getenv("NO_COLOR") != "" {
		o.Color = "never"
	}
	if o.Replay == "" {
		ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return usageErr("cannot read the kubeconfig: %v; check --kubeconfig or $KUBECONFIG", oneLine(err))
		}
		o.namespace = ns
	}
	return nil
}

// Limits of --speed: beyond them a replay either never ends or is instant anyway.
const (
	minSpeed = 0.01
	maxSpeed = 1000.0
)

// Validate checks flag combinations.
func (o *Options) Validate() error {
	switch o.Output {
	case OutputTUI, OutputJSON, OutputText:
	default:
		return usageErr("unknown output %q: use -o tui, json or text", o.Output)
	}
	switch o.Color {
	case "auto", "always", "never":
	default:
		return usageErr("unknown --color %q: use auto, always or never", o.Color)
	}
	o.DrainBudget = o.budget.global
	if err := o.budget.validate(); err != nil {
		return err
	}
	if math.IsNaN(o.Speed) || o.Speed < minSpeed || o.Speed > maxSpeed {
		return usageErr("--speed must be between %g and %g (2 plays twice as fast)", minSpeed, maxSpeed)
	}
	if o.Output == OutputTUI && !o.isTerminal(o.Out) {
		return usageErr("-o tui needs a terminal on standard output: use -o text or --json when the output is piped or redirected")
	}
	if o.Timeout < 0 {
		return usageErr("--timeout must not be negative")
	}
	if o.Replay != "" {
		if len(o.args) > 0 || o.AllNamespaces || o.Selector != "" || o.UntilDone {
			return usageErr("--replay reads everything from the recording: drop TYPE/NAME, -A, -l and --until-done")
		}
		if o.Record != "" {
			return usageErr("--record and --replay cannot be combined")
		}
		if o.ConfigFlags.Namespace != nil && *o.ConfigFlags.Namespace != "" {
			return usageErr("-n filters a live watch; --replay replays the whole recording: drop -n")
		}
	}
	if err := o.checkFiles(); err != nil {
		return err
	}
	if o.AllNamespaces && len(o.args) > 0 {
		return usageErr("-A watches every namespace: it cannot be combined with TYPE/NAME")
	}
	return nil
}

func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Run watches (or replays) and writes the chosen output.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Timeout > 0 && o.Replay == "" {
		// A replay's --timeout is in the recording's time (replaySource).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	src, err := o.source(ctx)
	if err != nil {
		return err
	}
	return o.run(ctx, src)
}

// pipeGuard drops output once its reader has gone (EPIPE): watching goes on, and --record and
// --report are still written in full.
type pipeGuard struct {
	w      io.Writer
	closed bool
}

func (p *pipeGuard) Write(b []byte) (int, error) {
	if p.closed {
		return len(b), nil
	}
	n, err := p.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.closed = true
		return len(b), nil
	}
	return n, err
}
