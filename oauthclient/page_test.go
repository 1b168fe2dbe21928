package oauthclient

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// chromium returns the path of a headless Chromium, failing the test in CI
// (where .ci/run installs Debian's chromium) and skipping it elsewhere if
// there is none.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI needs chromium for this test; .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium here (apt-get install chromium)")
	return ""
}

// renderDOM loads url in headless Chromium and returns the DOM it built.
func renderDOM(t *testing.T, bin, url string) string {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", url).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return string(out)
}

// TestSignInPagesInChromium renders the loopback redirect's pages in a real
// browser: the success page, a refused response (wrong iss) and a stale
// link, and checks what the user reads.
func TestSignInPagesInChromium(t *testing.T) {
	bin := chromium(t)
	results := make(chan callbackResult, 1)
	as := &asMeta{AuthServerMeta: oauthex.AuthServerMeta{Issuer: "https://as.example"}}
	cb := &callback{path: "/callback", state: "st", as: as, server: "https://mcp.example/mcp", results: results}
	srv := httptest.NewServer(cb)
	defer srv.Close()

	tests := []struct {
		name, query string
		want        []string
		result      string // what the sign-in receives: a code, an error, or nothing
	}{
		{"success", "code=abc&state=st&iss=https://as.example",
			[]string{"<title>mcp-bridge: Signed in</title>", `class="ok"`, "signed in to https://mcp.example/mcp", "close this tab"}, "code abc"},
		{"wrong issuer", "code=abc&state=st&iss=https://evil.example",
			[]string{"<title>mcp-bridge: Sign-in failed</title>", `class="fail"`, "not \"https://as.example\""}, "error"},
		{"stale link", "code=abc&state=old",
			[]string{"<title>mcp-bridge: This sign-in link is not current</title>", "newest sign-in link"}, ""},
		{"script in the query is shown as text", "error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=st",
			[]string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dom := renderDOM(t, bin, srv.URL+"/callback?"+tt.query)
			for _, w := range tt.want {
				if !strings.Contains(dom, w) {
					t.Errorf("the page lacks %q:\n%s", w, dom)
				}
			}
			if strings.Contains(dom, "<script>") {
				t.Errorf("the page runs a script:\n%s", dom)
			}
			if tt.result == "" {
				select {
				case r := <-results:
					t.Errorf("the sign-in received %+v, want nothing", r)
				default:
				}
				return
			}
			// The answer goes to the sign-in after the page is sent.
			select {
			case r := <-results:
				got := "code " + r.code
				if r.err != nil {
					got = "error"
				}
				if got != tt.result {
					t.Errorf("the sign-in received %q, want %q", got, tt.result)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("the sign-in received nothing, want %q", tt.result)
			}
			cb.answered.Store(false) // the next case is a new sign-in
		})
	}
}
