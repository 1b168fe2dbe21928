// Package safetext makes text that a remote party chose fit to show to a
// person or to a model. MCP servers and authorization servers choose
// client IDs, scopes, device-code prompts, error descriptions and error
// pages; printed raw, such text can drive the user's terminal (ESC and
// CSI sequences that clear the screen, retitle the window, write a
// clickable link or fake a prompt; C1 controls such as U+009B, which some
// terminals take for CSI), reorder what the user reads (the Unicode bidi
// overrides and isolates of "Trojan Source", CVE-2021-42574), break one
// log line or message into several that look like the bridge's own, or
// flood a host's model with a megabyte of somebody else's words.
//
// Every function here returns printable text only: runs of white space
// (newlines included) become one space, ASCII control characters become
// their visible Unicode control pictures (ESC becomes ␛, U+241B), other
// characters that are not printable (C1 controls, bidi and other format
// characters, unassigned code points) become \uXXXX, and invalid UTF-8
// becomes U+FFFD. The output holds no backslash-x escape, so that a
// handler that turns "\x1b" back into ESC (the colour log's) cannot
// revive one. [JSON] escapes the same characters in JSON text, as JSON
// escapes that decode to what they replace.
package safetext

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxLine is how many runes [Line] keeps.
const MaxLine = 1000

// MaxQuote is the bound a server's error text is quoted to: enough for a
// sentence or two of explanation, too little to carry a document.
const MaxQuote = 300

// Ellipsis marks text that was cut.
const Ellipsis = "…"

// Line returns s as one line of printable text of at most [MaxLine]
// runes, with [Ellipsis] after it if it was cut.
func Line(s string) string {
	return Clip(s, MaxLine)
}

// Clip returns s as one line of printable text of at most n runes, with
// [Ellipsis] after it if it was cut. The n runes are those written: an
// escaped character counts as many as its escape has. White space at
// either end is dropped.
func Clip(s string, n int) string {
	return clip(s, n, false)
}

// Quote returns s, clipped as [Clip] does to n runes, in double quotes,
// with the quotes and backslashes inside it escaped: what a server said,
// set apart from what the bridge says about it.
func Quote(s string, n int) string {
	return `"` + clip(s, n, true) + `"`
}

// Escape returns s with every character that is not printable replaced as
// the package comment says, newlines and tabs included (␊, ␉), but not
// clipped and without folding white space: for a log, which keeps the
// whole text on one line. The text "\x1b" becomes "\x1B", which the
// colour log does not turn into ESC.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == ' ' {
			b.WriteByte(' ')
			continue
		}
		writeRune(&b, r, size, false)
	}
	return strings.ReplaceAll(b.String(), `\x1b`, `\x1B`)
}

// JSON returns js, JSON text, with every character that is not
// printable written as a \uXXXX escape (a UTF-16 surrogate pair beyond
// U+FFFF): C0 and C1 controls, DEL, bidi and other format characters,
// white space other than the ASCII kinds, unassigned code points, and
// U+FFFD, which stands for invalid UTF-8 (those bytes become \ufffd).
// Such characters can only be in JSON strings, where the escape decodes
// to the character it replaces, so js decodes to the same values; the
// white space between tokens (space, tab, line feed, carriage return)
// is kept. encoding/json escapes only the ASCII controls, U+2028 and
// U+2029: a server's U+202E in a client ID would reach, raw, the
// terminal of whoever reads `status --json` (issue 11).
func JSON(js []byte) []byte {
	var b bytes.Buffer
	for i := 0; i < len(js); {
		r, size := utf8.DecodeRune(js[i:])
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.IsPrint(r) && r != utf8.RuneError:
			b.Write(js[i : i+size])
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.Bytes()
}

// Plain reports whether s is short plain text that can be shown and typed
// as it is: not empty, at most n runes, only printable characters (the
// ASCII space among them) and no space at either end. A device grant's
// user_code must be (RFC 8628 section 6.1: what the user types).
func Plain(s string, n int) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > n || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// clip bounds what it writes, not what it reads: a character written as
// \u202e counts six runes, a quoted one as \" two, so that n bounds the
// text a person or a model is shown (issue 11).
func clip(s string, n int, quoted bool) string {
	var b, one strings.Builder
	written := 0
	space := false // a space is due before the next character
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			space = written > 0
			i += size
			continue
		}
		one.Reset()
		writeRune(&one, r, size, quoted)
		need := utf8.RuneCountInString(one.String())
		if space {
			need++
		}
		if written+need > n {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(one.String())
		written += need
		i += size
	}
	if strings.TrimSpace(s[i:]) != "" {
		b.WriteString(Ellipsis)
	}
	return b.String()
}

// writeRune writes r (size bytes of the input) as printable text.
func writeRune(b *strings.Builder, r rune, size int, quoted bool) {
	switch {
	case r == utf8.RuneError && size <= 1:
		b.WriteRune(utf8.RuneError)
	case r < 0x20:
		b.WriteRune(0x2400 + r) // ␀ to ␟
	case r == 0x7f:
		b.WriteRune(0x2421) // ␡
	case quoted && (r == '"' || r == '\\'):
		b.WriteByte('\\')
		b.WriteRune(r)
	case !unicode.IsPrint(r) && r > 0xffff:
		fmt.Fprintf(b, `\U%08x`, r)
	case !unicode.IsPrint(r):
		fmt.Fprintf(b, `\u%04x`, r)
	default:
		b.WriteRune(r)
	}
}
