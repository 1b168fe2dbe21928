// Package oauthclient signs mcp-bridge in to OAuth-protected MCP servers
// as the MCP authorization specification describes (revision 2025-11-25,
// basic/authorization, with the fallbacks of 2025-03-26):
//
//   - discovery: the 401 challenge's resource_metadata, RFC 9728 protected
//     resource metadata, RFC 8414 or OpenID Connect authorization server
//     metadata;
//   - registration: a pre-registered client, a Client ID Metadata
//     Document, or RFC 7591 dynamic registration (application_type
//     native), kept for the next login and bound to the authorization
//     server's issuer: when the server names another one, a dynamic client
//     registers there anew and a pre-registered one is an error (revision
//     2026-07-28, basic/authorization/client-registration, "Authorization
//     Server Binding");
//   - sign-in: the authorization code grant with PKCE S256 (RFC 7636),
//     state, the RFC 9207 iss check and the RFC 8707 resource, through a
//     loopback redirect (RFC 8252) and the user's browser; or the RFC 8628
//     device grant; or a redirect URL pasted in a terminal; or, without a
//     user, the client credentials grant (client_secret_basic,
//     client_secret_post or RFC 7523 private_key_jwt), or a workload's
//     platform JWT in the RFC 7523 jwt-bearer grant (workload identity
//     federation, SEP-1933: no client at all);
//   - the token's life: refresh before expiry with the resource, step-up on
//     403 insufficient_scope, one sign-in for many concurrent 401s, and a
//     guard against servers that would open tab after tab;
//   - sender-constrained tokens (DPoP, RFC 9449; the MCP extension
//     SEP-1932), with [Config.DPoP]: one ES256 key per server entry, kept
//     in the store with the tokens, a proof on every token request
//     ([Handler.DPoPProof] makes those of the MCP requests), and the
//     servers' nonces answered and kept per origin.
//
// [Handler] implements the SDK's [auth.OAuthHandler]; the relay calls it
// without knowing any of this.
package oauthclient

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// Login modes, for [Config.Login].
const (
	// LoginBrowser opens the authorization URL in the user's browser and
	// takes the code on a loopback redirect.
	LoginBrowser = "browser"
	// LoginDevice uses the RFC 8628 device authorization grant: the user
	// enters a code on another device.
	LoginDevice = "device"
	// LoginPaste prints the authorization URL and reads back the URL the
	// browser was redirected to, for machines where the loopback redirect
	// cannot reach the bridge.
	LoginPaste = "paste"
)

