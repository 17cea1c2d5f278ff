package watch

import (
	"slices"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes/scheme"
)

// CompleteNames lists the names of the objects of one type that start with prefix, sorted, for
// shell completion. typ is anything kubectl accepts (deploy, deployments, node...). Errors
// give no names: a completion has nowhere to show them.
func CompleteNames(getter genericclioptions.RESTClientGetter, namespace string, allNamespaces bool, typ, prefix string) []string {
	infos, err := resource.NewBuilder(getter).
		WithScheme(scheme.Scheme, scheme.Scheme.PrioritizedVersionsAllGroups()...).
		NamespaceParam(namespace).DefaultNamespace().AllNamespaces(allNamespaces).
		ResourceTypeOrNameArgs(true, typ).
		SingleResourceType().
		ContinueOnError().
		Flatten().
		Do().Infos()
	if err != nil && len(infos) == 0 {
		return nil
	}
	var out []string
	for _, info := range infos {
		if strings.HasPrefix(info.Name, prefix) {
			out = append(out, info.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
