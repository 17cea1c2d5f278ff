package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/drainwatch/kubectl-drainwatch/pkg/version"
)

const versionExample = `  # Print the plugin version, commit, Go and client-go versions
  kubectl drainwatch version

  # The same as one JSON object, for scripts and bug reports
  kubectl drainwatch version -o json`

// VersionOptions holds the flags of `kubectl drainwatch version`.
type VersionOptions struct {
	genericiooptions.IOStreams

	// Output is "text" or "json".
	Output string

	// info returns the build identity; tests replace it to get fixed values.
	info func() version.Info
}

// NewVersionOptions returns VersionOptions with text output and the identity
// of the running binary.
func NewVersionOptions(streams genericiooptions.IOStreams) *VersionOptions {
	return &VersionOptions{
		IOStreams: streams,
		Output:    "text",
		info:      version.Get,
	}
}

// NewCmdVersion returns the `version` subcommand.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdVersion(NewVersionOptions(streams))
}

// newCmdVersion wires o into a command; tests pass options with a fixed
// build identity.
func newCmdVersion(o *VersionOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of kubectl drainwatch",
		Long: "Print the version and commit of kubectl drainwatch and the Go and client-go " +
			"versions it was built with. Include this in bug reports.",
		Example: versionExample,
		Args:    cobra.NoArgs,
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: text or json.")
	return cmd
}

// Complete has nothing to derive: the build identity is fixed at link time.
func (o *VersionOptions) Complete(_ *cobra.Command, _ []string) error {
	return nil
}

// Validate rejects output formats the command cannot print.
func (o *VersionOptions) Validate() error {
	switch o.Output {
	case "text", "json":
		return nil
	default:
		return fmt.Errorf("--output %q is not supported by version: use text or json", o.Output)
	}
}

// Run prints the build identity to o.Out.
func (o *VersionOptions) Run(_ context.Context) error {
	info := o.info()
	if o.Output == "json" {
		return info.WriteJSON(o.Out)
	}
	return info.WriteText(o.Out)
}
