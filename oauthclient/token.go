package oauthclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/redact"
	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
)

// tokenResponse is a token endpoint's answer (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// A TokenError is an error response from a token endpoint (RFC 6749
// section 5.2).
type TokenError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	URI         string `json:"error_uri"`
}

// Error quotes the server's words, sanitised and bounded (issue 11).
func (e *TokenError) Error() string {
	s := fmt.Sprintf("token endpoint: %s (HTTP %d)", errorCode(e.Code), e.Status)
	if e.Description != "" {
		s += ": " + asSaid(e.Description)
	}
	if e.URI != "" {
		s += " (error_uri " + safetext.Quote(e.URI, safetext.MaxQuote) + ")"
	}
	return s
}

func isTokenError(err error, code string) bool {
	te, ok := errors.AsType[*TokenError](err)
	return ok && te.Code == code
}

// tokenRequest posts form to the token endpoint of issuer, authenticating
// as client, with a DPoP proof of key if it is not nil (RFC 9449 section
// 5).
// It is the one way tokens are asked for, so that every grant sends the
// resource and the proof, and every authentication method works with
// every grant; x/oauth2 drops the resource on refresh and has no
// private_key_jwt.
func (h *Handler) tokenRequest(ctx context.Context, issuer, endpoint string, client Client, form url.Values, key *dpopKey) (*tokenResponse, error) {
	if len(h.cfg.TokenParams) > 0 {
		form = cloneValues(form)
		for k, vs := range h.cfg.TokenParams {
			if _, ok := form[k]; !ok {
				form[k] = vs
			}
		}
	}
	t, err := h.postToken(ctx, issuer, endpoint, client, form, key)
	if key != nil && isTokenError(err, "use_dpop_nonce") {
		// RFC 9449 section 8: the answer carried the nonce, which the
		// proof of this one retry holds.
		h.log.Info("the authorization server asks for a DPoP nonce; asking once more with it")
		t, err = h.postToken(ctx, issuer, endpoint, client, form, key)
	}
	return t, err
}

// postToken makes one token request for [Handler.tokenRequest].
func (h *Handler) postToken(ctx context.Context, issuer, endpoint string, client Client, form url.Values, key *dpopKey) (*tokenResponse, error) {
	req, err := h.clientRequest(ctx, issuer, endpoint, client, form)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if key != nil {
		if err := h.setProof(req, key); err != nil {
			return nil, err
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", boundURL(err))
	}
	defer resp.Body.Close()
	h.ObserveDPoPNonce(req.URL, resp.Header.Get("DPoP-Nonce"))
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	secrets := sentSecrets(req, client, form)
	var t tokenResponse
	te := &TokenError{Status: resp.StatusCode}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && resp.StatusCode == http.StatusOK {
		// GitHub, among others, answers form-encoded unless asked otherwise.
		if vs, err := url.ParseQuery(string(body)); err == nil && (vs.Get("access_token") != "" || vs.Get("error") != "") {
			t.AccessToken, t.TokenType, t.RefreshToken, t.Scope = vs.Get("access_token"), vs.Get("token_type"), vs.Get("refresh_token"), vs.Get("scope")
			fmt.Sscan(vs.Get("expires_in"), &t.ExpiresIn)
			te.Code, te.Description = vs.Get("error"), vs.Get("error_description")
		}
	} else if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &t); err != nil {
			return nil, fmt.Errorf("token endpoint: the answer is not JSON: %s", redact.String(err.Error(), secrets...))
		}
		json.Unmarshal(body, te)
	} else if json.Unmarshal(body, te) != nil || te.Code == "" {
		te.Code, te.Description = "server_error", excerpt(redact.String(string(body), secrets...))
	}
	switch {
	case t.AccessToken != "":
		return &t, nil
	case te.Code != "":
		// GitHub answers errors with 200 OK.
		te.Description = redact.String(te.Description, secrets...)
		return nil, te
	}
	return nil, errors.New("token endpoint: the answer has no access_token")
}