// Config configures a [Handler].
type Config struct {
	// ServerURL is the MCP server's endpoint. Required.
	ServerURL string

	// Resource is the RFC 8707 resource to ask tokens for. If empty, the
	// canonical form of ServerURL is used.
	Resource string

	// NoResource leaves the resource parameter out of every request, for
	// authorization servers that reject it.
	NoResource bool

	// Scopes, if not empty, are requested instead of those the server
	// names in its challenge or metadata.
	Scopes []string

	// ClientID is a pre-registered client, with ClientSecret if it is
	// confidential. If empty, the client registers dynamically.
	ClientID     string
	ClientSecret string

	// ClientIssuer, if set, is the issuer of the authorization server
	// ClientID is registered at: a server that names another gets no
	// sign-in with it ([ErrAuthorizationServerChanged]). If empty, the
	// issuer of the first sign-in is kept with the credentials and holds
	// from then on (basic/authorization/client-registration,
	// "Authorization Server Binding").
	ClientIssuer string

	// AssumePKCE signs in with PKCE S256 at an authorization server whose
	// metadata lists no code_challenge_methods_supported at all: Entra ID
	// and Cognito take S256 without saying so. A list without S256 is
	// still refused.
	AssumePKCE bool

	// TokenParams are added to every token request: Auth0 wants the
	// audience there as well as in the authorization request.
	TokenParams url.Values

	// ClientMetadataURL is the https URL of a Client ID Metadata Document
	// that describes this client. It is used as the client_id at
	// authorization servers that support such documents.
	ClientMetadataURL string

	// ClientCredentials selects the client credentials grant: no user, the
	// client authenticates itself with ClientSecret or PrivateKey.
	ClientCredentials bool

	// PrivateKey, if not nil, authenticates the client with an RFC 7523
	// assertion (private_key_jwt), signed with RS256 or ES256 depending on
	// the key. KeyID is sent as the assertion's kid, if not empty.
	PrivateKey crypto.Signer
	KeyID      string

	// Workload, if not nil, signs in as a workload with its platform's
	// JWT (workload identity federation, SEP-1933): no registration, no
	// browser. ClientID, if set, is sent as the client_id; a client
	// secret or key is not used.
	Workload *Workload

	// Enterprise, if not nil, signs in with the company identity
	// provider's ID token instead of a browser (SEP-990). It needs ClientID.
	Enterprise *Enterprise

	// DPoP is whether the tokens are bound to a key of the bridge's
	// (sender-constrained, RFC 9449): [DPoPOff] (the default, also ""),
	// [DPoPOn] or [DPoPAuto]. The key is created at the first sign-in
	// with it and kept in Store with the tokens; a refresh uses the stored
	// key whatever the mode.
	DPoP string

	// Login is how the user signs in: [LoginBrowser] (the default),
	// [LoginDevice] or [LoginPaste].
	Login string

	// CallbackPort is the loopback port of the redirect URI. If zero, a free
	// port is chosen (and, for a dynamic registration, kept).
	CallbackPort int

	// CallbackHost and CallbackPath name the redirect URI's host and path:
	// http://CallbackHost:PORT/CallbackPath. If empty, 127.0.0.1 and
	// /callback. The listener binds 127.0.0.1 in any case. mcp-remote
	// registers http://localhost:PORT/oauth/callback: its pre-registered
	// clients need these.
	CallbackHost string
	CallbackPath string

	// RegistrationMetadata, if set, is a JSON object of RFC 7591 client
	// metadata merged over that of a dynamic registration (client_name,
	// scope, token_endpoint_auth_method, software_id, ...), for servers
	// that expect their own values. redirect_uris is always the listener's.
	RegistrationMetadata json.RawMessage

	// LoginTimeout bounds how long a sign-in waits for the user. If zero, 5
	// minutes.
	LoginTimeout time.Duration

	// AuthorizeParams are added to the authorization request, for providers
	// that need more than the standard parameters.
	AuthorizeParams url.Values

	// LoginCommand is the command a user runs in a terminal to sign in to
	// this server, quoted in errors the host shows. If empty,
	// "mcp-bridge login " and ServerURL.
	LoginCommand string

	// HTTPClient talks to the servers. If nil, http.DefaultClient.
	HTTPClient *http.Client

	// FetchTimeout bounds each request to the MCP server's or the
	// authorization server's OAuth endpoints and metadata, body included.
	// If zero, 30 seconds.
	FetchTimeout time.Duration

	// Store keeps credentials between runs. If nil, a [MemoryStore].
	Store Store

	// StoreKey, if not empty, is the key of the credentials in Store,
	// instead of the one [StoreKey] derives: for commands that act on
	// credentials found in the store.
	StoreKey string

	// OpenURL opens the authorization URL for the user. If nil, the system
	// browser (see [OpenBrowser]). An error means nothing opened: the URL
	// is then shown to the user (the prompt, the host's answer).
	OpenURL func(ctx context.Context, url string) error

	// SignInAgent, if not nil, runs a browser sign-in (the authorization
	// code grant through the loopback redirect) in a process of its own
	// that outlives this one: hosts kill a bridge long before a person has
	// signed in, and the listener would die with it. It starts that process
	// or joins the one under way for the same credentials, calls shown with
	// the authorization URL once that process knows it (and whether it
	// opened a browser), and returns once that process has ended, with its
	// failure if it reported one. The handler then reads the tokens it
	// saved from Store. It returns [ErrNoSignInAgent] when it runs none:
	// the sign-in then runs in this process. Step-ups, the device and
	// paste modes and the grants without a user always run in this
	// process.
	SignInAgent func(ctx context.Context, shown func(url string, opened bool)) error

	// OnSignInURL, if not nil, is told the authorization URL of a browser
	// sign-in of this process once the browser was opened (opened), or
	// failed to open. It must not block.
	OnSignInURL func(url string, opened bool)

	// Prompt receives what the user must read in the device and paste
	// modes, and Input gives the pasted URL in the paste mode. If nil,
	// those modes only report what to do in the error they return.
	Prompt io.Writer
	Input  io.Reader

	// Logger receives the sign-in's steps at Info, never a secret. If nil,
	// nothing is logged.
	Logger *slog.Logger

	// OnEvent, if not nil, is told of each sign-in, step-up, refresh and
	// logout once it is over, for an audit log. It must not block.
	OnEvent func(Event)

	// Now returns the current time. If nil, time.Now.
	Now func() time.Time
}

