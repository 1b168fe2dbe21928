package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcp-bridge/mcp-bridge/internal/redact"
	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
)

// A remote is the server side of the relay: one MCP session over HTTP.
type remote interface {
	// Send delivers m to the server. Messages from the server, the response
	// to m among them, go to the deliver function the remote was built with.
	// An error means that m was not accepted or that its response was lost.
	Send(ctx context.Context, m *Message) error

	// Close ends the session. ctx bounds the farewell to the server.
	Close(ctx context.Context) error

	// abandon stops the transport's background work without a farewell:
	// its session is gone, or another has replaced it. It does not wait.
	abandon()
}

// httpLeg holds what both HTTP transports share: the endpoint, the client,
// the static headers and the authorization handler.
type httpLeg struct {
	endpoint string
	client   *http.Client
	header   http.Header       // sent on every request: the static headers and User-Agent
	oauth    auth.OAuthHandler // nil: no authorization
	maxSize  int
	log      *slog.Logger

	// deliver is called with every message from the server, from several
	// goroutines; it must be safe for concurrent use. lost is called when the
	// connection breaks in a way that loses pending responses. expired is
	// called with the transport when its standalone stream learns that the
	// server ended the session, with no message in flight to report it.
	deliver func(*Message)
	lost    func(error)
	expired func(remote)
}

// do sends req with the static headers and the bearer token. On 401 or 403
// and when interactive is set, it runs the authorization handler and sends
// the request once more, as [auth.OAuthHandler] asks of transports. When
// repeat is set and a stale pooled connection broke before the response
// (see [staleConnection]), it sends the request once more on another. newReq
// must build a fresh request each time it is called.
func (h *httpLeg) do(ctx context.Context, interactive, repeat bool, newReq func() (*http.Request, error)) (*http.Response, error) {
	send := func() (*http.Request, *http.Response, error) {
		req, err := newReq()
		if err != nil {
			return nil, nil, err
		}
		for k, v := range h.header {
			req.Header[k] = v
		}
		if err := h.setBearer(ctx, req); err != nil {
			return nil, nil, err
		}
		resp, err := h.client.Do(req)
		if err == nil && req.Header.Get(headerDPoP) != "" {
			h.observeNonce(req, resp)
		}
		return req, resp, err
	}
	// withNonce answers a 401 use_dpop_nonce challenge to a request with
	// a DPoP proof (RFC 9449 section 9) with one retry, whose proof has
	// the nonce the answer carried.
	withNonce := func(req *http.Request, resp *http.Response, err error) (*http.Request, *http.Response, error) {
		if err != nil || req.Header.Get(headerDPoP) == "" || !wantsNonce(resp) {
			return req, resp, err
		}
		drainClose(resp.Body)
		h.log.Debug("the server asks for a DPoP nonce; sending once more with it")
		return send()
	}
	req, resp, err := send()
	if err != nil && repeat && staleConnection(err) && ctx.Err() == nil {
		h.log.Debug("the connection broke before the server answered; sending once more", "err", err)
		req, resp, err = send()
	}
	req, resp, err = withNonce(req, resp, err)
	if err != nil {
		return nil, describe(err)
	}
	if interactive && h.oauth != nil && ctx.Value(noSignIn{}) == nil && (resp.StatusCode == http.StatusUnauthorized || insufficientScope(resp)) {
		if err := h.oauth.Authorize(ctx, req, resp); err != nil {
			return nil, &signInError{err}
		}
		if _, resp, err = withNonce(send()); err != nil {
			return nil, describe(err)
		}
	}
	return resp, nil
}

// A signInError is the failure of the authorization that a 401 or 403
// started.
type signInError struct{ err error }

func (e *signInError) Error() string { return "authorize: " + e.err.Error() }
func (e *signInError) Unwrap() error { return e.err }

// noSignIn is the context key of [withoutSignIn].
type noSignIn struct{}

// withoutSignIn returns a context whose requests do not run the
// authorization handler on a 401 or 403: the caller wants an answer now,
// never a browser (a host's server/discover probe, say). The stored token
// is still sent and refreshed.
func withoutSignIn(ctx context.Context) context.Context {
	return context.WithValue(ctx, noSignIn{}, true)
}

// insufficientScope reports whether resp is a 403 that asks for more
// scopes (RFC 6750 section 3.1): the one 403 a new authorization can
// cure. Other 403s reach the host as they are.
func insufficientScope(resp *http.Response) bool {
	if resp.StatusCode != http.StatusForbidden {
		return false
	}
	cs, _ := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	for _, c := range cs {
		if (c.Scheme == "bearer" || c.Scheme == "dpop") && c.Params["error"] == "insufficient_scope" {
			return true
		}
	}
	return false
}

