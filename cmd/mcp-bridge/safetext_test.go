package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/lmittmann/tint"
)

// TestColourLogEscapesServerText pins issue 11: on a terminal, tint writes
// a value's ESC as it is (it turns strconv.Quote's \x1b back into ESC, to
// keep colours), so a client ID, a scope or an error from a server drove
// the user's terminal; even the text `\x1b` in a quoted value became ESC.
// Only tint's own colour codes may remain.
func TestColourLogEscapesServerText(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newTint(&buf, slog.LevelInfo, false))
	log.Info("requesting a token", "client_id", "evil\x1b]0;pwned\x07\x1b[2J", "scopes", []string{"a\x1b[31m"},
		"note", `two words \x1b[2J`, "bidi", "x\u202ey")
	log.Error("sign-in failed", tint.Err(errors.New("token endpoint: \x1b[1Adenied\nFAKE LINE")))
	out := buf.String()
	for _, seq := range []string{"\x1b]", "\x1b[2J", "\x1b[31m", "\x1b[1A", "\u202e", "\x07"} {
		if strings.Contains(out, seq) {
			t.Errorf("the colour log holds %q raw:\n%q", seq, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("the log has %d lines, want 2:\n%s", n, out)
	}
	for _, want := range []string{"evil␛]0;pwned␇␛[2J", "FAKE LINE", `\u202e`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%q", want, out)
		}
	}
}
