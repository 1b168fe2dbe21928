package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// refresh posts a refresh_token grant for the public client.
func refresh(t *testing.T, a *AuthServer, rt string, extra url.Values) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {publicID}}
	for k, v := range extra {
		form[k] = v
	}
	return post(t, a, "/token", form)
}

func TestRefreshRotation(t *testing.T) {
	c := NewClock()
	var rec EventLog
	a := startAS(t, &ASOptions{AutoApprove: true, Now: c.Now, AccessTokenTTL: 2 * time.Second, OnEvent: rec.Record})
	tok := login(t, a, config(a))
	if tok.Extra("expires_in") != float64(2) {
		t.Errorf("expires_in %v, want 2", tok.Extra("expires_in"))
	}
	c.Advance(2 * time.Second)
	if _, err := a.Verify(t.Context(), tok.AccessToken, nil); err == nil {
		t.Fatal("access token valid after its TTL")
	}

	status, m := refresh(t, a, tok.RefreshToken, url.Values{"resource": {resource}})
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, m)
	}
	rt2, _ := m["refresh_token"].(string)
	if rt2 == "" || rt2 == tok.RefreshToken || m["access_token"] == tok.AccessToken {
		t.Fatalf("refresh did not rotate: %v", m)
	}
	info, err := a.Verify(t.Context(), m["access_token"].(string), nil)
	if err != nil || info.Extra["aud"] != resource || info.Scopes[0] != "read" {
		t.Errorf("refreshed token: %+v, %v", info, err)
	}

	// The old refresh token is refused; the new one works.
	status, m = refresh(t, a, tok.RefreshToken, nil)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	status, m = refresh(t, a, rt2, nil)
	if status != 200 {
		t.Fatalf("refresh with the new token: %d %v", status, m)
	}
	if s := a.Stats(); s.Refreshes != 2 || s.TokenRequests["refresh_token"] != 3 {
		t.Errorf("Stats %+v", s)
	}
	var refreshed int
	for _, e := range rec.All() {
		if e.Kind == EventTokenIssued && e.GrantType == "refresh_token" {
			refreshed++
			if !strings.Contains(e.String(), "refreshed access token") || e.ExpiresIn != 2*time.Second {
				t.Errorf("event %q", e)
			}
		}
	}
	if refreshed != 2 {
		t.Errorf("%d refresh events, want 2", refreshed)
	}

	// With x/oauth2's token source, which does not send resource on refresh.
	ts := config(a).TokenSource(ctxFor(t, a), &oauth2.Token{RefreshToken: m["refresh_token"].(string)})
	if _, err := ts.Token(); err != nil {
		t.Errorf("x/oauth2 refresh: %v", err)
	}
}

func TestRefreshGraceAndExpiry(t *testing.T) {
	c := NewClock()
	a := startAS(t, &ASOptions{AutoApprove: true, Now: c.Now, RefreshGrace: 10 * time.Second, RefreshTokenTTL: time.Hour})
	tok := login(t, a, config(a))
	if status, m := refresh(t, a, tok.RefreshToken, nil); status != 200 {
		t.Fatalf("refresh: %d %v", status, m)
	}
	c.Advance(9 * time.Second)
	status, m := refresh(t, a, tok.RefreshToken, nil)
	if status != 200 {
		t.Fatalf("refresh within grace: %d %v", status, m)
	}
	c.Advance(time.Second)
	status, m2 := refresh(t, a, tok.RefreshToken, nil)
	wantError(t, status, m2, http.StatusBadRequest, "invalid_grant")

	c.Advance(time.Hour)
	status, m2 = refresh(t, a, m["refresh_token"].(string), nil)
	wantError(t, status, m2, http.StatusBadRequest, "invalid_grant")
}

