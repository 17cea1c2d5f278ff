package textutil

import (
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, want, wantMulti string
	}{
		{name: "plain", in: "web-7d9f8-abcde", want: "web-7d9f8-abcde", wantMulti: "web-7d9f8-abcde"},
		{name: "empty", in: "", want: "", wantMulti: ""},
		{
			name:      "osc title and sgr",
			in:        "Stopping \x1b]0;pwned\x07\x1b[31mred",
			want:      `Stopping \x1b]0;pwned\x07\x1b[31mred`,
			wantMulti: `Stopping \x1b]0;pwned\x07\x1b[31mred`,
		},
		{name: "newline", in: "a\nb", want: `a\nb`, wantMulti: "a\nb"},
		{name: "crlf", in: "a\r\nb", want: `a\r\nb`, wantMulti: "a\nb"},
		{name: "lone cr", in: "safe\rEVIL", want: `safe\rEVIL`, wantMulti: "safe\nEVIL"},
		{name: "tab", in: "a\tb", want: `a\tb`, wantMulti: "a  b"},
		{name: "del and nul", in: "a\x7fb\x00", want: `a\x7fb\x00`, wantMulti: `a\x7fb\x00`},
		{name: "c1 csi", in: "a\u009b31mb", want: `a\u009b31mb`, wantMulti: `a\u009b31mb`},
		{name: "bidi override", in: "ok\u202eevil", want: `ok\u202eevil`, wantMulti: `ok\u202eevil`},
		{name: "invalid utf8", in: "a\xffb", want: "a\uFFFDb", wantMulti: "a\uFFFDb"},
		{name: "wide and accents kept", in: "pod café 日本", want: "pod café 日本", wantMulti: "pod café 日本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sanitize(tt.in); got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := SanitizeMultiline(tt.in); got != tt.wantMulti {
				t.Errorf("SanitizeMultiline(%q) = %q, want %q", tt.in, got, tt.wantMulti)
			}
		})
	}
}

// TestSanitizeLeavesNoControls checks every byte value: whatever goes in, nothing a terminal
// would interpret comes out.
func TestSanitizeLeavesNoControls(t *testing.T) {
	var in strings.Builder
	for b := 0; b < 256; b++ {
		in.WriteByte(byte(b))
	}
	for r := rune(0x80); r <= 0x9f; r++ {
		in.WriteRune(r)
	}
	for _, got := range []string{Sanitize(in.String()), SanitizeMultiline(in.String())} {
		for _, r := range got {
			if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) {
				t.Fatalf("control %U left in %q", r, got)
			}
		}
		if strings.Contains(Sanitize(in.String()), "\n") {
			t.Fatalf("Sanitize left a line feed")
		}
	}
}
