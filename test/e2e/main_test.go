//go:build e2e

package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// cluster is what every scenario needs. TestMain fills it once before any test runs and no
// test changes it afterwards.
type cluster struct {
	repo string
	// dir is the cluster's state directory (logs, kubeconfigs); kubeconfig is its admin one and
	// limitedKubeconfig the one of the user who may not read Events.
	dir               string
	kubeconfig        string
	limitedKubeconfig string
	bin               string // pinned cluster binaries (kubectl)
	plugin            string // the kubectl-drainwatch built for this run
	pluginDir         string
	client            kubernetes.Interface
	recordDir         string
}

var env cluster

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: "+format+"\n", a...)
		return 1
	}
	wd, err := os.Getwd()
	if err != nil {
		return fail("%v", err)
	}
	env.repo = filepath.Clean(filepath.Join(wd, "..", ".."))
	env.recordDir = os.Getenv("DRAINWATCH_E2E_RECORD_DIR")

	env.bin = os.Getenv("DRAINWATCH_CLUSTER_BIN")
	if env.bin == "" {
		out, err := command(env.repo, "test/cluster/build.sh")
		if err != nil {
			return fail("cannot build the cluster binaries: %v\n%s", err, out)
		}
		env.bin = lastLine(out)
	}

	env.kubeconfig = os.Getenv("DRAINWATCH_E2E_KUBECONFIG")
	if env.kubeconfig == "" {
		// No cluster given: start one for this run and always stop it.
		fmt.Fprintln(os.Stderr, "e2e: DRAINWATCH_E2E_KUBECONFIG not set, starting the local cluster (test/cluster/up.sh)")
		start := time.Now()
		out, err := command(env.repo, "test/cluster/up.sh")
		if err != nil {
			return fail("the local cluster did not start (it needs root on Linux): %v\n%s", err, out)
		}
		fmt.Fprintf(os.Stderr, "e2e: cluster up in %s\n", time.Since(start).Round(time.Second))
		env.kubeconfig = lastLine(out)
		defer func() {
			start := time.Now()
			if out, err := command(env.repo, "test/cluster/down.sh"); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: down.sh failed: %v\n%s", err, out)
			}
			fmt.Fprintf(os.Stderr, "e2e: cluster down in %s\n", time.Since(start).Round(time.Second))
		}()
	}
	env.dir = filepath.Dir(env.kubeconfig)
	env.limitedKubeconfig = filepath.Join(env.dir, "kubeconfig-limited")
	for _, f := range []string{env.kubeconfig, env.limitedKubeconfig, filepath.Join(env.bin, "kubectl")} {
		if _, err := os.Stat(f); err != nil {
			return fail("%v", err)
		}
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", env.kubeconfig)
	if err != nil {
		return fail("kubeconfig: %v", err)
	}
	env.client, err = kubernetes.NewForConfig(cfg)
	if err != nil {
		return fail("client: %v", err)
	}

	env.pluginDir, err = os.MkdirTemp("", "drainwatch-e2e-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(env.pluginDir)
	env.plugin = filepath.Join(env.pluginDir, "kubectl-drainwatch")
	start := time.Now()
	tags, err := os.ReadFile(filepath.Join(env.repo, "hack", "dist", "build-tags"))
	if err != nil {
		return fail("%v", err)
	}
	if out, err := command(env.repo, "go", "build", "-tags", strings.TrimSpace(string(tags)), "-o", env.plugin, "./cmd/kubectl-drainwatch"); err != nil {
		return fail("cannot build kubectl-drainwatch: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", env.plugin, time.Since(start).Round(time.Millisecond))

	go stalls.run()
	code := m.Run()
	if code != 0 {
		dumpClusterLogs()
	}
	return code
}

// dumpClusterLogs prints the end of every component log, and copies them all to
// $DRAINWATCH_E2E_LOGS when set, so a failure can be understood after the cluster is gone.
func dumpClusterLogs() {
	logs, _ := filepath.Glob(filepath.Join(env.dir, "logs", "*.log"))
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		fmt.Fprintf(os.Stderr, "\n===== last lines of %s =====\n%s\n", f, strings.Join(lines, "\n"))
	}
	if dst := os.Getenv("DRAINWATCH_E2E_LOGS"); dst != "" {
		if out, err := exec.Command("cp", "-r", filepath.Join(env.dir, "logs"), dst).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: copying logs to %s: %v %s\n", dst, err, out)
		} else {
			fmt.Fprintf(os.Stderr, "e2e: cluster logs copied to %s\n", dst)
		}
	}
}

// command runs name in dir and returns its stdout; its stderr goes to ours so progress shows.
func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	return out.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
