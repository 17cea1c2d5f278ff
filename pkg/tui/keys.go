package tui

import "charm.land/bubbles/v2/key"

// keyMap is every binding of the UI. It implements help.KeyMap for the footer.
type keyMap struct {
	Move                                    key.Binding // help only: Up and Down in one entry
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Detail, Back, ScrollUp, ScrollDown      key.Binding
	Filter, Problems, Sort, Axis            key.Binding
	Pause, Help, Quit                       key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Move:       b([]string{"up", "down", "k", "j"}, "↑↓/jk", "move"),
		Up:         b([]string{"up", "k"}, "↑/k", "up"),
		Down:       b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:     b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown:   b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		Top:        b([]string{"home", "g"}, "g", "first"),
		Bottom:     b([]string{"end", "G"}, "G", "last"),
		Detail:     b([]string{"enter"}, "enter", "detail"),
		Back:       b([]string{"esc"}, "esc", "close/clear"),
		ScrollUp:   b([]string{"K", "shift+up"}, "K", "scroll detail up"),
		ScrollDown: b([]string{"J", "shift+down"}, "J/K", "scroll detail"),
		Filter:     b([]string{"/"}, "/", "filter"),
		Problems:   b([]string{"f"}, "f", "problems"),
		Sort:       b([]string{"s"}, "s", "sort"),
		Axis:       b([]string{"a"}, "a", "axis"),
		Pause:      b([]string{"space"}, "space", "pause/follow"),
		Help:       b([]string{"?"}, "?", "more"),
		Quit:       b([]string{"q", "ctrl+c"}, "q", "quit"),
	}
}

// ShortHelp is the one-line help of the footer.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Move, k.Detail, k.Filter, k.Problems, k.Sort, k.Help, k.Quit}
}

// FullHelp is the help shown after `?`, one column per group.
func (k keyMap) FullHelp() [][]key.Binding {
	// Three narrow columns so that all of it fits in 80 columns; K shares J's entry.
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Detail, k.Back, k.ScrollDown, k.Filter, k.Problems, k.Sort},
		{k.Axis, k.Pause, k.Help, k.Quit},
	}
}
