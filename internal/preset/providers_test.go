package preset_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/internal/preset"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// One test per preset: the demo server behind an authorization server that
// behaves like the provider. Without the preset (or what it asks the user
// for) the sign-in or the refresh fails as it fails at the provider, with
// the provider's words; with it, the sign-in succeeds and the token is
// refreshed without a browser. The emulations are as faithful as the
// handler allows today: where it cannot yet sign in to the real thing,
// gaps_test.go (branch preset-gaps) has the faithful emulation, failing.

// advertise returns an EditMetadata that replaces the client
// authentication methods the metadata lists, as providers list theirs;
// the server still takes every method.
func advertise(methods ...string) func(map[string]any) {
	return func(m map[string]any) { m["token_endpoint_auth_methods_supported"] = methods }
}

// loopback is the redirect URI registered for a client that may use any
// port.
const loopback = "http://127.0.0.1/callback"

// fixedLoopback is the redirect URI registered for a client at a provider
// that matches ports too.
func fixedLoopback(port int) string { return fmt.Sprintf("http://127.0.0.1:%d/callback", port) }

// Microsoft Entra ID.
const (
	entraTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraClient = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" // the bridge's app registration
	entraAPI    = "api://11111111-2222-3333-4444-555555555555"
)

// entraAS is Entra ID's v2.0 endpoint for one tenant: OpenID metadata at
// the appended path only, no registration, resource refused
// (AADSTS9010010), the scope required on refresh (AADSTS90009), refresh
// tokens only with offline_access, tokens for the resource the scope
// names, secret-based client authentication listed. The real metadata also
// leaves out code_challenge_methods_supported: see gaps_test.go.
func entraAS(clients ...oauthtest.Client) *oauthtest.ASOptions {
	return &oauthtest.ASOptions{
		IssuerPath:            "/" + entraTenant + "/v2.0",
		NoOAuthMetadata:       true,
		OpenIDAppendedOnly:    true,
		NoDCR:                 true,
		NoCIMD:                true,
		RejectResource:        true,
		RequireScopeOnRefresh: true,
		OfflineAccess:         true,
		ScopeAudience:         true,
		EditMetadata:          advertise("client_secret_post", "private_key_jwt", "client_secret_basic"),
		Clients:               clients,
	}
}

// entraServer is an MCP server registered in Entra as entraAPI, which
// names no scopes.
var entraServer = &oauthtest.ResourceOptions{Audience: entraAPI, NoScopeParam: true}

func TestEntra(t *testing.T) {
	client := oauthtest.Client{ID: entraClient, Secret: "entra-secret", RedirectURIs: []string{loopback}}
	registered := func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = entraClient, "entra-secret" }

	t.Run("without the preset", func(t *testing.T) {
		e := start(t, entraAS(client), entraServer)
		msg := e.failSignIn(t, e.config(registered))
		wantSays(t, msg, "AADSTS9010010")
	})
	t.Run("without the server's scope", func(t *testing.T) {
		// No resource, but nothing names the server's app either: Entra
		// issues a token for Microsoft Graph, which the server refuses.
		e := start(t, entraAS(client), entraServer)
		h := e.handler(t, apply(t, "entra", e.config(registered), preset.Options{}))
		if s, err := e.connect(t.Context(), h); err == nil {
			s.Close()
			t.Fatal("connected with a token for Microsoft Graph")
		}
		c := h.Credentials(t.Context())
		if c == nil || c.AccessToken == "" {
			t.Fatal("no token was issued")
		}
		info, err := e.demo.AuthServer.Verify(t.Context(), c.AccessToken, nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Extra["aud"] != oauthtest.MicrosoftGraph {
			t.Errorf("the token is for %v, want Microsoft Graph", info.Extra["aud"])
		}
	})
	t.Run("with the preset", func(t *testing.T) {
		e := start(t, entraAS(client), entraServer)
		cfg := apply(t, "entra", e.config(registered), preset.Options{API: entraAPI})
		h, s := e.signIn(t, cfg)
		c := h.Credentials(t.Context())
		if c.RefreshToken == "" || c.Resource != "" || !slices.Equal(c.Scopes, []string{entraAPI + "/.default"}) {
			t.Errorf("credentials: refresh token %t, resource %q, scopes %q; want a refresh token, no resource, %s/.default",
				c.RefreshToken != "", c.Resource, c.Scopes, entraAPI)
		}
		// The refresh sends the scope again, or Entra would refuse it
		// (AADSTS90009), and no resource (AADSTS9010010).
		e.wantRefreshed(t, s, time.Hour)
	})
	t.Run("needs a client", func(t *testing.T) {
		err := preset.Apply("entra", &oauthclient.Config{ServerURL: "https://mcp.example.com/mcp"}, preset.Options{API: entraAPI})
		wantSays(t, fmt.Sprint(err), "a registered client is needed")
	})
}

