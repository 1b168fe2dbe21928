package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// handleToken is the token endpoint (RFC 6749 §3.2).
func (a *AuthServer) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, "", errorf("invalid_request", "form: %v", err))
		return
	}
	form := r.PostForm
	gt := form.Get("grant_type")
	a.count(func(s *Stats) { s.TokenRequests[gt]++ })
	jkt, err := a.checkDPoP(w, r)
	if err != nil {
		a.tokenFail(w, r, form.Get("client_id"), gt, err)
		return
	}
	if gt == GrantJWTBearer && a.isWorkloadRequest(r) {
		a.handleWorkloadToken(w, r, jkt)
		return
	}
	c, err := a.authenticate(r)
	if err != nil {
		a.tokenFail(w, r, form.Get("client_id"), gt, err)
		return
	}
	if err := c.mayUse(gt); err != nil {
		a.tokenFail(w, r, c.ID, gt, err)
		return
	}
	var resp *tokenResponse
	var g grant
	switch gt {
	case grantAuthorizationCode:
		resp, g, err = a.codeGrant(c, form)
	case grantRefresh:
		resp, g, err = a.refreshGrant(c, form, jkt)
	case grantClientCredentials:
		resp, g, err = a.clientCredentialsGrant(c, form)
	case GrantDeviceCode:
		resp, g, err = a.deviceCodeGrant(c, form)
	case GrantJWTBearer:
		resp, g, err = a.jwtBearerGrant(c, form)
	default:
		err = errorf("unsupported_grant_type", "grant_type %q is not supported", gt)
	}
	if err != nil {
		a.tokenFail(w, r, c.ID, gt, err)
		return
	}
	a.bind(resp, jkt)
	if a.opts.BeforeTokenResponse != nil {
		a.opts.BeforeTokenResponse(gt)
	}
	writeJSON(w, http.StatusOK, resp)
	a.emit(a.issuedEvent(r, gt, g, resp))
}

// checkDPoP checks the DPoP proof of a token request, if the server
// takes DPoP, and returns the thumbprint of its key, or "" with no proof.
// It sets the DPoP-Nonce header of the answer.
func (a *AuthServer) checkDPoP(w http.ResponseWriter, r *http.Request) (string, error) {
	if a.dpop == nil {
		return "", nil
	}
	if a.opts.DPoPNonce != "" {
		w.Header().Set("DPoP-Nonce", a.opts.DPoPNonce)
	}
	if len(r.Header.Values("DPoP")) == 0 {
		if a.opts.RequireDPoP {
			return "", errorf(errInvalidDPoPProof, "a DPoP proof is required")
		}
		return "", nil
	}
	// The URL the metadata names: the request may have come through a
	// proxy (ASOptions.EndpointBase).
	jkt, err := a.dpop.check(r, a.endpoint("/token"), "")
	if de, ok := errors.AsType[*dpopError](err); ok {
		return "", errorf(de.code, "%s", de.desc)
	}
	return jkt, err
}

// bind binds the tokens of resp to the DPoP key of thumbprint jkt, if
// not empty.
func (a *AuthServer) bind(resp *tokenResponse, jkt string) {
	if jkt == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bindLocked(resp, jkt)
}

// tokenFail answers a token request of grant type gt with err: as [fail]
// does, or, with ASOptions.GitHubTokenErrors, as GitHub does.
func (a *AuthServer) tokenFail(w http.ResponseWriter, r *http.Request, clientID, gt string, err error) {
	if h := r.Header.Get("Authorization"); a.opts.EchoAuthorizationOnTokenError && h != "" {
		e := *asOAuthError(err)
		e.Description += " (request had credentials " + h + ")"
		err = &e
	}
	if !a.opts.GitHubTokenErrors {
		a.fail(w, r, clientID, err)
		return
	}
	e := *asOAuthError(err)
	switch {
	case e.Code == "invalid_client":
		e.Code = "incorrect_client_credentials"
	case e.Code == "invalid_grant" && gt == grantRefresh:
		e.Code = "bad_refresh_token"
	case e.Code == "invalid_grant" && strings.Contains(e.Description, "redirect_uri"):
		e.Code = "redirect_uri_mismatch"
	case e.Code == "invalid_grant":
		e.Code = "bad_verification_code"
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"error":             e.Code,
		"error_description": e.Description,
		"error_uri":         "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#" + strings.ReplaceAll(e.Code, "_", "-"),
	})
	a.emit(Event{Kind: EventRejected, Endpoint: r.URL.Path, ClientID: clientID, Error: e.Code, Description: e.Description})
}

