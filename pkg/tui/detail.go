package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// detailModel is the pane with everything known about the selected pod: its marks with
// relative and absolute times and their source, and its findings with their fixes. The
// content is built when the pod or the size changes and scrolled by line.
type detailModel struct {
	st            *styles
	keys          *keyMap
	width, height int
	offset        int
	lines         []string

	pod        *timeline.PodTimeline
	now        time.Time
	uid        string
	pos, total int // place of the pod in the list, for the title
}

func newDetailModel(st *styles, keys *keyMap) detailModel {
	return detailModel{st: st, keys: keys}
}

// Update scrolls the pane: J/K by line, pgup/pgdn by page, the wheel by three lines. It
// reports whether it used the message.
func (d *detailModel) Update(msg tea.Msg) bool {
	page := max(d.height-2, 1)
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, d.keys.ScrollUp):
			d.scroll(-1)
		case key.Matches(msg, d.keys.ScrollDown):
			d.scroll(1)
		case key.Matches(msg, d.keys.PageUp):
			d.scroll(-page)
		case key.Matches(msg, d.keys.PageDown):
			d.scroll(page)
		default:
			return false
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			d.scroll(-3)
		case tea.MouseWheelDown:
			d.scroll(3)
		default:
			return false
		}
	default:
		return false
	}
	return true
}

// setPod shows p (nil for none). Scrolling starts over when another pod is selected.
func (d *detailModel) setPod(p *timeline.PodTimeline, now time.Time) {
	d.pod, d.now = p, now
	uid := ""
	if p != nil {
		uid = p.UID
	}
	if uid != d.uid {
		d.offset, d.uid = 0, uid
	}
	d.rebuild()
}

func (d *detailModel) setSize(w, h int) {
	if w != d.width {
		d.width = w
		d.rebuild()
	}
	d.height = h
	d.scroll(0)
}

func (d *detailModel) rebuild() {
	if d.pod == nil || d.width <= 0 {
		d.lines = nil
		return
	}
	d.lines = buildDetail(d.pod, d.now, d.width, d.st)
	d.scroll(0)
}

// scroll moves the view by n lines, staying within the content.
func (d *detailModel) scroll(n int) {
	d.offset = max(0, min(d.offset+n, len(d.lines)-(d.height-1)))
}

