package oauthtest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// A client is a registered client, or one described by a Client ID Metadata
// Document.
type client struct {
	Client
	keys    []jwk  // verify private_key_jwt assertions
	jwksURI string // fetched for keys when set
	dynamic bool   // registered with RFC 7591
}

func newClient(c Client) (*client, error) {
	if c.ID == "" {
		return nil, errors.New("client without ID")
	}
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	if c.AuthMethod == "" {
		switch {
		case c.PublicKey != nil:
			c.AuthMethod = AuthPrivateKeyJWT
		case c.Secret != "":
			c.AuthMethod = AuthClientSecretBasic
		default:
			c.AuthMethod = AuthNone
		}
	}
	cl := &client{Client: c}
	if c.PublicKey != nil {
		cl.keys = []jwk{{key: c.PublicKey}}
	}
	return cl, nil
}

func (c *client) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

func (c *client) mayUse(grantType string) error {
	if len(c.GrantTypes) > 0 && !slices.Contains(c.GrantTypes, grantType) {
		return errorf("unauthorized_client", "client is not registered for grant type %s", grantType)
	}
	return nil
}

// lookupClient returns the client id: a registered one or, for an https
// URL, the one its Client ID Metadata Document describes.
func (a *AuthServer) lookupClient(ctx context.Context, id string) (*client, error) {
	a.mu.Lock()
	c, ok := a.clients[id]
	a.mu.Unlock()
	if ok {
		return c, nil
	}
	if !a.opts.NoCIMD && strings.HasPrefix(id, "https://") {
		return a.fetchClientMetadata(ctx, id)
	}
	return nil, &oauthError{Code: "invalid_client", Description: fmt.Sprintf("unknown client %q", id), status: http.StatusUnauthorized}
}