// codeGrant redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
// A code works once; using it again revokes what it gave (RFC 6749 §4.1.2).
func (a *AuthServer) codeGrant(c *client, form url.Values) (*tokenResponse, grant, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	code, ok := a.codes[form.Get("code")]
	switch {
	case !ok:
		return nil, grant{}, errorf("invalid_grant", "unknown authorization code")
	case code.used:
		a.revokeGrantLocked(code.id)
		return nil, grant{}, errorf("invalid_grant", "authorization code already used; its tokens are revoked")
	}
	code.used = true
	verifier := form.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case !a.now().Before(code.expiry):
		return nil, grant{}, errorf("invalid_grant", "authorization code expired")
	case code.clientID != c.ID:
		return nil, grant{}, errorf("invalid_grant", "authorization code was issued to another client")
	case form.Get("redirect_uri") != code.redirectURI:
		return nil, grant{}, errorf("invalid_grant", "redirect_uri differs from the authorization request's")
	case verifier == "":
		return nil, grant{}, errorf("invalid_grant", "code_verifier required (PKCE)")
	case subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(code.challenge)) != 1:
		return nil, grant{}, errorf("invalid_grant", "code_verifier does not match code_challenge")
	}
	if err := a.checkResource(form, code.grant); err != nil {
		return nil, grant{}, err
	}
	return a.issueLocked(code.grant, &code.grant), code.grant, nil
}