func TestRefreshSwitches(t *testing.T) {
	tests := []struct {
		name string
		opts ASOptions
		auth []oauth2.AuthCodeOption // extra authorization parameters
		// wantRefresh: the code exchange gives a refresh token.
		wantRefresh bool
		extra       url.Values // refresh parameters
		want        string     // refresh error, "" for success
		wantRotated bool
	}{
		{"no refresh tokens", ASOptions{NoRefreshTokens: true}, nil, false, nil, "", false},
		{"no rotation", ASOptions{NoRefreshRotation: true}, nil, true, nil, "", false},
		{"entra scope required", ASOptions{RequireScopeOnRefresh: true}, nil, true, nil, "invalid_request", false},
		{"entra scope given", ASOptions{RequireScopeOnRefresh: true}, nil, true, url.Values{"scope": {"read"}}, "", true},
		{"entra resource", ASOptions{RejectResource: true}, nil, true, url.Values{"resource": {resource}}, "invalid_request", false},
		{"narrower scope", ASOptions{}, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", "read write")}, true, url.Values{"scope": {"read"}}, "", true},
		{"wider scope", ASOptions{}, nil, true, url.Values{"scope": {"read write"}}, "invalid_scope", false},
		{"other resource", ASOptions{}, nil, true, url.Values{"resource": {"https://other.example.com/mcp"}}, "invalid_target", false},
		{"okta without offline_access", ASOptions{Scopes: []string{"read"}, OfflineAccess: true}, nil, false, nil, "", false},
		{"okta with offline_access", ASOptions{Scopes: []string{"read"}, OfflineAccess: true}, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", "read offline_access")}, true, nil, "", true},
		{"google online", ASOptions{RequireOfflineAccessType: true}, []oauth2.AuthCodeOption{oauth2.AccessTypeOffline}, false, nil, "", false},
		{"google offline", ASOptions{RequireOfflineAccessType: true}, []oauth2.AuthCodeOption{oauth2.AccessTypeOffline, oauth2.ApprovalForce}, true, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AutoApprove = true
			a := startAS(t, &tt.opts)
			auth := tt.auth
			if tt.opts.RejectResource {
				// Log in without resource, as Entra needs.
				q, verifier := authorize(t, a, config(a), true)
				tok, err := config(a).Exchange(ctxFor(t, a), q.Get("code"), oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatal(err)
				}
				status, m := refresh(t, a, tok.RefreshToken, tt.extra)
				wantError(t, status, m, http.StatusBadRequest, tt.want)
				return
			}
			tok := login(t, a, config(a), auth...)
			if got := tok.RefreshToken != ""; got != tt.wantRefresh {
				t.Fatalf("refresh token issued: %t, want %t", got, tt.wantRefresh)
			}
			if !tt.wantRefresh {
				status, m := refresh(t, a, "whatever", nil)
				if tt.opts.NoRefreshTokens {
					wantError(t, status, m, http.StatusBadRequest, "unsupported_grant_type")
				} else {
					wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
				}
				return
			}
			status, m := refresh(t, a, tok.RefreshToken, tt.extra)
			if tt.want != "" {
				wantError(t, status, m, http.StatusBadRequest, tt.want)
				if tt.opts.RequireScopeOnRefresh && !strings.HasPrefix(m["error_description"].(string), "AADSTS90009") {
					t.Errorf("error_description %v", m["error_description"])
				}
				return
			}
			if status != 200 {
				t.Fatalf("refresh: %d %v", status, m)
			}
			if _, rotated := m["refresh_token"]; rotated != tt.wantRotated {
				t.Errorf("new refresh token: %t, want %t", rotated, tt.wantRotated)
			}
			if s := tt.extra.Get("scope"); s != "" && m["scope"] != s {
				t.Errorf("scope %v, want %s", m["scope"], s)
			}
			// Without rotation the old token keeps working; with it, not.
			status, _ = refresh(t, a, tok.RefreshToken, nil)
			if (status == 200) == tt.wantRotated {
				t.Errorf("old refresh token after refresh: %d", status)
			}
		})
	}
}

// keys returns an RSA and a P-256 key.
func keys(t *testing.T) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return rk, ek
}

