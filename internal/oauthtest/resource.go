package oauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// ResourceOptions configures [Protect]. Switches are off by default.
type ResourceOptions struct {
	// Resource is the canonical URI of the protected MCP endpoint, e.g.
	// http://127.0.0.1:PORT/mcp. Tokens must be bound to exactly this
	// resource (RFC 8707). Required.
	Resource string
	// AuthorizationServers are the issuers listed in the protected resource
	// metadata. Required unless Legacy or CurrentAuthorizationServers is
	// set.
	AuthorizationServers []string
	// CurrentAuthorizationServers, if set, gives the issuers to list each
	// time the metadata is served, instead of AuthorizationServers: a
	// server that moves to another authorization server while clients hold
	// its tokens (SEP-2352).
	CurrentAuthorizationServers func() []string
	// Verifier checks bearer tokens; [AuthServer.Verify] fits. It must
	// reject expired tokens, and put the token's audience in
	// TokenInfo.Extra["aud"] (a string, or a []string). Required.
	Verifier auth.TokenVerifier
	// Scopes are advertised as scopes_supported and in the scope parameter
	// of 401 challenges, and every request needs them all.
	Scopes []string
	// ToolScopes maps a tool name to the scope (or space-separated scopes) a
	// tools/call of that tool needs besides Scopes. Lacking one gets 403
	// insufficient_scope.
	ToolScopes map[string]string
	// Audience, if set, is what tokens must be bound to instead of
	// Resource: an Entra ID application ID URI (api://APP-ID), an Auth0 API
	// identifier. The metadata still names Resource.
	Audience string
	// Now is the clock the Verifier uses, if not time.Now; set it to
	// ASOptions.Now so that token expiry is judged by one clock.
	Now func() time.Time

	// NoPathMetadata stops serving the metadata at the path-inserted URL
	// (/.well-known/oauth-protected-resource/mcp).
	NoPathMetadata bool
	// NoRootMetadata stops serving the metadata at the root URL
	// (/.well-known/oauth-protected-resource).
	NoRootMetadata bool
	// NoResourceMetadataParam leaves resource_metadata out of challenges, so
	// clients must probe the well-known URLs.
	NoResourceMetadataParam bool
	// NoScopeParam leaves scope out of 401 challenges, so clients must fall
	// back to scopes_supported.
	NoScopeParam bool
	// Legacy behaves like an MCP 2025-03-26 server: no protected resource
	// metadata and no resource_metadata in challenges; clients look for the
	// authorization server at the MCP server's origin. Tokens bound to no
	// resource are accepted, since such clients did not send one.
	Legacy bool
	// MetadataResource, if set, is the resource claimed by the metadata
	// instead of Resource (RFC 9728 §3.3 says clients must refuse it).
	MetadataResource string

	// A token the Verifier says is DPoP-bound (TokenInfo.Extra["cnf"]
	// holds a "jkt") is taken only with the DPoP scheme and a valid proof
	// of that key (RFC 9449 section 7): typ, signature, htm, htu, iat
	// within DPoPWindow, a jti not seen before, and the ath of the token.
	// Other tokens are taken only with the Bearer scheme.

	// RequireDPoP refuses tokens that are not DPoP-bound, and challenges
	// with the DPoP scheme as well as Bearer.
	RequireDPoP bool
	// DPoPNonce, if set, is the nonce every proof must carry: a proof
	// without it is answered 401 with a DPoP error="use_dpop_nonce"
	// challenge and the nonce in the DPoP-Nonce header (RFC 9449 section
	// 9).
	DPoPNonce string
	// DPoPWindow is how far a proof's iat may be from Now, either way.
	// Default [DefaultDPoPWindow].
	DPoPWindow time.Duration
}

// ResourceMetadataURL returns the path-inserted RFC 9728 metadata URL of
// resource: https://host/mcp gives https://host/.well-known/oauth-protected-resource/mcp.
func ResourceMetadataURL(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + strings.TrimSuffix(u.EscapedPath(), "/")
}