// Google.
const googleClient = "1234567890-abcdefghijklmnop.apps.googleusercontent.com"

// googleAS is Google's authorization server: no registration, a refresh
// token only with access_type=offline and prompt=consent, none rotated,
// secret-based client authentication.
func googleAS() *oauthtest.ASOptions {
	return &oauthtest.ASOptions{
		NoDCR:                    true,
		NoCIMD:                   true,
		RequireOfflineAccessType: true,
		NoRefreshRotation:        true,
		EditMetadata:             advertise("client_secret_post", "client_secret_basic"),
		Clients:                  []oauthtest.Client{{ID: googleClient, Secret: "GOCSPX-secret", RedirectURIs: []string{loopback}}},
	}
}

func TestGoogle(t *testing.T) {
	registered := func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = googleClient, "GOCSPX-secret" }

	t.Run("without a client", func(t *testing.T) {
		e := start(t, googleAS(), nil)
		wantSays(t, e.failSignIn(t, e.config(nil)), "offers no dynamic client registration")
	})
	t.Run("without the preset", func(t *testing.T) {
		// Signed in, but without a refresh token: when the access token
		// expires, the user must sign in again in the browser.
		e := start(t, googleAS(), nil)
		h, s := e.signIn(t, e.config(registered))
		if c := h.Credentials(t.Context()); c.RefreshToken != "" {
			t.Fatal("Google gave a refresh token without access_type=offline")
		}
		e.clock.Advance(time.Hour)
		if err := echo(t.Context(), s, "after expiry"); err != nil {
			t.Fatal(err)
		}
		if n := e.opens(); n != 2 {
			t.Errorf("the browser opened %d times, want 2: the expired token cannot be refreshed", n)
		}
	})
	t.Run("with the preset", func(t *testing.T) {
		e := start(t, googleAS(), nil)
		h, s := e.signIn(t, apply(t, "google", e.config(registered), preset.Options{}))
		first := h.Credentials(t.Context()).RefreshToken
		if first == "" {
			t.Fatal("no refresh token with the preset")
		}
		e.wantRefreshed(t, s, time.Hour)
		// Google does not rotate: the same refresh token serves again.
		if rt := h.Credentials(t.Context()).RefreshToken; rt != first {
			t.Error("the refresh token changed")
		}
		e.wantRefreshed(t, s, time.Hour)
	})
}

// Auth0.
const auth0API = "https://mcp.example.com/api" // the API's identifier in Auth0

// auth0AS is an Auth0 tenant with dynamic registration on, an API for the
// MCP server, refresh tokens only with offline_access, rotated with a
// reuse interval.
func auth0AS() *oauthtest.ASOptions {
	return &oauthtest.ASOptions{
		Audience:                 auth0API,
		ThirdPartyDynamicClients: true,
		OfflineAccess:            true,
		RefreshGrace:             10 * time.Second,
	}
}

func TestAuth0(t *testing.T) {
	server := &oauthtest.ResourceOptions{Audience: auth0API}

	t.Run("without the preset", func(t *testing.T) {
		e := start(t, auth0AS(), server)
		wantSays(t, e.failSignIn(t, e.config(nil)), "access_denied", "The userinfo audience is not allowed for third party clients")
	})
	t.Run("with the preset", func(t *testing.T) {
		e := start(t, auth0AS(), server)
		_, s := e.signIn(t, apply(t, "auth0", e.config(nil), preset.Options{Audience: auth0API}))
		if st := e.demo.AuthServer.Stats(); st.Registrations != 1 {
			t.Errorf("%d registrations, want 1", st.Registrations)
		}
		// A refresh token came because offline_access was asked for.
		e.wantRefreshed(t, s, time.Hour)
	})
}