// sentSecrets lists the secrets a request to an authorization server
// carries: what the answer quotes of them (an error page that echoes the
// request) must not reach a log or the host.
func sentSecrets(req *http.Request, client Client, form url.Values) []string {
	// A DPoP proof is no secret, but is not shown either.
	secrets := []string{client.Secret, req.Header.Get("DPoP")}
	if _, basic, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok {
		// client_secret_basic: quoted as sent, the base64 of id:secret
		// shows neither the secret nor an Authorization label (issue 11).
		secrets = append(secrets, basic)
	}
	for _, k := range []string{"code", "code_verifier", "refresh_token", "client_assertion", "assertion", "subject_token", "device_code"} {
		secrets = append(secrets, form.Get(k))
	}
	return secrets
}

// clientRequest builds a form POST to an endpoint of issuer's
// authorization server, authenticated as client (RFC 6749 section 2.3,
// RFC 7523): in the Authorization header, in the form, with a signed
// assertion, or, for a public client, by naming itself.
func (h *Handler) clientRequest(ctx context.Context, issuer, endpoint string, client Client, form url.Values) (*http.Request, error) {
	form = cloneValues(form)
	switch client.AuthMethod {
	case "client_secret_basic":
	case "private_key_jwt":
		// The audience is the issuer, as draft-ietf-oauth-rfc7523bis
		// requires and servers accept.
		assertion, err := h.clientAssertion(client.ID, issuer)
		if err != nil {
			return nil, err
		}
		form.Set("client_id", client.ID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	case "client_secret_post":
		form.Set("client_id", client.ID)
		form.Set("client_secret", client.Secret)
	default: // none: a public client names itself; a workload has no client
		if client.ID != "" || client.Kind != KindWorkload {
			form.Set("client_id", client.ID)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, boundURL(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client.AuthMethod == "client_secret_basic" {
		// RFC 6749 section 2.3.1: form-encode before base64.
		req.SetBasicAuth(url.QueryEscape(client.ID), url.QueryEscape(client.Secret))
	}
	return req, nil
}

// maxExpiresIn bounds a token's announced lifetime (ten years, in
// seconds), so that a hostile expires_in cannot overflow a time.Duration.
const maxExpiresIn = 10 * 365 * 24 * 3600

// expiry returns when a token that lives expiresIn seconds from now
// expires, or the zero time if the answer does not say.
func expiry(now time.Time, expiresIn int64) time.Time {
	if expiresIn <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(min(expiresIn, maxExpiresIn)) * time.Second)
}

// excerpt returns the start of b as one printable line.
func excerpt(b string) string {
	return safetext.Clip(b, safetext.MaxQuote)
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v)+3)
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// renewal adds to form, a token request that renews c's token, c's
// resource (RFC 8707) and the scopes granted: some providers (Entra) need
// the scope repeated; to others it is the grant unchanged (RFC 6749
// section 6).
func (c *Credentials) renewal(form url.Values) url.Values {
	if c.Resource != "" {
		form.Set("resource", c.Resource)
	}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	return form
}

// withToken returns a copy of c that holds t, a token answer obtained
// now: its access token, a rotated refresh token if it has one, and the
// scopes it names, if any (else those asked for, RFC 6749 section 5.1).
func (c *Credentials) withToken(t *tokenResponse, now time.Time) *Credentials {
	fresh := c.clone()
	fresh.AccessToken, fresh.TokenType, fresh.Obtained = t.AccessToken, t.TokenType, now
	fresh.Expiry = expiry(now, t.ExpiresIn)
	if t.RefreshToken != "" {
		fresh.RefreshToken = t.RefreshToken
	}
	if t.Scope != "" {
		fresh.Scopes = strings.Fields(t.Scope)
	}
	return fresh
}

// errRefreshRefused means the authorization server no longer takes the
// refresh token (invalid_grant) or the client (invalid_client): only a
// new sign-in helps.
var errRefreshRefused = errors.New("the authorization server refused the refresh token")

// refresh exchanges c's refresh token for new tokens (RFC 6749 section
// 6), with the resource and the scopes granted, and saves them before
// returning: a rotated refresh token must be on disk before it can be
// needed again. Concurrent calls share one refresh.
func (h *Handler) refresh(ctx context.Context, c *Credentials) (*Credentials, error) {
	v, err, _ := h.refreshes.Do("refresh", func() (any, error) {
		unlock, err := h.lock(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
		// Another goroutine, or another process, may have refreshed
		// meanwhile: its refresh token replaced ours, which the server may
		// no longer take.
		cur := h.reread(ctx)
		if cur != nil && cur.RefreshToken != c.RefreshToken && cur.AccessToken != "" && !h.expiring(cur) {
			return cur, nil
		}
		if cur != nil && cur.RefreshToken != "" {
			c = cur
		}
		form := c.renewal(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.RefreshToken}})
		key, err := h.dpopKey(c)
		if err != nil {
			return nil, err
		}
		start := h.now()
		t, err := h.tokenRequest(ctx, c.Issuer, c.TokenEndpoint, c.Client, form, key)
		// GitHub says bad_refresh_token for invalid_grant.
		if isTokenError(err, "invalid_grant") || isTokenError(err, "bad_refresh_token") || isTokenError(err, "invalid_client") || isTokenError(err, "unauthorized_client") {
			h.log.Info("the authorization server refused the refresh token; a new sign-in is needed", "err", err)
			kept := c.clone()
			kept.AccessToken, kept.RefreshToken, kept.Expiry = "", "", time.Time{}
			if isTokenError(err, "invalid_client") && c.Client.Kind == KindDynamic {
				kept = nil
			}
			if err := h.save(ctx, kept); err != nil {
				return nil, err
			}
			h.event(EventRefresh, start, errRefreshRefused)
			return nil, errRefreshRefused
		}
		if err != nil {
			err = fmt.Errorf("refresh the token: %w", err)
			h.event(EventRefresh, start, err)
			return nil, err
		}
		now := h.now()
		fresh := c.withToken(t, now)
		if err := h.save(ctx, fresh); err != nil {
			return nil, err
		}
		h.log.Info("token refreshed", "expires_in", expiresIn(fresh, now), "rotated", t.RefreshToken != "")
		h.event(EventRefresh, start, nil)
		return fresh, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Credentials), nil
}

// clientCredentials obtains a token with the client credentials grant
// (RFC 6749 section 4.4): a machine signs in as itself.
func (h *Handler) clientCredentials(ctx context.Context, d *discovered, scopes []string) (*Credentials, error) {
	method := authMethod(d.as.TokenEndpointAuthMethodsSupported, h.cfg.ClientSecret != "", h.cfg.PrivateKey != nil)
	if method == "none" {
		method = "client_secret_basic"
	}
	client := Client{ID: h.cfg.ClientID, Secret: h.cfg.ClientSecret, Kind: KindPreregistered, AuthMethod: method}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if d.resource != "" {
		form.Set("resource", d.resource)
	}
	h.log.Info("requesting a token with the client credentials grant", "client_id", client.ID, "token_endpoint_auth_method", method)
	t, err := h.tokenRequest(ctx, d.as.Issuer, d.as.TokenEndpoint, client, form, d.dpop)
	if err != nil {
		return nil, fmt.Errorf("client credentials grant: %w", err)
	}
	return h.fromToken(d, client, scopes, t), nil
}

// clientAssertion signs an RFC 7523 client authentication JWT for aud:
// RS256 for an RSA key, ES256 for a P-256 key.
func (h *Handler) clientAssertion(clientID, aud string) (string, error) {
	key := h.cfg.PrivateKey
	if key == nil {
		return "", errors.New("private_key_jwt needs a private key")
	}
	alg := ""
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		alg = "RS256"
	case *ecdsa.PublicKey:
		if k.Curve.Params().BitSize != 256 {
			return "", errors.New("private_key_jwt: only P-256 ECDSA keys are supported")
		}
		alg = "ES256"
	default:
		return "", fmt.Errorf("private_key_jwt: unsupported key type %T", k)
	}
	header := map[string]string{"alg": alg, "typ": "JWT"}
	if h.cfg.KeyID != "" {
		header["kid"] = h.cfg.KeyID
	}
	now := h.now()
	claims := map[string]any{
		"iss": clientID, "sub": clientID, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": rand.Text(),
	}
	hj, _ := json.Marshal(header)
	cj, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hj) + "." + base64.RawURLEncoding.EncodeToString(cj)
	digest := sha256.Sum256([]byte(signing))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("private_key_jwt: sign: %w", err)
	}
	if alg == "ES256" {
		// JWS wants r||s, each 32 bytes, not ASN.1 (RFC 7518 section 3.4).
		var parsed struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &parsed); err != nil {
			return "", fmt.Errorf("private_key_jwt: %w", err)
		}
		raw := make([]byte, 64)
		parsed.R.FillBytes(raw[:32])
		parsed.S.FillBytes(raw[32:])
		sig = raw
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
