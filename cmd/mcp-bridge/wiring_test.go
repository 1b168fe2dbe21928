package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
)

// forwardProxy is an HTTP forward proxy on loopback that records the
// requests it forwards.
type forwardProxy struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []*http.Request // guarded by mu
}

func newForwardProxy(t *testing.T) *forwardProxy {
	p := &forwardProxy{}
	p.srv = httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		p.mu.Lock()
		p.seen = append(p.seen, r.In.Clone(context.Background()))
		p.mu.Unlock()
		// A request to a proxy names its target in full.
		r.SetURL(&url.URL{Scheme: r.In.URL.Scheme, Host: r.In.URL.Host})
		r.Out.URL.Path, r.Out.URL.RawPath = r.In.URL.Path, r.In.URL.RawPath
	}})
	t.Cleanup(p.srv.Close)
	return p
}

// take returns the requests forwarded since the last call.
func (p *forwardProxy) take() []*http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := p.seen
	p.seen = nil
	return seen
}

// TestEveryCommandSendsHeaderAndProxy runs each command that talks to a
// server with --header and --proxy: every request goes through the proxy,
// and every request to the server's origin carries the header. doctor,
// login and logout used to drop --header, and logout --all --proxy: each
// command built its own client.
func TestEveryCommandSendsHeaderAndProxy(t *testing.T) {
	home, demo := terminalWorld(t)
	server, _ := url.Parse(demo.URL)
	proxy := newForwardProxy(t)
	const header = "X-Wiring-Test"
	flags := []string{"--header", header + ": sent", "--proxy", proxy.srv.URL, "--token-store", "file",
		"--browser-command", `"` + os.Args[0] + `" demo approve`}

	check := func(cmd string, toServer bool) {
		t.Helper()
		seen := proxy.take()
		if len(seen) == 0 {
			t.Errorf("%s: no request went through --proxy", cmd)
		}
		n := 0
		for _, r := range seen {
			if r.URL.Host != server.Host {
				continue
			}
			n++
			if got := r.Header.Get(header); got != "sent" {
				t.Errorf("%s: %s %s without --header (%s: %q)", cmd, r.Method, r.URL.Path, header, got)
			}
		}
		if toServer && n == 0 {
			t.Errorf("%s: no request to the server went through --proxy", cmd)
		}
	}
	command := func(args ...string) {
		t.Helper()
		var stdout bytes.Buffer
		var stderr lockedBuffer // shared with the browser command's output
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		if code := run(ctx, args, strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", args[0], code, stdout.String(), stderr.String())
		}
	}

	command(append([]string{"login", demo.URL}, flags...)...)
	check("login", true)
	command(append([]string{"doctor", demo.URL}, flags...)...)
	check("doctor", true)

	h := startBridgeEnv(t, homeEnv(home), append([]string{demo.URL}, flags...)...)
	h.initialize("2025-11-25", `{}`)
	h.closeAndWait()
	check("the bridge", true)

	command(append([]string{"logout", demo.URL}, flags...)...)
	check("logout", false)
	command(append([]string{"login", demo.URL}, flags...)...)
	proxy.take()
	command("logout", "--all", "--proxy", proxy.srv.URL, "--token-store", "file")
	check("logout --all", false)
	if n := demo.AuthServer.Stats().Revocations; n < 2 {
		t.Errorf("%d revocations, want one per logout", n)
	}
}

// TestWiringAuthContext checks what the bridge's configuration takes from
// the wiring: the authorization context is the store key, which differs
// between two clients of one server and holds no secret; and wire leaves
// the options as they were; and the client's transport is tuned.
func TestWiringAuthContext(t *testing.T) {
	for _, kv := range homeEnv(t.TempDir()) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("WIRING_SECRET", "s3cret-value")
	const server = "https://mcp.example.com/mcp"
	build := func(args ...string) *built {
		t.Helper()
		var stderr bytes.Buffer
		o, _ := parseBridgeArgs("mcp-bridge", append([]string{server, "--token-store", "memory"}, args...), nil, &stderr)
		if o == nil {
			t.Fatalf("parse %v: %s", args, stderr.String())
		}
		before := *o
		b, err := o.build(slog.New(slog.DiscardHandler), io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, *o) {
			t.Errorf("building %v changed the options", args)
		}
		return b
	}
	a := build("--client-id", "a", "--client-secret", "${WIRING_SECRET}")
	b := build("--client-id", "b")
	if a.cfg.AuthContext == "" || a.cfg.AuthContext != a.handler.Key() {
		t.Errorf("AuthContext %q, want the store key %q", a.cfg.AuthContext, a.handler.Key())
	}
	if a.cfg.AuthContext == b.cfg.AuthContext {
		t.Errorf("two clients of one server share the authorization context %q", a.cfg.AuthContext)
	}
	if strings.Contains(a.cfg.AuthContext, "s3cret") {
		t.Errorf("the authorization context holds the client secret")
	}
	if a.cfg.HTTPClient != a.client || a.cfg.OAuthHandler != a.handler {
		t.Error("the relay does not use the wiring's client and handler")
	}
	// Under the static headers, where the relay does not look.
	h, _ := a.client.Transport.(*httpclient.Headers)
	if h == nil {
		t.Fatalf("the client's transport is %T, want the static headers", a.client.Transport)
	}
	if tr, _ := h.Unwrap().(*http.Transport); tr == nil || tr.HTTP2 == nil || tr.HTTP2.SendPingTimeout <= 0 {
		t.Errorf("the transport under the headers is not tuned (bridge.TuneTransport)")
	}
}
