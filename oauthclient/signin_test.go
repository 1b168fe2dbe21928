package oauthclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// These tests sign in with a real MCP client (the Go SDK's, with a Handler
// as its OAuthHandler) to the demo server protected by the in-process
// authorization server. The only fake is the browser: an HTTP client that
// presses Approve on the consent page and follows the redirect into the
// Handler's loopback listener.

// newBrowser returns the fake browser for the authorization server as;
// the test fails if a visit fails.
func newBrowser(t *testing.T, as *oauthtest.AuthServer) *oauthtest.Browser {
	b := &oauthtest.Browser{Client: as.Client()}
	t.Cleanup(func() {
		if err := b.Err(); err != nil {
			t.Errorf("browser: %v", err)
		}
	})
	return b
}

// forbidBrowser fails the test if anything asks the browser to open.
func (e *env) forbidBrowser(t *testing.T) {
	e.browser.Forbid(func(url string) {
		t.Errorf("the browser was opened, but the sign-in should have needed none: %s", url)
	})
}

// opens is how many times the browser was asked to open.
func (e *env) opens() int { return len(e.browser.Opened()) }

// env is a protected demo server and what it takes to sign in to it.
type env struct {
	demo    *oauthtest.ProtectedDemo
	browser *oauthtest.Browser
	store   *oauthclient.MemoryStore
	clock   *oauthtest.Clock
}

func setup(t *testing.T, as *oauthtest.ASOptions, res *oauthtest.ResourceOptions) *env {
	t.Helper()
	if as == nil {
		as = &oauthtest.ASOptions{}
	}
	c := oauthtest.NewClock()
	as.Now = c.Now
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: as, Resource: res})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	return &env{demo: demo, browser: newBrowser(t, demo.AuthServer), store: &oauthclient.MemoryStore{}, clock: c}
}

// handler returns a Handler for the demo server; edit adjusts its config.
func (e *env) handler(t *testing.T, edit func(*oauthclient.Config)) *oauthclient.Handler {
	t.Helper()
	cfg := &oauthclient.Config{
		ServerURL:    e.demo.URL,
		HTTPClient:   e.demo.AuthServer.Client(),
		Store:        e.store,
		OpenURL:      e.browser.Open,
		LoginTimeout: 20 * time.Second,
		Now:          e.clock.Now,
	}
	if edit != nil {
		edit(cfg)
	}
	h, err := oauthclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// connect starts an MCP session with h authorizing it.
func (e *env) connect(ctx context.Context, h *oauthclient.Handler) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:     e.demo.URL,
		HTTPClient:   e.demo.AuthServer.Client(),
		OAuthHandler: h,
		MaxRetries:   -1,
	}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
}

func echo(ctx context.Context, s *mcp.ClientSession, text string) error {
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": text}})
	if err != nil {
		return err
	}
	if res.IsError || len(res.Content) == 0 || res.Content[0].(*mcp.TextContent).Text != text {
		return errors.New("echo returned something else")
	}
	return nil
}

// TestTokenLifecycle walks a token's life: no token → browser sign-in with
// dynamic registration → calls with the token → expiry and a refresh that
// rotates the refresh token, saved → a refused refresh → a new sign-in that
// reuses the registration.
func TestTokenLifecycle(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour}, nil)
	h := e.handler(t, nil)
	ctx := t.Context()
	s, err := e.connect(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(ctx, s, "one"); err != nil {
		t.Fatal(err)
	}
	st := e.demo.AuthServer.Stats()
	if e.opens() != 1 || st.AuthorizationRequests != 1 || st.Registrations != 1 {
		t.Fatalf("after sign-in: browser opened %d times, stats %+v; want 1, 1, 1", e.opens(), st)
	}
	first, _ := e.store.Load(ctx, h.Key())
	if first == nil || first.RefreshToken == "" || first.Client.Kind != oauthclient.KindDynamic || first.Resource != e.demo.URL {
		t.Fatalf("stored credentials = %+v", first)
	}

	e.clock.Advance(59 * time.Second) // within the refresh margin
	if err := echo(ctx, s, "two"); err != nil {
		t.Fatal(err)
	}
	second, _ := e.store.Load(ctx, h.Key())
	if st := e.demo.AuthServer.Stats(); st.Refreshes != 1 || e.opens() != 1 {
		t.Fatalf("after expiry: %d refreshes, %d browser opens; want 1 and 1", st.Refreshes, e.opens())
	}
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Errorf("the rotated tokens were not saved")
	}

	// The server forgets the refresh token: the next expiry needs a sign-in,
	// which reuses the registration.
	e.clock.Advance(2 * time.Hour)
	if err := echo(ctx, s, "three"); err != nil {
		t.Fatal(err)
	}
	if st := e.demo.AuthServer.Stats(); e.opens() != 2 || st.Registrations != 1 {
		t.Errorf("after the refresh token expired: %d browser opens, %d registrations; want 2 and 1", e.opens(), st.Registrations)
	}
}

