package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/drainwatch/kubectl-drainwatch/pkg/watch"
)

// completionTimeout bounds each API request of a shell completion unless --request-timeout
// says otherwise: a prompt must not hang on an unreachable cluster.
const completionTimeout = "5s"

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
			for _, t := range watch.TargetTypes {
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

func (o *Options) completeNames(typ, prefix string) []string {
	if t := o.ConfigFlags.Timeout; t != nil && (*t == "" || *t == "0") {
		*t = completionTimeout
	}
	ns := ""
	if o.ConfigFlags.Namespace != nil {
		ns = *o.ConfigFlags.Namespace
	}
	return watch.CompleteNames(o.ConfigFlags, ns, o.AllNamespaces, typ, prefix)
}