// Protect returns a handler that serves the protected resource metadata
// (RFC 9728) for opts.Resource and passes every other request to next only
// with a valid bearer token for opts.Resource; otherwise it answers 401 or
// 403 with a WWW-Authenticate challenge (RFC 6750 §3, RFC 9728 §5.1). Mount
// it at the root of the resource's origin.
//
// next sees the token's [auth.TokenInfo] through [auth.TokenInfoFromContext]
// (the SDK's Streamable HTTP handler uses its UserID to bind sessions to
// users).
func Protect(next http.Handler, opts *ResourceOptions) (http.Handler, error) {
	if opts == nil || opts.Verifier == nil {
		return nil, errors.New("protect: Verifier required")
	}
	u, err := url.Parse(opts.Resource)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("protect: resource %q is not an absolute URL", opts.Resource)
	}
	if !opts.Legacy && len(opts.AuthorizationServers) == 0 && opts.CurrentAuthorizationServers == nil {
		return nil, errors.New("protect: AuthorizationServers required")
	}
	p := &protector{opts: *opts, now: opts.Now}
	if p.now == nil {
		p.now = time.Now
	}
	p.dpop = newDPoPChecker(p.now, opts.DPoPWindow, opts.DPoPNonce)
	mux := http.NewServeMux()
	if !opts.Legacy {
		res := opts.Resource
		if opts.MetadataResource != "" {
			res = opts.MetadataResource
		}
		meta := func(servers []string) http.Handler {
			return auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
				Resource:               res,
				AuthorizationServers:   servers,
				ScopesSupported:        opts.Scopes,
				BearerMethodsSupported: []string{"header"},
				ResourceName:           "mcp-bridge test server",
			})
		}
		h := meta(opts.AuthorizationServers)
		if current := opts.CurrentAuthorizationServers; current != nil {
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { meta(current()).ServeHTTP(w, r) })
		}
		pathURL := ResourceMetadataURL(opts.Resource)
		rootURL := u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource"
		if !opts.NoPathMetadata {
			mux.Handle(strings.TrimPrefix(pathURL, u.Scheme+"://"+u.Host), h)
		}
		if !opts.NoRootMetadata && rootURL != pathURL {
			mux.Handle("/.well-known/oauth-protected-resource", h)
		}
		if !opts.NoResourceMetadataParam {
			p.metadataURL = pathURL
			if opts.NoPathMetadata && !opts.NoRootMetadata {
				p.metadataURL = rootURL
			}
		}
	}
	// Metadata switched off is not found, rather than protected.
	mux.Handle("/.well-known/", http.NotFoundHandler())
	// RequireBearerToken is what puts the TokenInfo in the context; it gets
	// the one p.ServeHTTP already checked, expiry included.
	p.next = auth.RequireBearerToken(p.checked, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(next)
	mux.Handle("/", p)
	return mux, nil
}

// A protector checks bearer tokens for [Protect].
type protector struct {
	opts        ResourceOptions
	now         func() time.Time
	metadataURL string // for challenges; "" for none
	next        http.Handler
	dpop        *dpopChecker
}

type checkedInfoKey struct{}

func (p *protector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fields := strings.Fields(r.Header.Get("Authorization"))
	scheme := ""
	if len(fields) == 2 {
		scheme = strings.ToLower(fields[0])
	}
	if scheme != "bearer" && scheme != "dpop" {
		// RFC 6750 §3.1: no error code when the request had no credentials.
		p.challenge(w, http.StatusUnauthorized, "", "", p.opts.Scopes)
		return
	}
	info, err := p.opts.Verifier(r.Context(), fields[1], r)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		p.challenge(w, http.StatusUnauthorized, "invalid_token", err.Error(), p.opts.Scopes)
		return
	case err != nil:
		http.Error(w, "verify token: "+err.Error(), http.StatusInternalServerError)
		return
	case !p.audienceOK(info):
		p.challenge(w, http.StatusUnauthorized, "invalid_token", "the token is not for "+p.audience(), p.opts.Scopes)
		return
	}
	if !p.checkDPoP(w, r, scheme, fields[1], info) {
		return
	}
	if scheme == "dpop" {
		// What follows (auth.RequireBearerToken) knows only Bearer; the
		// proof has been checked. A shallow copy with headers of its own
		// (what r.Clone would copy besides is not changed).
		r = r.WithContext(r.Context())
		r.Header = r.Header.Clone()
		r.Header.Set("Authorization", "Bearer "+fields[1])
	}
	need := slices.Clone(p.opts.Scopes)
	tool, err := p.calledTool(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if tool != "" {
		need = append(need, strings.Fields(p.opts.ToolScopes[tool])...)
	}
	if missing := slices.DeleteFunc(slices.Clone(need), func(s string) bool { return slices.Contains(info.Scopes, s) }); len(missing) > 0 {
		// Ask for what the token has plus what is missing, so that a client
		// that re-authorizes keeps its other permissions.
		p.challenge(w, http.StatusForbidden, "insufficient_scope", "needs scope "+strings.Join(missing, " "), append(slices.Clone(info.Scopes), missing...))
		return
	}
	p.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), checkedInfoKey{}, info)))
}

