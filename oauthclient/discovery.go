package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// discovered is what discovery learns about a server and its
// authorization server.
type discovered struct {
	// resource is the RFC 8707 resource identifier of the MCP server
	// that sign-ins send: the protected resource metadata's, exactly as
	// published, unless the user named one or none.
	resource string
	// scopesSupported is the protected resource metadata's list.
	scopesSupported []string
	// as is the authorization server's metadata.
	as *asMeta
	// legacy is set when the server published no protected resource
	// metadata and its origin was taken as the authorization server, as
	// revision 2025-03-26 of the specification did.
	legacy bool
	// defaulted is set when, on the legacy path, the authorization server
	// published no metadata either, and the default endpoints were used.
	defaulted bool
	// dpop is the key the sign-in's token requests bind the tokens to
	// (RFC 9449), or nil for Bearer tokens.
	dpop *dpopKey
}

// asMeta is authorization server metadata (RFC 8414), with the device
// authorization endpoint of RFC 8628 that the SDK's type leaves out.
type asMeta struct {
	oauthex.AuthServerMeta
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// DPoPSigningAlgValuesSupported lists the algorithms of the DPoP
	// proofs the server takes (RFC 9449 section 5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// discover finds the authorization server for the MCP server from a 401
// or 403 challenge (basic/authorization, "Authorization Server
// Discovery"): the protected resource metadata named by the challenge, or
// at the well-known URIs (RFC 9728), then the authorization server's
// metadata (RFC 8414 or OpenID Connect Discovery). It falls back to the
// 2025-03-26 rules when the server publishes no resource metadata.
func (h *Handler) discover(ctx context.Context, challenges []oauthex.Challenge) (*discovered, error) {
	d := &discovered{resource: h.resource}
	prm, err := h.resourceMetadata(ctx, challenges)
	if err != nil {
		return nil, err
	}
	issuer := ""
	if prm == nil {
		// basic/authorization 2025-03-26, "Server Metadata Discovery": the
		// MCP server's origin is the authorization server.
		d.legacy = true
		issuer = origin(h.serverURL)
	} else {
		if len(prm.AuthorizationServers) == 0 {
			return nil, errors.New("the server's protected resource metadata names no authorization server")
		}
		issuer = prm.AuthorizationServers[0]
		if err := checkEndpoint("authorization server", issuer); err != nil {
			return nil, err
		}
		d.scopesSupported = prm.ScopesSupported
		// RFC 9728 section 1: the resource identifier of the metadata is
		// the one an RFC 8707 resource parameter names. It is sent as
		// published (resourceMetadata checked that it holds this
		// server): an authorization server may compare it as a string,
		// and a parser's idea of it ("/" added to an empty path) would
		// differ. RFC 8707 section 2 forbids a fragment.
		if d.resource != "" && h.cfg.Resource == "" && prm.Resource != "" && !strings.Contains(prm.Resource, "#") {
			d.resource = prm.Resource
		}
	}

	as, err := h.authServerMetadata(ctx, issuer, d.legacy)
	if err != nil {
		return nil, err
	}
	if as == nil {
		if !d.legacy {
			return nil, fmt.Errorf("the authorization server %s publishes no metadata (RFC 8414 or OpenID Connect Discovery)", quoteURL(issuer))
		}
		// basic/authorization 2025-03-26, "Fallbacks for Servers without
		// Metadata Discovery".
		d.defaulted = true
		as = &asMeta{AuthServerMeta: oauthex.AuthServerMeta{
			Issuer:                        issuer,
			AuthorizationEndpoint:         issuer + "/authorize",
			TokenEndpoint:                 issuer + "/token",
			RegistrationEndpoint:          issuer + "/register",
			CodeChallengeMethodsSupported: []string{"S256"},
		}}
	}
	for _, e := range []struct{ name, url string }{
		{"authorization_endpoint", as.AuthorizationEndpoint},
		{"token_endpoint", as.TokenEndpoint},
		{"registration_endpoint", as.RegistrationEndpoint},
		{"revocation_endpoint", as.RevocationEndpoint},
		{"device_authorization_endpoint", as.DeviceAuthorizationEndpoint},
	} {
		if e.url == "" {
			continue
		}
		if err := checkEndpoint(e.name, e.url); err != nil {
			return nil, fmt.Errorf("authorization server %s: %w", quoteURL(as.Issuer), err)
		}
	}
	if as.TokenEndpoint == "" {
		return nil, fmt.Errorf("authorization server %s: its metadata has no token_endpoint", quoteURL(as.Issuer))
	}
	d.as = as
	return d, nil
}

// resourceMetadata fetches the protected resource metadata: from the
// challenge's resource_metadata URL if there is one, else from the
// well-known URIs, path-inserted then root. It returns nil if the server
// publishes none.
func (h *Handler) resourceMetadata(ctx context.Context, challenges []oauthex.Challenge) (*oauthex.ProtectedResourceMetadata, error) {
	var cands []string
	if u := challengeParam(challenges, "resource_metadata"); u != "" {
		if err := checkEndpoint("resource_metadata", u); err != nil {
			return nil, fmt.Errorf("the server's WWW-Authenticate header: %w", err)
		}
		cands = append(cands, u)
	}
	su, _ := url.Parse(h.serverURL)
	if p := strings.Trim(su.Path, "/"); p != "" {
		w := *su
		w.Path, w.RawPath, w.RawQuery = "/.well-known/oauth-protected-resource/"+p, "", ""
		cands = append(cands, w.String())
	}
	root := *su
	root.Path, root.RawPath, root.RawQuery = "/.well-known/oauth-protected-resource", "", ""
	cands = append(cands, root.String())

	for _, c := range cands {
		var prm oauthex.ProtectedResourceMetadata
		found, err := h.getJSON(ctx, c, &prm)
		if err != nil {
			return nil, fmt.Errorf("protected resource metadata: %w", err)
		}
		if !found {
			continue
		}
		if !covers(prm.Resource, h.serverURL) {
			// RFC 9728 section 3.3: a document for another resource
			// must not be used.
			return nil, fmt.Errorf("the protected resource metadata at %s is for %s, not for %s", quoteURL(c), quoteURL(prm.Resource), h.serverURL)
		}
		h.log.Debug("found protected resource metadata", "url", c, "resource", prm.Resource, "authorization_servers", prm.AuthorizationServers)
		return &prm, nil
	}
	return nil, nil
}

// authServerMetadata fetches the authorization server's metadata from the
// well-known URIs in the order basic/authorization gives ("Authorization
// Server Metadata Discovery"). The issuer it states must be identical to
// the one its URL was built from, not even a trailing slash apart (RFC
// 8414 section 3.3; a MUST of revision 2026-07-28, SEP-2468), except on
// the legacy path, where it need only be on the MCP server's origin. It
// returns nil if there is none.
func (h *Handler) authServerMetadata(ctx context.Context, issuer string, legacy bool) (*asMeta, error) {
	for _, u := range authServerMetadataURLs(issuer) {
		var as asMeta
		found, err := h.getJSON(ctx, u, &as)
		if err != nil {
			return nil, fmt.Errorf("authorization server metadata: %w", err)
		}
		if !found {
			continue
		}
		switch {
		case as.Issuer == issuer:
		case legacy && as.Issuer != "" && origin(as.Issuer) == origin(h.serverURL):
			// The 2025-03-26 fixtures publish an issuer with a path under
			// the server's origin. Accepting it is safe: on this path the
			// origin itself is the authorization server, so the document
			// comes from the party that answers for that origin anyway.
		default:
			return nil, fmt.Errorf("the authorization server metadata at %s states issuer %s, not %s", quoteURL(u), quoteURL(as.Issuer), quoteURL(issuer))
		}
		h.log.Debug("found authorization server metadata", "url", u, "issuer", as.Issuer)
		return &as, nil
	}
	return nil, nil
}

// authServerMetadataURLs lists the metadata URLs to try for an issuer.
func authServerMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	p := strings.Trim(u.Path, "/")
	at := func(path string) string {
		w := *u
		w.Path, w.RawPath, w.RawQuery, w.Fragment = path, "", "", ""
		return w.String()
	}
	if p == "" {
		return []string{
			at("/.well-known/oauth-authorization-server"),
			at("/.well-known/openid-configuration"),
		}
	}
	return []string{
		at("/.well-known/oauth-authorization-server/" + p),
		at("/.well-known/openid-configuration/" + p),
		at("/" + p + "/.well-known/openid-configuration"),
	}
}

