// Package preset holds what mcp-bridge knows about identity providers that
// sit behind MCP servers and depart from the MCP authorization
// specification (revision 2025-11-25, basic/authorization): for each, the
// [oauthclient.Config] settings a sign-in needs there, and the settings the
// user must supply because the provider cannot be told them (a
// pre-registered client, its redirect port).
//
// A preset only fills in what the user left unset, so the user's own
// settings win; [Apply] then says what is still missing. The presets and
// their sources:
//
//   - "entra", Microsoft Entra ID (v2.0 endpoints). It refuses the RFC 8707
//     resource parameter when it does not match the requested scopes
//     (AADSTS9010010), so none is sent; the resource is named by the scope
//     instead (api://APP-ID/.default), and the same scope must be sent again
//     on refresh (AADSTS90009), which the handler does. Refresh tokens come
//     only with offline_access, which Entra lists in its metadata. No
//     dynamic registration: a registered client is needed. Its metadata is
//     at ISSUER/.well-known/openid-configuration only.
//     https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
//     https://learn.microsoft.com/en-us/entra/identity-platform/scopes-oidc
//     https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
//     https://github.com/punkpeye/mcp-remote/issues/217
//   - "google", Google's OAuth 2.0 for installed apps. No dynamic
//     registration; the "Desktop app" client has a secret Google requires at
//     the token endpoint. A refresh token comes only with
//     access_type=offline, and again after a first consent only with
//     prompt=consent. Refresh tokens are not rotated.
//     https://developers.google.com/identity/protocols/oauth2/native-app
//     https://developers.google.com/identity/protocols/oauth2/web-server#offline
//   - "auth0", Auth0. Tokens are for the API named by the audience
//     parameter; without it Auth0 issues a token for its own /userinfo, and
//     refuses a third-party (dynamically registered) client outright, unless
//     the tenant's Resource Parameter Compatibility Profile is on. Refresh
//     tokens need offline_access and rotate with a reuse interval.
//     https://support.auth0.com/center/s/article/mcp-audience-error-with-auth0
//     https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation
//   - "okta", Okta. Its registration endpoint needs an admin API token, so a
//     registered client is needed, and sign-in redirect URIs must match
//     exactly, port included. Refresh tokens need offline_access.
//     https://github.com/modelcontextprotocol/modelcontextprotocol/issues/695
//     https://support.okta.com/help/s/article/openid-connect-oidc-redirect-uri
//     https://developer.okta.com/docs/guides/refresh-tokens/main/
//   - "keycloak", Keycloak. The issuer is a realm (/realms/NAME) with its
//     metadata under it; anonymous registration is refused by the default
//     Trusted Hosts policy, so a registered client is needed; refresh
//     tokens without offline_access end with the SSO session.
//     https://www.keycloak.org/securing-apps/mcp-authz-server
//     https://docs.redhat.com/en/documentation/red_hat_build_of_keycloak/24.0/html/securing_applications_and_services_guide/client_registration_policies
//   - "github", GitHub OAuth apps and GitHub Apps. github.com publishes RFC
//     8414 metadata (at the path-inserted URL) with PKCE S256 but offers no
//     registration, and wants the client secret even with PKCE. A loopback
//     redirect may use any port if the registered callback URL is
//     http://127.0.0.1/callback. Token errors come with status 200.
//     https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
//     https://github.com/github/github-mcp-server/issues/921
//     https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//   - "cognito", Amazon Cognito user pools. No registration endpoint, callback
//     URLs must match exactly, port included, and its metadata omits
//     code_challenge_methods_supported although it takes S256.
//     https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-app-idp-settings.html
//     https://github.com/anthropics/claude-code/issues/13275
//
// The project README has the full table with every source.
package preset

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// ErrUnknown is wrapped by the error [Apply] and [Lookup] return for a
// name that is no preset.
var ErrUnknown = errors.New("unknown preset")

