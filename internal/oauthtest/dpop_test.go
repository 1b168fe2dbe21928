package oauthtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// dpopToken gets a client_credentials token bound to key, with the proof
// edit makes of the default claims.
func dpopToken(t *testing.T, a *AuthServer, key *DPoPKey, res string, edit func(*DPoPClaims)) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {res}}
	return post(t, a, "/token", form, func(r *http.Request) {
		r.SetBasicAuth(confidential, secret)
		c := DPoPClaims{JTI: newSecret(), HTM: "POST", HTU: a.Issuer() + "/token", IAT: time.Now().Unix(), Nonce: a.opts.DPoPNonce}
		if edit != nil {
			edit(&c)
		}
		r.Header.Set("DPoP", key.Proof(c, ""))
	})
}

// callDPoP posts to u with tok in an Authorization header of scheme and
// proof as the DPoP header ("" for none); it returns the status, the
// WWW-Authenticate header and the DPoP-Nonce header.
func callDPoP(t *testing.T, u, scheme, tok, proof string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", scheme+" "+tok)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("DPoP-Nonce")
}

// TestDPoPTokenEndpoint: with DPoP on, the token endpoint binds the
// tokens of a request with a valid proof to its key (token_type DPoP,
// cnf.jkt) and refuses bad proofs; a nonce, when required, is asked for
// with use_dpop_nonce and the DPoP-Nonce header.
func TestDPoPTokenEndpoint(t *testing.T) {
	a := startAS(t, &ASOptions{DPoP: true})
	key := NewDPoPKey()
	status, m := dpopToken(t, a, key, "https://mcp.example.com", nil)
	if status != 200 || m["token_type"] != "DPoP" {
		t.Fatalf("token: %d %v, want token_type DPoP", status, m)
	}
	info, err := a.Verify(t.Context(), m["access_token"].(string), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cnf, _ := info.Extra["cnf"].(map[string]any); cnf["jkt"] != key.Thumbprint() {
		t.Errorf("cnf = %v, want jkt %s", info.Extra["cnf"], key.Thumbprint())
	}
	meta := a.metadata()
	if algs, _ := meta["dpop_signing_alg_values_supported"].([]string); len(algs) != 1 || algs[0] != "ES256" {
		t.Errorf("dpop_signing_alg_values_supported = %v", meta["dpop_signing_alg_values_supported"])
	}

	for _, tt := range []struct {
		name string
		edit func(*DPoPClaims)
	}{
		{"wrong htu", func(c *DPoPClaims) { c.HTU = a.Issuer() + "/other" }},
		{"wrong htm", func(c *DPoPClaims) { c.HTM = "GET" }},
		{"stale iat", func(c *DPoPClaims) { c.IAT = time.Now().Add(-10 * time.Minute).Unix() }},
		{"ath at the token endpoint", func(c *DPoPClaims) { c.ATH = TokenHash("x") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, m := dpopToken(t, a, key, "https://mcp.example.com", tt.edit)
			wantError(t, status, m, 400, errInvalidDPoPProof)
		})
	}

	// Without a proof: a Bearer token, unless proofs are required.
	status, m = post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}}, func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
	if status != 200 || m["token_type"] != "Bearer" {
		t.Errorf("no proof: %d %v, want a Bearer token", status, m)
	}
	strict := startAS(t, &ASOptions{DPoP: true, RequireDPoP: true, DPoPNonce: "n-1"})
	status, m = post(t, strict, "/token", url.Values{"grant_type": {"client_credentials"}}, func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
	wantError(t, status, m, 400, errInvalidDPoPProof)
	status, m = dpopToken(t, strict, key, "https://mcp.example.com", func(c *DPoPClaims) { c.Nonce = "" })
	wantError(t, status, m, 400, errUseDPoPNonce)
	status, m = dpopToken(t, strict, key, "https://mcp.example.com", nil)
	if status != 200 || m["token_type"] != "DPoP" {
		t.Errorf("with the nonce: %d %v", status, m)
	}
}

