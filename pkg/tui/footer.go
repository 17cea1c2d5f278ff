package tui

import (
	"fmt"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
)

// filterInput is the one-line editor behind `/`. It is deliberately small: no cursor
// movement, no blinking, so that frames stay deterministic.
type filterInput struct {
	active bool
	value  []rune
}

// update handles one key while the filter is being edited. changed reports that the value
// changed; the editor closes itself on enter (keeping the value) and esc (clearing it).
func (f *filterInput) update(msg tea.KeyPressMsg) (changed bool) {
	switch msg.String() {
	case "enter":
		f.active = false
	case "esc":
		f.active = false
		changed = len(f.value) > 0
		f.value = nil
	case "backspace":
		if len(f.value) > 0 {
			f.value = f.value[:len(f.value)-1]
			changed = true
		}
	case "ctrl+u":
		changed = len(f.value) > 0
		f.value = nil
	case "ctrl+w":
		v := strings.TrimRightFunc(string(f.value), unicode.IsSpace)
		if i := strings.LastIndexAny(v, " -."); i >= 0 {
			v = v[:i+1]
		} else {
			v = ""
		}
		changed = v != string(f.value)
		f.value = []rune(v)
	default:
		changed = f.insert(msg.Text)
	}
	return changed
}

// insert adds typed or pasted text, keeping printable characters of its first line only.
func (f *filterInput) insert(s string) bool {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	n := len(f.value)
	for _, r := range s {
		if unicode.IsPrint(r) && len(f.value) < 64 {
			f.value = append(f.value, r)
		}
	}
	return len(f.value) != n
}

// footerModel is the status line (watch errors and warnings, the filter being typed, what
// the list shows) and the key help.
type footerModel struct {
	st    *styles
	keys  *keyMap
	help  help.Model
	width int

	filter filterInput

	status    string
	statusErr bool
	warnings  []string
	done      bool
	replay    bool

	info string // what the list shows: sort, filter, count

	// The help only changes with the width and the ? toggle: it is rendered once for both.
	helpText        string
	helpW           int
	helpAll, helped bool
}

func (f *footerModel) helpView() string {
	if !f.helped || f.helpW != f.width || f.helpAll != f.help.ShowAll {
		f.helpText = f.help.View(f.keys)
		f.helpW, f.helpAll, f.helped = f.width, f.help.ShowAll, true
	}
	return f.helpText
}

func newFooterModel(st *styles, keys *keyMap, replay bool) footerModel {
	h := help.New()
	h.Styles = st.help
	return footerModel{st: st, keys: keys, help: h, replay: replay}
}

// Update edits the filter while it is open (typed keys and pasted text) and reports whether
// its value changed.
func (f *footerModel) Update(msg tea.Msg) bool {
	if !f.filter.active {
		return false
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return f.filter.update(msg)
	case tea.PasteMsg:
		return f.filter.insert(msg.Content)
	}
	return false
}

// toggleHelp switches between the one-line help and the full help with the legend.
func (f *footerModel) toggleHelp() {
	f.help.ShowAll = !f.help.ShowAll
	if f.help.ShowAll {
		f.keys.Help.SetHelp("?", "less")
	} else {
		f.keys.Help.SetHelp("?", "more")
	}
}

func (f *footerModel) setWidth(w int) {
	f.width = w
	f.help.SetWidth(w)
}

// height is the number of lines the footer takes: the status line, the help, and in full
// help the legend of the lanes.
func (f *footerModel) height() int {
	if !f.help.ShowAll {
		return 2
	}
	return 1 + strings.Count(f.helpView(), "\n") + 1 + len(legend())
}

// legend explains the lane glyphs in the full help.
func legend() []string {
	return []string{
		"ep (endpoint): ━ ready  ╌ terminating  ● removed  ┊ drain budget  ! unready",
		"ct (containers): ▒ preStop  ◆ SIGTERM  ─ running  ● exit (red ≠ 0)  ✕ SIGKILL",
		"┆ grace deadline · ○ ◇ × and ~ mark estimated moments",
	}
}

func (f *footerModel) View() string {
	lines := []string{f.statusLine()}
	lines = append(lines, strings.Split(f.helpView(), "\n")...)
	if f.help.ShowAll {
		for _, l := range legend() {
			lines = append(lines, f.st.dim.Render(l))
		}
	}
	for i := range lines {
		lines[i] = fit(lines[i], f.width)
	}
	return strings.Join(lines, "\n")
}

func (f *footerModel) statusLine() string {
	st := f.st
	var left string
	switch {
	case f.filter.active:
		left = st.accent.Render("/") + textutil.Sanitize(string(f.filter.value)) + st.accent.Render("█") +
			st.dim.Render("  enter keeps · esc clears")
	case f.status != "" && f.statusErr:
		left = st.errLine.Render("✗ " + f.status)
	case strings.HasPrefix(strings.ToLower(f.status), "warning"):
		left = st.warnLine.Render("▲ " + f.status)
	case f.status != "":
		left = st.dim.Render(f.status)
	case f.done && f.replay:
		left = st.dim.Render("■ replay finished · q quits")
	case f.done:
		left = st.dim.Render("■ watch ended · q quits")
	case len(f.warnings) > 0:
		left = st.warnLine.Render(fmt.Sprintf("▲ %d warning(s): %s", len(f.warnings), textutil.Sanitize(f.warnings[0])))
	}
	return joinLR(left, st.dim.Render(f.info), f.width)
}