// Okta.
const oktaClient = "0oa1b2c3d4e5f6g7h8i9"

// oktaAS is an Okta custom authorization server: metadata under
// /oauth2/default, registration only with an admin API token, redirect
// URIs matched exactly, refresh tokens only with offline_access, rotated
// with a grace period.
func oktaAS(port int) *oauthtest.ASOptions {
	return &oauthtest.ASOptions{
		IssuerPath:         "/oauth2/default",
		NoOAuthMetadata:    true,
		OpenIDAppendedOnly: true,
		NoCIMD:             true,
		DenyRegistration:   oauthtest.OktaRegistrationDenial,
		ExactRedirectURIs:  true,
		OfflineAccess:      true,
		RefreshGrace:       30 * time.Second,
		Clients:            []oauthtest.Client{{ID: oktaClient, RedirectURIs: []string{fixedLoopback(port)}}},
	}
}

func TestOkta(t *testing.T) {
	port := freePort(t)
	registered := func(c *oauthclient.Config) { c.ClientID = oktaClient }

	t.Run("without a client", func(t *testing.T) {
		e := start(t, oktaAS(port), nil)
		wantSays(t, e.failSignIn(t, e.config(nil)), "401", "E0000011", "Invalid token provided")
	})
	t.Run("without the callback port", func(t *testing.T) {
		e := start(t, oktaAS(port), nil)
		wantSays(t, e.failSignIn(t, e.config(registered)), "redirect_uri", "is not registered")
		err := preset.Apply("okta", e.config(registered), preset.Options{})
		wantSays(t, fmt.Sprint(err), "the callback port is needed")
	})
	t.Run("with the preset", func(t *testing.T) {
		e := start(t, oktaAS(port), nil)
		cfg := e.config(func(c *oauthclient.Config) { registered(c); c.CallbackPort = port })
		_, s := e.signIn(t, apply(t, "okta", cfg, preset.Options{}))
		e.wantRefreshed(t, s, time.Hour)
	})
}

// Keycloak.

// keycloakAS is a Keycloak realm: metadata under /realms/mcp, anonymous
// registration refused by the default Trusted Hosts policy, refresh
// tokens that end with the SSO session (30 minutes idle) unless
// offline_access makes them offline tokens, 5-minute access tokens.
func keycloakAS() *oauthtest.ASOptions {
	return &oauthtest.ASOptions{
		IssuerPath:             "/realms/mcp",
		NoOAuthMetadata:        true,
		OpenIDAppendedOnly:     true,
		NoCIMD:                 true,
		DenyRegistration:       oauthtest.KeycloakRegistrationDenial,
		Scopes:                 []string{"openid", "profile", "email", "offline_access"},
		AccessTokenTTL:         5 * time.Minute,
		SessionRefreshTokenTTL: 30 * time.Minute,
		RefreshTokenTTL:        30 * 24 * time.Hour,
		Clients:                []oauthtest.Client{{ID: "mcp-bridge", RedirectURIs: []string{loopback}}},
	}
}

func TestKeycloak(t *testing.T) {
	t.Run("without the preset", func(t *testing.T) {
		e := start(t, keycloakAS(), nil)
		wantSays(t, e.failSignIn(t, e.config(nil)), "403", "Policy 'Trusted Hosts' rejected request")
		err := preset.Apply("keycloak", e.config(nil), preset.Options{})
		wantSays(t, fmt.Sprint(err), "a registered client is needed")
	})
	t.Run("with the preset", func(t *testing.T) {
		e := start(t, keycloakAS(), nil)
		cfg := apply(t, "keycloak", e.config(func(c *oauthclient.Config) { c.ClientID = "mcp-bridge" }), preset.Options{})
		h, s := e.signIn(t, cfg)
		if c := h.Credentials(t.Context()); !slices.Contains(c.Scopes, "offline_access") {
			t.Errorf("scopes %q: want offline_access, for a token that outlives the SSO session", c.Scopes)
		}
		// Two hours idle: past the SSO session, not the offline session.
		e.wantRefreshed(t, s, 2*time.Hour)
	})
}

// GitHub.
const githubClient = "Iv23liABCDEFGHIJKLMN"

