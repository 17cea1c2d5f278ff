package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is what rig run measured about one watcher.
type Process struct {
	Name  string    `json:"name"`
	Argv  []string  `json:"argv"`
	PID   int       `json:"pid"`
	Start time.Time `json:"start"`
	// FirstOutput is when the watcher first said it was ready: a line on stderr containing
	// the -ready text, or else its first record on stdout.
	FirstOutput *time.Time `json:"firstOutput,omitempty"`
	End         time.Time  `json:"end"`
	ExitCode    int        `json:"exitCode"`
	// Stopped is true when the rig ended the process (SIGINT) rather than it exiting on its own.
	Stopped bool `json:"stopped"`
	// CPU from the kernel's accounting of the child when it was reaped (wait4 rusage).
	UserSeconds   float64 `json:"userSeconds"`
	SystemSeconds float64 `json:"systemSeconds"`
	// Context switches (ru_nvcsw, ru_nivcsw): a thread gave up the CPU to wait (voluntary), or
	// the kernel took it away (involuntary). Each time a Go thread parks for want of work
	// counts as a voluntary switch.
	VoluntarySwitches   int64 `json:"voluntarySwitches"`
	InvoluntarySwitches int64 `json:"involuntarySwitches"`
	// MaxRSSKiB is ru_maxrss; VmHWMKiB the largest VmHWM read from /proc while it ran. Both
	// are the kernel's resident-set high-water mark.
	MaxRSSKiB int64 `json:"maxRSSKiB"`
	VmHWMKiB  int64 `json:"vmHWMKiB"`
	// The split of the largest resident set sampled (every 500 ms from smaps_rollup):
	// anonymous memory (heap, stacks) and file-backed pages (mostly the binary).
	SampledRSSKiB int64 `json:"sampledRSSKiB"`
	AnonKiB       int64 `json:"anonKiB"`
	FileKiB       int64 `json:"fileKiB"`
	StdoutRecords int   `json:"stdoutRecords"`
}

// Stamp is one record a watcher printed, with the local time it was read from the pipe.
type Stamp struct {
	T         time.Time `json:"t"`
	Kind      string    `json:"kind,omitempty"`
	Namespace string    `json:"ns,omitempty"`
	Name      string    `json:"name,omitempty"`
	UID       string    `json:"uid,omitempty"`
	RV        string    `json:"rv,omitempty"`
	Verdict   string    `json:"verdict,omitempty"`
	Deleting  bool      `json:"deleting,omitempty"`
}

// record reads both what drainwatch prints (PodTimeline, Summary) and Kubernetes objects.
type record struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
	Verdict   string `json:"verdict"`
	Metadata  struct {
		Namespace         string  `json:"namespace"`
		Name              string  `json:"name"`
		UID               string  `json:"uid"`
		ResourceVersion   string  `json:"resourceVersion"`
		DeletionTimestamp *string `json:"deletionTimestamp"`
	} `json:"metadata"`
}

