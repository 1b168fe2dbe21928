package oauthclient

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-bridge/mcp-bridge/internal/jwtclaims"
	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
)

// A Check is one step of [Handler.Doctor]: what was checked, what was
// found, and, if it failed, what to do.
type Check struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Doctor walks the chain a sign-in depends on, step by step, and stops at
// the first step that fails, saying plainly what is wrong and what to do:
// reaching the server (DNS, TLS and which CA), its 401 challenge, the
// protected resource metadata, the authorization server's metadata, PKCE,
// the registration method, the callback port, and the stored token. It
// signs nothing in and changes nothing. What the servers chose (URLs,
// scopes, client IDs, error text) appears in Detail and Fix as one
// printable, bounded line each (issue 11).
func (h *Handler) Doctor(ctx context.Context) []Check {
	checks := h.doctor(ctx)
	for i := range checks {
		checks[i].Detail, checks[i].Fix = safetext.Line(checks[i].Detail), safetext.Line(checks[i].Fix)
	}
	return checks
}

func (h *Handler) doctor(ctx context.Context) []Check {
	var checks []Check
	add := func(c Check) bool { checks = append(checks, c); return c.OK }

	resp, err := h.probeResponse(ctx, "")
	if !add(reachCheck(h.cfg.ServerURL, resp, err)) {
		return checks
	}
	endpoint, open := h.endpointCheck(ctx, resp)
	if !add(endpoint) {
		return checks
	}
	var challenges []oauthex.Challenge
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		challenges, _ = oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
		detail := "401 with " + describeParams(challenges)
		if len(challenges) == 0 {
			detail = "401 without a WWW-Authenticate challenge; the well-known metadata URIs will be tried"
		}
		add(Check{Step: "authorization challenge", OK: true, Detail: detail})
	default:
		add(Check{Step: "authorization challenge", OK: true,
			Detail: fmt.Sprintf("the server answered %d without a token: it may need no sign-in; checking its metadata anyway", resp.StatusCode)})
	}

	prm, err := h.resourceMetadata(ctx, challenges)
	issuer, legacy := "", false
	switch {
	case err != nil:
		add(Check{Step: "protected resource metadata (RFC 9728)", Detail: err.Error(),
			Fix: "the server publishes metadata the bridge must not trust; tell its operator, or check the URL"})
		return checks
	case prm == nil:
		issuer, legacy = origin(h.serverURL), true
		add(Check{Step: "protected resource metadata (RFC 9728)", OK: true,
			Detail: "none published: taking the server's origin " + issuer + " as its authorization server (MCP 2025-03-26)"})
	case len(prm.AuthorizationServers) == 0:
		add(Check{Step: "protected resource metadata (RFC 9728)", Detail: "it names no authorization server",
			Fix: "the server's metadata is incomplete; tell its operator"})
		return checks
	default:
		issuer = prm.AuthorizationServers[0]
		if err := checkEndpoint("authorization server", issuer); err != nil {
			add(Check{Step: "protected resource metadata (RFC 9728)", Detail: err.Error(),
				Fix: "the server names an authorization server the bridge will not contact; tell its operator"})
			return checks
		}
		scopes := "no scopes listed"
		if len(prm.ScopesSupported) > 0 {
			scopes = "scopes " + strings.Join(prm.ScopesSupported, " ")
		}
		add(Check{Step: "protected resource metadata (RFC 9728)", OK: true,
			Detail: fmt.Sprintf("resource %s, authorization server %s, %s", quoteURL(prm.Resource), quoteURL(issuer), scopes)})
	}

	as, err := h.authServerMetadata(ctx, issuer, legacy)
	switch {
	case err != nil:
		add(Check{Step: "authorization server metadata", Detail: err.Error(),
			Fix: "the authorization server's metadata does not match it; tell the server's operator"})
		return checks
	case as == nil && !legacy:
		add(Check{Step: "authorization server metadata", Detail: "no RFC 8414 or OpenID Connect metadata at " + quoteURL(issuer),
			Fix: "check the authorization server's URL with the server's operator"})
		return checks
	case as == nil:
		add(Check{Step: "authorization server metadata", OK: true, Detail: "none: the default endpoints /authorize, /token, /register of " + issuer + " will be used (MCP 2025-03-26)"})
		return append(checks, h.localChecks(ctx, "dynamic", open)...)
	}
	for _, e := range []struct{ name, url string }{
		{"authorization_endpoint", as.AuthorizationEndpoint}, {"token_endpoint", as.TokenEndpoint},
		{"registration_endpoint", as.RegistrationEndpoint}, {"revocation_endpoint", as.RevocationEndpoint},
		{"device_authorization_endpoint", as.DeviceAuthorizationEndpoint},
	} {
		if e.url == "" {
			continue
		}
		if err := checkEndpoint(e.name, e.url); err != nil {
			add(Check{Step: "authorization server metadata", Detail: err.Error(),
				Fix: "the bridge will not use such an endpoint; tell the server's operator"})
			return checks
		}
	}
	add(Check{Step: "authorization server metadata", OK: true, Detail: "issuer " + quoteURL(as.Issuer)})

	if h.cfg.userSignIn() {
		if !pkceS256(as.CodeChallengeMethodsSupported, h.cfg.AssumePKCE) {
			add(Check{Step: "PKCE", Detail: fmt.Sprintf("the authorization server does not advertise S256 (code_challenge_methods_supported: %q)", as.CodeChallengeMethodsSupported),
				Fix: "the MCP specification forbids signing in without PKCE S256; the server's operator must enable it"})
			return checks
		}
		add(Check{Step: "PKCE", OK: true, Detail: "S256 advertised"})
	}
	if c, ok := h.dpopCheck(as); ok {
		add(c)
	}

	kind := ""
	switch {
	case h.cfg.Workload != nil:
		c := h.workloadCheck(ctx, as)
		add(c)
		if !c.OK {
			return checks
		}
		kind = "none: a workload's assertion (jwt-bearer grant)"
	case h.cfg.ClientID != "":
		if err := h.checkBinding(h.Credentials(ctx), as.Issuer); err != nil {
			add(Check{Step: "client registration", Detail: err.Error(),
				Fix: "check --issuer and the server's authorization server with its operator"})
			return checks
		}
		kind = "pre-registered client " + h.cfg.ClientID + ", " + h.binding(ctx, as.Issuer)
	case h.cfg.ClientMetadataURL != "" && as.ClientIDMetadataDocumentSupported:
		kind = "client ID metadata document " + h.cfg.ClientMetadataURL
	case as.RegistrationEndpoint != "":
		kind = "dynamic registration at " + quoteURL(as.RegistrationEndpoint) + ", bound to its issuer"
	default:
		add(Check{Step: "client registration", Detail: "the authorization server offers no dynamic registration and no client is configured",
			Fix: "register a client with the server's operator, then pass --client-id (and --client-secret-file)"})
		return checks
	}
	add(Check{Step: "client registration", OK: true, Detail: kind})
	return append(checks, h.localChecks(ctx, kind, open)...)
}

