package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// These tests run the real binary with mcp-remote command lines taken
// from its README (https://github.com/geelen/mcp-remote) and check that
// each flag has its effect, not only that it parses.

// TestMCPRemoteClientCredentials: README "Signing In Without a User":
// --client-credentials with --static-oauth-client-info whose secret is
// ${MCP_CLIENT_SECRET}. The bridge signs in as the client, with no
// browser, and says nothing about ps since the secret is not on the
// command line.
func TestMCPRemoteClientCredentials(t *testing.T) {
	var ev oauthtest.EventLog
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
		OnEvent: ev.Record,
		Clients: []oauthtest.Client{{ID: "my-client", Secret: "cc-secret", GrantTypes: []string{"client_credentials"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridgeEnv(t, []string{"MCP_CLIENT_SECRET=cc-secret"}, "mcp-remote", demo.URL,
		"--client-credentials", "--static-oauth-client-info", `{"client_id":"my-client","client_secret":"${MCP_CLIENT_SECRET}"}`,
		"--browser-command", "false", "--token-store", "memory")
	signedInCall(t, h, "as the client")
	issued := ev.Of(oauthtest.EventTokenIssued)
	if len(issued) != 1 || issued[0].GrantType != "client_credentials" || issued[0].ClientID != "my-client" {
		t.Errorf("tokens issued: %v, want one by client_credentials to my-client", issued)
	}
	h.closeAndWait()
	if s := h.stderr.String(); strings.Contains(s, "visible to every process") || strings.Contains(s, "cc-secret") {
		t.Errorf("stderr warns about ps or shows the secret:\n%s", s)
	}
}

// TestMCPRemoteStaticClientPortHost: a client pre-registered for
// mcp-remote's redirect URI, with the positional callback port and
// --host (README "Flags"). The authorization server takes only
// http://127.0.0.1/oauth/callback, and the browser is sent to the port
// given; an inline secret draws the ps warning once.
func TestMCPRemoteStaticClientPortHost(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the recording browser is a shell script")
	}
	var ev oauthtest.EventLog
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
		OnEvent: ev.Record, NoDCR: true,
		Clients: []oauthtest.Client{{ID: "static", Secret: "inline-secret", RedirectURIs: []string{"http://127.0.0.1/oauth/callback"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	port := freePort(t)
	// The browser records the URL it is given, then approves.
	dir := t.TempDir()
	script := filepath.Join(dir, "browser")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > '"+dir+"/url'\nexec "+approver()+" \"$1\"\n"), 0o700)
	h := startBridge(t, "-y", "mcp-remote@latest", demo.URL, port,
		"--static-oauth-client-info", `{"client_id":"static","client_secret":"inline-secret"}`,
		"--host", "127.0.0.1", "--browser-command", script, "--token-store", "memory")
	signedInCall(t, h, "pre-registered")
	url, _ := os.ReadFile(filepath.Join(dir, "url"))
	if want := "redirect_uri=http%3A%2F%2F127.0.0.1%3A" + port + "%2Foauth%2Fcallback"; !strings.Contains(string(url), want) {
		t.Errorf("the browser got %s, want %s", url, want)
	}
	h.closeAndWait()
	s := h.stderr.String()
	if strings.Count(s, "visible to every process") != 1 || strings.Contains(s, "inline-secret") {
		t.Errorf("want one warning about ps, and never the secret:\n%s", s)
	}
}

// TestMCPRemoteFlagsEffects: --header "Authorization:${AUTH_HEADER}" (no
// blank, from env), --ignore-tool, --transport sse-only, --silent,
// --auth-timeout and --debug, each with its effect.
func TestMCPRemoteFlagsEffects(t *testing.T) {
	t.Run("header, ignore-tool, sse-only, silent", func(t *testing.T) {
		var log requestLog
		srv := demo(t, &demoserver.Options{Observe: log.observe})
		h := startBridgeEnv(t, []string{"AUTH_HEADER=Bearer from-env"}, "mcp-remote", srv.SSEURL(),
			"--header", "Authorization:${AUTH_HEADER}", "--ignore-tool", "ECHO*", "--transport", "sse-only", "--silent")
		h.initialize("2025-11-25", `{}`)
		h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		m := h.recvMsg()
		if m.Error != nil || strings.Contains(string(m.Result), `"echo"`) || !strings.Contains(string(m.Result), `"name"`) {
			t.Errorf("tools/list: %s %+v, want the tools without echo", m.Result, m.Error)
		}
		h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`)
		if m := h.recvMsg(); m.Error == nil {
			t.Errorf("a call to the ignored tool got %s", m.Result)
		}
		h.closeAndWait()
		reqs := log.all()
		if len(reqs) == 0 || reqs[0].Method != http.MethodGet {
			t.Fatalf("first request %v, want the SSE GET", methods(reqs))
		}
		for _, r := range reqs {
			if r.Header.Get("Authorization") != "Bearer from-env" {
				t.Errorf("%s %s: Authorization %q", r.Method, r.URL, r.Header.Get("Authorization"))
			}
			if r.Method == http.MethodPost && !strings.HasPrefix(r.URL.Path, "/sse") {
				t.Errorf("a POST went to %s: the Streamable HTTP endpoint was tried", r.URL.Path)
			}
		}
		if s := strings.TrimSpace(h.stderr.String()); s != "" {
			t.Errorf("--silent, but stderr has:\n%s", s)
		}
	})
	t.Run("auth-timeout and debug", func(t *testing.T) {
		demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(demo.Close)
		home := t.TempDir()
		// A browser that opens and does nothing: the sign-in waits for
		// --auth-timeout seconds, then the call fails.
		h := startBridgeIn(t, home, "mcp-remote", demo.URL, "--auth-timeout", "1", "--debug", "--browser-command", "true", "--token-store", "memory")
		h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test-host","version":"1.0"}}}`)
		if m := h.recvMsg(); m.Error == nil || !strings.Contains(m.Error.Message, "within 1s") {
			t.Errorf("want an error after the 1s sign-in wait, got %+v", m)
		}
		h.closeAndWait()
		logs, _ := filepath.Glob(filepath.Join(home, "cache", "mcp-bridge", "*_debug.log"))
		if len(logs) != 1 {
			t.Fatalf("debug logs %q, want one", logs)
		}
		data, _ := os.ReadFile(logs[0])
		if !strings.Contains(string(data), "level=DEBUG") || !strings.Contains(h.stderr.String(), "DBG") {
			t.Errorf("want debug lines on stderr and in %s", logs[0])
		}
	})
}

// freePort returns a loopback port free at the time of the call.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestMCPRemoteTransports: each of mcp-remote's --transport values against
// a server that speaks only legacy HTTP+SSE at /sse and one that speaks
// Streamable HTTP at /mcp, by the requests the server sees.
func TestMCPRemoteTransports(t *testing.T) {
	for _, tc := range []struct {
		transport, endpoint string
		want                []string // the first requests, in order
		works               bool
	}{
		{"http-first", "/sse", []string{"POST /sse", "GET /sse"}, true},
		{"sse-first", "/sse", []string{"POST /sse", "GET /sse"}, true}, // as auto: see mcpremote.go
		{"sse-only", "/sse", []string{"GET /sse"}, true},
		{"http-only", "/sse", []string{"POST /sse"}, false},
		{"http-only", "/mcp", []string{"POST /mcp"}, true},
		{"http-first", "/mcp", []string{"POST /mcp"}, true},
	} {
		t.Run(tc.transport+tc.endpoint, func(t *testing.T) {
			var log requestLog
			srv := demo(t, &demoserver.Options{Observe: log.observe})
			h := startBridge(t, "-y", "mcp-remote", srv.URL()+tc.endpoint, "--transport", tc.transport)
			h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"test-host","version":"1.0"}}}`)
			m := h.recvMsg()
			if works := m.Error == nil; works != tc.works {
				t.Fatalf("initialize: %s %+v, want it to work: %v", m.Result, m.Error, tc.works)
			} else if !works {
				t.Logf("the host saw: %s", m.Error.Message) // the server's 400, with its excerpt
			}
			h.closeAndWait()
			got := methods(log.all())
			if len(got) < len(tc.want) || !slices.Equal(got[:len(tc.want)], tc.want) {
				t.Errorf("requests %v, want them to start with %v", got, tc.want)
			}
			if !tc.works && len(got) != len(tc.want) {
				t.Errorf("requests %v after the failed probe: %s must not fall back", got, tc.transport)
			}
		})
	}
}
