// Command kubectl-drainwatch is the kubectl drainwatch plugin.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/drainwatch/kubectl-drainwatch/pkg/cmd"
)

func main() {
	cmd.WatchProcs = 1
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A reader that goes away (| head -1) must not kill the process before the recording and
	// the report are complete: writes to it then fail with EPIPE, which the output ignores.
	signal.Ignore(syscall.SIGPIPE)
	root := cmd.NewCmdDrainwatch(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil && err.Error() != "" && cmd.ExitCode(err) != cmd.ExitNotGraceful {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(cmd.ExitCode(err))
}