// localChecks checks what is on this machine: the callback port and the
// stored token. open says the server answered without a token, so that
// being signed out is no failure.
func (h *Handler) localChecks(ctx context.Context, registration string, open bool) []Check {
	var checks []Check
	if h.cfg.userSignIn() && h.cfg.Login != LoginDevice {
		if h.cfg.CallbackPort == 0 {
			checks = append(checks, Check{Step: "callback port", OK: true, Detail: "any free loopback port"})
		} else if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", h.cfg.CallbackPort)); err != nil {
			checks = append(checks, Check{Step: "callback port", Detail: fmt.Sprintf("127.0.0.1:%d is taken: %v", h.cfg.CallbackPort, err),
				Fix: "stop what listens there, or register another redirect port and pass --callback-port"})
			return checks
		} else {
			ln.Close()
			checks = append(checks, Check{Step: "callback port", OK: true, Detail: fmt.Sprintf("127.0.0.1:%d is free", h.cfg.CallbackPort)})
		}
	}
	c := h.Credentials(ctx)
	if !c.HasToken() && open {
		return append(checks, Check{Step: "stored token", OK: true,
			Detail: "not signed in, and the server answered without a token: it needs none, unless a later request asks for one"})
	}
	if !c.HasToken() {
		return append(checks, Check{Step: "stored token", Detail: "not signed in",
			Fix: "run `" + h.cfg.LoginCommand + "`, or let the host's first request open the browser"})
	}
	detail := "no expiry"
	if !c.Expiry.IsZero() {
		if left := c.Expiry.Sub(h.now()); left > 0 {
			detail = "expires in " + left.Round(time.Second).String()
		} else {
			detail = "expired " + (-left).Round(time.Second).String() + " ago"
		}
	}
	if c.RefreshToken != "" {
		detail += ", refresh token present"
	}
	tok, err := h.Token()
	if err != nil || tok == nil {
		reason := "the refresh token was refused"
		if err != nil {
			reason = err.Error()
		}
		return append(checks, Check{Step: "stored token", Detail: detail + ": " + reason,
			Fix: "run `" + h.cfg.LoginCommand + "` to sign in again"})
	}
	if c.SenderConstrained() {
		detail += ", sender-constrained (DPoP, key " + h.thumbprint(c) + ")"
	}
	resp, err := h.probeWith(ctx, tok.AccessToken, tok.Type())
	switch {
	case err != nil:
		checks = append(checks, Check{Step: "stored token", Detail: detail + ": " + err.Error()})
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		checks = append(checks, Check{Step: "stored token", Detail: fmt.Sprintf("%s, but the server refuses it (%d)", detail, resp.StatusCode),
			Fix: "run `" + h.cfg.LoginCommand + "` to sign in again"})
	default:
		checks = append(checks, Check{Step: "stored token", OK: true, Detail: detail + ", accepted by the server"})
		var claims struct {
			Aud jwtclaims.Audience `json:"aud"`
		}
		if jwtclaims.Decode(tok.AccessToken, &claims) {
			checks = append(checks, audienceCheck(claims.Aud, c.Resource))
		}
	}
	return checks
}