// Options carries what a preset may need from the user beyond
// [oauthclient.Config]. The zero value is valid.
type Options struct {
	// Audience is the identifier of the Auth0 API that stands for the MCP
	// server, sent as the audience parameter. If empty, an audience in
	// Config.AuthorizeParams, else the server's resource: Config.Resource,
	// else the canonical form of Config.ServerURL (Auth0 tells identifiers
	// with and without a trailing slash apart).
	Audience string
	// API is, for Entra ID, the application ID URI (api://…) or the
	// application (client) ID of the app registration that stands for the
	// MCP server. If set and Config.Scopes is empty, the scope asked for is
	// API + "/.default": all the permissions configured for the client.
	API string
}

// A Source is a page that documents a provider's behaviour.
type Source struct {
	Title string
	URL   string
}

// A Preset is what mcp-bridge knows about one identity provider.
type Preset struct {
	// Name is what configurations call it, e.g. "entra".
	Name string
	// Provider is the provider's name, e.g. "Microsoft Entra ID".
	Provider string
	// Sets says what the preset sets, and Needs what the user must give.
	Sets, Needs string
	// Sources document the behaviour the preset answers.
	Sources []Source

	apply func(cfg *oauthclient.Config, opts Options) error
}

// Names returns the names of the presets, in a fixed order.
func Names() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return names
}

