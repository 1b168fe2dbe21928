package oauthtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// kinds lists the kinds of the events logged so far.
func kinds(r *EventLog) []EventKind {
	var ks []EventKind
	for _, e := range r.All() {
		ks = append(ks, e.Kind)
	}
	return ks
}

const (
	publicID     = "public-client"
	confidential = "confidential-client"
	secret       = "s3cret"
	resource     = "https://mcp.example.com/mcp"
	callback     = "http://127.0.0.1/callback"
)

// startAS starts an authorization server with a public and a confidential
// client pre-registered (unless opts has Clients), closed when t ends.
func startAS(t *testing.T, opts *ASOptions) *AuthServer {
	t.Helper()
	if opts == nil {
		opts = &ASOptions{}
	}
	if opts.Clients == nil {
		opts.Clients = []Client{
			{ID: publicID, Name: "Public Test Client", RedirectURIs: []string{callback}},
			{ID: confidential, Secret: secret, RedirectURIs: []string{callback}},
		}
	}
	a, err := StartAuthServer(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// config returns an x/oauth2 config for the public client of a.
func config(a *AuthServer) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    publicID,
		RedirectURL: "http://127.0.0.1:43210/callback",
		Scopes:      []string{"read"},
		Endpoint: oauth2.Endpoint{
			AuthURL:       a.Issuer() + "/authorize",
			TokenURL:      a.Issuer() + "/token",
			DeviceAuthURL: a.Issuer() + "/device_authorization",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// ctxFor returns a context that makes x/oauth2 use a's HTTP client.
func ctxFor(t *testing.T, a *AuthServer) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, a.Client())
}

// authorize runs the browser part of the code flow with PKCE and returns the
// redirect's query and the verifier.
func authorize(t *testing.T, a *AuthServer, cfg *oauth2.Config, approve bool, opts ...oauth2.AuthCodeOption) (url.Values, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	opts = append(opts, oauth2.S256ChallengeOption(verifier))
	loc, err := a.Consent(t.Context(), cfg.AuthCodeURL("state-123", opts...), approve)
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query(), verifier
}

// login runs the whole authorization code flow for resource and returns the
// token.
func login(t *testing.T, a *AuthServer, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	opts = append(opts, oauth2.SetAuthURLParam("resource", resource))
	q, verifier := authorize(t, a, cfg, true, opts...)
	if q.Get("code") == "" {
		t.Fatalf("no code in redirect: %v", q)
	}
	tok, err := cfg.Exchange(ctxFor(t, a), q.Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends form to the endpoint at path p of a (after the issuer) and
// decodes the JSON answer.
func post(t *testing.T, a *AuthServer, p string, form url.Values, edit ...func(*http.Request)) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.Issuer()+p, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, f := range edit {
		f(req)
	}
	return do(t, a.Client(), req)
}

func do(t *testing.T, hc *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(body) > 0 && json.Unmarshal(body, &m) != nil {
		m = map[string]any{"body": string(body)}
	}
	return resp.StatusCode, m
}

func getJSON(t *testing.T, hc *http.Client, u string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, hc, req)
}

// wantError checks an OAuth error response.
func wantError(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantCode {
		t.Errorf("got %d %v, want %d error %q", status, body, wantStatus, wantCode)
	}
}