// binding says which issuer the configured client's credentials are
// bound to, and why; checkBinding has passed.
func (h *Handler) binding(ctx context.Context, issuer string) string {
	if h.cfg.ClientIssuer != "" {
		return "bound to " + h.cfg.ClientIssuer + " (--issuer)"
	}
	if c := h.Credentials(ctx); c != nil && c.Issuer != "" && c.Client.Kind == KindPreregistered && c.Client.ID == h.cfg.ClientID {
		return "bound to " + quoteURL(c.Issuer) + ", where it was first used"
	}
	return "to be bound to " + quoteURL(issuer) + " at the first sign-in (pin it with --issuer)"
}

// audienceCheck looks at the audience a JWT access token names. A token
// with none was issued without regard to RFC 8707's resource parameter
// (Ory Hydra does that unless its consent app grants an audience): any
// server that trusts the authorization server would take it.
func audienceCheck(aud []string, resource string) Check {
	c := Check{Step: "token audience"}
	switch {
	case len(aud) == 0:
		c.Detail = "the access token names no audience: the authorization server ignored the resource parameter (RFC 8707), so the token is good at any server that trusts it"
		c.Fix = "ask the authorization server's operator to grant the audience " + quoteURL(resource) + " (Ory Hydra: the consent app's grant_access_token_audience)"
	case slices.Contains(aud, resource):
		c.OK, c.Detail = true, "the access token is for "+resource
	default:
		c.OK, c.Detail = true, "the access token is for "+strings.Join(aud, ", ")+", not "+resource+" by name; the server accepts it"
	}
	return c
}

// maxProbeBody bounds what doctor reads of the answer to its ping.
const maxProbeBody = 64 << 10

// endpointCheck says whether the server answered the ping as an MCP
// server does (MCP 2025-11-25, basic/transports, "Streamable HTTP"): a
// JSON-RPC message, as JSON or an SSE stream, or a 401 challenge to sign
// in; else whether a GET opens an event stream (an HTTP+SSE endpoint). A
// web page answers neither way. open says the server answered as MCP
// without a token.
func (h *Handler) endpointCheck(ctx context.Context, resp *http.Response) (c Check, open bool) {
	c = Check{Step: "MCP endpoint", OK: true}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	ok := resp.StatusCode/100 == 2
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		c.Detail = "it asks for a sign-in (401)"
		return c, false
	case resp.StatusCode == http.StatusForbidden:
		c.Detail = "it refuses the request without a token (403)"
		return c, false
	case ct == "text/event-stream":
		c.Detail = "it answers the ping with an event stream (Streamable HTTP)"
		return c, ok
	case ct == "application/json" && isJSONRPC(resp.Body):
		c.Detail = "it answers the ping with JSON-RPC"
		return c, ok
	}
	if h.opensEventStream(ctx) {
		c.Detail = "a GET opens an event stream (HTTP+SSE)"
		return c, true
	}
	c.OK = false
	c.Detail = fmt.Sprintf("this URL does not answer as an MCP server: it answered a JSON-RPC ping with %d %s, neither JSON-RPC nor a 401 challenge", resp.StatusCode, cmp.Or(ct, "and no content type"))
	c.Fix = "check the URL: it must be the server's MCP endpoint (often ending in /mcp, or /sse for the older transport), not a web page; its documentation names it"
	return c, false
}

// isJSONRPC reports whether body holds a JSON-RPC message or batch.
func isJSONRPC(body io.Reader) bool {
	type message struct {
		JSONRPC string `json:"jsonrpc"`
	}
	data, _ := io.ReadAll(body)
	var msg message
	if json.Unmarshal(data, &msg) == nil && msg.JSONRPC == "2.0" {
		return true
	}
	var batch []message
	return json.Unmarshal(data, &batch) == nil && len(batch) > 0 && batch[0].JSONRPC == "2.0"
}

// opensEventStream reports whether a GET of the server URL answers 200
// with an event stream, which it then closes.
func (h *Handler) opensEventStream(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.cfg.ServerURL, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := h.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode == http.StatusOK && ct == "text/event-stream"
}

// probeResponse sends the server a ping, with bearer if not empty, and
// returns the response with its body closed: Body then holds what was read
// of it (at most maxProbeBody bytes, nothing of an event stream).
func (h *Handler) probeResponse(ctx context.Context, bearer string) (*http.Response, error) {
	return h.probeWith(ctx, bearer, "Bearer")
}