// assertion returns a private_key_jwt client assertion; edit may change the
// claims.
func assertion(t *testing.T, key crypto.Signer, id, aud string, now time.Time, edit func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{"iss": id, "sub": id, "aud": aud, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": rand.Text()}
	if edit != nil {
		edit(claims)
	}
	s, err := SignJWT(key, "", "k1", claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestClientCredentials(t *testing.T) {
	rk, ek := keys(t)
	clients := []Client{
		{ID: "basic", Secret: secret},
		{ID: "post", Secret: secret, AuthMethod: AuthClientSecretPost},
		{ID: "rsa", PublicKey: &rk.PublicKey},
		{ID: "ec", PublicKey: &ek.PublicKey},
		{ID: publicID, RedirectURIs: []string{callback}},
		{ID: "code-only", Secret: secret, GrantTypes: []string{"authorization_code"}},
	}
	c := NewClock()
	a := startAS(t, &ASOptions{Clients: clients, Now: c.Now})
	ctx := ctxFor(t, a)
	tokenURL := a.Issuer() + "/token"
	check := func(t *testing.T, access string) {
		t.Helper()
		info, err := a.Verify(t.Context(), access, nil)
		if err != nil || info.Extra["aud"] != resource || info.UserID != info.Extra["client_id"] {
			t.Errorf("Verify: %+v, %v", info, err)
		}
	}

	for _, tt := range []struct {
		id    string
		style oauth2.AuthStyle
	}{{"basic", oauth2.AuthStyleInHeader}, {"post", oauth2.AuthStyleInParams}} {
		t.Run(tt.id, func(t *testing.T) {
			cc := clientcredentials.Config{ClientID: tt.id, ClientSecret: secret, TokenURL: tokenURL, AuthStyle: tt.style,
				EndpointParams: url.Values{"resource": {resource}}}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "" {
				t.Error("client_credentials gave a refresh token")
			}
			check(t, tok.AccessToken)
			cc.ClientSecret = "wrong"
			if _, err := cc.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Errorf("wrong secret: %v", err)
			}
			// The registered method is the only one accepted.
			cc.ClientSecret = secret
			cc.AuthStyle = 3 - tt.style // the other of 1 and 2
			if _, err := cc.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Errorf("other auth method: %v", err)
			}
		})
	}

	for _, tt := range []struct {
		id  string
		key crypto.Signer
	}{{"rsa", rk}, {"ec", ek}} {
		t.Run(tt.id, func(t *testing.T) {
			form := func(assertion string) url.Values {
				return url.Values{
					"grant_type":            {"client_credentials"},
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
					"client_assertion":      {assertion},
					"resource":              {resource},
				}
			}
			good := assertion(t, tt.key, tt.id, tokenURL, c.Now(), nil)
			status, m := post(t, a, "/token", form(good))
			if status != 200 {
				t.Fatalf("%d %v", status, m)
			}
			check(t, m["access_token"].(string))
			// The issuer is an accepted audience too.
			if status, m := post(t, a, "/token", form(assertion(t, tt.key, tt.id, a.Issuer(), c.Now(), nil))); status != 200 {
				t.Errorf("aud = issuer: %d %v", status, m)
			}
			other := rk
			if tt.id == "rsa" {
				other, _ = keys(t)
			}
			bad := map[string]string{
				"replayed jti": good,
				"wrong aud":    assertion(t, tt.key, tt.id, "https://other.example.com/token", c.Now(), nil),
				"iss not sub":  assertion(t, tt.key, tt.id, tokenURL, c.Now(), func(m map[string]any) { m["iss"] = "someone" }),
				"expired":      assertion(t, tt.key, tt.id, tokenURL, c.Now().Add(-2*time.Minute), nil),
				"no exp":       assertion(t, tt.key, tt.id, tokenURL, c.Now(), func(m map[string]any) { delete(m, "exp") }),
				"no jti":       assertion(t, tt.key, tt.id, tokenURL, c.Now(), func(m map[string]any) { delete(m, "jti") }),
				"wrong key":    assertion(t, other, tt.id, tokenURL, c.Now(), nil),
				"alg none":     unsignedJWT(tt.id, tokenURL, c.Now()),
				"unknown sub":  assertion(t, tt.key, "nobody", tokenURL, c.Now(), nil),
			}
			for name, as := range bad {
				status, m := post(t, a, "/token", form(as))
				if status != http.StatusUnauthorized || m["error"] != "invalid_client" {
					t.Errorf("%s: %d %v, want 401 invalid_client", name, status, m)
				}
			}
		})
	}

	t.Run("public client", func(t *testing.T) {
		status, m := post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {publicID}})
		wantError(t, status, m, http.StatusBadRequest, "unauthorized_client")
	})
	t.Run("grant types", func(t *testing.T) {
		status, m := post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}}, func(r *http.Request) { r.SetBasicAuth("code-only", secret) })
		wantError(t, status, m, http.StatusBadRequest, "unauthorized_client")
	})
	t.Run("unsupported grant", func(t *testing.T) {
		status, m := post(t, a, "/token", url.Values{"grant_type": {"password"}}, func(r *http.Request) { r.SetBasicAuth("basic", secret) })
		wantError(t, status, m, http.StatusBadRequest, "unsupported_grant_type")
	})
	t.Run("two methods", func(t *testing.T) {
		status, m := post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}, "client_secret": {secret}}, func(r *http.Request) { r.SetBasicAuth("basic", secret) })
		wantError(t, status, m, http.StatusBadRequest, "invalid_request")
	})
	if s := a.Stats(); s.TokenRequests["client_credentials"] < 20 || s.TokenRequests["password"] != 1 {
		t.Errorf("Stats %+v", s)
	}
}