func (d *detailModel) View() string {
	if d.height <= 0 || d.width <= 0 {
		return ""
	}
	body := d.height - 1
	title := "─ detail "
	if d.pod != nil {
		title += fmt.Sprintf("─ pod %d of %d ", d.pos, d.total)
	}
	if n := len(d.lines); n > body {
		title += fmt.Sprintf("─ lines %d-%d of %d (J/K, pgup/pgdn) ", d.offset+1, min(d.offset+body, n), n)
	}
	title = trunc(title, d.width)
	title += strings.Repeat("─", max(d.width-ansi.StringWidth(title), 0))
	out := make([]string, 0, d.height)
	out = append(out, d.st.rule.Render(title))
	if d.pod == nil {
		out = append(out, d.st.dim.Render("  no pod selected"))
	}
	for i := d.offset; i < len(d.lines) && len(out) < d.height; i++ {
		out = append(out, d.lines[i])
	}
	for len(out) < d.height {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

// buildDetail renders the detail of one pod as lines of at most width cells.
func buildDetail(p *timeline.PodTimeline, now time.Time, width int, st *styles) []string {
	var lines []string
	add := func(s string) { lines = append(lines, trunc(s, width)) }
	wrap := func(indent int, s string, style func(...string) string) {
		pad := strings.Repeat(" ", indent)
		for _, l := range strings.Split(ansi.Wordwrap(s, max(width-indent, 10), " -/"), "\n") {
			add(pad + style(l))
		}
	}
	plain := func(s ...string) string { return strings.Join(s, " ") }

	sym, vs := st.verdict(p.Verdict)
	verdict := string(p.Verdict)
	if isLive(p) {
		verdict += " (so far)"
	}
	add(st.bold.Render(p.Name) + "  " + vs.Render(sym+" "+verdict) + "  " +
		st.dim.Render(p.State))

	var facts []string
	fact := func(k, v string) {
		if v != "" {
			facts = append(facts, st.dim.Render(k)+" "+v)
		}
	}
	fact("namespace", p.Namespace)
	fact("node", p.Node)
	if o := p.Owner; o != nil {
		s := o.Kind + "/" + o.Name
		if o.Revision != "" {
			s += " r" + o.Revision
		}
		if o.Controller != nil {
			s += " of " + o.Controller.Kind + "/" + o.Controller.Name
		}
		fact("owner", s)
	}
	fact("services", strings.Join(p.Services, ", "))
	cause := p.Cause
	if p.Reason != "" {
		cause += " (" + p.Reason + ")"
	}
	fact("cause", cause)
	fact("initiator", p.Initiator.String())
	if p.GracePeriodSeconds != nil {
		fact("grace", fmt.Sprintf("%ds", *p.GracePeriodSeconds))
	}
	if p.Deadline != nil {
		fact("deadline", fmtClock(*p.Deadline))
	}
	fact("started", fmtClock(p.Start))
	if p.ShutdownSeconds != nil {
		s := fmtSecs(*p.ShutdownSeconds)
		if p.GraceUsed != nil {
			s += fmt.Sprintf(" (%.0f%% of grace)", *p.GraceUsed*100)
		}
		fact("shutdown", s)
	} else if isLive(p) {
		fact("running for", fmtDur(durationOf(p, now)))
	}
	if p.JoinedMidway {
		facts = append(facts, st.warn.Render("joined midway"))
	}
	if len(p.Partial) > 0 {
		facts = append(facts, st.warn.Render("not watched: "+strings.Join(p.Partial, ", ")))
	}
	// Facts flow over as many lines as the width needs.
	line := " "
	for _, f := range facts {
		if ansi.StringWidth(line)+ansi.StringWidth(f)+3 > width && line != " " {
			add(line)
			line = " "
		}
		if line != " " {
			line += st.faint.Render(" · ")
		}
		line += f
	}
	if line != " " {
		add(line)
	}

	for _, c := range p.Containers {
		s := "  " + st.dim.Render("container") + " " + c.Name
		if c.Sidecar {
			s += st.dim.Render(" (sidecar)")
		}
		if c.PreStop != "" {
			s += "  " + st.dim.Render("preStop") + " " + c.PreStop
		}
		if c.ExitCode != nil {
			es := st.good
			if *c.ExitCode != 0 {
				es = st.bad
			}
			s += "  " + es.Render(fmt.Sprintf("exit %d", *c.ExitCode))
		}
		if c.Reason != "" {
			s += " " + c.Reason
		}
		if c.Finished != nil {
			s += "  " + st.dim.Render("finished") + " " + fmtClock(*c.Finished)
		}
		add(s)
	}

	add("")
	add(st.label.Render("MARKS") + st.dim.Render("  (time since deletion, local clock, source; ~ estimated)"))
	for i := range p.Marks {
		add(markLine(p, &p.Marks[i], st))
	}
	if len(p.Marks) == 0 {
		add(st.dim.Render("  none yet"))
	}

	add("")
	add(st.label.Render("FINDINGS"))
	if len(p.Findings) == 0 {
		add(st.dim.Render("  none"))
	}
	for _, f := range p.Findings {
		fsym, fs := st.severity(f.Severity)
		head := "  " + fs.Render(fsym+" "+string(f.Severity)) + " " + st.bold.Render(string(f.ID))
		if f.Container != "" {
			head += st.dim.Render(" [" + f.Container + "]")
		}
		if f.Cause != "" {
			head += " " + st.label.Render("cause: "+f.Cause)
		}
		add(head)
		wrap(4, f.Message, plain)
		for _, b := range f.Basis {
			wrap(6, "· "+b, func(s ...string) string { return st.dim.Render(strings.Join(s, " ")) })
		}
		if f.Fix != "" {
			add("    " + st.label.Render("fix:"))
			for _, l := range strings.Split(strings.TrimRight(f.Fix, "\n"), "\n") {
				add("      " + st.good.Render(l))
			}
		}
	}
	return lines
}

func markLine(p *timeline.PodTimeline, mk *timeline.Mark, st *styles) string {
	rel := fmtRel(mk.Time.Sub(p.Start))
	if mk.Estimated {
		rel = "~" + rel
	}
	var extra []string
	if mk.Container != "" {
		extra = append(extra, "["+mk.Container+"]")
	}
	if mk.Service != "" {
		extra = append(extra, "svc "+mk.Service)
	}
	if mk.Slice != "" {
		extra = append(extra, "slice "+mk.Slice)
	}
	if mk.ExitCode != nil {
		extra = append(extra, fmt.Sprintf("exit %d", *mk.ExitCode))
	}
	if mk.Reason != "" {
		extra = append(extra, mk.Reason)
	}
	if mk.Detail != "" {
		extra = append(extra, `"`+mk.Detail+`"`)
	}
	if mk.ServerTime != nil && !mk.ServerTime.IsZero() {
		extra = append(extra, "server "+mk.ServerTime.Format("15:04:05"))
	}
	s := fmt.Sprintf("  %9s  %s  %-20s %-13s %s", rel, fmtClock(mk.Time), string(mk.Type),
		mk.Source, strings.Join(extra, " "))
	s = strings.TrimRight(s, " ")
	if mk.Estimated {
		return st.estimated.Render(s)
	}
	switch mk.Type {
	case timeline.MarkSIGKILL, timeline.MarkPreStopFailed:
		return st.bad.Render(s)
	case timeline.MarkReadinessFailed:
		return st.warn.Render(s)
	}
	return s
}