func (h *httpLeg) setBearer(ctx context.Context, req *http.Request) error {
	if h.oauth == nil {
		return nil
	}
	ts, err := h.oauth.TokenSource(ctx)
	if err != nil || ts == nil {
		return err
	}
	tok, err := ts.Token()
	if err != nil {
		// A refresh token the authorization server no longer accepts
		// (RFC 6749 section 5.2, invalid_grant): send the request without a
		// token, so that the 401 starts a new authorization.
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.ErrorCode == "invalid_grant" {
			return nil
		}
		return fmt.Errorf("get access token: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil
	}
	if tok.Type() == "DPoP" {
		signer, ok := h.oauth.(DPoPSigner)
		if !ok {
			return errors.New("the access token is DPoP-bound, but nothing signs DPoP proofs")
		}
		proof, err := signer.DPoPProof(req.Method, req.URL, tok.AccessToken)
		if err != nil {
			return fmt.Errorf("DPoP proof: %w", err)
		}
		req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
		req.Header[headerDPoP] = []string{proof}
		return nil
	}
	req.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	return nil
}

// The DPoP headers (RFC 9449), in the canonical form [http.Header] keeps
// them in: Get and Set would canonicalize "DPoP" anew on every request.
const (
	headerDPoP      = "Dpop"
	headerDPoPNonce = "Dpop-Nonce"
)

// A DPoPSigner is an [auth.OAuthHandler] whose access tokens may be bound
// to a key (DPoP, RFC 9449): a token the token source types "DPoP" goes
// out as Authorization: DPoP, with a proof of the key in the DPoP header.
// Its methods must be safe for concurrent use.
type DPoPSigner interface {
	// DPoPProof returns a fresh proof for a request of method to u that
	// carries accessToken.
	DPoPProof(method string, u *url.URL, accessToken string) (string, error)
	// ObserveDPoPNonce is told of each DPoP-Nonce a response from u's
	// origin carries.
	ObserveDPoPNonce(u *url.URL, nonce string)
}

// observeNonce hands the DPoP-Nonce of the answer to a request with a
// proof to the signer.
func (h *httpLeg) observeNonce(req *http.Request, resp *http.Response) {
	if n := resp.Header.Get(headerDPoPNonce); n != "" {
		if signer, ok := h.oauth.(DPoPSigner); ok {
			signer.ObserveDPoPNonce(req.URL, n)
		}
	}
}

// wantsNonce reports whether resp is a 401 whose DPoP challenge says
// use_dpop_nonce and that carries the nonce (RFC 9449 section 9).
func wantsNonce(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(headerDPoPNonce) == "" {
		return false
	}
	cs, _ := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	for _, c := range cs {
		if c.Scheme == "dpop" && c.Params["error"] == "use_dpop_nonce" {
			return true
		}
	}
	return false
}

// drainClose reads what is left of a response body, for a second at most,
// and closes it: the connection then goes back to the pool, where closing
// the body before its end would close the connection.
func drainClose(body io.ReadCloser) {
	t := time.AfterFunc(time.Second, func() { body.Close() })
	defer t.Stop()
	io.Copy(io.Discard, io.LimitReader(body, 256<<10))
	body.Close()
}

// readBody reads a response body of at most h.maxSize bytes, into a slice
// of its exact length.
func (h *httpLeg) readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > int64(h.maxSize) {
		return nil, fmt.Errorf("response body of %d bytes exceeds the %d byte limit", n, h.maxSize)
	}
	var c chunkList
	if err := c.readFrom(resp.Body, h.maxSize); err != nil {
		c.reset()
		if err == errOverLimit {
			return nil, fmt.Errorf("response body exceeds the %d byte limit", h.maxSize)
		}
		return nil, fmt.Errorf("read response body: %w", err)
	}
	return c.bytes(0), nil
}

// A StatusError reports an HTTP response from the server that the relay
// could not use.
type StatusError struct {
	Method string // HTTP method of the request
	URL    string
	Status int    // HTTP status code
	Type   string // Content-Type of the response

	// Excerpt is the start of the body, reduced to printable text.
	Excerpt string

	// RPCError is the JSON-RPC error object the body carried, if any.
	RPCError json.RawMessage
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Excerpt != "" {
		s += ": " + e.Excerpt
	}
	return s
}

// statusError reads a little of resp's body to describe it, and closes it.
func statusError(resp *http.Response) *StatusError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	e := &StatusError{
		Method:  resp.Request.Method,
		URL:     resp.Request.URL.Redacted(),
		Status:  resp.StatusCode,
		Type:    resp.Header.Get("Content-Type"),
		Excerpt: excerpt([]byte(redact.String(string(body), bearer(resp.Request)...)), 200),
	}
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Error) > 0 && env.Error[0] == '{' {
		e.RPCError = env.Error
	}
	return e
}

// bearer returns the credentials req carried, which an error page that
// echoes the request would show: the Authorization header and its token.
func bearer(req *http.Request) []string {
	if req == nil {
		return nil
	}
	auth := req.Header.Get("Authorization")
	_, token, _ := strings.Cut(auth, " ")
	return []string{auth, token, req.Header.Get(headerDPoP)}
}

// excerpt returns at most n runes of b as one line of printable text
// (see [safetext.Clip]): the server's words go into errors the host shows
// its model and the user.
func excerpt(b []byte, n int) string {
	return safetext.Clip(string(b), n)
}

// mediaType returns the media type of a Content-Type header, lower-cased.
func mediaType(header string) string {
	switch header { // what nearly every response says: nothing to parse
	case "application/json", "text/event-stream":
		return header
	}
	t, _, err := mime.ParseMediaType(header)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(header, ";")[0]))
	}
	return t
}