// unsignedJWT returns an otherwise valid assertion with alg "none".
func unsignedJWT(id, aud string, now time.Time) string {
	claims, _ := json.Marshal(map[string]any{"iss": id, "sub": id, "aud": aud, "jti": rand.Text(), "exp": now.Add(time.Minute).Unix()})
	return b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + b64.EncodeToString(claims) + "."
}

func TestTokenEndpointAuthMethods(t *testing.T) {
	a := startAS(t, &ASOptions{
		TokenEndpointAuthMethods: []string{AuthClientSecretPost},
		Clients:                  []Client{{ID: "basic", Secret: secret}, {ID: "post", Secret: secret, AuthMethod: AuthClientSecretPost}},
	})
	status, m := post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}}, func(r *http.Request) { r.SetBasicAuth("basic", secret) })
	wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
	status, m = post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"post"}, "client_secret": {secret}})
	if status != 200 {
		t.Errorf("client_secret_post: %d %v", status, m)
	}
}

func TestAudience(t *testing.T) {
	const api = "https://api.example.com"
	a := startAS(t, &ASOptions{Audience: api, AutoApprove: true})
	basic := func(r *http.Request) { r.SetBasicAuth(confidential, secret) }
	status, m := post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}, basic)
	wantError(t, status, m, http.StatusBadRequest, "access_denied")
	status, m = post(t, a, "/token", url.Values{"grant_type": {"client_credentials"}, "audience": {api}}, basic)
	if status != 200 {
		t.Fatalf("with audience: %d %v", status, m)
	}
	if info, err := a.Verify(t.Context(), m["access_token"].(string), nil); err != nil || info.Extra["aud"] != api {
		t.Errorf("Verify: %+v %v", info, err)
	}
	// An authorization code without audience gives a token for no resource,
	// even with resource.
	tok := login(t, a, config(a))
	if info, err := a.Verify(t.Context(), tok.AccessToken, nil); err != nil || info.Extra["aud"] != nil {
		t.Errorf("Verify: %+v %v, want no aud", info, err)
	}
}