// checkDPoP checks that a request with a token, tok, of info, sent with
// scheme, is as RFC 9449 section 7 wants it: a DPoP-bound token with the
// DPoP scheme and a proof of its key, any other with Bearer. It answers
// the request and returns false if not.
func (p *protector) checkDPoP(w http.ResponseWriter, r *http.Request, scheme, tok string, info *auth.TokenInfo) bool {
	jkt := ""
	if cnf, ok := info.Extra["cnf"].(map[string]any); ok {
		jkt, _ = cnf["jkt"].(string)
	}
	switch {
	case jkt == "" && p.opts.RequireDPoP:
		p.challenge(w, http.StatusUnauthorized, "invalid_token", "the token is not DPoP-bound", p.opts.Scopes)
		return false
	case jkt == "" && scheme == "dpop":
		p.challenge(w, http.StatusUnauthorized, "invalid_token", "a Bearer token sent with the DPoP scheme", p.opts.Scopes)
		return false
	case jkt == "":
		return true
	case scheme != "dpop":
		// RFC 9449 section 7.2: a bound token is no bearer token.
		p.dpopChallenge(w, "invalid_token", "the token is DPoP-bound: send it with the DPoP scheme and a proof")
		return false
	}
	got, err := p.dpop.check(r, requestURL(r), tok)
	if de, ok := errors.AsType[*dpopError](err); ok {
		p.dpopChallenge(w, de.code, de.desc)
		return false
	}
	if got != jkt {
		p.dpopChallenge(w, "invalid_token", "the proof's key is not the one the token is bound to")
		return false
	}
	return true
}

// dpopChallenge answers 401 with a DPoP challenge (RFC 9449 section 7.1)
// and, for use_dpop_nonce, the nonce.
func (p *protector) dpopChallenge(w http.ResponseWriter, code, desc string) {
	if code == errUseDPoPNonce {
		w.Header().Set("DPoP-Nonce", p.opts.DPoPNonce)
	}
	params := []string{`algs="ES256"`, fmt.Sprintf("error=%q", code), fmt.Sprintf("error_description=%q", desc)}
	if p.metadataURL != "" {
		params = append(params, fmt.Sprintf("resource_metadata=%q", p.metadataURL))
	}
	w.Header().Set("WWW-Authenticate", "DPoP "+strings.Join(params, ", "))
	http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
}

// checked is the verifier given to [auth.RequireBearerToken]: it returns the
// TokenInfo ServeHTTP verified, its expiry moved to the real clock, which is
// the one RequireBearerToken compares it with.
func (p *protector) checked(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	info, _ := ctx.Value(checkedInfoKey{}).(*auth.TokenInfo)
	if info == nil {
		return nil, auth.ErrInvalidToken
	}
	c := *info
	if !c.Expiration.IsZero() {
		c.Expiration = time.Now().Add(c.Expiration.Sub(p.now()))
	}
	return &c, nil
}

// audience returns the audience tokens must have.
func (p *protector) audience() string {
	if p.opts.Audience != "" {
		return p.opts.Audience
	}
	return p.opts.Resource
}

// audienceOK reports whether info's audience is the resource's.
func (p *protector) audienceOK(info *auth.TokenInfo) bool {
	var aud []string
	switch v := info.Extra["aud"].(type) {
	case string:
		aud = []string{v}
	case []string:
		aud = v
	case []any:
		for _, a := range v {
			if s, ok := a.(string); ok {
				aud = append(aud, s)
			}
		}
	}
	if len(aud) == 0 {
		return p.opts.Legacy
	}
	return slices.Contains(aud, p.audience())
}

// calledTool returns the name of the first tool in r's JSON-RPC message (or
// batch) that is a tools/call of a tool in ToolScopes, leaving r's body
// readable.
func (p *protector) calledTool(r *http.Request) (string, error) {
	if len(p.opts.ToolScopes) == 0 || r.Method != http.MethodPost {
		return "", nil
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	type message struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	var msgs []message
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		_ = json.Unmarshal(body, &msgs)
	} else {
		var m message
		_ = json.Unmarshal(body, &m)
		msgs = []message{m}
	}
	for _, m := range msgs {
		if m.Method != "tools/call" {
			continue
		}
		var params struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(m.Params, &params)
		if _, ok := p.opts.ToolScopes[params.Name]; ok {
			return params.Name, nil
		}
	}
	return "", nil
}

// challenge answers with status and a Bearer challenge.
func (p *protector) challenge(w http.ResponseWriter, status int, code, desc string, scopes []string) {
	var params []string
	if code != "" {
		params = append(params, fmt.Sprintf("error=%q", code))
	}
	if p.metadataURL != "" {
		params = append(params, fmt.Sprintf("resource_metadata=%q", p.metadataURL))
	}
	if len(scopes) > 0 && (!p.opts.NoScopeParam || status == http.StatusForbidden) {
		params = append(params, fmt.Sprintf("scope=%q", strings.Join(scopes, " ")))
	}
	if desc != "" {
		params = append(params, fmt.Sprintf("error_description=%q", desc))
	}
	h := "Bearer"
	if len(params) > 0 {
		h += " " + strings.Join(params, ", ")
	}
	w.Header().Set("WWW-Authenticate", h)
	if p.opts.RequireDPoP {
		w.Header().Add("WWW-Authenticate", `DPoP algs="ES256"`)
	}
	http.Error(w, http.StatusText(status), status)
}
