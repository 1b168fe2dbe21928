package safetext

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"plain", "hello world", 100, "hello world"},
		{"white space runs", "  a\r\n\tb \u2028 c  ", 100, "a b c"},
		{"escape sequence", "\x1b[2J\x1b]0;pwned\x07ok", 100, "␛[2J␛]0;pwned␇ok"},
		{"delete", "a\x7fb", 100, "a␡b"},
		{"C1 CSI", "a\u009b31mb", 100, `a\u009b31mb`},
		{"bidi override", "user\u202eexe.txt", 100, `user\u202eexe.txt`},
		{"bidi isolate", "\u2066x\u2069", 100, `\u2066x\u2069`},
		{"invalid UTF-8", "a\xffb", 100, "a\ufffdb"},
		{"cut", "abcdef", 3, "abc…"},
		{"cut at a space", "abc def", 4, "abc…"},
		{"no ellipsis for trailing space", "abc   ", 3, "abc"},
		{"backslash x kept literal", `a\x1bb`, 100, `a\x1bb`},
		{"letters of any script", "Grüße, 世界", 100, "Grüße, 世界"},
		// The bound is on what is written: \u202e is six runes.
		{"escapes count as written", "\u202e\u202e\u202e", 13, `\u202e\u202e…`},
		{"an escape that does not fit", "ab\u202e", 7, "ab…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clip(tt.in, tt.n); got != tt.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	if got, want := Quote("say \"hi\\\"\n\x1b[1m", 100), `"say \"hi\\\" ␛[1m"`; got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
	if got, want := Quote(`""""`, 5), `"\"\"…"`; got != want {
		t.Errorf("Quote of quotes = %s, want %s: an escaped quote is two runes", got, want)
	}
	big := strings.Repeat("line of text\n", 1<<20/13)
	got := Quote(big, MaxQuote)
	if n := utf8.RuneCountInString(got); n > MaxQuote+3 {
		t.Errorf("Quote of 1 MiB is %d runes, want at most %d", n, MaxQuote+3)
	}
	if !strings.HasSuffix(got, Ellipsis+`"`) {
		t.Errorf("Quote of 1 MiB does not end with an ellipsis: %s", got[len(got)-20:])
	}
	bidi := Quote(strings.Repeat("\u202e", 1<<10), MaxQuote)
	if n := utf8.RuneCountInString(bidi); n > MaxQuote+3 {
		t.Errorf("Quote of 1024 bidi overrides is %d runes, want at most %d", n, MaxQuote+3)
	}
}

// TestPrintable feeds the runes of the first planes, a sample of the rest
// and some bytes that are not UTF-8 to Clip and checks that what comes out
// is printable and one line.
func TestPrintable(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r > 0x3000 && r%97 != 0 {
			continue
		}
		b.WriteRune(r)
	}
	b.WriteString("\xff\xfe\xc0")
	s := b.String()
	for len(s) > 0 {
		chunk := s[:min(len(s), 4000)]
		s = s[len(chunk):]
		for _, r := range Clip(chunk, len(chunk)) {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Fatalf("Clip leaves %U in its output", r)
			}
		}
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[string]bool{
		"WDJB-MJHT":             true,
		"1234 5678":             true,
		"":                      false,
		" WDJB":                 false,
		"WDJB\n":                false,
		"WD\x1b[2JJB":           false,
		"WD\u202eJB":            false,
		"\xff":                  false,
		strings.Repeat("A", 65): false,
	} {
		if got := Plain(in, 64); got != want {
			t.Errorf("Plain(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestEscape(t *testing.T) {
	in := "line one\nline two\t\x1b[31mred\u202e \\x1b[2J \xff"
	want := `line one␊line two␉␛[31mred\u202e \x1B[2J ` + "\ufffd"
	if got := Escape(in); got != want {
		t.Errorf("Escape(%q) = %q, want %q", in, got, want)
	}
}

func TestJSON(t *testing.T) {
	in := map[string]any{
		"client_id": "cli\u202eent\x1b[2J\x1b]0;pwned\x07\r\nmcp-bridge: signed in\x7f\u009b31m",
		"scopes":    []string{"read\u2066x\u2069", "tag\U000e0041", "zero\u200bwidth\u00a0nbsp", "Grüße, 世界"},
		"invalid":   "a\xffb",
	}
	plain, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := JSON(plain)
	for i, r := range string(got) {
		if !unicode.IsPrint(r) && r != ' ' && r != '\n' || r == utf8.RuneError {
			t.Errorf("JSON left %U raw at byte %d: %s", r, i, got)
		}
	}
	for _, want := range []string{`cli\u202eent\u001b[2J`, `\u007f\u009b31m`, `tag\udb40\udc41`, `zero\u200bwidth\u00a0nbsp`, `"Grüße, 世界"`, `a\ufffdb`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("JSON does not hold %s:\n%s", want, got)
		}
	}
	var before, after any
	if err := json.Unmarshal(plain, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &after); err != nil {
		t.Fatalf("JSON wrote invalid JSON: %v\n%s", err, got)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("JSON changed the decoded value (-want +got):\n%s", diff)
	}
	if !bytes.Contains(got, []byte("{\n  \"client_id\"")) {
		t.Errorf("JSON changed the white space between tokens:\n%s", got)
	}
}
