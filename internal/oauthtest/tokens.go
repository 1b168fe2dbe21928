package oauthtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

const scopeOfflineAccess = "offline_access"

// A grant is what a user (or a client on its own behalf) authorized: the
// codes and tokens issued for one authorization share it.
type grant struct {
	id       string // shared by the tokens of one authorization, for revocation
	clientID string
	subject  string
	scopes   []string
	resource string // RFC 8707 resource, or Auth0 audience; "" means none
	// offline reports that a refresh token may be issued under the Google
	// rule (RequireOfflineAccessType).
	offline bool
	// jkt is the thumbprint of the DPoP key the tokens are bound to, or ""
	// (RFC 9449 section 6).
	jkt string
}

// A token is an issued access or refresh token.
type token struct {
	grant
	refresh bool
	expiry  time.Time
	// rotated is when a refresh token was replaced by a new one; zero while
	// it is current.
	rotated time.Time
}

// tokenResponse is a successful token endpoint response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// issueLocked issues an access token for g and, if refresh is not nil and
// the server's rules allow one, a refresh token for *refresh. a.mu must be
// held.
func (a *AuthServer) issueLocked(g grant, refresh *grant) *tokenResponse {
	now := a.now()
	ttl := a.opts.AccessTokenTTL
	access := newSecret()
	a.tokens[access] = &token{grant: g, expiry: now.Add(ttl)}
	resp := &tokenResponse{
		AccessToken: access,
		TokenType:   "Bearer",
		ExpiresIn:   int64((ttl + time.Second - 1) / time.Second),
		Scope:       strings.Join(a.returnedScopes(g.scopes), " "),
	}
	if refresh != nil && a.refreshAllowed(*refresh) {
		resp.RefreshToken = newSecret()
		a.tokens[resp.RefreshToken] = &token{grant: *refresh, refresh: true, expiry: now.Add(a.refreshTokenTTL(*refresh))}
	}
	return resp
}

// refreshTokenTTL returns the lifetime of a refresh token for g.
func (a *AuthServer) refreshTokenTTL(g grant) time.Duration {
	if a.opts.SessionRefreshTokenTTL > 0 && !slices.Contains(g.scopes, scopeOfflineAccess) {
		return a.opts.SessionRefreshTokenTTL
	}
	return a.opts.RefreshTokenTTL
}

// oidcScopes are the scopes ASOptions.ScopeAudience counts as no
// resource's, and leaves out of token responses.
var oidcScopes = []string{"openid", "profile", "email", scopeOfflineAccess}

// returnedScopes returns the scope a token response states for a grant of
// scopes.
func (a *AuthServer) returnedScopes(scopes []string) []string {
	if !a.opts.ScopeAudience {
		return scopes
	}
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return slices.Contains(oidcScopes, s) })
}

// scopeResource returns the resource scopes name under
// ASOptions.ScopeAudience (Entra ID v2.0).
func scopeResource(scopes []string) (string, error) {
	res := ""
	for _, s := range scopes {
		if slices.Contains(oidcScopes, s) {
			continue
		}
		r := MicrosoftGraph // a bare permission, such as User.Read
		if i := strings.LastIndex(s, "/"); i > 0 {
			r = s[:i]
		}
		if res != "" && r != res {
			return "", errorf("invalid_scope", "AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", strings.Join(scopes, " "))
		}
		res = r
	}
	if res == "" {
		res = MicrosoftGraph
	}
	return res, nil
}

func (a *AuthServer) refreshAllowed(g grant) bool {
	o := &a.opts
	return !o.NoRefreshTokens &&
		(!o.OfflineAccess || slices.Contains(g.scopes, scopeOfflineAccess)) &&
		(!o.RequireOfflineAccessType || g.offline)
}

// bindLocked binds the tokens of resp, just issued, to the DPoP key of
// thumbprint jkt (RFC 9449 section 5). a.mu must be held.
func (a *AuthServer) bindLocked(resp *tokenResponse, jkt string) {
	for _, v := range []string{resp.AccessToken, resp.RefreshToken} {
		if t, ok := a.tokens[v]; ok && v != "" {
			t.jkt = jkt
		}
	}
	resp.TokenType = "DPoP"
}

// revokeGrantLocked deletes every token of the grant id. a.mu must be held.
func (a *AuthServer) revokeGrantLocked(id string) {
	for v, t := range a.tokens {
		if t.id == id {
			delete(a.tokens, v)
		}
	}
}

