package oauthtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// These tests cover the switches that make the server behave like one
// identity provider or another; internal/preset's tests sign in through
// them with the real client.

func TestExactRedirectURIs(t *testing.T) {
	for _, exact := range []bool{false, true} {
		a := startAS(t, &ASOptions{AutoApprove: true, ExactRedirectURIs: exact})
		cfg := config(a) // registered: http://127.0.0.1/callback
		cfg.RedirectURL = "http://127.0.0.1/callback"
		login(t, a, cfg)
		cfg.RedirectURL = "http://127.0.0.1:5000/callback"
		_, err := a.Consent(t.Context(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), true)
		switch {
		case exact && (err == nil || !strings.Contains(err.Error(), "redirect_uri")):
			t.Errorf("exact: another port: %v, want the redirect_uri refused", err)
		case !exact && err != nil:
			t.Errorf("another loopback port: %v", err)
		}
	}
}

func TestDenyRegistration(t *testing.T) {
	for _, d := range []Denial{OktaRegistrationDenial, KeycloakRegistrationDenial} {
		var rec EventLog
		a := startAS(t, &ASOptions{DenyRegistration: d, OnEvent: rec.Record})
		if _, m := getJSON(t, a.Client(), a.MetadataURL()); m["registration_endpoint"] != a.Issuer()+"/register" {
			t.Errorf("registration_endpoint = %v, want it advertised", m["registration_endpoint"])
		}
		status, m := register(t, a, map[string]any{"redirect_uris": []string{callback}, "token_endpoint_auth_method": "none"})
		if status != d.Status || m["errorCode"] == nil && m["error"] == nil {
			t.Errorf("register: %d %v, want %d and the provider's body", status, m, d.Status)
		}
		if s := a.Stats(); s.Registrations != 0 {
			t.Errorf("Registrations = %d", s.Registrations)
		}
		if ev := rec.All(); len(ev) != 1 || ev[0].Kind != EventRejected {
			t.Errorf("events %v", ev)
		}
	}
}

func TestScopeAudience(t *testing.T) {
	const app = "api://11111111-2222-3333-4444-555555555555"
	a := startAS(t, &ASOptions{AutoApprove: true, ScopeAudience: true, OfflineAccess: true})
	exchange := func(scope string) (*oauth2.Token, url.Values) {
		t.Helper()
		q, verifier := authorize(t, a, config(a), true, oauth2.SetAuthURLParam("scope", scope))
		if q.Get("code") == "" {
			return nil, q
		}
		tok, err := config(a).Exchange(ctxFor(t, a), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		return tok, q
	}
	aud := func(tok *oauth2.Token) any {
		t.Helper()
		info, err := a.Verify(t.Context(), tok.AccessToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		return info.Extra["aud"]
	}

	tok, _ := exchange(app + "/.default offline_access")
	if aud(tok) != app || tok.Extra("scope") != app+"/.default" || tok.RefreshToken == "" {
		t.Errorf("aud %v, scope %v, refresh token %t; want %s, %s/.default (no offline_access), true", aud(tok), tok.Extra("scope"), tok.RefreshToken != "", app, app)
	}
	// The refresh keeps the resource; the scope it names must be granted.
	status, m := refresh(t, a, tok.RefreshToken, url.Values{"scope": {app + "/.default"}})
	if status != 200 || m["scope"] != app+"/.default" || m["refresh_token"] == nil {
		t.Errorf("refresh: %d %v", status, m)
	}
	for _, scope := range []string{"openid profile", "User.Read", "https://graph.microsoft.com/User.Read"} {
		tok, _ := exchange(scope)
		if want := map[bool]string{true: "https://graph.microsoft.com", false: MicrosoftGraph}[strings.HasPrefix(scope, "https")]; aud(tok) != want {
			t.Errorf("scope %q: aud %v, want %s", scope, aud(tok), want)
		}
	}
	if _, q := exchange(app + "/.default https://graph.microsoft.com/User.Read"); q.Get("error") != "invalid_scope" || !strings.HasPrefix(q.Get("error_description"), "AADSTS28000") {
		t.Errorf("two resources: %v, want invalid_scope AADSTS28000", q)
	}
}

func TestThirdPartyDynamicClients(t *testing.T) {
	const api = "https://api.example.com"
	a := startAS(t, &ASOptions{Audience: api, ThirdPartyDynamicClients: true, AutoApprove: true})
	status, m := register(t, a, map[string]any{"redirect_uris": []string{callback}, "token_endpoint_auth_method": "none"})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, m)
	}
	dcr := config(a)
	dcr.ClientID = m["client_id"].(string)
	q, _ := authorize(t, a, dcr, true)
	if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "userinfo audience is not allowed for third party clients") {
		t.Errorf("dynamic client without audience: %v", q)
	}
	if q, _ := authorize(t, a, dcr, true, oauth2.SetAuthURLParam("audience", api)); q.Get("code") == "" {
		t.Errorf("dynamic client with audience: %v", q)
	}
	// A pre-registered (first-party) client still gets a token for no
	// resource.
	if q, _ := authorize(t, a, config(a), true); q.Get("code") == "" {
		t.Errorf("pre-registered client without audience: %v", q)
	}
}

