package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Enterprise configures enterprise-managed authorization (SEP-990, the
// Identity Assertion Authorization Grant): the user is already signed in
// to the company's identity provider, whose ID token is exchanged for an
// identity assertion (ID-JAG) that the MCP server's authorization server
// takes instead of a browser sign-in.
type Enterprise struct {
	// IDTokenFile holds the ID token from the identity provider. It is read
	// at each sign-in: an SSO agent may renew it.
	IDTokenFile string
	// IdPIssuer is the identity provider's issuer; its token endpoint comes
	// from OpenID Connect discovery.
	IdPIssuer string
	// IdPClientID is the client id to present to the identity provider.
	IdPClientID string
}

// enterpriseSignIn runs SEP-990: an RFC 8693 token exchange at the
// identity provider for an ID-JAG, then the RFC 7523 jwt-bearer grant at
// the MCP server's authorization server.
func (h *Handler) enterpriseSignIn(ctx context.Context, d *discovered, scopes []string) (*Credentials, error) {
	e := h.cfg.Enterprise
	raw, err := os.ReadFile(e.IDTokenFile)
	if err != nil {
		return nil, fmt.Errorf("read the ID token: %w", err)
	}
	idToken := strings.TrimSpace(string(raw))
	if err := checkEndpoint("identity provider", e.IdPIssuer); err != nil {
		return nil, err
	}
	var idp asMeta
	found, err := h.getJSON(ctx, strings.TrimSuffix(e.IdPIssuer, "/")+"/.well-known/openid-configuration", &idp)
	switch {
	case err != nil:
		return nil, fmt.Errorf("identity provider discovery: %w", err)
	case !found:
		return nil, fmt.Errorf("the identity provider %s publishes no OpenID configuration", e.IdPIssuer)
	case !sameIssuer(idp.Issuer, e.IdPIssuer):
		return nil, fmt.Errorf("the identity provider's configuration states issuer %s, not %s", quoteURL(idp.Issuer), quoteURL(e.IdPIssuer))
	}
	if err := checkEndpoint("identity provider token_endpoint", idp.TokenEndpoint); err != nil {
		return nil, err
	}
	resource := d.resource
	if resource == "" {
		resource = h.serverURL
	}
	h.log.Info("exchanging the ID token for an identity assertion (SEP-990)", "idp", e.IdPIssuer)
	jag, err := oauthex.ExchangeToken(ctx, idp.TokenEndpoint, &oauthex.TokenExchangeRequest{
		RequestedTokenType: oauthex.TokenTypeIDJAG,
		Audience:           d.as.Issuer,
		Resource:           resource,
		Scope:              scopes,
		SubjectToken:       idToken,
		SubjectTokenType:   oauthex.TokenTypeIDToken,
	}, &oauthex.ClientCredentials{ClientID: e.IdPClientID}, h.client)
	if err != nil {
		return nil, fmt.Errorf("token exchange at the identity provider: %w", err)
	}
	if jag.AccessToken == "" {
		return nil, errors.New("the identity provider returned no identity assertion")
	}
	method := authMethod(d.as.TokenEndpointAuthMethodsSupported, h.cfg.ClientSecret != "", h.cfg.PrivateKey != nil)
	client := Client{ID: h.cfg.ClientID, Secret: h.cfg.ClientSecret, Kind: KindPreregistered, AuthMethod: method}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {jag.AccessToken},
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	t, err := h.tokenRequest(ctx, d.as.Issuer, d.as.TokenEndpoint, client, form, d.dpop)
	if err != nil {
		return nil, fmt.Errorf("jwt-bearer grant: %w", err)
	}
	return h.fromToken(d, client, scopes, t), nil
}
