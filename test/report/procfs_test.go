package report_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc on Linux (USER_HZ, 100 on every
// architecture Go supports).
const clockTick = 10 * time.Millisecond

// rendererCPU returns the CPU time used so far by the main thread of every renderer process
// of the browser, by process. The main thread does the parsing, style, layout and script of a
// page, so its CPU time is how long the page takes to render on an idle machine, whatever
// else the machine is doing meanwhile.
func rendererCPU(browserPID int) map[int]time.Duration {
	parents := map[int]int{}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		pid, ppid, _, ok := readStat(p)
		if ok {
			parents[pid] = ppid
		}
	}
	descends := func(pid int) bool {
		for range 10 {
			if pid == browserPID {
				return true
			}
			pid = parents[pid]
			if pid <= 1 {
				return false
			}
		}
		return false
	}
	out := map[int]time.Duration{}
	for pid := range parents {
		if pid == browserPID || !descends(pid) {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), "--type=renderer") {
			continue
		}
		// The main thread is the one whose id is the process id.
		main := "/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/stat"
		if _, _, cpu, ok := readStat(main); ok {
			out[pid] = cpu
		}
	}
	return out
}

// readStat reads the pid, parent pid and user+system CPU time from a /proc stat file.
func readStat(path string) (pid, ppid int, cpu time.Duration, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(b)
	// The command name is in parentheses and may hold spaces; the fields after it are fixed.
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < 0 {
		return 0, 0, 0, false
	}
	pid, _ = strconv.Atoi(strings.TrimSpace(s[:open]))
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return pid, ppid, time.Duration(utime+stime) * clockTick, true
}

// cpuSince is the largest growth of one renderer's main-thread CPU time since before: the
// renderer of the page that was just loaded.
func cpuSince(before, after map[int]time.Duration) time.Duration {
	var most time.Duration
	for pid, t := range after {
		most = max(most, t-before[pid])
	}
	return most
}
