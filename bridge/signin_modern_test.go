package bridge

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestModernHostWhileSigningIn: a 2026 host's first request is
// server/discover, which needs no sign-in of the bridge's: against a 2026
// server that answers 401 until signed in, with a sign-in that waits for
// the user, it is answered at once, from the DiscoverResult the era cache
// keeps when there is one (no 2 s grace: nothing is held), else with
// -32601 (a dual-era host then falls back to initialize). The host's
// enveloped request waits for the sign-in and is answered once it is
// over.
func TestModernHostWhileSigningIn(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(map[bool]string{true: "cached", false: "nothing cached"}[cached], func(t *testing.T) {
			srv := newModernServer(t)
			srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer signed-in" {
					w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://example.com/.well-known/oauth-protected-resource"`)
					http.Error(w, "sign in", http.StatusUnauthorized)
					return
				}
				srv.serve(w, r)
			})
			cache := &memEraCache{}
			if cached {
				cache.SetEra("era "+srv.URL+" ", []byte(`{"era":"2026-07-28","discover":{"supportedVersions":["2026-07-28"],"capabilities":{"tools":{}},"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"remembered","version":"1"}}}}`))
			}
			oauth := &slowSignIn{done: make(chan struct{})}
			h := runRelay(t, &Config{URL: srv.URL, OAuthHandler: oauth, EraCache: cache})
			meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{"url":{}}}}`
			start := time.Now()
			h.send(`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + meta + `}}`)
			l := h.recv()
			took := time.Since(start)
			t.Logf("server/discover answered after %v: %s", took.Round(time.Millisecond), l)
			if took > time.Second {
				t.Errorf("server/discover answered after %v while the sign-in waits, want at once", took)
			}
			switch {
			case cached && (!strings.Contains(l, `"id":1`) || !strings.Contains(l, `"remembered"`)):
				t.Fatalf("server/discover with a DiscoverResult cached: %s, want it", l)
			case !cached && (!strings.Contains(l, `"id":1`) || !strings.Contains(l, `"code":-32601`)):
				t.Fatalf("server/discover with nothing cached: %s, want -32601", l)
			}
			if !cached {
				return
			}
			h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{` + meta + `}}`)
			for deadline := time.Now().Add(5 * time.Second); oauth.SignInPending() == nil; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("tools/list started no sign-in")
				}
			}
			close(oauth.done)
			if l := h.recv(); !strings.Contains(l, `"id":2`) || !strings.Contains(l, `"region"`) {
				t.Errorf("tools/list after the sign-in: %s", l)
			}
		})
	}
}
