package timeline

import (
	"path"
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
		info.why = "shareProcessNamespace or hostPID: the container's processes are not PID 1, so SIGTERM's default action applies to them"
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

// shellScript returns the argument of -c (also in combined flags such as -ec); options that
// take an argument (-o pipefail) are skipped.
func shellScript(args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "+o":
			i++
			continue
		case !strings.HasPrefix(a, "-") || a == "-" || a == "--":
			return "", false
		}
		if !strings.HasPrefix(a, "--") && strings.Contains(a, "c") && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// trapState is what a script's traps do to TERM.
type trapState int

const (
	trapNone    trapState = iota
	trapHandled           // trap 'handler' TERM
	trapIgnored           // trap '' TERM: also inherited by what the script execs
)

// termTrap reads the script's `trap` commands (the last one for TERM wins).
func termTrap(stmts []string) trapState {
	st := trapNone
	for _, stmt := range stmts {
		w := words(stmt)
		if len(w) < 3 || w[0] != "trap" {
			continue
		}
		w = w[1:]
		if w[0] == "--" {
			w = w[1:]
		}
		if len(w) < 2 {
			continue
		}
		action, sigs := w[0], w[1:]
		if !slices.ContainsFunc(sigs, func(s string) bool {
			s = strings.ToUpper(s)
			return s == "TERM" || s == "SIGTERM" || s == "15"
		}) {
			continue
		}
		switch action {
		case "-":
			st = trapNone // back to the default: no handler
		case "":
			st = trapIgnored
		default:
			st = trapHandled
		}
	}
	return st
}

// readScript decides from the statements of a -c script. A trapped TERM reaches the script
// only while the shell waits (wait, or between the commands of a loop): POSIX defers traps
// until a foreground command ends. An exec replaces the shell and its traps (an ignored TERM
// stays ignored). bash 5.1+ and busybox exec the last simple command of a -c script themselves;
// dash and others keep the shell as PID 1: only what holds for all of them is claimed.
func readScript(shell, script string) (pid1Kind, string) {
	stmts := statements(script)
	if len(stmts) == 0 {
		return pid1Unknown, "empty script"
	}
	trap := termTrap(stmts)
	last := stmts[len(stmts)-1]
	for _, op := range []string{"&&", "||"} {
		if i := strings.LastIndex(last, op); i >= 0 {
			last = strings.TrimSpace(last[i+len(op):]) // `cd /srv && exec app`: the last command runs last
		}
	}
	lastWords := words(last)
	waits := len(lastWords) > 0 && (lastWords[0] == "wait" || lastWords[len(lastWords)-1] == "done")
	switch {
	case trap == trapIgnored:
		return pid1Ignores, "the script ignores TERM (trap '' TERM), and so does whatever it runs"
	case len(lastWords) > 1 && lastWords[0] == "exec":
		kind, why := readArgv(lastWords[1:])
		if kind == pid1Unknown {
			why = "the script execs `" + truncate(path.Base(lastWords[1]), 40) + "`, which becomes PID 1 (the shell's traps go with it); the API does not show whether it handles SIGTERM"
		}
		return kind, why
	case trap == trapHandled && waits:
		return pid1Traps, "the script traps TERM and waits, so its handler runs on SIGTERM"
	case trap == trapHandled:
		return pid1Unknown, "the script traps TERM, but a shell runs its trap only after the foreground command `" + truncate(last, 40) + "` ends"
	case waits || strings.ContainsAny(last, "|(){}"):
		return pid1Ignores, "`" + shell + "` stays PID 1 (the script waits or runs a pipeline or group, and does not trap TERM), and PID 1 gets no default signal action"
	}
	if kind, why := readArgv(lastWords); kind == pid1Ignores {
		return kind, why // PID 1 is the shell or this command: neither acts on TERM
	}
	return pid1Unknown, "the last command may be PID 1 (bash 5.1+ and busybox exec it) or not (dash and others keep `" + shell + "`)"
}

// words splits a statement into words, honouring quotes (a quoted empty word is kept as "").
func words(stmt string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range stmt {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
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
	var prev rune
	rest := func(i int) string { return script[i:] }
	for i, r := range script {
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
		case r == '&' && prev != '&' && prev != '>' && prev != '<' && !strings.HasPrefix(rest(i), "&&") && !strings.HasPrefix(rest(i), "&>"):
			flush() // a background job: what follows runs next
			prev = r
			continue
		}
		cur.WriteRune(r)
		prev = r
	}
	flush()
	return out
}
