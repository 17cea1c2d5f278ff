// Package textutil makes text that comes from the cluster safe to show on a terminal.
//
// Pod names are validated by the API server, but event messages, container termination
// messages, finding messages built from them and error strings are not: a message that carries
// an escape sequence could retitle the window, move the cursor or rewrite what was already
// printed. Every string from the cluster goes through Sanitize (one line) or SanitizeMultiline
// before it is written to a terminal or a plain-text report.
package textutil

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sanitize returns s with everything a terminal could interpret made visible and inert:
// C0 and C1 control characters (ESC, BEL, CR, LF, TAB, ...) and DEL become Go-style escapes
// such as `\x1b` or `\n`, bidirectional overrides and line/paragraph separators become `\u202e`
// style escapes, and invalid UTF-8 becomes U+FFFD. The result is always a single line.
// Printable text, including wide characters, is kept as it is.
func Sanitize(s string) string {
	return sanitize(s, false)
}

// SanitizeMultiline is Sanitize but keeps line feeds (a lone CR or CRLF also ends a line) and
// expands tabs to two spaces, for text that is meant to span lines such as a suggested YAML
// fix.
func SanitizeMultiline(s string) string {
	return sanitize(s, true)
}

func sanitize(s string, multiline bool) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case multiline && r == '\n':
			b.WriteByte('\n')
		case multiline && r == '\r':
			// CRLF is one line break; a lone CR would return the cursor and let the rest
			// of the line overwrite what came before, so it becomes a line break too.
			if i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteByte('\n')
		case multiline && r == '\t':
			b.WriteString("  ")
		case r < 0x20 || r == 0x7f:
			b.WriteString(escapeControl(r))
		case r >= 0x80 && r <= 0x9f:
			// C1 controls: 0x9b alone is a CSI on terminals that honour 8-bit controls.
			b.WriteString(`\u00` + strconv.FormatInt(int64(r), 16))
		case isBidiOrSeparator(r):
			b.WriteString(`\u` + strconv.FormatInt(int64(r), 16))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII only, the common case for names, so that it
// can be returned without allocating.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func escapeControl(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	const hex = "0123456789abcdef"
	return `\x` + string(hex[r>>4]) + string(hex[r&0xf])
}

// isBidiOrSeparator reports the format characters that reorder or break the text around them
// (the "Trojan Source" characters and U+2028/U+2029).
func isBidiOrSeparator(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
