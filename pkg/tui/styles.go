package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// pen applies one fixed style to single-line text. It is a lipgloss style rendered once
// around a placeholder, so that drawing a frame costs string concatenation rather than a full
// lipgloss render per run of cells (a frame draws hundreds of runs).
type pen struct {
	pre, post string
}

func newPen(s lipgloss.Style) pen {
	r := s.Render("x")
	i := strings.Index(r, "x")
	if i < 0 {
		return pen{}
	}
	return pen{pre: r[:i], post: r[i+1:]}
}

// Render styles s, which must not contain a line break.
func (p pen) Render(s string) string {
	if s == "" || p.pre == "" {
		return s
	}
	return p.pre + s + p.post
}

// styles holds every style the UI uses. Colours are written as 24-bit values; the program's
// colour profile (NO_COLOR, --color, terminal capabilities) downsamples or drops them when the
// frame is written, so the views never need to know the profile.
type styles struct {
	title, dim, faint, bold, estimated pen
	good, warn, bad, killed            pen
	accent, selected, label            pen
	errLine, warnLine                  pen
	spark                              pen
	rule                               pen
	lane                               [numCells]pen
	help                               help.Styles
}

const (
	colGreen   = "#5FD75F"
	colYellow  = "#FFD75F"
	colRed     = "#FF5F5F"
	colMagenta = "#FF5FD7"
	colCyan    = "#5FD7FF"
	colBlue    = "#87AFFF"
	colDim     = "#9E9E9E"
	colFaint   = "#626262"
	colSelBg   = "#303A4A"
)

func newStyles() *styles {
	c := lipgloss.Color
	fg := func(col string) lipgloss.Style { return lipgloss.NewStyle().Foreground(c(col)) }
	s := &styles{
		title:     newPen(fg(colCyan).Bold(true)),
		dim:       newPen(fg(colDim)),
		faint:     newPen(fg(colFaint)),
		bold:      newPen(lipgloss.NewStyle().Bold(true)),
		estimated: newPen(fg(colDim).Italic(true)),
		good:      newPen(fg(colGreen)),
		warn:      newPen(fg(colYellow)),
		bad:       newPen(fg(colRed)),
		killed:    newPen(fg(colMagenta).Bold(true)),
		accent:    newPen(fg(colBlue).Bold(true)),
		selected:  newPen(lipgloss.NewStyle().Bold(true).Background(c(colSelBg))),
		label:     newPen(fg(colBlue)),
		errLine:   newPen(fg(colRed).Bold(true)),
		warnLine:  newPen(fg(colYellow)),
		spark:     newPen(fg(colCyan)),
		rule:      newPen(fg(colFaint)),
		help:      help.DefaultDarkStyles(),
	}
	s.lane = [numCells]pen{
		cellNone:      {},
		cellReady:     newPen(fg(colGreen)),
		cellDraining:  newPen(fg(colYellow)),
		cellPreStop:   newPen(fg(colCyan)),
		cellAfterTerm: newPen(fg(colBlue)),
		cellExitOK:    newPen(fg(colGreen).Bold(true)),
		cellExitBad:   newPen(fg(colRed).Bold(true)),
		cellKill:      newPen(fg(colMagenta).Bold(true)),
		cellDeadline:  newPen(fg(colRed)),
		cellBudget:    newPen(fg(colFaint)),
		cellEstimated: newPen(fg(colDim)),
		cellWarn:      newPen(fg(colYellow).Bold(true)),
		cellNote:      newPen(fg(colFaint).Italic(true)),
	}
	return s
}

// verdict returns the symbol and style of a verdict.
func (s *styles) verdict(v timeline.Verdict) (string, pen) {
	switch v {
	case timeline.VerdictGraceful:
		return verdictSymbol(v), s.good
	case timeline.VerdictAtRisk:
		return verdictSymbol(v), s.warn
	case timeline.VerdictFailed:
		return verdictSymbol(v), s.bad
	case timeline.VerdictKilled:
		return verdictSymbol(v), s.killed
	}
	return verdictSymbol(v), s.dim
}

func verdictSymbol(v timeline.Verdict) string { return v.Style().Symbol }

// severity returns the symbol and style of a finding severity.
func (s *styles) severity(v timeline.Severity) (string, pen) {
	switch v {
	case timeline.SeverityError:
		return "✗", s.bad
	case timeline.SeverityWarning:
		return "▲", s.warn
	}
	return "i", s.dim
}