// probeWith is [Handler.probeResponse] with the token sent with scheme:
// with DPoP, a proof goes along, and a use_dpop_nonce challenge is
// answered once.
func (h *Handler) probeWith(ctx context.Context, token, scheme string) (*http.Response, error) {
	for retried := false; ; retried = true {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.ServerURL, strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"ping"}`))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if token != "" {
			req.Header.Set("Authorization", scheme+" "+token)
		}
		if token != "" && scheme == "DPoP" {
			proof, err := h.DPoPProof(req.Method, req.URL, token)
			if err != nil {
				return nil, err
			}
			req.Header.Set("DPoP", proof)
		}
		resp, err := h.client.Do(req)
		if err != nil {
			return nil, boundURL(err)
		}
		var body []byte
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "text/event-stream" {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if scheme != "DPoP" || retried || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("DPoP-Nonce") == "" {
			return resp, nil
		}
		h.ObserveDPoPNonce(req.URL, resp.Header.Get("DPoP-Nonce"))
	}
}

// reachCheck describes reaching the server: DNS, TCP, TLS and which CA
// vouched for it.
func reachCheck(server string, resp *http.Response, err error) Check {
	c := Check{Step: "reach the server"}
	if err != nil {
		var dnsErr *net.DNSError
		var unknownCA x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		var invalid x509.CertificateInvalidError
		switch {
		case errors.As(err, &dnsErr):
			c.Detail, c.Fix = "DNS: "+dnsErr.Error(), "check the server's host name, and your DNS or VPN"
		case errors.As(err, &unknownCA):
			issuer := "an unknown authority"
			if unknownCA.Cert != nil {
				issuer = unknownCA.Cert.Issuer.String()
			}
			c.Detail = "TLS: the certificate is signed by " + issuer + ", which this machine does not trust"
			c.Fix = "if that is your organisation's CA, pass its PEM file with --ca-file"
		case errors.As(err, &hostErr):
			c.Detail, c.Fix = "TLS: "+hostErr.Error(), "check the server's host name"
		case errors.As(err, &invalid):
			c.Detail, c.Fix = "TLS: "+invalid.Error(), "the server's certificate is invalid (expired?); tell its operator"
		default:
			c.Detail, c.Fix = err.Error(), "check that the server is up and reachable from here (proxy: HTTPS_PROXY)"
		}
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s answered %d", server, resp.StatusCode)
	if st := resp.TLS; st != nil {
		c.Detail += " over " + tls.VersionName(st.Version)
		if len(st.VerifiedChains) > 0 {
			chain := st.VerifiedChains[0]
			c.Detail += ", certificate trusted through " + chain[len(chain)-1].Subject.String()
		}
	} else {
		c.Detail += " over plain http"
	}
	return c
}

// describeParams lists a challenge's parameters for doctor.
func describeParams(cs []oauthex.Challenge) string {
	var parts []string
	for _, c := range cs {
		for _, k := range []string{"resource_metadata", "scope", "error"} {
			if v := c.Params[k]; v != "" {
				parts = append(parts, k+"="+v)
			}
		}
	}
	if len(parts) == 0 {
		return "a Bearer challenge without parameters"
	}
	return strings.Join(parts, ", ")
}

// dpopCheck says what --dpop does at the authorization server as; not ok
// when it is off.
func (h *Handler) dpopCheck(as *asMeta) (Check, bool) {
	c := Check{Step: "DPoP (RFC 9449)", OK: true}
	advertised := slices.Contains(as.DPoPSigningAlgValuesSupported, dpopAlg)
	switch {
	case h.cfg.DPoP == DPoPOn && advertised:
		c.Detail = "on: the authorization server takes ES256 proofs; tokens are bound to a key kept with them"
	case h.cfg.DPoP == DPoPOn:
		c.Detail = fmt.Sprintf("on, but the authorization server does not list ES256 in dpop_signing_alg_values_supported (%q): it may issue Bearer tokens, which are used as such", as.DPoPSigningAlgValuesSupported)
	case h.cfg.DPoP == DPoPAuto && advertised:
		c.Detail = "auto: the authorization server takes ES256 proofs; tokens are bound to a key kept with them"
	case h.cfg.DPoP == DPoPAuto:
		c.Detail = "auto: the authorization server does not list ES256 in dpop_signing_alg_values_supported; Bearer tokens"
	default:
		return c, false
	}
	return c, true
}

// thumbprint is the RFC 7638 thumbprint of the key c's tokens are bound
// to: no secret, it names the key.
func (h *Handler) thumbprint(c *Credentials) string {
	k, err := h.dpopKey(c)
	if err != nil || k == nil {
		return "damaged"
	}
	return k.jkt
}