func TestJWTBearerIDJAG(t *testing.T) {
	const idp = "https://idp.example.com"
	idpKey, _ := keys(t)
	c := NewClock()
	a := startAS(t, &ASOptions{IDJAGIssuers: map[string]crypto.PublicKey{idp: &idpKey.PublicKey}, Now: c.Now})
	jag := func(edit func(map[string]any)) string {
		claims := map[string]any{
			"iss": idp, "sub": "alice", "aud": a.Issuer(), "client_id": confidential, "resource": resource,
			"scope": "read", "jti": rand.Text(), "exp": c.Now().Add(5 * time.Minute).Unix(), "iat": c.Now().Unix(),
		}
		if edit != nil {
			edit(claims)
		}
		s, err := SignJWT(idpKey, "oauth-id-jag+jwt", "", claims)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	grant := func(assertion string) (int, map[string]any) {
		return post(t, a, "/token", url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}},
			func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
	}
	status, m := grant(jag(nil))
	if status != 200 {
		t.Fatalf("%d %v", status, m)
	}
	info, err := a.Verify(t.Context(), m["access_token"].(string), nil)
	if err != nil || info.UserID != "alice" || info.Extra["aud"] != resource || m["refresh_token"] != nil {
		t.Errorf("Verify: %+v %v; response %v", info, err, m)
	}
	for name, as := range map[string]string{
		"wrong aud":     jag(func(m map[string]any) { m["aud"] = "https://other.example.com" }),
		"other client":  jag(func(m map[string]any) { m["client_id"] = "someone" }),
		"untrusted idp": jag(func(m map[string]any) { m["iss"] = "https://evil.example.com" }),
		"expired":       jag(func(m map[string]any) { m["exp"] = c.Now().Add(-time.Second).Unix() }),
		"not an ID-JAG": assertion(t, idpKey, idp, a.Issuer(), c.Now(), nil),
		"not a JWT":     "garbage",
		"no sub":        jag(func(m map[string]any) { delete(m, "sub") }),
	} {
		status, m := grant(as)
		if status != 400 || m["error"] != "invalid_grant" {
			t.Errorf("%s: %d %v, want invalid_grant", name, status, m)
		}
	}
	a2 := startAS(t, nil)
	status, m = post(t, a2, "/token", url.Values{"grant_type": {GrantJWTBearer}, "assertion": {jag(nil)}}, func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
	wantError(t, status, m, http.StatusBadRequest, "unsupported_grant_type")
}

func TestRevoke(t *testing.T) {
	var rec EventLog
	a := startAS(t, &ASOptions{AutoApprove: true, OnEvent: rec.Record})
	tok := login(t, a, config(a))
	other := login(t, a, config(a))
	revoke := func(v string, auth ...func(*http.Request)) {
		t.Helper()
		form := url.Values{"token": {v}}
		if len(auth) == 0 {
			form.Set("client_id", publicID)
		}
		if status, m := post(t, a, "/revoke", form, auth...); status != 200 {
			t.Fatalf("revoke: %d %v", status, m)
		}
	}
	// Another client cannot revoke it.
	revoke(tok.AccessToken, func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
	if _, err := a.Verify(t.Context(), tok.AccessToken, nil); err != nil {
		t.Fatalf("revoked by another client: %v", err)
	}
	revoke(tok.AccessToken)
	if _, err := a.Verify(t.Context(), tok.AccessToken, nil); err == nil {
		t.Error("revoked access token still valid")
	}
	revoke("unknown token")
	// Revoking a refresh token revokes its grant.
	revoke(other.RefreshToken)
	if _, err := a.Verify(t.Context(), other.AccessToken, nil); err == nil {
		t.Error("access token valid after its refresh token was revoked")
	}
	status, m := refresh(t, a, other.RefreshToken, nil)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	// The first login's refresh token was not touched.
	if status, m := refresh(t, a, tok.RefreshToken, nil); status != 200 {
		t.Errorf("unrelated refresh token: %d %v", status, m)
	}
	if s := a.Stats(); s.Revocations != 2 {
		t.Errorf("Revocations = %d, want 2", s.Revocations)
	}
	var revoked int
	for _, e := range rec.All() {
		if e.Kind == EventRevoked {
			revoked++
		}
	}
	if revoked != 2 {
		t.Errorf("%d revoked events, want 2", revoked)
	}
	status, m = post(t, a, "/revoke", url.Values{"token": {tok.RefreshToken}}, func(r *http.Request) { r.SetBasicAuth(confidential, "wrong") })
	wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
}