// maxMetadata bounds a metadata document.
const maxMetadata = 1 << 20

// getJSON fetches a JSON document into v. It reports false, with no error,
// when the server answers 4xx: there is no document there.
func (h *Handler) getJSON(ctx context.Context, u string, v any) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, boundURL(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("GET %s: %w", quoteURL(u), boundURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return false, nil
	case resp.StatusCode != http.StatusOK:
		// resp.Status holds the server's reason phrase: only the code.
		return false, fmt.Errorf("GET %s: HTTP %d %s", quoteURL(u), resp.StatusCode, http.StatusText(resp.StatusCode))
	case err != nil:
		return false, fmt.Errorf("GET %s: %w", quoteURL(u), err)
	case len(body) > maxMetadata:
		return false, fmt.Errorf("GET %s: the document is larger than %d bytes", quoteURL(u), maxMetadata)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return false, fmt.Errorf("GET %s: not a JSON metadata document: %w", quoteURL(u), err)
	}
	return true, nil
}

// checkEndpoint checks a URL taken from a server before it is used: https,
// or http to a loopback address; no credentials; no fragment.
func checkEndpoint(name, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%s %s is not a URL", name, quoteURL(raw))
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%s %s has the scheme %s; only https is allowed", name, quoteURL(raw), quoteURL(u.Scheme))
	case u.User != nil:
		return fmt.Errorf("%s %s carries credentials", name, quoteURL(u.Redacted()))
	case u.Fragment != "":
		return fmt.Errorf("%s %s has a fragment", name, quoteURL(u.Redacted()))
	case u.Host == "":
		return fmt.Errorf("%s %s is not an absolute URL", name, quoteURL(raw))
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("%s %s is plain http to a host that is not loopback", name, quoteURL(u.Redacted()))
	}
}