// Lookup returns the preset name. The result must not be modified.
func Lookup(name string) (*Preset, error) {
	for _, p := range presets {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w %q: want one of %s", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Apply sets in cfg what the preset name needs, where cfg leaves it unset:
// the user's own settings win (a resource override keeps the resource
// parameter; authorize parameters the user gave are kept). Call it once
// the user's settings are in cfg, secrets resolved. It returns an error
// naming what the user must still give, such as a registered client or
// its redirect port, and leaves cfg unchanged then.
func Apply(name string, cfg *oauthclient.Config, opts Options) error {
	p, err := Lookup(name)
	if err != nil {
		return err
	}
	c := *cfg
	c.Scopes = slices.Clone(c.Scopes)
	c.AuthorizeParams = cloneValues(c.AuthorizeParams)
	c.TokenParams = cloneValues(c.TokenParams)
	if err := p.apply(&c, opts); err != nil {
		return fmt.Errorf("preset %s: %w", name, err)
	}
	*cfg = c
	return nil
}

var presets = []*Preset{
	{
		Name:     "entra",
		Provider: "Microsoft Entra ID (v2.0 endpoints)",
		Sets:     "no `resource` parameter (AADSTS9010010); PKCE S256 though the metadata does not list it; scope `API/.default` if `API` is given and no scopes are; `offline_access` is asked for because the metadata lists it, and the granted scope is repeated on refresh (AADSTS90009)",
		Needs:    "a registered client (no dynamic registration); the scope naming the server's app (`api://APP-ID/...`), from the server's metadata, `scopes` or `API`",
		Sources: []Source{
			{"Microsoft identity platform and OAuth 2.0 authorization code flow (no resource parameter; scope on refresh; PKCE)", "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow"},
			{"Scopes and permissions: offline_access, .default", "https://learn.microsoft.com/en-us/entra/identity-platform/scopes-oidc"},
			{"Microsoft Entra authentication and authorization error codes (AADSTS9010010, AADSTS90009, AADSTS28000)", "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"},
			{"Redirect URI restrictions: localhost exceptions, any port", "https://learn.microsoft.com/en-us/azure/active-directory/develop/reply-url"},
			{"offline_access is never returned in the token's scope", "https://learn.microsoft.com/en-us/answers/questions/806413/scope-offline-access-isnt-being-returned-in-the-to"},
			{"mcp-remote #217: Entra ID v2 rejects the resource parameter (AADSTS9010010)", "https://github.com/punkpeye/mcp-remote/issues/217"},
			{"Claude Code #73460: omitting resource for Entra ID", "https://github.com/anthropics/claude-code/issues/73460"},
			{"MCP TypeScript SDK #832: Entra metadata lacks code_challenge_methods_supported", "https://github.com/modelcontextprotocol/typescript-sdk/issues/832"},
		},
		apply: func(cfg *oauthclient.Config, opts Options) error {
			if err := needClient(cfg, "Entra ID offers no dynamic client registration: register an app (platform \"Mobile and desktop applications\", redirect URI http://127.0.0.1/callback) and give its application (client) ID"); err != nil {
				return err
			}
			if cfg.Resource == "" {
				cfg.NoResource = true
			}
			cfg.AssumePKCE = true
			if len(cfg.Scopes) == 0 && opts.API != "" {
				api := strings.TrimSuffix(opts.API, "/")
				if !strings.HasSuffix(api, "/.default") {
					api += "/.default"
				}
				cfg.Scopes = []string{api}
			}
			return nil
		},
	},
	{
		Name:     "google",
		Provider: "Google (OAuth 2.0 for installed apps)",
		Sets:     "authorize parameters `access_type=offline` and `prompt=consent`, without which no refresh token is issued",
		Needs:    "a registered \"Desktop app\" client: client ID and client secret (Google requires the secret)",
		Sources: []Source{
			{"OAuth 2.0 for iOS & desktop apps: loopback redirect, client secret, PKCE", "https://developers.google.com/identity/protocols/oauth2/native-app"},
			{"Refreshing an access token (offline access): access_type=offline", "https://developers.google.com/identity/protocols/oauth2/web-server#offline"},
			{"Using OAuth 2.0 to access Google APIs (refresh token expiry, no rotation)", "https://developers.google.com/identity/protocols/oauth2"},
			{"apps-script-oauth2 #210: prompt=consent is required to always get a refresh token", "https://github.com/googleworkspace/apps-script-oauth2/pull/210"},
		},
		apply: func(cfg *oauthclient.Config, _ Options) error {
			if err := needClient(cfg, "Google offers no dynamic client registration: create an OAuth client of type \"Desktop app\" and give its client ID"); err != nil {
				return err
			}
			if err := needSecret(cfg, "Google requires the client secret of a Desktop app client at its token endpoint"); err != nil {
				return err
			}
			setParam(cfg, "access_type", "offline")
			setParam(cfg, "prompt", "consent")
			return nil
		},
	},
	{
		Name:     "auth0",
		Provider: "Auth0",
		Sets:     "`audience` (the API identifier, by default the server's resource) on the authorization and token requests; `offline_access` is asked for because the metadata lists it",
		Needs:    "the API identifier, if it is not the server's URL",
		Sources: []Source{
			{"The audience parameter and the API identifier; without it, an opaque /userinfo token", "https://support.auth0.com/center/s/article/value-of-the-audience-attribute-in-access-token-requests-and-its-significance"},
			{"MCP audience error: \"The userinfo audience is not allowed for third party clients\"; the Resource Parameter Compatibility Profile", "https://support.auth0.com/center/s/article/mcp-audience-error-with-auth0"},
			{"RFC 8707 implementation: audience vs resource", "https://community.auth0.com/t/rfc-8707-implementation-audience-vs-resource/188990"},
			{"Get access tokens: audience on the client credentials token request", "https://auth0.com/docs/tokens/guides/get-access-tokens"},
			{"Refresh tokens: offline_access and Allow Offline Access", "https://auth0.com/docs/refresh-token"},
			{"Configure refresh token rotation: reuse interval", "https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation"},
		},
		apply: func(cfg *oauthclient.Config, opts Options) error {
			aud := opts.Audience
			if v := cfg.AuthorizeParams.Get("audience"); v != "" {
				aud = v // the user's own
			}
			if aud == "" {
				res := cfg.Resource
				if res == "" {
					res = cfg.ServerURL
				}
				c, err := oauthclient.CanonicalResource(res)
				if err != nil {
					return fmt.Errorf("the audience: %w", err)
				}
				aud = c
			}
			setParam(cfg, "audience", aud)
			if cfg.TokenParams == nil {
				cfg.TokenParams = url.Values{}
			}
			if !cfg.TokenParams.Has("audience") {
				cfg.TokenParams.Set("audience", aud)
			}
			return nil
		},
	},
	{
		Name:     "okta",
		Provider: "Okta",
		Sets:     "nothing beyond the defaults (`offline_access` is asked for because the metadata lists it); checks the settings Okta needs",
		Needs:    "a registered native app (its registration endpoint needs an admin API token) and, for the browser sign-in, the port of its sign-in redirect URI http://127.0.0.1:PORT/callback, which Okta matches exactly",
		Sources: []Source{
			{"MCP specification #695: Okta's registration endpoint requires credentials", "https://github.com/modelcontextprotocol/modelcontextprotocol/issues/695"},
			{"Envoy AI Gateway #2074: Okta gates /oauth2/v1/clients behind an admin token", "https://github.com/envoyproxy/ai-gateway/issues/2074"},
			{"OpenID Connect sign-in redirect URI: exact match, port included", "https://support.okta.com/help/s/article/openid-connect-oidc-redirect-uri"},
			{"Refresh access tokens and rotate refresh tokens: offline_access, grace period", "https://developer.okta.com/docs/guides/refresh-tokens/main/"},
		},
		apply: func(cfg *oauthclient.Config, _ Options) error {
			if err := needClient(cfg, "Okta's registration endpoint needs an admin API token: create an OIDC native app integration and give its client ID"); err != nil {
				return err
			}
			return needPort(cfg, "Okta matches sign-in redirect URIs exactly, port included")
		},
	},
	{
		Name:     "keycloak",
		Provider: "Keycloak",
		Sets:     "nothing beyond the defaults (`offline_access` is asked for because the metadata lists it, for an offline token that outlives the SSO session); checks the settings Keycloak needs",
		Needs:    "a client registered in the realm, since the default anonymous registration policy trusts no host (with registration opened, no preset is needed)",
		Sources: []Source{
			{"Keycloak: integrating with Model Context Protocol (RFC 8707 experimental, registration)", "https://www.keycloak.org/securing-apps/mcp-authz-server"},
			{"Client registration policies: with no trusted hosts, anonymous registration is disabled", "https://docs.redhat.com/en/documentation/red_hat_build_of_keycloak/24.0/html/securing_applications_and_services_guide/client_registration_policies"},
			{"Secure an MCP server with Keycloak (26.8, every failure mode measured)", "https://phasetwo.io/tutorials/emerging/mcp-server-auth/"},
			{"akb #635: \"Policy 'Trusted Hosts' rejected request to client-registration service\"", "https://github.com/dnotitia/akb/issues/635"},
		},
		apply: func(cfg *oauthclient.Config, _ Options) error {
			return needClient(cfg, "Keycloak's default anonymous registration policy (Trusted Hosts) refuses dynamic registration: create an OpenID Connect client in the realm (redirect URI http://127.0.0.1/callback) and give its client ID")
		},
	},
	{
		Name:     "github",
		Provider: "GitHub (OAuth apps and GitHub Apps)",
		Sets:     "nothing beyond the defaults; checks the settings GitHub needs (github.com publishes RFC 8414 metadata with S256 at the path-inserted URL; GitHub Enterprise Server does not, and is reached through the OAuth proxy its MCP server names)",
		Needs:    "a registered OAuth app or GitHub App: client ID and client secret (required even with PKCE), callback URL http://127.0.0.1/callback (any port then works)",
		Sources: []Source{
			{"Authorizing OAuth apps: web flow, loopback redirect URLs with any port", "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps"},
			{"PKCE support for OAuth and GitHub App authentication (S256)", "https://github.blog/changelog/2025-07-14-pkce-support-for-oauth-and-github-app-authentication"},
			{"github-mcp-server #921: metadata at https://github.com/.well-known/oauth-authorization-server/login/oauth", "https://github.com/github/github-mcp-server/issues/921"},
			{"github-mcp-server #2900: GitHub Enterprise Server has no RFC 8414, RFC 7591 or PKCE", "https://github.com/github/github-mcp-server/pull/2900"},
			{"Troubleshooting OAuth app access token request errors", "https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"},
			{"Refreshing user access tokens: 8 hours, 6 months, rotation", "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens"},
		},
		apply: func(cfg *oauthclient.Config, _ Options) error {
			if err := needClient(cfg, "GitHub offers no dynamic client registration: register an OAuth app or GitHub App with the callback URL http://127.0.0.1/callback and give its client ID"); err != nil {
				return err
			}
			return needSecret(cfg, "GitHub's token endpoint wants the client secret, PKCE or not")
		},
	},
	{
		Name:     "cognito",
		Provider: "Amazon Cognito user pools",
		Sets:     "PKCE S256 though the metadata does not list it; checks the settings Cognito needs",
		Needs:    "an app client (no registration endpoint) and, for the browser sign-in, the port of its callback URL http://127.0.0.1:PORT/callback, which Cognito matches exactly",
		Sources: []Source{
			{"Configuring a user pool app client: callback URLs, HTTPS except localhost", "https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-app-idp-settings.html"},
			{"Scopes, M2M, and resource servers; resource binding (Essentials and Plus)", "https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-define-resource-servers.html"},
			{"Refresh token rotation is optional, with a grace period of up to 60 s", "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RefreshTokenRotationType.html"},
			{"Claude Code #13275: Cognito's metadata omits code_challenge_methods_supported", "https://github.com/anthropics/claude-code/issues/13275"},
			{"Claude Code #67258: Cognito's metadata has no registration_endpoint", "https://github.com/anthropics/claude-code/issues/67258"},
		},
		apply: func(cfg *oauthclient.Config, _ Options) error {
			if err := needClient(cfg, "Cognito offers no dynamic client registration: create an app client with the callback URL http://127.0.0.1:PORT/callback and give its client ID"); err != nil {
				return err
			}
			cfg.AssumePKCE = true
			return needPort(cfg, "Cognito matches callback URLs exactly, port included")
		},
	},
}

// needClient fails unless cfg names a registered client.
func needClient(cfg *oauthclient.Config, why string) error {
	if cfg.ClientID == "" {
		return fmt.Errorf("a registered client is needed: %s", why)
	}
	return nil
}

// needSecret fails unless cfg has a client secret or key.
func needSecret(cfg *oauthclient.Config, why string) error {
	if cfg.ClientSecret == "" && cfg.PrivateKey == nil {
		return fmt.Errorf("the client secret is needed: %s", why)
	}
	return nil
}

// needPort fails if a browser sign-in would redirect to a port chosen at
// random, where the provider wants the registered one.
func needPort(cfg *oauthclient.Config, why string) error {
	browser := !cfg.ClientCredentials && cfg.Enterprise == nil && cfg.Login != oauthclient.LoginDevice
	if browser && cfg.CallbackPort == 0 {
		return fmt.Errorf("the callback port is needed: %s; give the port of the registered redirect URI http://127.0.0.1:PORT/callback", why)
	}
	return nil
}

// setParam sets an authorization request parameter the user has not set.
func setParam(cfg *oauthclient.Config, k, v string) {
	if cfg.AuthorizeParams == nil {
		cfg.AuthorizeParams = url.Values{}
	}
	if !cfg.AuthorizeParams.Has(k) {
		cfg.AuthorizeParams.Set(k, v)
	}
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := maps.Clone(v)
	for k, vs := range c {
		c[k] = slices.Clone(vs)
	}
	return c
}