// TestDPoPRefreshBound: a refresh token bound to a key is refreshed only
// with a proof of that key.
func TestDPoPRefreshBound(t *testing.T) {
	a := startAS(t, &ASOptions{DPoP: true, AutoApprove: true})
	key := NewDPoPKey()
	cfg := config(a)
	q, verifier := authorize(t, a, cfg, true)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "code_verifier": {verifier},
		"redirect_uri": {cfg.RedirectURL}, "client_id": {cfg.ClientID}}
	proof := func(k *DPoPKey) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("DPoP", k.Proof(DPoPClaims{JTI: newSecret(), HTM: "POST", HTU: a.Issuer() + "/token", IAT: time.Now().Unix()}, ""))
		}
	}
	status, m := post(t, a, "/token", form, proof(key))
	if status != 200 || m["token_type"] != "DPoP" {
		t.Fatalf("code: %d %v", status, m)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "client_id": {cfg.ClientID}}
	status, m = post(t, a, "/token", refresh)
	wantError(t, status, m, 400, errInvalidDPoPProof)
	status, m = post(t, a, "/token", refresh, proof(NewDPoPKey()))
	wantError(t, status, m, 400, errInvalidDPoPProof)
	status, m = post(t, a, "/token", refresh, proof(key))
	if status != 200 || m["token_type"] != "DPoP" {
		t.Errorf("refresh with the key: %d %v", status, m)
	}
}

// TestDPoPResource: the protected resource takes a DPoP-bound token only
// with the DPoP scheme and a valid proof of its key; each bad proof is
// refused with a DPoP challenge, and a required nonce is asked for.
func TestDPoPResource(t *testing.T) {
	a := startAS(t, &ASOptions{DPoP: true})
	_, u, _ := startProtected(t, a, ResourceOptions{DPoPNonce: "rs-nonce"})
	key := NewDPoPKey()
	status, m := dpopToken(t, a, key, u, nil)
	if status != 200 {
		t.Fatalf("token: %d %v", status, m)
	}
	tok := m["access_token"].(string)
	claims := func() DPoPClaims {
		return DPoPClaims{JTI: newSecret(), HTM: "POST", HTU: u, IAT: time.Now().Unix(), ATH: TokenHash(tok), Nonce: "rs-nonce"}
	}
	if status, wa, _ := callDPoP(t, u, "DPoP", tok, key.Proof(claims(), "")); status != 200 {
		t.Fatalf("a valid proof: %d %s", status, wa)
	}
	replayed := key.Proof(claims(), "")
	if status, wa, _ := callDPoP(t, u, "DPoP", tok, replayed); status != 200 {
		t.Fatalf("a valid proof: %d %s", status, wa)
	}
	for _, tt := range []struct {
		name, scheme, proof, want string
	}{
		{"replayed jti", "DPoP", replayed, errInvalidDPoPProof},
		{"wrong ath", "DPoP", key.Proof(func() DPoPClaims { c := claims(); c.ATH = TokenHash("other"); return c }(), ""), errInvalidDPoPProof},
		{"no ath", "DPoP", key.Proof(func() DPoPClaims { c := claims(); c.ATH = ""; return c }(), ""), errInvalidDPoPProof},
		{"wrong htu", "DPoP", key.Proof(func() DPoPClaims { c := claims(); c.HTU = u + "/other"; return c }(), ""), errInvalidDPoPProof},
		{"wrong htm", "DPoP", key.Proof(func() DPoPClaims { c := claims(); c.HTM = "GET"; return c }(), ""), errInvalidDPoPProof},
		{"stale iat", "DPoP", key.Proof(func() DPoPClaims { c := claims(); c.IAT -= 600; return c }(), ""), errInvalidDPoPProof},
		{"future iat", "DPoP", key.Proof(func() DPoPClaims { c := claims(); c.IAT += 600; return c }(), ""), errInvalidDPoPProof},
		{"wrong typ", "DPoP", key.Proof(claims(), "JWT"), errInvalidDPoPProof},
		// The header of these is the one of the valid proofs above, which the
		// checker has seen: each proof's signature is still verified.
		{"another proof's signature", "DPoP", func() string {
			p, q := key.Proof(claims(), ""), key.Proof(claims(), "")
			return p[:strings.LastIndexByte(p, '.')] + q[strings.LastIndexByte(q, '.'):]
		}(), errInvalidDPoPProof},
		{"a short signature", "DPoP", func() string { p := key.Proof(claims(), ""); return p[:len(p)-4] }(), errInvalidDPoPProof},
		{"missing nonce", "DPoP", key.Proof(func() DPoPClaims { c := claims(); c.Nonce = ""; return c }(), ""), errUseDPoPNonce},
		{"another key", "DPoP", NewDPoPKey().Proof(claims(), ""), "invalid_token"},
		{"no proof", "DPoP", "", errInvalidDPoPProof},
		{"as a Bearer token", "Bearer", "", "invalid_token"},
		{"as a Bearer token with a proof", "Bearer", key.Proof(claims(), ""), "invalid_token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, wa, nonce := callDPoP(t, u, tt.scheme, tok, tt.proof)
			if status != 401 || !strings.HasPrefix(wa, "DPoP ") || !strings.Contains(wa, `error="`+tt.want+`"`) {
				t.Errorf("got %d %q, want 401 with a DPoP %s challenge", status, wa, tt.want)
			}
			if (nonce == "rs-nonce") != (tt.want == errUseDPoPNonce) {
				t.Errorf("DPoP-Nonce %q", nonce)
			}
		})
	}

	// A Bearer token is taken as one, unless DPoP is required.
	bearer := machineToken(t, a, u, "")
	if status, wa, _ := callDPoP(t, u, "Bearer", bearer, ""); status != 200 {
		t.Errorf("a Bearer token: %d %s", status, wa)
	}
	if status, wa, _ := callDPoP(t, u, "DPoP", bearer, key.Proof(func() DPoPClaims { c := claims(); c.ATH = TokenHash(bearer); return c }(), "")); status != 401 {
		t.Errorf("a Bearer token with the DPoP scheme: %d %s", status, wa)
	}
	_, strict, _ := startProtected(t, a, ResourceOptions{RequireDPoP: true})
	bearer = machineToken(t, a, strict, "")
	if status, wa, _ := callDPoP(t, strict, "Bearer", bearer, ""); status != 401 || !strings.Contains(wa, "DPoP") {
		t.Errorf("a Bearer token where DPoP is required: %d %s", status, wa)
	}
}