func TestGitHubTokenErrors(t *testing.T) {
	a := startAS(t, &ASOptions{AutoApprove: true, GitHubTokenErrors: true})
	basic := func(r *http.Request) { r.SetBasicAuth(confidential, secret) }
	tests := []struct {
		name string
		form url.Values
		edit func(*http.Request)
		want string
	}{
		{"bad code", url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}}, basic, "bad_verification_code"},
		{"bad refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, basic, "bad_refresh_token"},
		{"wrong secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}},
			func(r *http.Request) { r.SetBasicAuth(confidential, "wrong") }, "incorrect_client_credentials"},
		{"unsupported grant", url.Values{"grant_type": {"password"}}, basic, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := post(t, a, "/token", tt.form, tt.edit)
			if status != http.StatusOK || m["error"] != tt.want || !strings.HasPrefix(m["error_uri"].(string), "https://docs.github.com/") || m["access_token"] != nil {
				t.Errorf("got %d %v, want 200 with error %s", status, m, tt.want)
			}
		})
	}
	// A redirect_uri other than the authorization request's.
	cfg := config(a)
	q, verifier := authorize(t, a, cfg, true)
	status, m := post(t, a, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "code_verifier": {verifier},
		"redirect_uri": {"http://127.0.0.1:1/callback"}, "client_id": {publicID}})
	if status != http.StatusOK || m["error"] != "redirect_uri_mismatch" {
		t.Errorf("redirect mismatch: %d %v", status, m)
	}
}

func TestSessionRefreshTokenTTL(t *testing.T) {
	c := NewClock()
	a := startAS(t, &ASOptions{AutoApprove: true, Now: c.Now, Scopes: []string{"read", "offline_access"},
		SessionRefreshTokenTTL: 30 * time.Minute, RefreshTokenTTL: 30 * 24 * time.Hour})
	online := login(t, a, config(a)) // scope "read"
	cfg := config(a)
	cfg.Scopes = []string{"read", "offline_access"}
	offline := login(t, a, cfg)
	if online.RefreshToken == "" || offline.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	c.Advance(31 * time.Minute)
	status, m := refresh(t, a, online.RefreshToken, nil)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	if status, m := refresh(t, a, offline.RefreshToken, nil); status != 200 {
		t.Errorf("offline token after the session's idle time: %d %v", status, m)
	}
}

func TestProtectAudience(t *testing.T) {
	const app = "api://11111111-2222-3333-4444-555555555555"
	a := startAS(t, &ASOptions{ScopeAudience: true})
	_, mcpURL, got := startProtected(t, a, ResourceOptions{Audience: app})
	if status, h := call(t, mcpURL, machineToken(t, a, "", app+"/.default"), otherCall); status != 200 {
		t.Fatalf("token for %s: %d %s", app, status, h)
	}
	<-got
	if status, h := call(t, mcpURL, machineToken(t, a, "", "User.Read"), otherCall); status != 401 || !strings.Contains(h, "the token is not for "+app) {
		t.Errorf("token for Microsoft Graph: %d %s", status, h)
	}
}