func (r record) stamp(t time.Time) Stamp {
	s := Stamp{T: t, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, UID: r.UID, Verdict: r.Verdict}
	if r.Metadata.Name != "" {
		s.Namespace, s.Name, s.UID = r.Metadata.Namespace, r.Metadata.Name, r.Metadata.UID
		s.RV, s.Deleting = r.Metadata.ResourceVersion, r.Metadata.DeletionTimestamp != nil
	}
	return s
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	name := fs.String("name", "", "name of the watcher in the results")
	out := fs.String("out", "", "write the Process summary (JSON) here")
	stamps := fs.String("stamps", "", "write one stamped line per stdout record here (NDJSON)")
	mode := fs.String("stdout", "lines", "stdout format: lines (NDJSON), json (a stream of JSON values) or discard")
	ready := fs.String("ready", "", "stderr text that means the watcher is ready (empty: its first stdout record)")
	stderrFile := fs.String("stderr", "", "copy the watcher's stderr here")
	copyFile := fs.String("copy", "", "copy the watcher's stdout here (lines mode)")
	stopAfter := fs.Duration("stop-after", 10*time.Second, "after SIGINT, how long to wait before SIGKILL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 || *out == "" {
		return errors.New("usage: rig run -name N -out FILE [-stamps FILE] [-stdout lines|json|discard] [-ready TEXT] -- COMMAND ARGS")
	}
	var stampW *bufio.Writer
	if *stamps != "" {
		f, err := os.Create(*stamps)
		if err != nil {
			return err
		}
		defer f.Close()
		stampW = bufio.NewWriter(f)
		defer stampW.Flush()
	}
	var outCopy *bufio.Writer
	if *copyFile != "" {
		f, err := os.Create(*copyFile)
		if err != nil {
			return err
		}
		defer f.Close()
		outCopy = bufio.NewWriter(f)
		defer outCopy.Flush()
	}
	var errCopy io.Writer = io.Discard
	if *stderrFile != "" {
		f, err := os.Create(*stderrFile)
		if err != nil {
			return err
		}
		defer f.Close()
		errCopy = f
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	// If the rig dies, the watcher must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)

	p := Process{Name: *name, Argv: argv}
	var mu sync.Mutex
	first := func(t time.Time) {
		mu.Lock()
		if p.FirstOutput == nil {
			p.FirstOutput = &t
			// scale.sh waits for this line before it starts the next watcher.
			fmt.Fprintf(os.Stderr, "%s ready after %s\n", *name, t.Sub(p.Start).Round(time.Millisecond))
		}
		mu.Unlock()
	}
	// Pdeathsig follows the thread that started the child.
	runtime.LockOSThread()
	p.Start = time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	p.PID = cmd.Process.Pid

	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			t := time.Now()
			line := sc.Text()
			if *ready != "" && strings.Contains(line, *ready) {
				first(t)
			}
			fmt.Fprintf(errCopy, "%s %s\n", t.Format("15:04:05.000"), line)
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	records := 0
	go func() {
		defer readers.Done()
		emit := func(t time.Time, r record) {
			records++
			if *ready == "" {
				first(t)
			}
			if stampW != nil {
				b, _ := json.Marshal(r.stamp(t))
				stampW.Write(append(b, '\n'))
			}
		}
		switch *mode {
		case "lines":
			rd := bufio.NewReaderSize(stdout, 1<<20)
			for {
				line, err := rd.ReadBytes('\n')
				t := time.Now()
				if outCopy != nil {
					outCopy.Write(line)
				}
				if len(bytes.TrimSpace(line)) > 0 {
					var r record
					if json.Unmarshal(line, &r) == nil {
						emit(t, r)
					}
				}
				if err != nil {
					break
				}
			}
		case "json":
			dec := json.NewDecoder(stdout)
			for {
				var r record
				if err := dec.Decode(&r); err != nil {
					break
				}
				emit(time.Now(), r)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	exited := make(chan struct{})
	var hwm int64
	var peak memSample
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := vmHWM(p.PID); v > hwm {
				hwm = v
			}
			if m := smapsRollup(p.PID); m.rss > peak.rss {
				peak = m
			}
			select {
			case <-exited:
				return
			case <-tick.C:
			}
		}
	}()
	go func() {
		<-sigs
		mu.Lock()
		p.Stopped = true
		mu.Unlock()
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(*stopAfter):
			_ = cmd.Process.Kill()
		}
	}()

	readers.Wait()
	werr := cmd.Wait()
	close(exited)
	p.End = time.Now()
	<-sampled
	runtime.UnlockOSThread()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return werr
	}
	p.ExitCode = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.UserSeconds = float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
		p.SystemSeconds = float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
		p.MaxRSSKiB = ru.Maxrss
		p.VoluntarySwitches, p.InvoluntarySwitches = ru.Nvcsw, ru.Nivcsw
	}
	p.VmHWMKiB = hwm
	p.SampledRSSKiB, p.AnonKiB, p.FileKiB = peak.rss, peak.anon, peak.rss-peak.anon
	p.StdoutRecords = records
	mu.Lock()
	defer mu.Unlock()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(b, '\n'), 0o644)
}

// vmHWM reads the resident-set high-water mark of pid in KiB (0 when it cannot).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

type memSample struct{ rss, anon int64 }

// smapsRollup reads the resident set of pid and its anonymous part, in KiB.
func smapsRollup(pid int) memSample {
	var m memSample
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "Rss:":
			m.rss = v
		case "Anonymous:":
			m.anon = v
		}
	}
	return m
}
