package cmd

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drainwatch/kubectl-drainwatch/pkg/watch"
)

// completionTimeout bounds a shell completion that asks the cluster: a prompt must not hang on
// an unreachable or slow API server. It is also the per-request timeout unless
// --request-timeout sets one.
const completionTimeout = 3 * time.Second

// registerCompletion completes TYPE/NAME (and TYPE NAME) from the cluster, and --namespace.
// For `kubectl drainwatch <TAB>` kubectl runs the kubectl_complete-drainwatch executable on
// PATH, which passes its arguments to `kubectl-drainwatch __complete`.
func (o *Options) registerCompletion(cmd *cobra.Command) {
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		switch {
		case len(args) == 0 && strings.Contains(toComplete, "/"):
			typ, prefix, _ := strings.Cut(toComplete, "/")
			names := o.completeNames(typ, prefix)
			for i, n := range names {
				names[i] = typ + "/" + n
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		case len(args) == 0:
			var types []string
			for _, t := range watch.TargetTypes() {
				if strings.HasPrefix(t, toComplete) {
					types = append(types, t)
				}
			}
			return types, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		case len(args) == 1 && !strings.Contains(args[0], "/"):
			return o.completeNames(args[0], toComplete), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	_ = cmd.RegisterFlagCompletionFunc("namespace", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return o.completeNames("namespace", toComplete), cobra.ShellCompDirectiveNoFileComp
	})
}

// completeNames lists the names of one type in the namespace the command would use (-n, else
// the kubeconfig context's), giving up after completionTimeout.
func (o *Options) completeNames(typ, prefix string) []string {
	if err := o.setupKlog(); err != nil { // client-go's complaints go to --log-file or nowhere
		return nil
	}
	if t := o.ConfigFlags.Timeout; t != nil {
		if d, err := time.ParseDuration(*t); *t == "" || *t == "0" || (err == nil && d == 0) {
			*t = completionTimeout.String()
		}
	}
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil
	}
	found := make(chan []string, 1)
	go func() { found <- watch.CompleteNames(o.ConfigFlags, ns, o.AllNamespaces, typ, prefix) }()
	select {
	case names := <-found:
		return names
	case <-time.After(completionTimeout):
		return nil // the process exits right after: the lookup is abandoned
	}
}
