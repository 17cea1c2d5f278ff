// Command rig is the measuring side of the scale benchmark (bench/scale.sh). Each subcommand is
// one job of the rig:
//
//	rig run        runs a watcher, stamps what it prints and measures its CPU and memory
//	rig etcdwatch  stamps every commit under an etcd key prefix (the time a change was written)
//	rig pods       creates the unrelated pods of the namespace
//	rig events     creates a steady stream of unrelated Events
//	rig wait       waits until pods are Running and Ready
//	rig analyze    joins all of it into results.json and results.md
//
// Every stamp is the local clock of this machine, which also runs etcd, the API server and
// every watcher, so stamps taken by different processes compare directly.
package main

import (
	"fmt"
	"os"
)

func main() {
	cmds := map[string]func([]string) error{
		"run":       runCmd,
		"etcdwatch": etcdWatchCmd,
		"pods":      podsCmd,
		"events":    eventsCmd,
		"wait":      waitCmd,
		"analyze":   analyzeCmd,
	}
	if len(os.Args) < 2 || cmds[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: rig run|etcdwatch|pods|events|wait|analyze [flags]")
		os.Exit(2)
	}
	if err := cmds[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "rig %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
