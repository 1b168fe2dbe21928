package oauthclient_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// dpopCall posts a ping to the demo server with h's token, as the relay
// does: Authorization: DPoP and a proof, or Bearer; one retry when the
// server asks for its nonce. It returns the final status.
func dpopCall(t *testing.T, e *env, h *oauthclient.Handler) int {
	t.Helper()
	ts, err := h.TokenSource(t.Context())
	if err != nil || ts == nil {
		t.Fatalf("TokenSource: %v, %v", ts, err)
	}
	tok, err := ts.Token()
	if err != nil || tok == nil {
		t.Fatalf("Token: %v, %v", tok, err)
	}
	u, _ := url.Parse(e.demo.URL)
	send := func() *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.demo.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
		if tok.Type() == "DPoP" {
			proof, err := h.DPoPProof(req.Method, req.URL, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("DPoP", proof)
		}
		resp, err := e.demo.AuthServer.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h.ObserveDPoPNonce(u, resp.Header.Get("DPoP-Nonce"))
		return resp
	}
	resp := send()
	if resp.StatusCode == 401 && strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") {
		resp = send()
	}
	return resp.StatusCode
}

// TestDPoPSignIn: with DPoP on, every grant's token request carries a
// proof (with the authorization server's nonce, asked for once), the
// tokens are DPoP-bound, the key is stored with them, and the resource
// server takes the token with a proof (its own nonce asked for once).
func TestDPoPSignIn(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mode   string
		advert bool
		bound  bool
	}{
		{"on", oauthclient.DPoPOn, true, true},
		{"on, not advertised", oauthclient.DPoPOn, false, true},
		{"auto, advertised", oauthclient.DPoPAuto, true, true},
		{"auto, not advertised", oauthclient.DPoPAuto, false, false},
		{"off", oauthclient.DPoPOff, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			as := &oauthtest.ASOptions{DPoP: true, DPoPNonce: "as-nonce", AutoApprove: true}
			if !tt.advert {
				as.EditMetadata = func(m map[string]any) { delete(m, "dpop_signing_alg_values_supported") }
			}
			e := setup(t, as, &oauthtest.ResourceOptions{DPoPNonce: "rs-nonce"})
			h := e.handler(t, func(c *oauthclient.Config) { c.DPoP = tt.mode })
			if err := h.Login(t.Context()); err != nil {
				t.Fatal(err)
			}
			c := h.Credentials(t.Context())
			if got := c.SenderConstrained(); got != tt.bound {
				t.Fatalf("SenderConstrained = %v (token_type %q, key %v), want %v", got, c.TokenType, c.DPoPKey != "", tt.bound)
			}
			if tok, _ := h.Token(); (tok.Type() == "DPoP") != tt.bound {
				t.Errorf("token type %q", tok.Type())
			}
			if status := dpopCall(t, e, h); status != 200 {
				t.Errorf("the server answered %d", status)
			}
			// A proof without the nonce, then one with it.
			want := 1
			if tt.mode == oauthclient.DPoPOn || tt.mode == oauthclient.DPoPAuto && tt.advert {
				want = 2
			}
			if n := e.demo.AuthServer.Stats().TokenRequests["authorization_code"]; n != want {
				t.Errorf("%d token requests, want %d", n, want)
			}
		})
	}
}

// TestDPoPRefreshAfterRestart: a bridge started anew (a new handler on
// the same store) refreshes the DPoP-bound refresh token with the stored
// key, and the new token works; a handler that has the tokens but not the
// key (a copy of the token store without it) is refused.
func TestDPoPRefreshAfterRestart(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{DPoP: true, AutoApprove: true, AccessTokenTTL: time.Hour}, nil)
	h := e.handler(t, func(c *oauthclient.Config) { c.DPoP = oauthclient.DPoPOn })
	if err := h.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := h.Credentials(t.Context())
	if !first.SenderConstrained() || first.RefreshToken == "" {
		t.Fatalf("credentials: bound %v, refresh token %v", first.SenderConstrained(), first.RefreshToken != "")
	}

	e.clock.Advance(2 * time.Hour)
	e.forbidBrowser(t)
	restarted := e.handler(t, func(c *oauthclient.Config) { c.DPoP = oauthclient.DPoPOff }) // the stored key decides
	if status := dpopCall(t, e, restarted); status != 200 {
		t.Fatalf("after the restart: %d", status)
	}
	now := restarted.Credentials(t.Context())
	if now.AccessToken == first.AccessToken || now.DPoPKey != first.DPoPKey || !now.SenderConstrained() {
		t.Errorf("after the refresh: new token %v, same key %v, bound %v", now.AccessToken != first.AccessToken, now.DPoPKey == first.DPoPKey, now.SenderConstrained())
	}
	if st := e.demo.AuthServer.Stats(); st.Refreshes != 1 {
		t.Errorf("%d refreshes, want 1", st.Refreshes)
	}

	// The tokens copied without the key: the refresh token is refused,
	// and so is the access token, sent as a Bearer token.
	stolen := *now
	stolen.DPoPKey = ""
	store := &oauthclient.MemoryStore{}
	if err := store.Save(t.Context(), restarted.Key(), &stolen); err != nil {
		t.Fatal(err)
	}
	thief, err := oauthclient.New(&oauthclient.Config{ServerURL: e.demo.URL, HTTPClient: e.demo.AuthServer.Client(), Store: store, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if status := dpopCall(t, e, thief); status != 401 {
		t.Errorf("the token without its key: %d, want 401", status)
	}
	e.clock.Advance(2 * time.Hour)
	if tok, err := thief.Token(); tok != nil {
		t.Errorf("a refresh without the key gave a token (%v)", err)
	}
}
