package oauthtest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

func TestAuthorizationCodeFlow(t *testing.T) {
	var rec EventLog
	a := startAS(t, &ASOptions{Scopes: []string{"read", "write"}, OnEvent: rec.Record})
	cfg := config(a)

	q, verifier := authorize(t, a, cfg, true, oauth2.SetAuthURLParam("resource", resource))
	if q.Get("state") != "state-123" || q.Get("iss") != a.Issuer() || q.Get("code") == "" {
		t.Fatalf("redirect query %v: want code, state-123 and iss %s", q, a.Issuer())
	}
	tok, err := cfg.Exchange(ctxFor(t, a), q.Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("scope") != "read" || tok.Expiry.IsZero() {
		t.Errorf("token: refresh %q, scope %v, expiry %v", tok.RefreshToken, tok.Extra("scope"), tok.Expiry)
	}
	info, err := a.Verify(t.Context(), tok.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Extra["aud"] != resource || info.UserID != "user" || info.Extra["client_id"] != publicID {
		t.Errorf("TokenInfo %+v", info)
	}
	if _, err := a.Verify(t.Context(), tok.RefreshToken, nil); err == nil {
		t.Error("Verify accepted a refresh token")
	}

	want := Stats{AuthorizationRequests: 1, Consents: 1, TokenRequests: map[string]int{"authorization_code": 1}}
	if diff := cmp.Diff(want, a.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	wantKinds := []EventKind{EventAuthorizationRequest, EventConsent, EventTokenIssued}
	if diff := cmp.Diff(wantKinds, kinds(&rec)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, e := range rec.All() {
		s := e.String() + " " + e.Description
		if strings.Contains(s, tok.AccessToken) || strings.Contains(s, tok.RefreshToken) || strings.Contains(s, q.Get("code")) {
			t.Errorf("event %q holds a secret", s)
		}
	}
}

func TestConsentPage(t *testing.T) {
	a := startAS(t, nil)
	cfg := config(a)
	u := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("resource", resource))
	resp, err := a.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	for _, want := range []string{"Public Test Client", "127.0.0.1:43210", resource, "<code>read</code>", `value="approve"`, `value="deny"`} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %q:\n%s", want, page)
		}
	}

	// Denying sends access_denied back, with state and iss.
	q, _ := authorize(t, a, cfg, false)
	if q.Get("error") != "access_denied" || q.Get("state") != "state-123" || q.Get("iss") != a.Issuer() || q.Has("code") {
		t.Errorf("deny: redirect query %v", q)
	}
	if s := a.Stats(); s.Denials != 1 || s.Consents != 0 {
		t.Errorf("Stats %+v", s)
	}

	// A consent answer for an unknown request is refused.
	status, _ := post(t, a, "/authorize", url.Values{"request": {"nope"}, "action": {"approve"}})
	if status != http.StatusBadRequest {
		t.Errorf("unknown request: %d", status)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	good := url.Values{
		"response_type":         {"code"},
		"client_id":             {publicID},
		"redirect_uri":          {callback},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"state":                 {"xyz"},
		"scope":                 {"read"},
		"resource":              {resource},
	}
	tests := []struct {
		name string
		opts ASOptions
		edit func(url.Values)
		// page: the error is shown to the user, not redirected.
		page bool
		want string // error code
	}{
		{"unknown client", ASOptions{}, func(v url.Values) { v.Set("client_id", "nobody") }, true, ""},
		{"unregistered redirect", ASOptions{}, func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1/other") }, true, ""},
		{"no redirect", ASOptions{}, func(v url.Values) { v.Del("redirect_uri") }, true, ""},
		{"token response type", ASOptions{}, func(v url.Values) { v.Set("response_type", "token") }, false, "unsupported_response_type"},
		{"no PKCE", ASOptions{}, func(v url.Values) { v.Del("code_challenge") }, false, "invalid_request"},
		{"plain PKCE", ASOptions{}, func(v url.Values) { v.Set("code_challenge_method", "plain") }, false, "invalid_request"},
		{"no PKCE method", ASOptions{}, func(v url.Values) { v.Del("code_challenge_method") }, false, "invalid_request"},
		{"unknown scope", ASOptions{Scopes: []string{"read"}}, func(v url.Values) { v.Set("scope", "read admin") }, false, "invalid_scope"},
		{"offline_access not offered", ASOptions{Scopes: []string{"read"}}, func(v url.Values) { v.Set("scope", "read offline_access") }, false, "invalid_scope"},
		{"resource with fragment", ASOptions{}, func(v url.Values) { v.Set("resource", resource+"#x") }, false, "invalid_target"},
		{"relative resource", ASOptions{}, func(v url.Values) { v.Set("resource", "/mcp") }, false, "invalid_target"},
		{"two resources", ASOptions{}, func(v url.Values) { v.Add("resource", "https://other.example.com") }, false, "invalid_target"},
		{"entra rejects resource", ASOptions{RejectResource: true}, func(url.Values) {}, false, "invalid_request"},
		{"resource required", ASOptions{RequireResource: true}, func(v url.Values) { v.Del("resource") }, false, "invalid_target"},
		{"auth0 wrong audience", ASOptions{Audience: "https://api.example.com"}, func(v url.Values) { v.Set("audience", "https://other") }, false, "access_denied"},
		{"client without code grant", ASOptions{Clients: []Client{{ID: publicID, RedirectURIs: []string{callback}, GrantTypes: []string{GrantDeviceCode}}}}, func(url.Values) {}, false, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec EventLog
			tt.opts.OnEvent = rec.Record
			a := startAS(t, &tt.opts)
			v := url.Values{}
			for k, vs := range good {
				v[k] = append([]string(nil), vs...)
			}
			tt.edit(v)
			loc, err := a.Consent(t.Context(), a.Issuer()+"/authorize?"+v.Encode(), true)
			if tt.page {
				if err == nil || !strings.Contains(err.Error(), "400") {
					t.Errorf("got redirect %v, err %v; want an error page", loc, err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				q := loc.Query()
				if q.Get("error") != tt.want || q.Get("state") != "xyz" || q.Get("iss") != a.Issuer() || q.Has("code") {
					t.Errorf("redirect query %v, want error %s with state and iss", q, tt.want)
				}
				if tt.name == "entra rejects resource" && !strings.HasPrefix(q.Get("error_description"), "AADSTS9010010") {
					t.Errorf("error_description %q", q.Get("error_description"))
				}
			}
			if got := kinds(&rec); len(got) != 2 || got[1] != EventRejected {
				t.Errorf("events %v, want a rejection", got)
			}
		})
	}
}

func TestRedirectURIMatching(t *testing.T) {
	tests := []struct {
		registered, requested string
		want                  bool
	}{
		{"http://127.0.0.1/callback", "http://127.0.0.1:5000/callback", true},
		{"http://127.0.0.1:3000/callback", "http://127.0.0.1:5000/callback", true},
		{"http://[::1]/cb", "http://[::1]:5000/cb", true},
		{"http://localhost/cb", "http://localhost:8080/cb", true},
		{"http://127.0.0.1/callback", "http://127.0.0.1:5000/other", false},
		{"http://127.0.0.1/callback", "http://localhost:5000/callback", false},
		{"http://127.0.0.1/callback?a=1", "http://127.0.0.1:5000/callback", false},
		{"https://app.example.com/cb", "https://app.example.com/cb", true},
		{"https://app.example.com/cb", "https://app.example.com:8443/cb", false},
		{"https://app.example.com/cb", "https://app.example.com/cb/", false},
		{"http://127.0.0.1/callback", "https://127.0.0.1:5000/callback", false},
	}
	for _, tt := range tests {
		if got := redirectURIMatches([]string{tt.registered}, tt.requested); got != tt.want {
			t.Errorf("redirectURIMatches(%q, %q) = %t, want %t", tt.registered, tt.requested, got, tt.want)
		}
	}
}

func TestRedirectSwitches(t *testing.T) {
	tests := []struct {
		name      string
		opts      ASOptions
		wantState string
		wantIss   string // "-" for none, "" for the issuer
	}{
		{"wrong state", ASOptions{RedirectState: "forged"}, "forged", ""},
		{"wrong iss", ASOptions{RedirectIss: "https://evil.example.com"}, "state-123", "https://evil.example.com"},
		{"no iss", ASOptions{OmitIss: true}, "state-123", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AutoApprove = true
			a := startAS(t, &tt.opts)
			q, _ := authorize(t, a, config(a), true)
			wantIss := tt.wantIss
			if wantIss == "" {
				wantIss = a.Issuer()
			}
			if gotIss, ok := q["iss"]; (wantIss == "-") == ok || ok && gotIss[0] != wantIss {
				t.Errorf("iss %v, want %s", gotIss, wantIss)
			}
			if q.Get("state") != tt.wantState || q.Get("code") == "" {
				t.Errorf("query %v, want state %s and a code", q, tt.wantState)
			}
			if a.Stats().Consents != 1 {
				t.Errorf("AutoApprove: Stats %+v", a.Stats())
			}
		})
	}
}

func TestCodeRedemption(t *testing.T) {
	exchange := func(t *testing.T, a *AuthServer, form url.Values) (int, map[string]any) {
		form.Set("grant_type", "authorization_code")
		form.Set("client_id", publicID)
		return post(t, a, "/token", form)
	}
	tests := []struct {
		name    string
		opts    ASOptions
		edit    func(form url.Values, clock *Clock)
		want    string
		wantAud string
	}{
		{"ok", ASOptions{}, func(url.Values, *Clock) {}, "", resource},
		{"resource omitted gets the code's", ASOptions{}, func(f url.Values, _ *Clock) { f.Del("resource") }, "", resource},
		{"resource required", ASOptions{RequireResource: true}, func(f url.Values, _ *Clock) { f.Del("resource") }, "invalid_target", ""},
		{"other resource", ASOptions{}, func(f url.Values, _ *Clock) { f.Set("resource", "https://other.example.com/mcp") }, "invalid_target", ""},
		{"wrong verifier", ASOptions{}, func(f url.Values, _ *Clock) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, "invalid_grant", ""},
		{"no verifier", ASOptions{}, func(f url.Values, _ *Clock) { f.Del("code_verifier") }, "invalid_grant", ""},
		{"wrong redirect_uri", ASOptions{}, func(f url.Values, _ *Clock) { f.Set("redirect_uri", "http://127.0.0.1:1/callback") }, "invalid_grant", ""},
		{"unknown code", ASOptions{}, func(f url.Values, _ *Clock) { f.Set("code", "nope") }, "invalid_grant", ""},
		{"expired code", ASOptions{}, func(_ url.Values, c *Clock) { c.Advance(codeTTL) }, "invalid_grant", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClock()
			tt.opts.Now = c.Now
			tt.opts.AutoApprove = true
			a := startAS(t, &tt.opts)
			cfg := config(a)
			q, verifier := authorize(t, a, cfg, true, oauth2.SetAuthURLParam("resource", resource))
			form := url.Values{"code": {q.Get("code")}, "code_verifier": {verifier}, "redirect_uri": {cfg.RedirectURL}, "resource": {resource}}
			tt.edit(form, c)
			status, m := exchange(t, a, form)
			if tt.want != "" {
				wantError(t, status, m, http.StatusBadRequest, tt.want)
				return
			}
			if status != 200 {
				t.Fatalf("status %d %v", status, m)
			}
			info, err := a.Verify(t.Context(), m["access_token"].(string), nil)
			if err != nil || info.Extra["aud"] != tt.wantAud {
				t.Errorf("Verify: %+v, %v; want aud %s", info, err, tt.wantAud)
			}
		})
	}

	t.Run("code reuse revokes", func(t *testing.T) {
		a := startAS(t, &ASOptions{AutoApprove: true})
		cfg := config(a)
		q, verifier := authorize(t, a, cfg, true)
		form := url.Values{"code": {q.Get("code")}, "code_verifier": {verifier}, "redirect_uri": {cfg.RedirectURL}}
		status, m := exchange(t, a, form)
		if status != 200 {
			t.Fatalf("first exchange: %d %v", status, m)
		}
		status, m2 := exchange(t, a, form)
		wantError(t, status, m2, http.StatusBadRequest, "invalid_grant")
		if _, err := a.Verify(t.Context(), m["access_token"].(string), nil); err == nil {
			t.Error("token from a reused code still valid")
		}
	})

	t.Run("other client", func(t *testing.T) {
		a := startAS(t, &ASOptions{AutoApprove: true})
		cfg := config(a)
		q, verifier := authorize(t, a, cfg, true)
		status, m := post(t, a, "/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "code_verifier": {verifier},
			"redirect_uri": {cfg.RedirectURL}, "client_id": {confidential}, "client_secret": {secret},
		})
		// The confidential client registered client_secret_basic.
		wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
		status, m = post(t, a, "/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "code_verifier": {verifier}, "redirect_uri": {cfg.RedirectURL},
		}, func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
		wantError(t, status, m, http.StatusBadRequest, "invalid_grant")
	})
}

func TestAuthorizeWithIssuerPath(t *testing.T) {
	a := startAS(t, &ASOptions{IssuerPath: "/tenant1", AutoApprove: true})
	tok := login(t, a, config(a))
	if _, err := a.Verify(context.Background(), tok.AccessToken, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Until(tok.Expiry); d < 59*time.Minute || d > DefaultAccessTokenTTL {
		t.Errorf("expires in %s, want about %s", d, DefaultAccessTokenTTL)
	}
}