// issuedEvent describes the issue of resp for g.
func (a *AuthServer) issuedEvent(r *http.Request, grantType string, g grant, resp *tokenResponse) Event {
	return Event{
		Kind:         EventTokenIssued,
		Endpoint:     r.URL.Path,
		ClientID:     g.clientID,
		GrantType:    grantType,
		Scope:        resp.Scope,
		Resource:     g.resource,
		ExpiresIn:    a.opts.AccessTokenTTL,
		RefreshToken: resp.RefreshToken != "",
	}
}

// Verify checks an access token issued by a for a resource server. Its
// signature is that of [auth.TokenVerifier]. Unknown, revoked and expired
// tokens (by ASOptions.Now) and refresh tokens fail with an error wrapping
// [auth.ErrInvalidToken].
//
// The [auth.TokenInfo] holds the scopes, the expiry, the user as UserID, and
// in Extra: "aud" (the resource the token is bound to, absent if none),
// "client_id", "iss" and, for a DPoP-bound token, "cnf" (a map[string]any
// with the key's thumbprint as "jkt", RFC 9449 section 6.1).
func (a *AuthServer) Verify(_ context.Context, tok string, _ *http.Request) (*auth.TokenInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[tok]
	switch {
	case !ok || t.refresh:
		return nil, fmt.Errorf("%w: unknown token", auth.ErrInvalidToken)
	case !a.now().Before(t.expiry):
		return nil, fmt.Errorf("%w: token expired", auth.ErrInvalidToken)
	}
	info := &auth.TokenInfo{
		Scopes:     slices.Clone(t.scopes),
		Expiration: t.expiry,
		UserID:     t.subject,
		Extra:      map[string]any{"client_id": t.clientID, "iss": a.issuer},
	}
	if t.jkt != "" {
		info.Extra["cnf"] = map[string]any{"jkt": t.jkt}
	}
	if t.resource != "" {
		info.Extra["aud"] = t.resource
	}
	return info, nil
}

// parseScopes checks the scope parameter against ASOptions.Scopes.
func (a *AuthServer) parseScopes(s string) ([]string, error) {
	scopes := strings.Fields(s)
	if len(a.opts.Scopes) == 0 {
		return scopes, nil
	}
	allowed := a.scopesSupported()
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			return nil, errorf("invalid_scope", "unknown scope %q", sc)
		}
	}
	return scopes, nil
}

// boundResource returns the resource a new grant for scopes is bound to,
// from the resource (RFC 8707) or, with ASOptions.Audience, audience
// parameter of vals, or with ASOptions.ScopeAudience from the scopes.
func (a *AuthServer) boundResource(vals url.Values, scopes []string) (string, error) {
	o := &a.opts
	res, err := a.resourceParam(vals)
	if err != nil {
		return "", err
	}
	if o.ScopeAudience {
		return scopeResource(scopes)
	}
	if o.Audience == "" {
		return res, nil
	}
	// Auth0 ignores resource and binds the token to the audience.
	aud := vals.Get("audience")
	if aud != "" && aud != o.Audience {
		return "", errorf("access_denied", "Service not found: %s", aud)
	}
	return aud, nil
}

// resourceParam returns the resource parameter of vals, checked.
func (a *AuthServer) resourceParam(vals url.Values) (string, error) {
	o := &a.opts
	rs := vals["resource"]
	switch {
	case len(rs) > 0 && o.RejectResource:
		return "", errorf("invalid_request", "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes.")
	case len(rs) == 0 && o.RequireResource:
		return "", errorf("invalid_target", "resource parameter required")
	case len(rs) == 0:
		return "", nil
	case len(rs) > 1:
		return "", errorf("invalid_target", "only one resource is supported")
	}
	u, err := url.Parse(rs[0])
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.Contains(rs[0], "#") {
		return "", errorf("invalid_target", "resource %q is not an absolute URI without a fragment", rs[0])
	}
	return rs[0], nil
}

// checkResource checks the resource parameter of a token request against the
// grant's resource.
func (a *AuthServer) checkResource(vals url.Values, g grant) error {
	res, err := a.resourceParam(vals)
	if err != nil {
		return err
	}
	if res != "" && res != g.resource && a.opts.Audience == "" && !a.opts.ScopeAudience {
		return errorf("invalid_target", "resource %q differs from the authorized resource %q", res, g.resource)
	}
	return nil
}
