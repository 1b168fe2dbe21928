package oauthclient_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// TestCallbackHostAndPath signs in with a client pre-registered for
// mcp-remote's redirect URI, http://127.0.0.1/oauth/callback: the
// authorization server takes only that host and path, so the sign-in
// succeeds only if the redirect URI names them.
func TestCallbackHostAndPath(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{NoDCR: true, Clients: []oauthtest.Client{
		{ID: "remote-client", RedirectURIs: []string{"http://127.0.0.1/oauth/callback"}},
	}}, nil)
	h := e.handler(t, func(c *oauthclient.Config) {
		c.ClientID = "remote-client"
		c.CallbackHost, c.CallbackPath = "127.0.0.1", "/oauth/callback"
	})
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(t.Context(), s, "hi"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.browser.Opened()[0])
	if ru := u.Query().Get("redirect_uri"); !strings.HasSuffix(ru, "/oauth/callback") || !strings.HasPrefix(ru, "http://127.0.0.1:") {
		t.Errorf("redirect_uri %q, want http://127.0.0.1:PORT/oauth/callback", ru)
	}

	// Without the knobs, the redirect URI is ours, which this client does
	// not have.
	if _, err := oauthclient.New(&oauthclient.Config{ServerURL: e.demo.URL, CallbackPath: "oauth"}); err == nil {
		t.Error("a callback path without a leading / was accepted")
	}
}

// TestRegistrationMetadata registers with metadata merged over ours: the
// scope and the client name given reach the registration, and the
// redirect URI stays the listener's.
func TestRegistrationMetadata(t *testing.T) {
	var rec oauthtest.EventLog
	e := setup(t, &oauthtest.ASOptions{Scopes: []string{"mcp:read", "mcp:write"}, OnEvent: rec.Record}, nil)
	h := e.handler(t, func(c *oauthclient.Config) {
		c.RegistrationMetadata = json.RawMessage(`{"client_name":"Example Corp","scope":"mcp:read","redirect_uris":["https://evil.example/cb"]}`)
		c.Scopes = []string{"mcp:read"}
	})
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(t.Context(), s, "hi"); err != nil {
		t.Fatal(err)
	}
	if got := rec.Of(oauthtest.EventRegistered); len(got) != 1 {
		t.Fatalf("%d registrations, want 1", len(got))
	}
	issued := rec.Of(oauthtest.EventTokenIssued)
	if len(issued) == 0 || issued[0].Scope != "mcp:read" {
		t.Errorf("tokens issued: %v, want one for scope mcp:read", issued)
	}
	c := h.Credentials(t.Context())
	if c == nil || !strings.HasPrefix(c.Client.RedirectURI, "http://127.0.0.1:") {
		t.Errorf("registered redirect URI %v, want the loopback listener's", c)
	}
	if _, err := oauthclient.New(&oauthclient.Config{ServerURL: e.demo.URL, RegistrationMetadata: json.RawMessage(`{`)}); err == nil {
		t.Error("invalid registration metadata was accepted")
	}
}

// TestImport imports another client's registration and tokens (as
// mcp-bridge migrate does with mcp-remote's): the handler discovers the
// issuer and endpoints, the store holds them, and a call needs no browser.
// Then the access token expires: the refresh works with the imported
// client, which shows the token endpoint was filled in.
func TestImport(t *testing.T) {
	e := setup(t, nil, nil)
	// Someone else signs in: a handler with its own store.
	other := e.handler(t, func(c *oauthclient.Config) { c.Store = &oauthclient.MemoryStore{} })
	s, err := e.connect(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	theirs := other.Credentials(t.Context())
	// What mcp-remote keeps: the client and the tokens, no issuer.
	kept := &oauthclient.Credentials{Client: oauthclient.Client{ID: theirs.Client.ID, RedirectURI: theirs.Client.RedirectURI},
		AccessToken: theirs.AccessToken, RefreshToken: theirs.RefreshToken, TokenType: "Bearer", Expiry: theirs.Expiry, Scopes: theirs.Scopes}

	e.forbidBrowser(t)
	h := e.handler(t, nil)
	if err := h.Import(t.Context(), kept); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Load(context.Background(), h.Key())
	if err != nil {
		t.Fatal(err)
	}
	if got.Issuer != e.demo.AuthServer.Issuer() || got.TokenEndpoint == "" || got.Client.Kind != oauthclient.KindDynamic || got.Client.AuthMethod != "none" {
		t.Errorf("imported %+v: want the issuer, token endpoint and a public dynamic client", got)
	}
	s, err = e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(t.Context(), s, "imported"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * oauthtest.DefaultAccessTokenTTL)
	if err := echo(t.Context(), s, "refreshed"); err != nil {
		t.Fatal(err)
	}
	if after := h.Credentials(t.Context()); after.AccessToken == kept.AccessToken || slices.Equal([]string{after.RefreshToken}, []string{kept.RefreshToken}) {
		t.Error("the imported tokens were not refreshed")
	}
	if err := h.Import(t.Context(), &oauthclient.Credentials{}); err == nil {
		t.Error("empty credentials were imported")
	}
}
