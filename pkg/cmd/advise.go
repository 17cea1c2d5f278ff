package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
	"github.com/drainwatch/kubectl-drainwatch/pkg/watch"
)

// AdviseOptions are the options of `kubectl drainwatch advise`.
type AdviseOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	JSON   bool
	Output string
	budget budgetFlag

	args []string
}

const adviseExample = `  # Before a rollout: what would drop requests or be SIGKILLed, with the patch that fixes it
  kubectl drainwatch advise deploy/web -n shop

  # In CI: JSON, exit 1 when something would not be graceful
  kubectl drainwatch advise deploy/web -n shop --json

  # Judge against a budget of your own for one Service
  kubectl drainwatch advise sts/db --drain-budget svc/db=20s`

func newCmdAdvise(streams genericiooptions.IOStreams) *cobra.Command {
	o := &AdviseOptions{ConfigFlags: genericclioptions.NewConfigFlags(true), IOStreams: streams}
	o.budget.global = timeline.DefaultDrainBudget
	cmd := &cobra.Command{
		Use:   "advise TYPE/NAME",
		Short: "Say what will go wrong when a workload's pods terminate, before a rollout",
		Long: `advise reads a workload's pod template, the Services that select its pods, what routes
traffic to them (Ingresses, Gateway API routes, load balancers, kube-proxy: the traffic path,
each with the drain budget it needs) and its PodDisruptionBudgets, and says what will go wrong
when its pods terminate: no preStop hook or one shorter than the path's budget, a grace period
that does not fit the hook and the shutdown, a shell or sleep as PID 1 that ignores SIGTERM, a
sidecar that is not native, a missing or impossible PDB. Findings carry the same IDs and causes
as the timelines of a run, and the recommendation the same sizing and kubectl patch.

TYPE/NAME: deploy/, sts/, ds/, rs/ or pod/NAME.

Exit codes: 0 nothing would fail; 1 something would (a warning or an error); 2 usage,
connection or permission error.`,
		Example:       adviseExample,
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.args = args
			if o.JSON {
				o.Output = OutputJSON
			}
			switch o.Output {
			case "", OutputText, OutputJSON:
			default:
				return usageErr("unknown output %q: use -o text or json", o.Output)
			}
			if err := o.budget.validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.ConfigFlags.AddFlags(f)
	f.BoolVar(&o.JSON, "json", false, "Write the advice as one JSON object (same as -o json).")
	f.StringVarP(&o.Output, "output", "o", "", "Output: text or json.")
	f.Var(&o.budget, "drain-budget", "One duration for all Services, or svc/NAME=DURATION (repeatable); without it each Service gets the budget of its slowest traffic path.")
	return cmd
}

// Run reads the workload and its surroundings and writes the advice.
func (o *AdviseOptions) Run(ctx context.Context) error {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return usageErr("cannot load the kubeconfig: %v; check --kubeconfig, --context or $KUBECONFIG", oneLine(err))
	}
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return usageErr("cannot read the namespace: %v", oneLine(err))
	}
	if _, err := watch.Probe(ctx, cfg, watch.DefaultConnectTimeout); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	target, err := watch.Resolve(ctx, o.ConfigFlags, watch.ResolveOptions{Namespace: ns, Args: o.args})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", watch.ErrorMessage(err, cfg.Host))}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	in, err := adviseInput(ctx, cs, target)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", watch.ErrorMessage(err, cfg.Host))}
	}
	paths := discoverWith(ctx, cs, cfg, in.Namespace)
	in.Paths, in.Budgets, in.DrainBudget = paths.Paths, o.budget.budgets(paths.Paths), o.budget.global
	a := timeline.Advise(in)
	if err := o.write(a, paths.Gaps); err != nil {
		return err
	}
	if a.Fails() {
		return &ExitError{Code: ExitNotGraceful}
	}
	return nil
}

func (o *AdviseOptions) write(a timeline.Advice, gaps []string) error {
	if o.Output == OutputJSON {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", b)
		return err
	}
	if _, err := io.WriteString(o.Out, textutil.Sanitize(a.Text())); err != nil {
		return err
	}
	for _, g := range gaps {
		fmt.Fprintf(o.Out, "  note: traffic path not fully known: %s\n", textutil.Sanitize(g))
	}
	return nil
}

// adviseInput reads the target's pod template, replicas, the Services selecting its pods and
// the PDBs of its namespace.
func adviseInput(ctx context.Context, cs kubernetes.Interface, t *watch.Target) (timeline.AdviseInput, error) {
	in := timeline.AdviseInput{Kind: t.Kind, Name: t.Name, Namespace: t.Namespace, Replicas: 1}
	get := metav1.GetOptions{}
	switch t.Kind {
	case watch.KindDeployment:
		d, err := cs.AppsV1().Deployments(t.Namespace).Get(ctx, t.Name, get)
		if err != nil {
			return in, err
		}
		in.Template, in.Replicas = d.Spec.Template, replicasOf(d.Spec.Replicas)
	case watch.KindStatefulSet:
		s, err := cs.AppsV1().StatefulSets(t.Namespace).Get(ctx, t.Name, get)
		if err != nil {
			return in, err
		}
		in.Template, in.Replicas = s.Spec.Template, replicasOf(s.Spec.Replicas)
	case watch.KindDaemonSet:
		d, err := cs.AppsV1().DaemonSets(t.Namespace).Get(ctx, t.Name, get)
		if err != nil {
			return in, err
		}
		in.Template, in.Replicas = d.Spec.Template, d.Status.DesiredNumberScheduled
	case watch.KindReplicaSet:
		r, err := cs.AppsV1().ReplicaSets(t.Namespace).Get(ctx, t.Name, get)
		if err != nil {
			return in, err
		}
		in.Template, in.Replicas = r.Spec.Template, replicasOf(r.Spec.Replicas)
	case watch.KindPod:
		p, err := cs.CoreV1().Pods(t.Namespace).Get(ctx, t.Name, get)
		if err != nil {
			return in, err
		}
		in.Template = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: p.Labels}, Spec: p.Spec}
	default:
		return in, usageErr("advise reads a pod template: name a deploy/, sts/, ds/, rs/ or pod/, not %s", t.Display)
	}
	svcs, err := cs.CoreV1().Services(t.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return in, err
	}
	set := labels.Set(in.Template.Labels)
	for _, s := range svcs.Items {
		if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(set) {
			in.Services = append(in.Services, s.Name)
		}
	}
	sort.Strings(in.Services)
	if pdbs, err := cs.PolicyV1().PodDisruptionBudgets(t.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
		in.PDBs = pdbs.Items
	}
	return in, nil
}

func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}
