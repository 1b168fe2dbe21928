package preset_test

import (
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/internal/preset"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// These tests sign in where a preset needs one of oauthclient's knobs for
// a provider's departures from the specification.

// withoutPKCEMetadata leaves code_challenge_methods_supported out of the
// metadata, as Entra ID and Cognito do, on top of edit.
func withoutPKCEMetadata(edit func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		edit(m)
		delete(m, "code_challenge_methods_supported")
	}
}

// TestPKCENotAdvertised: Entra ID and Cognito take PKCE S256 but do not
// say so in their metadata; the handler would refuse to sign in
// but for Config.AssumePKCE, which the entra and cognito presets set.
func TestPKCENotAdvertised(t *testing.T) {
	t.Run("entra", func(t *testing.T) {
		as := entraAS(oauthtest.Client{ID: entraClient, Secret: "entra-secret", RedirectURIs: []string{loopback}})
		as.EditMetadata = withoutPKCEMetadata(as.EditMetadata)
		e := start(t, as, entraServer)
		cfg := e.config(func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = entraClient, "entra-secret" })
		_, s := e.signIn(t, apply(t, "entra", cfg, preset.Options{API: entraAPI}))
		e.wantRefreshed(t, s, time.Hour)
	})
	t.Run("cognito", func(t *testing.T) {
		port := freePort(t)
		as := cognitoAS(port)
		as.EditMetadata = withoutPKCEMetadata(as.EditMetadata)
		e := start(t, as, nil)
		cfg := e.config(func(c *oauthclient.Config) {
			c.ClientID, c.ClientSecret, c.CallbackPort = cognitoClient, "cognito-secret", port
		})
		_, s := e.signIn(t, apply(t, "cognito", cfg, preset.Options{}))
		e.wantRefreshed(t, s, time.Hour)
	})
}

// TestPublicClient: a registered client without a secret (Entra's
// "Mobile and desktop applications", a Cognito app client without a
// secret) at a server whose metadata lists only secret-based methods. A
// registered client with neither ClientSecret nor PrivateKey names itself
// ("none"), whatever token_endpoint_auth_methods_supported lists: an empty
// client_secret_basic is what Entra refuses (AADSTS700025: Client is
// public so neither 'client_assertion' nor 'client_secret' should be
// presented).
func TestPublicClient(t *testing.T) {
	t.Run("entra", func(t *testing.T) {
		e := start(t, entraAS(oauthtest.Client{ID: entraClient, RedirectURIs: []string{loopback}}), entraServer)
		cfg := e.config(func(c *oauthclient.Config) { c.ClientID = entraClient })
		_, s := e.signIn(t, apply(t, "entra", cfg, preset.Options{API: entraAPI}))
		e.wantRefreshed(t, s, time.Hour)
	})
	t.Run("cognito", func(t *testing.T) {
		port := freePort(t)
		as := cognitoAS(port)
		as.Clients = []oauthtest.Client{{ID: cognitoClient, RedirectURIs: []string{fixedLoopback(port)}}}
		e := start(t, as, nil)
		cfg := e.config(func(c *oauthclient.Config) { c.ClientID, c.CallbackPort = cognitoClient, port })
		_, s := e.signIn(t, apply(t, "cognito", cfg, preset.Options{}))
		e.wantRefreshed(t, s, time.Hour)
	})
}

// TestAuth0ClientCredentials: a machine client at Auth0 must name the
// audience on the token request itself; without it Auth0 answers
// access_denied "No audience parameter was provided, and no default
// audience has been configured". The auth0 preset puts the audience in
// Config.TokenParams as well as in AuthorizeParams.
func TestAuth0ClientCredentials(t *testing.T) {
	as := auth0AS()
	as.Clients = []oauthtest.Client{{ID: "machine", Secret: "machine-secret"}}
	e := start(t, as, &oauthtest.ResourceOptions{Audience: auth0API})
	e.browser.Forbid(func(url string) {
		t.Errorf("the browser was opened, but the sign-in should have needed none: %s", url)
	})
	cfg := e.config(func(c *oauthclient.Config) {
		c.ClientID, c.ClientSecret, c.ClientCredentials = "machine", "machine-secret", true
	})
	e.signIn(t, apply(t, "auth0", cfg, preset.Options{Audience: auth0API}))
}

// TestGitHubErrorsWithStatusOK: GitHub answers token errors with 200
// OK. The handler reads a 200 answer with an "error" member and no
// access_token as a TokenError, so the user is told GitHub's error, and
// counts bad_refresh_token as invalid_grant, so that a dead refresh token
// starts a new sign-in instead of failing every request.
func TestGitHubErrorsWithStatusOK(t *testing.T) {
	registered := func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = githubClient, "github-secret" }
	t.Run("dead refresh token", func(t *testing.T) {
		e := start(t, githubAS(), nil)
		_, s := e.signIn(t, apply(t, "github", e.config(registered), preset.Options{}))
		// Seven months later the refresh token has expired too: the bridge
		// must sign in again.
		e.clock.Advance(7 * 30 * 24 * time.Hour)
		if err := echo(t.Context(), s, "months later"); err != nil {
			t.Fatalf("call after the refresh token expired: %v; want a new sign-in", err)
		}
		if n := e.opens(); n != 2 {
			t.Errorf("the browser opened %d times, want 2", n)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		e := start(t, githubAS(), nil)
		cfg := apply(t, "github", e.config(func(c *oauthclient.Config) { registered(c); c.ClientSecret = "stale" }), preset.Options{})
		wantSays(t, e.failSignIn(t, cfg), "incorrect_client_credentials")
	})
}