// userSignIn says whether a user signs in (a browser, a device code or a
// pasted redirect), rather than a client, a workload or an enterprise
// identity provider's token on the user's behalf.
func (c *Config) userSignIn() bool {
	return !c.ClientCredentials && c.Workload == nil && c.Enterprise == nil
}

// A Handler obtains and keeps the tokens for one MCP server. It
// implements [auth.OAuthHandler] and is safe for concurrent use.
type Handler struct {
	cfg       Config
	serverURL string // canonical
	resource  string // "" when left out
	key       string // the store key
	client    *http.Client
	store     Store
	log       *slog.Logger
	now       func() time.Time

	mu      sync.Mutex // guards creds, loaded, login, starts and stepUps
	creds   *Credentials
	loaded  bool
	login   *pendingLogin
	starts  []time.Time // interactive sign-ins started, for the storm guard
	signed  time.Time   // when this process last completed a sign-in
	stepUps []time.Time // step-ups started

	refreshes singleflight.Group
	scopes    atomic.Pointer[[]string] // Config.Scopes, or those of SetScopes

	dpopCache atomic.Pointer[dpopKey] // the DPoP key last decoded
	nonces    sync.Map                // origin (see dpopOrigin) → the newest DPoP-Nonce it sent

	spare        atomic.Pointer[spareProof] // a DPoP proof signed ahead of its request
	spareSigning atomic.Bool                // a spare is being signed
}

var _ auth.OAuthHandler = (*Handler)(nil)

// SetScopes replaces Config.Scopes while the handler runs. The tokens
// held keep their scopes: the new ones are asked for at the next sign-in
// or step-up.
func (h *Handler) SetScopes(scopes []string) {
	scopes = slices.Clone(scopes)
	h.scopes.Store(&scopes)
}

