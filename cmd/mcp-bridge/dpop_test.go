package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// dpopWorld is a leak-checked scenario whose authorization server binds
// tokens to DPoP keys, with a nonce, and whose MCP server takes only
// DPoP-bound tokens, with a nonce of its own.
func dpopWorld(t *testing.T, as *oauthtest.ASOptions) *leakWorld {
	t.Helper()
	if as == nil {
		as = &oauthtest.ASOptions{}
	}
	as.DPoP, as.DPoPNonce = true, "as-nonce-1"
	return newLeakWorld(t, as, &oauthtest.ResourceOptions{RequireDPoP: true, DPoPNonce: "rs-nonce-1"})
}

// storedTokens returns the tokens items of the file token store, decoded,
// and adds their DPoP keys to the secrets no output may show.
func (w *leakWorld) storedTokens() []map[string]any {
	w.t.Helper()
	var items []map[string]any
	filepath.WalkDir(filepath.Join(w.home, "config"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tokens.json") {
			return nil
		}
		b, _ := os.ReadFile(p)
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			items = append(items, m)
			if k, _ := m["dpop_key"].(string); k != "" {
				w.jar.addDPoPKey(k)
			}
		}
		return nil
	})
	return items
}

// indexFile returns the token store's plain index.
func (w *leakWorld) indexFile() []byte {
	var data []byte
	filepath.WalkDir(filepath.Join(w.home, "config"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) == "index.json" {
			data, _ = os.ReadFile(p)
		}
		return nil
	})
	return data
}

// TestDPoPNoLeaks runs the real binary with --dpop on through a sign-in
// in the browser, calls, status, doctor and logout: every token request
// and MCP request carries a proof (each server's nonce asked for once),
// the tokens are DPoP-bound, status and doctor say so, the key is kept in
// the tokens item only (never the plain index), logout removes it, and
// neither the key (in any of its encodings), a proof, nor a token appears
// in any output.
func TestDPoPNoLeaks(t *testing.T) {
	w := dpopWorld(t, nil)
	h := w.bridge("bridge", nil, "--dpop", "on", "--browser-command", approver())
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"bound"}`)
	h.mustCall("echo", `{"text":"again"}`)
	h.finish()

	items := w.storedTokens()
	if len(items) != 1 || items[0]["dpop_key"] == nil || !strings.EqualFold(items[0]["token_type"].(string), "DPoP") {
		t.Fatalf("stored tokens %v: want one DPoP-bound item with its key", keysOf(items))
	}
	if idx := w.indexFile(); !regexp.MustCompile(`"dpop":\s*true`).Match(idx) || bytes.Contains(idx, []byte("dpop_key")) {
		t.Errorf("index %s: want the DPoP flag and no key", idx)
	}
	w.noKindIn("the index", w.indexFile(), "DPoP private key")

	if out := w.mustCommand("status", "", "status"); !strings.Contains(out, "DPoP-bound") {
		t.Errorf("status does not say the tokens are DPoP-bound:\n%s", out)
	}
	w.mustCommand("status --json", "", "status", "--json")
	out := w.mustCommand("doctor", "", "doctor", "--dpop", "on")
	for _, want := range []string{"sender-constrained (DPoP", "accepted by the server", "DPoP (RFC 9449)"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor does not say %q:\n%s", want, out)
		}
	}
	w.mustCommand("doctor --json", "", "doctor", "--json", "--dpop", "on")

	st := w.as.Stats()
	// The nonce costs the first token request one retry.
	if st.TokenRequests["authorization_code"] != 2 {
		t.Errorf("stats %+v: want two authorization_code requests, the nonce's retry", st)
	}
	w.mustCommand("logout", "", "logout")
	if items := w.storedTokens(); len(items) != 0 {
		t.Errorf("after logout the store holds %d tokens items", len(items))
	}
	w.requireKinds("access token", "refresh token", "DPoP proof", "DPoP private key", "Authorization header")
}

// TestDPoPRefreshAfterRestart: a bridge started after the one that signed
// in refreshes the DPoP-bound refresh token with the key it finds in the
// store, and the new token works; the stored access token copied without
// the key, as a Bearer token or with a proof of another key, is refused.
func TestDPoPRefreshAfterRestart(t *testing.T) {
	w := dpopWorld(t, &oauthtest.ASOptions{AccessTokenTTL: 2 * time.Second})
	w.mustCommand("login", "", "login", "--dpop", "auto", "--browser-command", approver())
	first := w.storedTokens()
	if len(first) != 1 || first[0]["refresh_token"] == nil {
		t.Fatalf("after login: %v", keysOf(first))
	}
	time.Sleep(2 * time.Second) // the token is about to expire: the next bridge refreshes it first

	// Without --dpop: the stored key decides.
	h := w.bridge("restarted", nil, "--browser-command", "false", "--login-timeout", "5s")
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"refreshed"}`)
	h.finish()
	st := w.as.Stats()
	if st.Refreshes == 0 || st.AuthorizationRequests != 1 {
		t.Errorf("stats %+v: want a refresh and no second sign-in", st)
	}
	now := w.storedTokens()
	if len(now) != 1 || now[0]["dpop_key"] != first[0]["dpop_key"] || now[0]["access_token"] == first[0]["access_token"] {
		t.Fatalf("after the refresh: want a new token bound to the same key")
	}

	tok := now[0]["access_token"].(string)
	for _, tt := range []struct{ name, scheme, proof string }{
		{"as a Bearer token", "Bearer", ""},
		{"with a proof of another key", "DPoP", oauthtest.NewDPoPKey().Proof(oauthtest.DPoPClaims{JTI: "stolen-1", HTM: "POST", HTU: w.url,
			IAT: time.Now().Unix(), ATH: oauthtest.TokenHash(tok), Nonce: "rs-nonce-1"}, "")},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, w.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", tt.scheme+" "+tok)
		if tt.proof != "" {
			req.Header.Set("DPoP", tt.proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the stolen token %s: %d, want 401", tt.name, resp.StatusCode)
		}
	}
	w.requireKinds("access token", "refresh token", "DPoP proof", "DPoP private key")
}

// noKindIn fails the test if data holds a window of a secret of kind.
func (w *leakWorld) noKindIn(name string, data []byte, kind string) {
	w.t.Helper()
	if i, ok := find(data, w.jar.patterns())[kind]; ok {
		w.t.Errorf("%s in %s at byte %d", kind, name, i)
	}
}

// keysOf lists the members of stored items, not their values.
func keysOf(items []map[string]any) [][]string {
	var out [][]string
	for _, m := range items {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		out = append(out, ks)
	}
	return out
}