// BenchmarkDPoPResource is what the resource server's DPoP check costs a
// request (the server half of cmd/mcp-bridge's BenchmarkLatencyDPoP): a
// request with a Bearer token against one with a DPoP-bound token and a
// fresh proof, through Protect. The proofs are signed before the timer
// starts; each is sent once.
func BenchmarkDPoPResource(b *testing.B) {
	const u = "http://127.0.0.1:8080/mcp"
	key := NewDPoPKey()
	jkt := key.Thumbprint()
	verify := func(_ context.Context, tok string, _ *http.Request) (*auth.TokenInfo, error) {
		info := &auth.TokenInfo{Scopes: []string{}, Expiration: time.Now().Add(time.Hour), UserID: "u", Extra: map[string]any{"aud": u}}
		if tok == "dpop-token" {
			info.Extra["cnf"] = map[string]any{"jkt": jkt}
		}
		return info, nil
	}
	h, err := Protect(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), &ResourceOptions{
		Resource: u, AuthorizationServers: []string{"http://127.0.0.1:8081"}, Verifier: verify})
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, scheme, tok string, proof func() string) {
		proofs := make([]string, b.N)
		for i := range proofs {
			proofs[i] = proof()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			r := httptest.NewRequest(http.MethodPost, u, nil)
			r.Header.Set("Authorization", scheme+" "+tok)
			if proofs[i] != "" {
				r.Header.Set("DPoP", proofs[i])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Header().Get("WWW-Authenticate"))
			}
		}
	}
	b.Run("bearer", func(b *testing.B) { run(b, "Bearer", "bearer-token", func() string { return "" }) })
	b.Run("dpop", func(b *testing.B) {
		run(b, "DPoP", "dpop-token", func() string {
			return key.Proof(DPoPClaims{JTI: newSecret(), HTM: "POST", HTU: u, IAT: time.Now().Unix(), ATH: TokenHash("dpop-token")}, "")
		})
	})
}
