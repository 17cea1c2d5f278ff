package timeline

import (
	"path"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// pid1Kind is what a container's command shows about how its PID 1 takes SIGTERM.
type pid1Kind int

const (
	// pid1Unknown: the command is the image's (not in the API), a script file, or a program
	// whose signal handling the spec does not show.
	pid1Unknown pid1Kind = iota
	// pid1Ignores: a shell that neither execs nor traps TERM, or sleep/tail and the like. PID 1
	// gets no default signal action, so SIGTERM does nothing.
	pid1Ignores
	// pid1Traps: a shell that traps TERM: it runs its handler on SIGTERM.
	pid1Traps
)

// pid1Info is the reading of one container's command.
type pid1Info struct {
	kind pid1Kind
	// cmd is the command as the spec gives it (sanitized, shortened); "" when from the image.
	cmd string
	// why says which part of the command decided kind.
	why string
}

var shells = []string{"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"}

// idlers have no SIGTERM handler: as PID 1 they ignore it.
var idlers = []string{"sleep", "tail", "cat", "yes"}

// inits forward signals to their child, so the child is not PID 1.
var inits = []string{"tini", "dumb-init", "catatonit", "s6-svscan"}

// readPID1 reads a container's command and args the way the kernel and the shell will run them.
// It claims only what the command shows: the image's ENTRYPOINT is not in the API, and some
// shells (bash, dash, busybox ash) exec a lone -c command themselves.
func readPID1(c corev1.Container, sharedPIDNamespace bool) pid1Info {
	if len(c.Command) == 0 {
		return pid1Info{why: "the command is the image's ENTRYPOINT, which the API does not show"}
	}
	cmd := append(slices.Clone(c.Command), c.Args...)
	info := pid1Info{cmd: truncate(strings.Join(cmd, " "), 80)}
	if sharedPIDNamespace {
		info.why = "shareProcessNamespace: PID 1 is the pod's pause process, so the container's processes get SIGTERM's default action"
		return info
	}
	info.kind, info.why = readArgv(cmd)
	return info
}

func readArgv(argv []string) (pid1Kind, string) {
	if len(argv) == 0 {
		return pid1Unknown, "empty command"
	}
	name := path.Base(argv[0])
	if name == "busybox" && len(argv) > 1 {
		argv, name = argv[1:], path.Base(argv[1])
	}
	switch {
	case slices.Contains(inits, name):
		return pid1Unknown, "`" + name + "` is PID 1 and forwards SIGTERM to its child"
	case slices.Contains(idlers, name):
		return pid1Ignores, "`" + name + "` as PID 1 has no SIGTERM handler, and PID 1 gets no default signal action"
	case !slices.Contains(shells, name):
		return pid1Unknown, "PID 1 is `" + truncate(name, 40) + "`; the API does not show whether it handles SIGTERM"
	}
	script, ok := shellScript(argv[1:])
	if !ok {
		return pid1Unknown, "the shell runs a script file, which the API does not show"
	}
	return readScript(name, script)
}

// shellScript returns the argument of -c (also in combined flags such as -ec).
func shellScript(args []string) (string, bool) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			return "", false
		}
		if !strings.HasPrefix(a, "--") && strings.Contains(a, "c") && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// trapRE finds `trap ACTION SIGNALS...` up to the end of the command.
var trapRE = regexp.MustCompile(`(?:^|[\s;&|({])trap\s+('[^']*'|"(?:[^"\\]|\\.)*"|\S+)((?:[ \t]+[A-Za-z0-9+]+)+)`)

func readScript(shell, script string) (pid1Kind, string) {
	for _, m := range trapRE.FindAllStringSubmatch(script, -1) {
		action, sigs := m[1], strings.Fields(m[2])
		if !slices.ContainsFunc(sigs, func(s string) bool { return s == "TERM" || s == "SIGTERM" || s == "15" }) {
			continue
		}
		switch action {
		case "-":
			continue // resets TERM to its default: no handler
		case "''", `""`:
			return pid1Ignores, "the script ignores TERM explicitly (trap '' TERM)"
		}
		return pid1Traps, "the script traps TERM"
	}
	stmts := statements(script)
	if len(stmts) == 0 {
		return pid1Unknown, "empty script"
	}
	last := stmts[len(stmts)-1]
	if i := strings.LastIndex(last, "&&"); i >= 0 {
		last = strings.TrimSpace(last[i+2:]) // `cd /srv && exec app`: the last command runs last
	}
	if rest, ok := strings.CutPrefix(last, "exec "); ok {
		argv := strings.Fields(rest)
		kind, why := readArgv(argv)
		if kind == pid1Unknown && len(argv) > 0 {
			why = "the script execs `" + truncate(path.Base(argv[0]), 40) + "`, which becomes PID 1; the API does not show whether it handles SIGTERM"
		}
		return kind, why
	}
	if len(stmts) == 1 && !strings.ContainsAny(last, "&|;()`$<>{}") {
		argv := strings.Fields(last)
		if kind, why := readArgv(argv); kind == pid1Ignores {
			return kind, why
		}
		return pid1Unknown, "a lone command: bash, dash and busybox exec it as PID 1, other shells keep `" + shell + "` as PID 1"
	}
	return pid1Ignores, "`" + shell + "` stays PID 1 (the script neither execs its last command nor traps TERM), and PID 1 gets no default signal action"
}

// statements splits a script at newlines and top-level `;` (quotes respected), trimmed.
func statements(script string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for _, r := range script {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ';' || r == '\n':
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}
