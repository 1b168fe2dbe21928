package preset_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/internal/preset"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// The harness signs in with a real MCP client (the Go SDK's, with an
// oauthclient.Handler as its OAuthHandler) to the demo server protected by
// the in-process authorization server, set up to behave like a provider.
// The only fake is the browser. It is the harness of oauthclient's
// signin_test.go, but for a browser that records the provider's refusals
// instead of failing the test: here they are expected.

// browser is the fake user's browser: it records every URL it is asked to
// open and approves the consent page.
type browser struct {
	as      *oauthtest.AuthServer
	t       *testing.T
	forbids bool // fail the test if asked to open anything

	mu      sync.Mutex
	opened  []string
	refused []error // authorization requests the provider refused with an error page
}

func (b *browser) open(_ context.Context, url string) error {
	b.mu.Lock()
	b.opened = append(b.opened, url)
	b.mu.Unlock()
	if b.forbids {
		b.t.Errorf("the browser was opened, but the sign-in should have needed none: %s", url)
		return errors.New("no browser in this test")
	}
	go b.visit(url)
	return nil
}

// visit consents and follows the redirect to the loopback listener, as a
// browser would. An error page is recorded: the sign-in then waits in
// vain, as it would for a user facing the provider's error page.
func (b *browser) visit(url string) {
	redirect, err := b.as.Consent(context.Background(), url, true)
	if err != nil {
		b.mu.Lock()
		b.refused = append(b.refused, err)
		b.mu.Unlock()
		return
	}
	resp, err := http.Get(redirect.String())
	if err != nil {
		b.t.Errorf("follow the redirect: %v", err)
		return
	}
	resp.Body.Close()
}

func (b *browser) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.opened)
}

// refusal returns what the provider's error pages said, joined.
func (b *browser) refusal() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := errors.Join(b.refused...); err != nil {
		return err.Error()
	}
	return "no refusal"
}

// env is a protected demo server and what it takes to sign in to it.
type env struct {
	demo    *oauthtest.ProtectedDemo
	browser *browser
	store   *oauthclient.MemoryStore
	clock   *oauthtest.Clock
}

// start starts the demo server behind an authorization server with as and
// a protection with res (either may be nil).
func start(t *testing.T, as *oauthtest.ASOptions, res *oauthtest.ResourceOptions) *env {
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
	return &env{demo: demo, browser: &browser{as: demo.AuthServer, t: t}, store: &oauthclient.MemoryStore{}, clock: c}
}

// config returns the settings a user gives for the demo server; edit
// adjusts them.
func (e *env) config(edit func(*oauthclient.Config)) *oauthclient.Config {
	cfg := &oauthclient.Config{
		ServerURL:    e.demo.URL,
		HTTPClient:   e.demo.AuthServer.Client(),
		Store:        e.store,
		OpenURL:      e.browser.open,
		LoginTimeout: 20 * time.Second,
		Now:          e.clock.Now,
	}
	if edit != nil {
		edit(cfg)
	}
	return cfg
}

// handler returns a Handler for cfg.
func (e *env) handler(t *testing.T, cfg *oauthclient.Config) *oauthclient.Handler {
	t.Helper()
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

// signIn connects with cfg, expecting success, and calls a tool.
func (e *env) signIn(t *testing.T, cfg *oauthclient.Config) (*oauthclient.Handler, *mcp.ClientSession) {
	t.Helper()
	h := e.handler(t, cfg)
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := echo(t.Context(), s, "signed in"); err != nil {
		t.Fatal(err)
	}
	return h, s
}

// failSignIn connects with cfg, expecting a failure, and returns what the
// client and the browser were told.
func (e *env) failSignIn(t *testing.T, cfg *oauthclient.Config) string {
	t.Helper()
	cfg.LoginTimeout = 2 * time.Second
	s, err := e.connect(t.Context(), e.handler(t, cfg))
	if err == nil {
		s.Close()
		t.Fatal("signed in, but the provider should have refused")
	}
	msg := err.Error()
	if e.browser.count() > 0 {
		// Let a visit under way record its refusal.
		time.Sleep(100 * time.Millisecond)
		msg += "; browser: " + e.browser.refusal()
	}
	return msg
}

// wantRefreshed advances the clock by d, past the access token's expiry,
// and checks that the next call is made with a refreshed token, without
// a browser.
func (e *env) wantRefreshed(t *testing.T, s *mcp.ClientSession, d time.Duration) {
	t.Helper()
	before := e.demo.AuthServer.Stats().Refreshes
	opened := e.browser.count()
	e.browser.forbids = true
	defer func() { e.browser.forbids = false }()
	e.clock.Advance(d)
	if err := echo(t.Context(), s, "after expiry"); err != nil {
		t.Fatalf("call after the token expired: %v", err)
	}
	if n := e.demo.AuthServer.Stats().Refreshes - before; n != 1 || e.browser.count() != opened {
		t.Errorf("after expiry: %d refreshes and %d more browser tabs, want 1 and 0", n, e.browser.count()-opened)
	}
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

// wantSays fails unless msg says each of wants.
func wantSays(t *testing.T, msg string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
}

// apply applies a preset, expecting success.
func apply(t *testing.T, name string, cfg *oauthclient.Config, opts preset.Options) *oauthclient.Config {
	t.Helper()
	if err := preset.Apply(name, cfg, opts); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// freePort returns a loopback port that was free a moment ago, for a
// client registered with a fixed redirect port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
