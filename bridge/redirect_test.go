package bridge

import (
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestConfineRedirectsQuotesTarget: the relay refuses a redirect from
// https to http; the target it names is the server's choice, and the
// refusal reaches the host. A target of 10 KB (with a bidi override in
// its host, which net/url percent-encodes) is quoted, bounded to 200
// runes and printable; before, all of it came back (issue 11).
func TestConfineRedirectsQuotesTarget(t *testing.T) {
	from, err := http.NewRequest(http.MethodPost, "https://mcp.example/mcp", nil)
	if err != nil {
		t.Fatal(err)
	}
	to, err := http.NewRequest(http.MethodPost, "http://evil\u202eexample/"+strings.Repeat("very-long/", 1000), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = confineRedirects(nil).CheckRedirect(to, []*http.Request{from})
	if err == nil {
		t.Fatal("a redirect from https to http was followed")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, `refusing a redirect from https to "http://evil`) {
		t.Errorf("err = %.300s, want the target quoted", msg)
	}
	if n := utf8.RuneCountInString(msg); n > 250 {
		t.Errorf("err is %d runes long, want at most 250", n)
	}
	for _, r := range msg {
		if !unicode.IsPrint(r) {
			t.Errorf("err holds %U: %q", r, msg)
			break
		}
	}
}