// guarded returns a copy of c for OAuth requests: each exchange bounded
// by timeout, body included, and every redirect hop checked as an
// endpoint taken from a server would be (checkEndpoint: https, or http to
// loopback). Credentials and cookies do not follow a redirect to another
// origin (scheme, host or port), and a request with a body (a token,
// registration or revocation request, which 307 and 308 would resend) is
// not redirected there at all. Issue 11: metadata fetches followed
// redirects to plain http on other hosts; doctor sent its bearer across a
// redirect to another port.
func guarded(c *http.Client, timeout time.Duration) *http.Client {
	g := *c
	if g.Timeout <= 0 || g.Timeout > timeout {
		g.Timeout = timeout
	}
	next := c.CheckRedirect
	g.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if err := checkEndpoint("redirect target", req.URL.String()); err != nil {
			return fmt.Errorf("refusing the redirect from %s: %w", quoteURL(via[len(via)-1].URL.Redacted()), err)
		}
		from := via[0].URL
		if req.URL.Scheme != from.Scheme || req.URL.Host != from.Host {
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				return fmt.Errorf("refusing to resend a %s to another origin, %s", req.Method, quoteURL(req.URL.Redacted()))
			}
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
			req.Header.Del("DPoP")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &g
}

// isLoopback reports whether host names the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// challengeParam returns a parameter of the Bearer challenge.
func challengeParam(cs []oauthex.Challenge, name string) string {
	for _, c := range cs {
		if c.Scheme == "bearer" || c.Scheme == "dpop" {
			if v := c.Params[name]; v != "" {
				return v
			}
		}
	}
	return ""
}

// CanonicalResource returns the canonical URI of an MCP server
// (basic/authorization, "Canonical Server URI"): lower-case scheme and
// host, no fragment and no trailing slash, even when the path is only
// "/" (the specification's SHOULD, for interoperability).
func CanonicalResource(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute URL", raw)
	}
	u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
	if u.Path != "/" {
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	} else {
		u.Path = ""
	}
	return u.String(), nil
}

// covers reports whether the protected resource identified by resource
// holds the MCP server at server: the same scheme, host and port, and a
// path that is the server's or one of its parents, segment by segment,
// compared in canonical form. RFC 9728 section 3.3 asks for the very
// server URL; servers commonly publish their origin or a parent path
// instead, which the TypeScript SDK, and so mcp-remote, accept. A document
// for another origin, a sibling path or a longer path is refused.
func covers(resource, server string) bool {
	r, err1 := CanonicalResource(resource)
	s, err2 := CanonicalResource(server)
	if err1 != nil || err2 != nil {
		return false
	}
	ru, err1 := url.Parse(r)
	su, err2 := url.Parse(s)
	if err1 != nil || err2 != nil || ru.Scheme != su.Scheme || ru.Host != su.Host || ru.Opaque != "" || ru.User != nil {
		return false
	}
	if ru.RawQuery != "" {
		return r == s
	}
	rp, sp := ru.EscapedPath(), su.EscapedPath()
	return rp == sp || rp == "" || strings.HasPrefix(sp, rp+"/")
}

// sameIssuer compares issuers exactly, but for one trailing slash.
func sameIssuer(a, b string) bool {
	return a != "" && strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// origin returns scheme://host of a URL.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}