// TestStoredTokenNeedsNoBrowser: a second Handler (the next start) with
// the same store signs nothing in.
func TestStoredTokenNeedsNoBrowser(t *testing.T) {
	e := setup(t, nil, nil)
	ctx := t.Context()
	s, err := e.connect(ctx, e.handler(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	e.forbidBrowser(t)
	s, err = e.connect(ctx, e.handler(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(ctx, s, "again"); err != nil {
		t.Fatal(err)
	}
	if st := e.demo.AuthServer.Stats(); st.AuthorizationRequests != 1 {
		t.Errorf("%d authorization requests, want 1", st.AuthorizationRequests)
	}
}

// TestSignedInElsewhereFirst: a Handler that read the store before
// another process signed in, and has not been told of its write, uses
// the tokens that process saved when the server refuses its bare request:
// no sign-in process is started. Before, the notice of the write had to
// come first (`mcp-bridge login` in a terminal, then a host's request at
// once); a sign-in in this process did read the store again.
func TestSignedInElsewhereFirst(t *testing.T) {
	e := setup(t, nil, nil)
	ctx := t.Context()
	stale := e.handler(t, func(c *oauthclient.Config) {
		c.SignInAgent = func(context.Context, func(string, bool)) error {
			t.Error("a sign-in process was started")
			return oauthclient.ErrNoSignInAgent
		}
	})
	if c := stale.Credentials(ctx); c != nil {
		t.Fatalf("credentials before any sign-in: %+v", c)
	}
	if err := e.handler(t, nil).Login(ctx); err != nil {
		t.Fatal(err)
	}
	e.forbidBrowser(t)
	s, err := e.connect(ctx, stale)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(ctx, s, "mine"); err != nil {
		t.Fatal(err)
	}
	if st := e.demo.AuthServer.Stats(); st.AuthorizationRequests != 1 {
		t.Errorf("%d authorization requests, want 1 (the other process's)", st.AuthorizationRequests)
	}
}

// TestConcurrent401sSignInOnce: many requests refused at once lead to one
// sign-in, one browser tab.
func TestConcurrent401sSignInOnce(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{NoRefreshTokens: true, AccessTokenTTL: time.Hour}, nil)
	h := e.handler(t, nil)
	ctx := t.Context()
	s, err := e.connect(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e.clock.Advance(2 * time.Hour) // every request now gets a 401
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			if err := echo(ctx, s, strings.Repeat("x", i+1)); err != nil {
				t.Log(err)
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of 20 calls failed", failed.Load())
	}
	if n := e.opens(); n != 2 {
		t.Errorf("the browser opened %d times, want 2 (the first sign-in, then one for 20 refused requests)", n)
	}
}

// TestStepUp: a tool that needs another scope answers 403
// insufficient_scope; the Handler signs in for the union and the call
// succeeds.
func TestStepUp(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{Scopes: []string{"demo:read", "demo:write"}},
		&oauthtest.ResourceOptions{Scopes: []string{"demo:read"}, ToolScopes: map[string]string{"add": "demo:write"}})
	h := e.handler(t, nil)
	ctx := t.Context()
	s, err := e.connect(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}}); err != nil {
		t.Fatal(err)
	}
	c := h.Credentials(ctx)
	if !strings.Contains(strings.Join(c.Scopes, " "), "demo:read") || !strings.Contains(strings.Join(c.Scopes, " "), "demo:write") {
		t.Errorf("scopes after step-up = %q, want demo:read and demo:write", c.Scopes)
	}
	if n := e.opens(); n != 2 {
		t.Errorf("the browser opened %d times, want 2", n)
	}
}

// TestNoBrowser: where no browser opens, the request fails at once with an
// error that gives the URL and the login command; the sign-in goes on, and
// once the user opens the URL by hand the next request works.
func TestNoBrowser(t *testing.T) {
	e := setup(t, nil, nil)
	e.browser.Refuse(true)
	h := e.handler(t, func(c *oauthclient.Config) { c.LoginCommand = "mcp-bridge login demo" })
	ctx := t.Context()
	_, err := e.connect(ctx, h)
	var lre *oauthclient.LoginRequiredError
	if !errors.As(err, &lre) || lre.URL == "" || !strings.Contains(err.Error(), "mcp-bridge login demo") {
		t.Fatalf("err = %v, want a LoginRequiredError with the URL and the command", err)
	}
	if err := e.browser.Visit(ctx, lre.URL); err != nil { // the user opens it by hand, then retries
		t.Fatal(err)
	}
	s, err := e.connect(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if e.demo.AuthServer.Stats().AuthorizationRequests != 1 {
		t.Errorf("more than one authorization request")
	}
}

// TestHostile checks that the Handler refuses what a hostile or broken
// server offers, says why, and never opens the browser on it.
func TestHostile(t *testing.T) {
	tests := []struct {
		name    string
		as      *oauthtest.ASOptions
		res     *oauthtest.ResourceOptions
		opens   int // how many times the browser may open
		wantErr string
	}{
		{"issuer mismatch", &oauthtest.ASOptions{MetadataIssuer: "https://other.example"}, nil, 0, "states issuer"},
		{"resource mismatch", nil, &oauthtest.ResourceOptions{MetadataResource: "https://evil.example.com/mcp"}, 0, "is for \"https://evil.example.com/mcp\""},
		{"no PKCE", &oauthtest.ASOptions{OmitCodeChallengeMethods: true}, nil, 0, "PKCE"},
		{"plain PKCE only", &oauthtest.ASOptions{CodeChallengeMethods: []string{"plain"}}, nil, 0, "S256"},
		{"http endpoints", &oauthtest.ASOptions{EndpointBase: "http://auth.example.com"}, nil, 0, "plain http"},
		{"javascript: endpoint", &oauthtest.ASOptions{EndpointBase: "javascript:alert(1)//"}, nil, 0, "scheme"},
		{"file: endpoint", &oauthtest.ASOptions{EndpointBase: "file:///etc"}, nil, 0, "scheme"},
		{"wrong state", &oauthtest.ASOptions{RedirectState: "forged"}, nil, 1, "no sign-in within"},
		{"wrong iss", &oauthtest.ASOptions{RedirectIss: "https://evil.example"}, nil, 1, "refusing it"},
		{"missing iss", &oauthtest.ASOptions{OmitIss: true}, nil, 1, "promises an iss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.as, tt.res)
			h := e.handler(t, func(c *oauthclient.Config) { c.LoginTimeout = 2 * time.Second })
			_, err := e.connect(t.Context(), h)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to say %q", err, tt.wantErr)
			}
			if n := e.opens(); n != tt.opens {
				t.Errorf("the browser opened %d times, want %d", n, tt.opens)
			}
			if c := h.Credentials(t.Context()); c != nil && c.AccessToken != "" {
				t.Errorf("a token was kept")
			}
		})
	}
}