// githubAS is github.com's authorization server: issuer
// https://github.com/login/oauth with RFC 8414 metadata at the
// path-inserted URL only, no registration, no iss, errors with status
// 200, and GitHub App user tokens: 8 hours, refresh tokens of 6 months
// that rotate.
func githubAS() *oauthtest.ASOptions {
	return &oauthtest.ASOptions{
		IssuerPath:            "/login/oauth",
		NoOpenIDConfiguration: true,
		NoDCR:                 true,
		NoCIMD:                true,
		OmitIss:               true,
		OmitIssSupported:      true,
		GitHubTokenErrors:     true,
		AccessTokenTTL:        8 * time.Hour,
		RefreshTokenTTL:       6 * 30 * 24 * time.Hour,
		Clients:               []oauthtest.Client{{ID: githubClient, Secret: "github-secret", RedirectURIs: []string{loopback}}},
	}
}

func TestGitHub(t *testing.T) {
	t.Run("without the preset", func(t *testing.T) {
		e := start(t, githubAS(), nil)
		wantSays(t, e.failSignIn(t, e.config(nil)), "offers no dynamic client registration")
		err := preset.Apply("github", e.config(func(c *oauthclient.Config) { c.ClientID = githubClient }), preset.Options{})
		wantSays(t, fmt.Sprint(err), "the client secret is needed")
	})
	t.Run("with the preset", func(t *testing.T) {
		// The callback URL is http://127.0.0.1/callback: GitHub takes any
		// loopback port, so none is fixed.
		e := start(t, githubAS(), nil)
		cfg := apply(t, "github", e.config(func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = githubClient, "github-secret" }), preset.Options{})
		h, s := e.signIn(t, cfg)
		first := h.Credentials(t.Context()).RefreshToken
		e.wantRefreshed(t, s, 8*time.Hour)
		if h.Credentials(t.Context()).RefreshToken == first {
			t.Error("the rotated refresh token was not kept")
		}
	})
}

// Amazon Cognito.
const cognitoClient = "4o0eg826db7ghk7503mbbrrsi1"

// cognitoAS is a Cognito user pool: OpenID metadata at the appended path
// only, no registration endpoint, callback URLs matched exactly, refresh
// tokens not rotated, secret-based client authentication listed, no
// offline_access scope. The real metadata also leaves out
// code_challenge_methods_supported: see gaps_test.go.
func cognitoAS(port int) *oauthtest.ASOptions {
	return &oauthtest.ASOptions{
		IssuerPath:         "/us-east-1_Example",
		NoOAuthMetadata:    true,
		OpenIDAppendedOnly: true,
		NoDCR:              true,
		NoCIMD:             true,
		ExactRedirectURIs:  true,
		NoRefreshRotation:  true,
		Scopes:             []string{"openid", "email", "phone", "profile"},
		EditMetadata:       advertise("client_secret_basic", "client_secret_post"),
		Clients:            []oauthtest.Client{{ID: cognitoClient, Secret: "cognito-secret", RedirectURIs: []string{fixedLoopback(port)}}},
	}
}

func TestCognito(t *testing.T) {
	port := freePort(t)
	registered := func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = cognitoClient, "cognito-secret" }

	t.Run("without a client", func(t *testing.T) {
		e := start(t, cognitoAS(port), nil)
		wantSays(t, e.failSignIn(t, e.config(nil)), "offers no dynamic client registration")
	})
	t.Run("without the callback port", func(t *testing.T) {
		e := start(t, cognitoAS(port), nil)
		wantSays(t, e.failSignIn(t, e.config(registered)), "redirect_uri", "is not registered")
		err := preset.Apply("cognito", e.config(registered), preset.Options{})
		wantSays(t, fmt.Sprint(err), "the callback port is needed")
	})
	t.Run("with the preset", func(t *testing.T) {
		e := start(t, cognitoAS(port), nil)
		cfg := e.config(func(c *oauthclient.Config) { registered(c); c.CallbackPort = port })
		_, s := e.signIn(t, apply(t, "cognito", cfg, preset.Options{}))
		e.wantRefreshed(t, s, time.Hour)
	})
}

// TestEveryPresetTested keeps one test per preset.
func TestEveryPresetTested(t *testing.T) {
	tested := []string{"entra", "google", "auth0", "okta", "keycloak", "github", "cognito"}
	for _, n := range preset.Names() {
		if !slices.Contains(tested, n) {
			t.Errorf("preset %s has no provider test", n)
		}
	}
}