// clientMetadata is the client metadata of RFC 7591 §2 that the server uses,
// in a registration request or a Client ID Metadata Document.
type clientMetadata struct {
	ClientID                string          `json:"client_id"`
	ClientName              string          `json:"client_name"`
	RedirectURIs            []string        `json:"redirect_uris"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	GrantTypes              []string        `json:"grant_types"`
	JWKS                    json.RawMessage `json:"jwks"`
	JWKSURI                 string          `json:"jwks_uri"`
	ClientSecret            string          `json:"client_secret"`
	ApplicationType         string          `json:"application_type"`
}

// newClientFromMetadata validates m and builds the client it describes, with
// defaultMethod if m names no authentication method.
func (a *AuthServer) newClientFromMetadata(id string, m *clientMetadata, defaultMethod string) (*client, error) {
	method := m.TokenEndpointAuthMethod
	if method == "" {
		method = defaultMethod
	}
	if !slices.Contains(a.opts.TokenEndpointAuthMethods, method) {
		return nil, errorf("invalid_client_metadata", "token_endpoint_auth_method %q is not supported", method)
	}
	grants := m.GrantTypes
	if len(grants) == 0 {
		grants = []string{grantAuthorizationCode}
	}
	if slices.Contains(grants, grantAuthorizationCode) && len(m.RedirectURIs) == 0 {
		return nil, errorf("invalid_redirect_uri", "redirect_uris required")
	}
	for _, u := range m.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, err
		}
	}
	c := &client{Client: Client{
		ID:           id,
		Name:         m.ClientName,
		RedirectURIs: m.RedirectURIs,
		AuthMethod:   method,
		GrantTypes:   grants,
	}}
	if method == AuthPrivateKeyJWT {
		switch {
		case len(m.JWKS) > 0:
			keys, err := parseJWKS(m.JWKS)
			if err != nil {
				return nil, errorf("invalid_client_metadata", "jwks: %v", err)
			}
			c.keys = keys
		case m.JWKSURI != "":
			if u, err := url.Parse(m.JWKSURI); err != nil || u.Scheme != "https" {
				return nil, errorf("invalid_client_metadata", "jwks_uri must be an https URL")
			}
			c.jwksURI = m.JWKSURI
		default:
			return nil, errorf("invalid_client_metadata", "private_key_jwt needs jwks or jwks_uri")
		}
	}
	return c, nil
}

// checkRedirectURI refuses redirect URIs that are not absolute, carry a
// fragment, use a dangerous scheme, or use http off loopback.
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(s, "#") {
		return errorf("invalid_redirect_uri", "%q is not an absolute URI without a fragment", s)
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "file", "vbscript":
		return errorf("invalid_redirect_uri", "%q: scheme not allowed", s)
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return errorf("invalid_redirect_uri", "%q: http is allowed only for loopback", s)
		}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// redirectURIMatches reports whether the requested redirect URI is one of the
// registered ones: exactly, or a loopback http URI with any port (RFC 8252
// §7.3).
func redirectURIMatches(registered []string, requested string) bool {
	if slices.Contains(registered, requested) {
		return true
	}
	req, err := url.Parse(requested)
	if err != nil || req.Scheme != "http" || !isLoopbackHost(req.Hostname()) {
		return false
	}
	for _, r := range registered {
		reg, err := url.Parse(r)
		if err != nil || reg.Scheme != "http" {
			continue
		}
		if reg.Hostname() == req.Hostname() && reg.Path == req.Path && reg.RawQuery == req.RawQuery && reg.User == nil && req.User == nil {
			return true
		}
	}
	return false
}

// handleRegister implements RFC 7591 dynamic client registration.
func (a *AuthServer) handleRegister(w http.ResponseWriter, r *http.Request) {
	if d := a.opts.DenyRegistration; d.Status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(d.Status)
		_, _ = io.WriteString(w, d.Body)
		a.emit(Event{Kind: EventRejected, Endpoint: r.URL.Path, Error: http.StatusText(d.Status), Description: "registration denied: " + d.Body})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		a.fail(w, r, "", errorf("invalid_client_metadata", "read body: %v", err))
		return
	}
	var m clientMetadata
	var echo map[string]any // the metadata as sent, returned as registered
	if err := json.Unmarshal(body, &m); err != nil {
		a.fail(w, r, "", errorf("invalid_client_metadata", "body: %v", err))
		return
	}
	if json.Unmarshal(body, &echo) != nil || echo == nil {
		echo = make(map[string]any)
	}
	c, err := a.newClientFromMetadata("dcr-"+rand.Text(), &m, AuthClientSecretBasic)
	if err != nil {
		a.fail(w, r, "", err)
		return
	}
	c.dynamic = true
	now := a.now()
	echo["client_id"] = c.ID
	echo["client_id_issued_at"] = now.Unix()
	echo["token_endpoint_auth_method"] = c.AuthMethod
	echo["grant_types"] = c.GrantTypes
	delete(echo, "client_secret")
	if c.AuthMethod == AuthClientSecretBasic || c.AuthMethod == AuthClientSecretPost {
		c.Secret = newSecret()
		echo["client_secret"] = c.Secret
		echo["client_secret_expires_at"] = 0
	}
	if a.opts.HydraRegistrationAnswers {
		for k, v := range map[string]any{
			"jwks": map[string]any{}, "contacts": nil, "audience": []string{}, "metadata": map[string]any{},
			"owner": "", "skip_consent": false, "skip_logout_consent": false, "subject_type": "public",
			"userinfo_signed_response_alg": "none", "request_object_signing_alg": "",
			"frontchannel_logout_session_required": false, "backchannel_logout_session_required": false,
			"created_at": now.UTC().Format(time.RFC3339), "updated_at": now.UTC().Format(time.RFC3339),
		} {
			echo[k] = v
		}
	}
	a.mu.Lock()
	a.clients[c.ID] = c
	a.stats.Registrations++
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, echo)
	a.emit(Event{Kind: EventRegistered, Endpoint: r.URL.Path, ClientID: c.ID, ApplicationType: m.ApplicationType})
}

// maxMetadataDocument bounds Client ID Metadata Documents; the draft
// suggests 5 KB.
const maxMetadataDocument = 5 << 10

// fetchClientMetadata fetches and validates the Client ID Metadata Document
// at id (draft-ietf-oauth-client-id-metadata-document-00 §4).
func (a *AuthServer) fetchClientMetadata(ctx context.Context, id string) (*client, error) {
	invalid := func(format string, args ...any) error {
		return &oauthError{Code: "invalid_client", Description: "client metadata document " + id + ": " + fmt.Sprintf(format, args...), status: http.StatusUnauthorized}
	}
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "https" || u.Path == "" || u.Path == "/" || u.Fragment != "" || u.User != nil ||
		slices.ContainsFunc(strings.Split(u.Path, "/"), func(s string) bool { return s == "." || s == ".." }) {
		return nil, invalid("client_id must be an https URL with a path, no fragment, credentials or dot segments")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, invalid("%v", err)
	}
	req.Header.Set("Accept", "application/json")
	a.count(func(s *Stats) { s.MetadataDocumentFetches++ })
	a.emit(Event{Kind: EventClientMetadataFetched, ClientID: id})
	resp, err := a.httpClient.Do(req)
	if err != nil {
		return nil, invalid("fetch: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, invalid("fetch: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataDocument+1))
	if err != nil {
		return nil, invalid("read: %v", err)
	}
	if len(body) > maxMetadataDocument {
		return nil, invalid("larger than %d bytes", maxMetadataDocument)
	}
	var m clientMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, invalid("%v", err)
	}
	switch {
	case m.ClientID != id:
		return nil, invalid("client_id %q does not match the document URL", m.ClientID)
	case m.ClientName == "":
		return nil, invalid("client_name required")
	case len(m.RedirectURIs) == 0:
		return nil, invalid("redirect_uris required")
	case m.ClientSecret != "" || strings.HasPrefix(m.TokenEndpointAuthMethod, "client_secret_"):
		return nil, invalid("client secrets are not allowed")
	}
	c, err := a.newClientFromMetadata(id, &m, AuthNone)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return c, nil
}

// authenticate identifies and authenticates the client of a token,
// revocation or device authorization request (RFC 6749 §2.3, RFC 7523 §2.2).
func (a *AuthServer) authenticate(r *http.Request) (*client, error) {
	form := r.PostForm
	var id, secret, method string
	if bid, bsecret, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: both are form-urlencoded before base64.
		id, _ = url.QueryUnescape(bid)
		secret, _ = url.QueryUnescape(bsecret)
		method = AuthClientSecretBasic
	}
	assertion := form.Get("client_assertion")
	switch {
	case method != "" && (form.Get("client_secret") != "" || assertion != ""):
		return nil, errorf("invalid_request", "more than one client authentication method")
	case assertion != "":
		if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return nil, errorf("invalid_request", "unsupported client_assertion_type")
		}
		method = AuthPrivateKeyJWT
		_, claims, err := parseJWT(assertion)
		if err != nil {
			return nil, &oauthError{Code: "invalid_client", Description: "client assertion: " + err.Error(), status: http.StatusUnauthorized}
		}
		id = claims.Sub
	case form.Get("client_secret") != "":
		method = AuthClientSecretPost
		id, secret = form.Get("client_id"), form.Get("client_secret")
	case method == "":
		method = AuthNone
		id = form.Get("client_id")
	}
	if fid := form.Get("client_id"); fid != "" && fid != id {
		return nil, errorf("invalid_request", "client_id differs from the authenticated client")
	}
	if id == "" {
		return nil, &oauthError{Code: "invalid_client", Description: "no client_id", status: http.StatusUnauthorized}
	}
	unauthorized := func(format string, args ...any) error {
		return &oauthError{Code: "invalid_client", Description: fmt.Sprintf(format, args...), status: http.StatusUnauthorized}
	}
	if !slices.Contains(a.opts.TokenEndpointAuthMethods, method) {
		return nil, unauthorized("authentication method %s is not supported", method)
	}
	c, err := a.lookupClient(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if c.AuthMethod != method {
		return nil, unauthorized("client must authenticate with %s, not %s", c.AuthMethod, method)
	}
	switch method {
	case AuthClientSecretBasic, AuthClientSecretPost:
		if subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
			return nil, unauthorized("wrong client secret")
		}
	case AuthPrivateKeyJWT:
		if err := a.checkClientAssertion(r.Context(), c, assertion); err != nil {
			return nil, unauthorized("client assertion: %v", err)
		}
	}
	return c, nil
}

// checkClientAssertion verifies a private_key_jwt assertion (RFC 7523 §3):
// signature, iss = sub = client_id, aud = the token endpoint or the issuer,
// exp, nbf and a fresh jti.
func (a *AuthServer) checkClientAssertion(ctx context.Context, c *client, assertion string) error {
	keys := c.keys
	if c.jwksURI != "" {
		var err error
		if keys, err = a.fetchJWKS(ctx, c.jwksURI); err != nil {
			return err
		}
	}
	claims, err := verifyJWT(assertion, keys, "")
	if err != nil {
		return err
	}
	if claims.Iss != c.ID || claims.Sub != c.ID {
		return errors.New("iss and sub must be the client_id")
	}
	if !slices.Contains(claims.Aud, a.issuer+"/token") && !slices.Contains(claims.Aud, a.issuer) {
		return fmt.Errorf("aud %q names neither the token endpoint nor the issuer", claims.Aud)
	}
	return a.checkFreshness(claims)
}

// checkFreshness checks exp, nbf and jti replay.
func (a *AuthServer) checkFreshness(claims *jwtClaims) error {
	now := a.now()
	switch {
	case claims.Exp == 0:
		return errors.New("no exp")
	case !now.Before(time.Unix(claims.Exp, 0)):
		return errors.New("expired")
	case claims.Nbf != 0 && now.Before(time.Unix(claims.Nbf, 0)):
		return errors.New("not yet valid")
	case claims.Jti == "":
		return errors.New("no jti")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for j, exp := range a.jtis {
		if !now.Before(exp) {
			delete(a.jtis, j)
		}
	}
	key := claims.Iss + "\x00" + claims.Jti
	if _, seen := a.jtis[key]; seen {
		return fmt.Errorf("jti %q replayed", claims.Jti)
	}
	a.jtis[key] = time.Unix(claims.Exp, 0)
	return nil
}

func (a *AuthServer) fetchJWKS(ctx context.Context, u string) ([]jwk, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks_uri: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read jwks_uri: %w", err)
	}
	return parseJWKS(body)
}
