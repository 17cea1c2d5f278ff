// Command profile runs kubectl-drainwatch in-process under runtime/pprof, for the diagnostic
// runs of the scale benchmark (BENCH_PROFILE=1 bench/scale.sh). It is the plugin's own main
// with profiling around it, so the plugin itself needs no profiling flag.
//
//	profile -cpu cpu.pprof -heap heap.pprof [-heap-every 5s] [-mem-rate 4096] -- deploy/web -n NS --json ...
//
// -heap writes the in-use heap at exit; with -heap-every it is also written to heap.pprof.N
// while running, so the largest one shows the peak. -mem-rate samples one allocation per that
// many bytes (Go's default is 512 KiB, too coarse to see a slow growth of a few MiB).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/drainwatch/kubectl-drainwatch/pkg/cmd"
)

func main() {
	cpu := flag.String("cpu", "", "write a CPU profile here")
	heap := flag.String("heap", "", "write the in-use heap here at exit")
	every := flag.Duration("heap-every", 0, "also write the heap to HEAP.N this often")
	rate := flag.Int("mem-rate", 0, "sample one allocation per this many bytes in the heap profile (0: Go's default)")
	flag.Parse()
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}

	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
	}
	done := make(chan struct{})
	if *heap != "" && *every > 0 {
		go func() {
			tick := time.NewTicker(*every)
			defer tick.Stop()
			for n := 1; ; n++ {
				select {
				case <-done:
					return
				case <-tick.C:
					writeHeap(fmt.Sprintf("%s.%d", *heap, n))
				}
			}
		}()
	}

	cmd.WatchProcs = 1 // as the plugin's main
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := cmd.NewCmdDrainwatch(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	root.SetArgs(flag.Args())
	err := root.ExecuteContext(ctx)
	stop()
	close(done)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *heap != "" {
		writeHeap(*heap)
	}
	if err != nil && err.Error() != "" && cmd.ExitCode(err) != cmd.ExitNotGraceful {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(cmd.ExitCode(err))
}

func writeHeap(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
	}
}
