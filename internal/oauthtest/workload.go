package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// A WorkloadIssuer plays a workload platform (a Kubernetes cluster's
// service-account token issuer, a CI system's OIDC provider): it signs
// the JWTs a workload presents to an [AuthServer] that trusts it
// (ASOptions.WorkloadIssuers) in the jwt-bearer grant of workload
// identity federation (SEP-1933).
type WorkloadIssuer struct {
	// Issuer is the iss of the JWTs it signs.
	Issuer string
	// Key signs them (ES256).
	Key *ecdsa.PrivateKey
	// Now is the clock for iat and exp. If nil, time.Now.
	Now func() time.Time
}

// NewWorkloadIssuer returns a WorkloadIssuer with a fresh P-256 key.
func NewWorkloadIssuer(issuer string) *WorkloadIssuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return &WorkloadIssuer{Issuer: issuer, Key: key}
}

// Public returns the key to trust in ASOptions.WorkloadIssuers.
func (wi *WorkloadIssuer) Public() crypto.PublicKey { return wi.Key.Public() }

// Sign returns a workload JWT for subject sub and audience aud (the
// authorization server's token endpoint, as the extension says) that
// expires after ttl: negative for one already expired.
func (wi *WorkloadIssuer) Sign(sub, aud string, ttl time.Duration) string {
	now := time.Now()
	if wi.Now != nil {
		now = wi.Now()
	}
	claims := map[string]any{
		"iss": wi.Issuer, "sub": sub, "aud": aud, "jti": rand.Text(),
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	jwt, err := SignJWT(wi.Key, "JWT", "", claims)
	if err != nil {
		panic(err)
	}
	return jwt
}

// TokenEndpoint returns the token endpoint's URL: the audience of the
// workload JWTs the server takes.
func (a *AuthServer) TokenEndpoint() string { return a.issuer + "/token" }

// isWorkloadRequest reports whether a jwt-bearer token request is a
// workload's: workload issuers are configured and the request carries no
// client authentication (the extension needs none; a client_id alone
// names a client the server need not know).
func (a *AuthServer) isWorkloadRequest(r *http.Request) bool {
	if len(a.opts.WorkloadIssuers) == 0 {
		return false
	}
	_, _, basic := r.BasicAuth()
	f := r.PostForm
	return !basic && f.Get("client_secret") == "" && f.Get("client_assertion") == ""
}

// handleWorkloadToken answers a workload's jwt-bearer token request
// (RFC 7523 sections 2.1 and 3): the assertion must come from a trusted
// issuer, carry its signature, be meant for this server (aud: the token
// endpoint or the issuer), name a subject and not have expired. The same
// assertion may be presented again until it expires: platforms hand out
// one token for many requests and rotate it well before its exp.
func (a *AuthServer) handleWorkloadToken(w http.ResponseWriter, r *http.Request, jkt string) {
	form := r.PostForm
	resp, g, err := a.workloadGrant(form)
	if err != nil {
		a.tokenFail(w, r, form.Get("client_id"), GrantJWTBearer, err)
		return
	}
	a.bind(resp, jkt)
	if a.opts.BeforeTokenResponse != nil {
		a.opts.BeforeTokenResponse(GrantJWTBearer)
	}
	a.count(func(s *Stats) { s.WorkloadGrants++ })
	writeJSON(w, http.StatusOK, resp)
	a.emit(a.issuedEvent(r, GrantJWTBearer, g, resp))
}

func (a *AuthServer) workloadGrant(form url.Values) (*tokenResponse, grant, error) {
	assertion := form.Get("assertion")
	if assertion == "" {
		return nil, grant{}, errorf("invalid_request", "assertion required")
	}
	_, unverified, err := parseJWT(assertion)
	if err != nil {
		return nil, grant{}, errorf("invalid_grant", "assertion: %v", err)
	}
	key, ok := a.opts.WorkloadIssuers[unverified.Iss]
	if !ok {
		return nil, grant{}, errorf("invalid_grant", "assertion issuer %q is not trusted", unverified.Iss)
	}
	claims, err := verifyJWT(assertion, []jwk{{key: key}}, "")
	now := a.now()
	switch {
	case err != nil:
		return nil, grant{}, errorf("invalid_grant", "assertion: %v", err)
	case claims.Exp == 0:
		return nil, grant{}, errorf("invalid_grant", "assertion has no exp")
	case !now.Before(time.Unix(claims.Exp, 0)):
		return nil, grant{}, errorf("invalid_grant", "assertion expired")
	case claims.Nbf != 0 && now.Before(time.Unix(claims.Nbf, 0)):
		return nil, grant{}, errorf("invalid_grant", "assertion not yet valid")
	case !slices.Contains(claims.Aud, a.TokenEndpoint()) && !slices.Contains(claims.Aud, a.issuer):
		return nil, grant{}, errorf("invalid_grant", "assertion audience %q is not this server", []string(claims.Aud))
	case claims.Sub == "":
		return nil, grant{}, errorf("invalid_grant", "assertion has no sub")
	}
	scopes, err := a.parseScopes(form.Get("scope"))
	if err != nil {
		return nil, grant{}, err
	}
	res, err := a.boundResource(form, scopes)
	if err != nil {
		return nil, grant{}, err
	}
	g := grant{id: rand.Text(), clientID: form.Get("client_id"), subject: claims.Sub, scopes: scopes, resource: res}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked(g, nil), g, nil
}