// refreshGrant uses a refresh token (RFC 6749 §6), rotating it (OAuth 2.1
// §4.3.1) unless ASOptions.NoRefreshRotation is set.
// A refresh token bound to a DPoP key needs a proof of that key, jkt.
func (a *AuthServer) refreshGrant(c *client, form url.Values, jkt string) (*tokenResponse, grant, error) {
	o := &a.opts
	if o.NoRefreshTokens {
		return nil, grant{}, errorf("unsupported_grant_type", "refresh tokens are disabled")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	t, ok := a.tokens[form.Get("refresh_token")]
	switch {
	case !ok || !t.refresh:
		return nil, grant{}, errorf("invalid_grant", "unknown or revoked refresh token")
	case !now.Before(t.expiry):
		return nil, grant{}, errorf("invalid_grant", "refresh token expired")
	case t.clientID != c.ID:
		return nil, grant{}, errorf("invalid_grant", "refresh token was issued to another client")
	case t.jkt != "" && t.jkt != jkt:
		return nil, grant{}, errorf(errInvalidDPoPProof, "the refresh token is bound to another DPoP key")
	case !t.rotated.IsZero() && !now.Before(t.rotated.Add(o.RefreshGrace)):
		return nil, grant{}, errorf("invalid_grant", "refresh token was rotated; use the newest one")
	case o.RequireScopeOnRefresh && !form.Has("scope"):
		return nil, grant{}, errorf("invalid_request", "AADSTS90009: Application '%s' is requesting a token for itself. This scenario is supported only if resource is specified using the GUID based App Identifier.", c.ID)
	}
	if err := a.checkResource(form, t.grant); err != nil {
		return nil, grant{}, err
	}
	g := t.grant
	if form.Has("scope") {
		scopes := strings.Fields(form.Get("scope"))
		for _, s := range scopes {
			if !slices.Contains(t.scopes, s) {
				return nil, grant{}, errorf("invalid_scope", "scope %q was not granted", s)
			}
		}
		g.scopes = scopes
	}
	a.stats.Refreshes++
	if o.NoRefreshRotation {
		return a.issueLocked(g, nil), g, nil
	}
	// The new refresh token keeps the original scope (RFC 6749 §6).
	resp := a.issueLocked(g, &t.grant)
	if t.rotated.IsZero() {
		t.rotated = now
	}
	return resp, g, nil
}

// clientCredentialsGrant issues a token to a confidential client on its own
// behalf (RFC 6749 §4.4), without a refresh token.
func (a *AuthServer) clientCredentialsGrant(c *client, form url.Values) (*tokenResponse, grant, error) {
	if c.AuthMethod == AuthNone {
		return nil, grant{}, errorf("unauthorized_client", "public clients cannot use client_credentials")
	}
	g, err := a.newGrant(c, c.ID, form)
	if err != nil {
		return nil, grant{}, err
	}
	if a.opts.Audience != "" && g.resource == "" {
		return nil, grant{}, errorf("access_denied", "No audience parameter was provided, and no default audience has been configured")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked(g, nil), g, nil
}

// newGrant builds a grant for a request without a prior authorization: its
// scope and resource come from form.
func (a *AuthServer) newGrant(c *client, subject string, form url.Values) (grant, error) {
	scopes, err := a.parseScopes(form.Get("scope"))
	if err != nil {
		return grant{}, err
	}
	res, err := a.boundResource(form, scopes)
	if err != nil {
		return grant{}, err
	}
	return grant{id: rand.Text(), clientID: c.ID, subject: subject, scopes: scopes, resource: res, offline: true}, nil
}

// jwtBearerGrant exchanges an identity assertion JWT authorization grant
// (ID-JAG, SEP-990 and draft-ietf-oauth-identity-assertion-authz-grant)
// issued by a trusted identity provider for an access token (RFC 7523 §2.1).
func (a *AuthServer) jwtBearerGrant(c *client, form url.Values) (*tokenResponse, grant, error) {
	assertion := form.Get("assertion")
	_, unverified, err := parseJWT(assertion)
	if err != nil {
		return nil, grant{}, errorf("invalid_grant", "assertion: %v", err)
	}
	key, ok := a.opts.IDJAGIssuers[unverified.Iss]
	if !ok {
		if len(a.opts.IDJAGIssuers) == 0 {
			return nil, grant{}, errorf("unsupported_grant_type", "the JWT bearer grant is disabled")
		}
		return nil, grant{}, errorf("invalid_grant", "assertion issuer %q is not trusted", unverified.Iss)
	}
	claims, err := verifyJWT(assertion, []jwk{{key: key}}, "oauth-id-jag+jwt")
	if err == nil {
		err = a.checkFreshness(claims)
	}
	switch {
	case err != nil:
		return nil, grant{}, errorf("invalid_grant", "assertion: %v", err)
	case !slices.Contains(claims.Aud, a.issuer):
		return nil, grant{}, errorf("invalid_grant", "assertion audience %q is not this issuer", claims.Aud)
	case claims.ClientID != c.ID:
		return nil, grant{}, errorf("invalid_grant", "assertion was issued to client %q", claims.ClientID)
	case claims.Sub == "":
		return nil, grant{}, errorf("invalid_grant", "assertion has no sub")
	}
	scopes, err := a.parseScopes(claims.Scope)
	if err != nil {
		return nil, grant{}, err
	}
	g := grant{id: rand.Text(), clientID: c.ID, subject: claims.Sub, scopes: scopes, resource: claims.Resource}
	if err := a.checkResource(form, g); err != nil {
		return nil, grant{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked(g, nil), g, nil
}

// handleRevoke is the revocation endpoint (RFC 7009). Revoking a refresh
// token revokes its whole grant; revoking an access token only that token.
// Unknown tokens, and tokens of other clients, are ignored (§2.2).
func (a *AuthServer) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, "", errorf("invalid_request", "form: %v", err))
		return
	}
	c, err := a.authenticate(r)
	if err != nil {
		a.fail(w, r, r.PostForm.Get("client_id"), err)
		return
	}
	v := r.PostForm.Get("token")
	a.mu.Lock()
	t, ok := a.tokens[v]
	ok = ok && t.clientID == c.ID
	if ok {
		a.stats.Revocations++
		if t.refresh {
			a.revokeGrantLocked(t.id)
		} else {
			delete(a.tokens, v)
		}
	}
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	if ok {
		a.emit(Event{Kind: EventRevoked, Endpoint: r.URL.Path, ClientID: c.ID, Description: fmt.Sprintf("refresh token: %t", t.refresh)})
	}
}
