package preset_test

import (
	"context"
	"errors"
	"net"
	"strings"
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
// The only fake is the browser ([oauthtest.Browser]), which records the
// provider's refusals: here they are expected.

// opens is how many times the browser was asked to open.
func (e *env) opens() int { return len(e.browser.Opened()) }

// env is a protected demo server and what it takes to sign in to it.
type env struct {
	demo    *oauthtest.ProtectedDemo
	browser *oauthtest.Browser
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
	return &env{demo: demo, browser: &oauthtest.Browser{Client: demo.AuthServer.Client()}, store: &oauthclient.MemoryStore{}, clock: c}
}

// config returns the settings a user gives for the demo server; edit
// adjusts them.
func (e *env) config(edit func(*oauthclient.Config)) *oauthclient.Config {
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
	if e.opens() > 0 {
		// Let a visit under way record its refusal.
		time.Sleep(100 * time.Millisecond)
		refusal := "no refusal"
		if err := e.browser.Err(); err != nil {
			refusal = err.Error()
		}
		msg += "; browser: " + refusal
	}
	return msg
}

// wantRefreshed advances the clock by d, past the access token's expiry,
// and checks that the next call is made with a refreshed token, without
// a browser.
func (e *env) wantRefreshed(t *testing.T, s *mcp.ClientSession, d time.Duration) {
	t.Helper()
	before := e.demo.AuthServer.Stats().Refreshes
	opened := e.opens()
	e.browser.Forbid(func(url string) {
		t.Errorf("the browser was opened, but the sign-in should have needed none: %s", url)
	})
	defer e.browser.Forbid(nil)
	e.clock.Advance(d)
	if err := echo(t.Context(), s, "after expiry"); err != nil {
		t.Fatalf("call after the token expired: %v", err)
	}
	if n := e.demo.AuthServer.Stats().Refreshes - before; n != 1 || e.opens() != opened {
		t.Errorf("after expiry: %d refreshes and %d more browser tabs, want 1 and 0", n, e.opens()-opened)
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