// New checks cfg and returns a Handler. It loads nothing yet.
func New(cfg *Config) (*Handler, error) {
	c := *cfg
	server, err := CanonicalResource(c.ServerURL)
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	resource := server
	if c.Resource != "" {
		if resource, err = CanonicalResource(c.Resource); err != nil {
			return nil, fmt.Errorf("resource: %w", err)
		}
	}
	if c.NoResource {
		resource = ""
	}
	switch c.DPoP {
	case "":
		c.DPoP = DPoPOff
	case DPoPOff, DPoPOn, DPoPAuto:
	default:
		return nil, fmt.Errorf("DPoP mode %q: want off, on or auto", c.DPoP)
	}
	switch c.Login {
	case "":
		c.Login = LoginBrowser
	case LoginBrowser, LoginDevice, LoginPaste:
	default:
		return nil, fmt.Errorf("login mode %q: want browser, device or paste", c.Login)
	}
	if c.ClientMetadataURL != "" {
		u, err := url.Parse(c.ClientMetadataURL)
		if err != nil || u.Scheme != "https" || strings.Trim(u.Path, "/") == "" {
			return nil, fmt.Errorf("client metadata URL %q: want an https URL with a path", c.ClientMetadataURL)
		}
	}
	if len(c.RegistrationMetadata) > 0 && !json.Valid(c.RegistrationMetadata) {
		return nil, errors.New("registration metadata: not valid JSON")
	}
	if c.CallbackPath != "" && c.CallbackPath[0] != '/' {
		return nil, fmt.Errorf("callback path %q: want a path starting with /", c.CallbackPath)
	}
	if c.ClientCredentials && c.ClientID == "" {
		return nil, errors.New("the client credentials grant needs a client id")
	}
	if c.ClientCredentials && c.ClientSecret == "" && c.PrivateKey == nil {
		return nil, errors.New("the client credentials grant needs a client secret or a private key")
	}
	if c.Enterprise != nil && (c.ClientID == "" || c.Enterprise.IDTokenFile == "" || c.Enterprise.IdPIssuer == "" || c.Enterprise.IdPClientID == "") {
		return nil, errors.New("enterprise-managed authorization needs an ID token file, the identity provider's issuer and client id, and a client id")
	}
	if c.Workload != nil {
		if err := c.Workload.check(); err != nil {
			return nil, err
		}
		if c.ClientCredentials || c.Enterprise != nil || c.ClientSecret != "" || c.PrivateKey != nil {
			return nil, errors.New("workload sign-in uses the workload's assertion alone: not with the client credentials grant, an ID token, a client secret or a private key")
		}
		c.Workload = &Workload{AssertionFile: c.Workload.AssertionFile, AssertionCommand: slices.Clone(c.Workload.AssertionCommand), Stderr: c.Workload.Stderr}
	}
	if c.LoginTimeout <= 0 {
		c.LoginTimeout = 5 * time.Minute
	}
	if c.LoginCommand == "" {
		c.LoginCommand = "mcp-bridge login " + c.ServerURL
	}
	key := c.StoreKey
	switch {
	case key != "":
	case c.Workload != nil:
		// Never the key of a user's sign-in to the same server.
		key = workloadStoreKey(server, resource, c.Workload)
	default:
		key = StoreKey(server, resource, c.ClientID, c.ClientMetadataURL)
	}
	h := &Handler{
		cfg:       c,
		serverURL: server,
		resource:  resource,
		key:       key,
		client:    c.HTTPClient,
		store:     c.Store,
		log:       c.Logger,
		now:       c.Now,
	}
	h.scopes.Store(&c.Scopes)
	if h.client == nil {
		h.client = http.DefaultClient
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = 30 * time.Second
		h.cfg.FetchTimeout = c.FetchTimeout
	}
	h.client = guarded(h.client, c.FetchTimeout)
	if h.store == nil {
		h.store = &MemoryStore{}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// StoreKey returns the key under which the credentials for a server are
// stored: a hash of its canonical URL, the resource and the configured
// client. It never depends on header values.
func StoreKey(serverURL, resource, clientID, clientMetadataURL string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{serverURL, resource, clientID, clientMetadataURL}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// Key returns the store key of h's credentials.
func (h *Handler) Key() string { return h.key }

// Credentials returns a copy of the credentials h holds, loading them from
// the store the first time, or nil.
func (h *Handler) Credentials(ctx context.Context) *Credentials {
	h.load(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.creds.clone()
}

// Preload starts reading the stored credentials in the background, so
// that a keychain's latency overlaps the process's start rather than
// delaying its first request.
func (h *Handler) Preload(ctx context.Context) {
	go h.load(ctx)
}

// load reads the stored credentials once.
func (h *Handler) load(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loaded {
		return
	}
	h.loaded = true
	c, err := h.store.Load(ctx, h.key)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		h.log.Warn("reading stored credentials failed; signing in anew", "err", err)
	default:
		h.creds = c
	}
}

// save makes c the current credentials and stores them. It stores first:
// a rotated refresh token must be saved before it can be needed again.
func (h *Handler) save(ctx context.Context, c *Credentials) error {
	if err := h.store.Save(ctx, h.key, c); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	h.mu.Lock()
	h.creds = c.clone()
	h.mu.Unlock()
	return nil
}

// lock takes the store's cross-process lock for h's key, if the store has
// one.
func (h *Handler) lock(ctx context.Context) (func(), error) {
	l, ok := h.store.(Locker)
	if !ok {
		return func() {}, nil
	}
	// Say why we wait, if we do: another process is signing in.
	quick, cancel := context.WithTimeout(ctx, time.Second)
	unlock, err := l.Lock(quick, h.key)
	cancel()
	if err != nil && ctx.Err() == nil {
		h.log.Info("another mcp-bridge is signing in to this server, or refreshing its token; waiting for it")
		unlock, err = l.Lock(ctx, h.key)
	}
	if err != nil {
		return nil, fmt.Errorf("lock the credentials: %w", err)
	}
	return unlock, nil
}

// reread loads the credentials from the store again and makes them
// current; it returns them, or nil. A store error keeps what h holds.
func (h *Handler) reread(ctx context.Context) *Credentials {
	c, err := h.store.Load(ctx, h.key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		h.log.Warn("reading stored credentials failed", "err", err)
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.creds.clone()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.creds, h.loaded = c, true
	return c.clone()
}

// Reload reads the stored credentials again: another process has written
// them (a bridge beside this one, or the login command), or removed them
// (logout). It reports whether they differ from those the handler held:
// a change notice for the handler's own write changes nothing. Safe to
// call at any time.
func (h *Handler) Reload(ctx context.Context) (changed bool) {
	h.mu.Lock()
	before := h.creds.clone()
	ours := h.login != nil && h.login.agent.Load() // the write of the sign-in process this one waits for
	h.mu.Unlock()
	after := h.reread(ctx)
	return (before != nil || after != nil) && !sameCredentials(before, after) && !ours
}

// TokenSource implements [auth.OAuthHandler]. It returns nil until there
// is a token, so that the first request draws the server's challenge.
func (h *Handler) TokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	h.load(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.creds.HasToken() {
		return nil, nil
	}
	return h, nil
}

// Token implements [oauth2.TokenSource]: the current access token,
// refreshed first if it is about to expire. With no usable token it
// returns nil and no error, so that the request goes out bare and the
// server's challenge starts a sign-in.
func (h *Handler) Token() (*oauth2.Token, error) {
	h.mu.Lock()
	c := h.creds.clone()
	h.mu.Unlock()
	if !c.HasToken() {
		return nil, nil
	}
	if c.AccessToken != "" && !h.expiring(c) {
		return c.token(), nil
	}
	if h.cfg.Workload != nil && c.Client.Kind == KindWorkload && c.TokenEndpoint != "" {
		return h.workloadToken(c)
	}
	if c.RefreshToken == "" {
		return nil, nil
	}
	// A token source is not tied to a request's context (go-sdk
	// TestAuthorize_RefreshAfterContextCancel).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fresh, err := h.refresh(ctx, c)
	switch {
	case err == nil:
		return fresh.token(), nil
	case errors.Is(err, errRefreshRefused):
		return nil, nil // the 401 that follows starts a sign-in
	case c.AccessToken != "" && h.now().Before(c.Expiry):
		h.log.Warn("refreshing the token failed; using it until it expires", "err", err)
		return c.token(), nil
	case unreachable(err):
		// The authorization server that issued the token cannot be
		// reached at all: it may be gone, the server having moved to
		// another. The request goes out bare, and the server's 401 leads
		// to a sign-in through fresh discovery, which fails before any
		// browser opens if that authorization server is only down.
		h.log.Warn("the authorization server that issued the token cannot be reached; asking the server which one to use", "err", err)
		return nil, nil
	default:
		return nil, err
	}
}

// unreachable reports whether err is a failure to reach a host at all:
// no address for its name, or no connection to it.
func unreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}

// expiring reports whether c's access token expires soon enough to be
// refreshed first: within a minute, or a fifth of its lifetime if shorter.
func (h *Handler) expiring(c *Credentials) bool {
	if c.Expiry.IsZero() {
		return false
	}
	margin := time.Minute
	if life := c.Expiry.Sub(c.Obtained); life > 0 && life/5 < margin {
		margin = life / 5
	}
	return !h.now().Add(margin).Before(c.Expiry)
}

func (c *Credentials) token() *oauth2.Token {
	typ := c.TokenType
	switch {
	case strings.EqualFold(typ, "DPoP") && c.DPoPKey != "":
		typ = "DPoP" // RFC 9449 section 5: the scheme is DPoP only when the server says so
	case typ == "" || strings.EqualFold(typ, "bearer") || strings.EqualFold(typ, "DPoP"):
		// A DPoP token without the key would only be refused.
		typ = "Bearer"
	}
	return &oauth2.Token{AccessToken: c.AccessToken, TokenType: typ, Expiry: c.Expiry}
}

// Authorize implements [auth.OAuthHandler]: the server answered 401 (or
// 403 insufficient_scope) to req. On nil, the caller sends req again.
func (h *Handler) Authorize(ctx context.Context, req *http.Request, resp *http.Response) error {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	challenges, err := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		h.log.Debug("malformed WWW-Authenticate header", "err", err)
	}
	sent := sentToken(req)
	// Read the store, not only what this process holds: another process
	// (`mcp-bridge login`, a bridge beside this one) may have signed in or
	// refreshed, and the notice of its write may not have come yet
	// (tokenstore.WatchDelay). A 401 is rare, and a read of the store
	// costs less than a sign-in started for nothing.
	h.reread(ctx)

	c, renewed := h.renewedSince(sent)
	if renewed {
		return nil // another request, or process, has already renewed the token
	}
	if resp.StatusCode == http.StatusForbidden {
		return h.stepUp(ctx, challenges, c)
	}
	if sent != "" && sent == c.AccessToken && c.Issuer != "" {
		// The token may be refused because the server has moved to another
		// authorization server: a refresh at the old one would only get
		// another refused token.
		if named := h.movedTo(ctx, challenges, c.Issuer); named != "" {
			return h.move(ctx, challenges, c, named)
		}
		if c, renewed = h.renewedSince(sent); renewed {
			return nil // while the metadata was read
		}
	}
	if c.HasToken() && c.RefreshToken != "" {
		// The server no longer takes the token (revoked, or expired
		// early): a refresh, which needs no user, may do.
		if _, err := h.refresh(ctx, c); err == nil {
			return nil
		} else if !errors.Is(err, errRefreshRefused) {
			h.log.Warn("refreshing the rejected token failed", "err", err)
		}
	}
	if c.HasToken() && c.AccessToken != "" && h.signedInRecently() {
		// Storm guard: a server that refuses the token it was just given
		// would otherwise have the user sign in again and again.
		return fmt.Errorf("the server refused the token %s issued moments ago (401%s); not signing in again",
			c.Issuer, describeChallenge(challenges))
	}
	return h.signIn(ctx, challenges, nil)
}

// sentToken returns the access token req carried, in a Bearer or a DPoP
// Authorization header.
func sentToken(req *http.Request) string {
	scheme, tok, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// renewedSince returns the credentials held now, and whether they hold a
// fresh access token other than sent: another request has renewed it.
func (h *Handler) renewedSince(sent string) (*Credentials, bool) {
	h.mu.Lock()
	c := h.creds.clone()
	h.mu.Unlock()
	return c, c.HasToken() && c.AccessToken != "" && !h.expiring(c) && sent != c.AccessToken
}

// movedTo returns the authorization server the server's protected
// resource metadata names now, if it no longer lists issuer, or "".
func (h *Handler) movedTo(ctx context.Context, challenges []oauthex.Challenge, issuer string) string {
	prm, err := h.resourceMetadata(ctx, challenges)
	if err != nil {
		h.log.Debug("reading the protected resource metadata again failed", "err", err)
		return ""
	}
	if prm == nil || len(prm.AuthorizationServers) == 0 || slices.Contains(prm.AuthorizationServers, issuer) {
		return ""
	}
	return prm.AuthorizationServers[0]
}

// move handles a server that names another authorization server than the
// one c's tokens and client come from (basic/authorization/client-
// registration, "Authorization Server Binding", SEP-2352): a
// pre-registered client is an error, since its credentials belong to the
// old server; otherwise the tokens are dropped and the sign-in that
// follows registers at the new server (a dynamic registration is bound to
// its issuer; a Client ID Metadata Document is portable).
func (h *Handler) move(ctx context.Context, challenges []oauthex.Challenge, c *Credentials, issuer string) error {
	if err := h.checkBinding(c, issuer); err != nil {
		return err
	}
	h.log.Info("the server has moved to another authorization server; signing in there", "from", c.Issuer, "to", issuer)
	dropped := c.clone()
	dropped.AccessToken, dropped.RefreshToken, dropped.TokenType = "", "", ""
	dropped.Expiry, dropped.Obtained = time.Time{}, time.Time{}
	if err := h.save(ctx, dropped); err != nil {
		return err
	}
	return h.signIn(ctx, challenges, nil)
}

// checkBinding refuses to use the configured pre-registered client at an
// authorization server other than the one configured for it, or else the
// one it was first used at, which c records: its credentials belong there.
func (h *Handler) checkBinding(c *Credentials, issuer string) error {
	if h.cfg.ClientID == "" {
		return nil
	}
	if h.cfg.ClientIssuer != "" {
		if issuer == h.cfg.ClientIssuer {
			return nil
		}
		return fmt.Errorf("%w: the client %s is configured for %s, but the server names %s; its credentials are not sent there",
			ErrAuthorizationServerChanged, h.cfg.ClientID, h.cfg.ClientIssuer, quoteURL(issuer))
	}
	if c == nil || c.Issuer == "" || c.Issuer == issuer || c.Client.Kind != KindPreregistered || c.Client.ID != h.cfg.ClientID {
		return nil
	}
	return fmt.Errorf("%w: the client %s is registered at %s, but the server now names %s; its credentials are not sent there. "+
		"Register a client at %s and configure it, or sign out of this server if the same client is registered there too",
		ErrAuthorizationServerChanged, h.cfg.ClientID, quoteURL(c.Issuer), quoteURL(issuer), quoteURL(issuer))
}

// ErrAuthorizationServerChanged is wrapped by the error a sign-in returns
// when the server now names another authorization server than the one a
// pre-registered client was registered at: the client's credentials are
// not sent to the new one (basic/authorization/client-registration,
// "Authorization Server Binding").
var ErrAuthorizationServerChanged = errors.New("the server's authorization server changed")

// freshToken is how long a token counts as just issued, for the storm
// guard.
const freshToken = 10 * time.Second

// signedInRecently reports whether this process completed a sign-in
// moments ago: a token refused now was refused at once.
func (h *Handler) signedInRecently() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.signed.IsZero() && h.now().Sub(h.signed) < freshToken
}

// describeChallenge summarizes a challenge's error for messages.
func describeChallenge(cs []oauthex.Challenge) string {
	s := ""
	if e := challengeParam(cs, "error"); e != "" {
		s += " " + errorCode(e)
	}
	if d := challengeParam(cs, "error_description"); d != "" {
		s += ": " + serverSaid(d)
	}
	return s
}

// maxStepUps bounds the step-up sign-ins one server may ask for (basic/
// authorization, "Step-Up Authorization Flow": "no more than a few").
const maxStepUps = 3

// stepUp signs in again asking for the scopes already granted and those
// the 403 challenge names.
func (h *Handler) stepUp(ctx context.Context, challenges []oauthex.Challenge, c *Credentials) error {
	if challengeParam(challenges, "error") != "insufficient_scope" {
		return fmt.Errorf("the server refused access (403) with error %q", challengeParam(challenges, "error"))
	}
	need := strings.Fields(challengeParam(challenges, "scope"))
	var have []string
	if c != nil {
		have = c.Scopes
	}
	want := union(have, need)
	if len(need) > 0 && len(want) == len(have) {
		return fmt.Errorf("the server asks for scopes %q, which were already granted; it refuses them anyway", strings.Join(need, " "))
	}
	h.mu.Lock()
	now := h.now()
	h.stepUps = slices.DeleteFunc(h.stepUps, func(t time.Time) bool { return now.Sub(t) > signInsWindow })
	n := len(h.stepUps)
	if n < maxStepUps {
		h.stepUps = append(h.stepUps, now)
	}
	h.mu.Unlock()
	if n >= maxStepUps {
		return fmt.Errorf("the server asked for more scopes %d times within %v; giving up (it now wants %q)", n, signInsWindow, strings.Join(need, " "))
	}
	h.log.Info("the server needs more scopes: signing in again", "scopes", strings.Join(want, " "))
	return h.signIn(ctx, challenges, want)
}

// union returns a's elements followed by those of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// An Event is a sign-in, step-up, refresh or logout, once it is over: what
// it was and how it ended, never a token, code or secret.
type Event struct {
	Kind     string // one of the Event constants
	Issuer   string // the authorization server's, if known
	Start    time.Time
	Duration time.Duration
	Err      error // nil: it succeeded
}

// Kinds of [Event].
const (
	EventSignIn  = "sign_in"
	EventStepUp  = "step_up"
	EventRefresh = "refresh"
	EventLogout  = "logout"
)

// event tells Config.OnEvent of a kind of event that began at start.
func (h *Handler) event(kind string, start time.Time, err error) {
	if h.cfg.OnEvent == nil {
		return
	}
	issuer := ""
	h.mu.Lock()
	if h.creds != nil {
		issuer = h.creds.Issuer
	}
	h.mu.Unlock()
	h.cfg.OnEvent(Event{Kind: kind, Issuer: issuer, Start: start, Duration: h.now().Sub(start), Err: err})
}