// TestStormGuard: a server that refuses every token gets one sign-in, not a
// stream of browser tabs.
func TestStormGuard(t *testing.T) {
	e := setup(t, nil, &oauthtest.ResourceOptions{
		Verifier: func(context.Context, string, *http.Request) (*auth.TokenInfo, error) {
			return nil, auth.ErrInvalidToken
		},
	})
	h := e.handler(t, nil)
	ctx := t.Context()
	for range 5 {
		if _, err := e.connect(ctx, h); err == nil {
			t.Fatal("connected to a server that refuses every token")
		}
	}
	if n := e.opens(); n != 1 {
		t.Errorf("the browser opened %d times for a server that refuses every token, want 1", n)
	}
}

// TestResourceAsPublished: a server at /mcp whose protected resource
// metadata, at the root, describes its whole origin binds tokens to that
// identifier. The bridge finds the metadata through the challenge or at
// the well-known root, accepts it (the origin holds the server), and
// sends the identifier exactly as published, with or without a "/" for
// the empty path (RFC 9728 section 1; the conformance suite's
// auth/metadata-var2 checks this from its 0.2 releases on).
func TestResourceAsPublished(t *testing.T) {
	for _, tc := range []struct {
		name, suffix string
		noParam      bool
	}{{"challenge", "", false}, {"well-known", "", true}, {"well-known, with /", "/", true}} {
		suffix := tc.suffix
		t.Run(tc.name, func(t *testing.T) {
			var log oauthtest.EventLog
			c := oauthtest.NewClock()
			demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{
				AuthServer: &oauthtest.ASOptions{Now: c.Now, OnEvent: log.Record},
				Resource:   &oauthtest.ResourceOptions{NoResourceMetadataParam: tc.noParam},
				ResourceOf: func(u string) string { return strings.TrimSuffix(u, "/mcp") + suffix },
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(demo.Close)
			e := &env{demo: demo, browser: newBrowser(t, demo.AuthServer), store: &oauthclient.MemoryStore{}, clock: c}
			s, err := e.connect(t.Context(), e.handler(t, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := echo(t.Context(), s, "bound to the origin"); err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(demo.URL, "/mcp") + suffix
			if issued := log.Of(oauthtest.EventTokenIssued); len(issued) != 1 || issued[0].Resource != want {
				t.Errorf("tokens issued: %v, want one for %q", issued, want)
			}
		})
	}
}

// TestIssuerGone: the authorization server that issued the stored tokens
// is gone, the server having moved to another. Once the access token
// expires, its refresh cannot reach the old server, so the request goes
// out bare; the server's 401 leads to the new authorization server, where
// the handler registers and signs in once, and the call succeeds.
func TestIssuerGone(t *testing.T) {
	e := setup(t, nil, nil)
	h := e.handler(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	if err := e.store.Save(t.Context(), h.Key(), &oauthclient.Credentials{
		Server: e.demo.URL, Resource: e.demo.URL, Issuer: gone, TokenEndpoint: gone + "/token",
		Client:      oauthclient.Client{ID: "old-client", Kind: oauthclient.KindDynamic, AuthMethod: "none"},
		AccessToken: "old-access", RefreshToken: "old-refresh", TokenType: "Bearer",
		Expiry: e.clock.Now().Add(-time.Minute), Obtained: e.clock.Now().Add(-time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(t.Context(), s, "at the new authorization server"); err != nil {
		t.Fatal(err)
	}
	if st := e.demo.AuthServer.Stats(); st.Registrations != 1 || e.opens() != 1 {
		t.Errorf("%d registrations and %d sign-ins, want one of each at the new authorization server", st.Registrations, e.opens())
	}
	if c := h.Credentials(t.Context()); c == nil || c.Issuer != e.demo.AuthServer.Issuer() {
		t.Errorf("stored credentials %+v, want the new issuer's", c)
	}
}

// TestIssuerDown: the authorization server is down when the token
// expires. The request goes out bare, and the sign-in that its 401 starts
// fails at discovery, naming the authorization server, before any browser
// opens.
func TestIssuerDown(t *testing.T) {
	e := setup(t, nil, nil)
	h := e.handler(t, nil)
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	e.demo.AuthServer.Close()
	e.clock.Advance(2 * time.Hour)
	_, err = e.connect(t.Context(), h)
	if err == nil || !strings.Contains(err.Error(), "authorization server") {
		t.Errorf("err = %v, want one naming the authorization server", err)
	} else {
		t.Logf("the host would see: %v", err)
	}
	if n := e.opens(); n != 1 {
		t.Errorf("the browser opened %d times, want once, for the first sign-in", n)
	}
}
