package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/drainwatch/kubectl-drainwatch/pkg/textutil"
	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// Smallest terminal the layout is drawn for; below it a notice asks for more room.
const (
	minWidth  = 50
	minHeight = 12
)

// model is the root of the UI. It owns the data, routes messages to its components (header,
// list, detail, footer) and lays them out; each component renders exactly the lines it is
// given, each line at most the terminal width.
type model struct {
	cfg  Config
	st   *styles
	keys keyMap

	width, height int

	latest   timeline.Snapshot // newest received
	shown    timeline.Snapshot // on screen; older than latest while paused
	haveSnap bool
	paused   bool

	header     headerModel
	list       listModel
	detail     detailModel
	footer     footerModel
	showDetail bool

	listTop, detailTop int // first screen row of the list and of the detail pane
}

func newModel(cfg Config) *model {
	if cfg.DrainBudget <= 0 {
		cfg.DrainBudget = timeline.DefaultDrainBudget
	}
	st := newStyles()
	m := &model{cfg: cfg, st: st, keys: newKeyMap()}
	m.header = newHeaderModel(st, cfg)
	m.list = newListModel(st, &m.keys, cfg.DrainBudget)
	m.detail = newDetailModel(st, &m.keys)
	m.footer = newFooterModel(st, &m.keys, cfg.Replay)
	m.updateInfo()
	return m
}

// Init implements tea.Model.
func (m *model) Init() tea.Cmd { return nil }

// Update implements tea.Model. The root handles what concerns the whole screen (size, data,
// quitting, pausing, opening panes) and hands the rest to the component it belongs to.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
	case updateMsg:
		m.apply(msg)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		if m.footer.Update(msg) {
			m.filterChanged()
		}
	case tea.MouseWheelMsg:
		if m.showDetail && msg.Y >= m.detailTop {
			m.detail.Update(msg)
		} else if m.list.Update(msg) {
			m.listChanged()
		}
	case tea.MouseClickMsg:
		if msg.Y >= m.listTop && (!m.showDetail || msg.Y < m.detailTop) {
			msg.Y -= m.listTop
			if m.list.Update(msg) {
				m.listChanged()
			}
		}
	}
	return m, nil
}

// apply takes a coalesced update from the watch side.
func (m *model) apply(u updateMsg) {
	if u.snap != nil {
		m.latest, m.haveSnap = *u.snap, true
		if m.paused {
			m.header.behind++
		} else {
			m.show()
		}
	}
	if u.statusSet {
		m.footer.status, m.footer.statusErr = textutil.Sanitize(u.status), u.statusErr
	}
	if u.done {
		m.footer.done, m.header.ended = true, true
	}
}

// show puts the latest snapshot on screen.
func (m *model) show() {
	m.shown = m.latest
	m.header.setSnap(&m.shown)
	m.header.behind = 0
	m.footer.warnings = m.shown.Summary.Warnings
	m.list.setData(m.shown.Pods, m.shown.Time)
	m.syncDetail()
	m.updateInfo()
}

func (m *model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.footer.filter.active {
		if msg.String() == "ctrl+c" {
			return tea.Quit
		}
		if m.footer.Update(msg) {
			m.filterChanged()
		}
		return nil
	}
	k := &m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Detail):
		m.showDetail = !m.showDetail
		m.layout()
	case key.Matches(msg, k.Back):
		switch {
		case m.showDetail:
			m.showDetail = false
			m.layout()
		case len(m.footer.filter.value) > 0:
			m.footer.filter.value = nil
			m.filterChanged()
		}
	case key.Matches(msg, k.Filter):
		m.footer.filter.active = true
	case key.Matches(msg, k.Pause):
		m.paused = !m.paused
		m.header.paused = m.paused
		if !m.paused && m.haveSnap {
			m.show()
		}
	case key.Matches(msg, k.Help):
		m.footer.toggleHelp()
		m.layout()
	case m.showDetail && m.detail.Update(msg):
		// Paging scrolls the detail pane while it is open.
	default:
		if m.list.Update(msg) {
			m.listChanged()
		}
	}
	return nil
}

func (m *model) filterChanged() {
	m.list.setFilter(string(m.footer.filter.value))
	m.listChanged()
}

// listChanged follows a change of the selection or of what the list shows.
func (m *model) listChanged() {
	m.syncDetail()
	m.updateInfo()
}

// syncDetail points the detail pane at the selected pod; it is only built while visible.
func (m *model) syncDetail() {
	if !m.showDetail {
		return
	}
	m.detail.setPod(m.list.selected(), m.shown.Time)
	m.detail.pos, m.detail.total = m.list.cursor+1, len(m.list.idx)
}

func (m *model) updateInfo() {
	var parts []string
	if m.list.filter != "" {
		parts = append(parts, fmt.Sprintf("filter %q", textutil.Sanitize(m.list.filter)))
	}
	if m.list.problemsOnly {
		parts = append(parts, "problems only")
	}
	parts = append(parts, "sort "+m.list.sort.String())
	if !m.list.relative {
		parts = append(parts, "clock axis")
	}
	parts = append(parts, fmt.Sprintf("%d/%d pods", len(m.list.idx), len(m.list.pods)))
	m.footer.info = strings.Join(parts, " · ")
}

// layout gives each component its share of the screen.
func (m *model) layout() {
	w := m.width
	m.header.width = w
	m.footer.setWidth(w)
	body := max(m.height-headerHeight-m.footer.height(), 0)
	listH, detailH := body, 0
	if m.showDetail {
		if body >= 24 {
			detailH = body / 2
			listH = body - detailH
		} else {
			listH, detailH = 0, body
		}
	}
	m.list.setSize(w, listH)
	m.detail.setSize(w, detailH)
	m.listTop = headerHeight
	m.detailTop = headerHeight + listH
	m.syncDetail()
}

// View implements tea.Model.
func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	return v
}

// render draws the whole screen: exactly height lines of at most width cells.
func (m *model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		msg := fmt.Sprintf("drainwatch needs at least %dx%d (now %dx%d)", minWidth, minHeight, m.width, m.height)
		return fit(msg, m.width)
	}
	parts := []string{m.header.View()}
	if m.list.height > 0 {
		parts = append(parts, m.list.View())
	}
	if m.detail.height > 0 {
		parts = append(parts, m.detail.View())
	}
	parts = append(parts, m.footer.View())
	lines := strings.Split(strings.Join(parts, "\n"), "\n")
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	return strings.Join(lines, "\n")
}
