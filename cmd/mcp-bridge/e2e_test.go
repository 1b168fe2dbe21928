package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// These tests run the real binary against the in-process demo server (Go
// SDK) for the behaviours that golden transcripts do not show well:
// concurrency, size, transport memory, shutdown, TLS, proxies, headers and
// logs.

// requestLog records the requests a demo server receives.
type requestLog struct {
	mu        sync.Mutex
	reqs      []*http.Request
	discovers int // era probes, which reqs leaves out
}

func (l *requestLog) observe(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isDiscover(r) {
		l.discovers++
		return
	}
	l.reqs = append(l.reqs, r)
}

// isDiscover reports whether r is the bridge's server/discover, with which
// it finds out a server's protocol era (once per server and authorization
// context: the verdict is remembered).
func isDiscover(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("Mcp-Method") == "server/discover"
}

func (l *requestLog) all() []*http.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*http.Request(nil), l.reqs...)
}

// demo starts a demo server for the test.
func demo(t *testing.T, opts *demoserver.Options) *demoserver.Server {
	t.Helper()
	if opts == nil {
		opts = &demoserver.Options{}
	}
	srv, err := demoserver.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestConcurrentCalls keeps 64 tools/call requests in flight at once and
// checks that each gets its own answer, under its own id. Each call asks
// the host a question (elicitation) and cannot finish before the host
// answers, so all 64 are provably in flight together, and the 64 questions
// and answers cross the bridge the other way at the same time.
func TestConcurrentCalls(t *testing.T) {
	srv := demo(t, nil)
	h := startBridge(t, srv.MCPURL())
	h.initialize("2025-11-25", `{"elicitation":{"form":{}}}`)
	const n = 64
	callID := func(i int) string {
		if i%2 == 0 {
			return fmt.Sprintf(`"call-%d"`, i) // string and number ids
		}
		return fmt.Sprint(1000 + i)
	}
	for i := range n {
		h.send(`{"jsonrpc":"2.0","id":` + callID(i) + `,"method":"tools/call","params":{"name":"confirm","arguments":{"message":"` + fmt.Sprint(i) + `"}}}`)
	}
	// All 64 questions arrive before any call can end.
	questions := map[int]json.RawMessage{} // by call number
	for range n {
		m := h.recvMsg()
		var p struct{ Message string }
		if m.Method != "elicitation/create" || json.Unmarshal(m.Params, &p) != nil {
			t.Fatalf("want an elicitation request, got %+v", m)
		}
		i, _ := strconv.Atoi(p.Message)
		questions[i] = m.ID
	}
	if len(questions) != n {
		t.Fatalf("got %d distinct questions, want %d", len(questions), n)
	}
	// Accept odd calls, decline even ones: each answer must reach its own
	// call.
	for i, id := range questions {
		answer := `{"action":"decline"}`
		if i%2 == 1 {
			answer = `{"action":"accept","content":{"confirmed":true}}`
		}
		h.send(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":` + answer + `}`)
	}
	seen := map[string]bool{}
	for range n {
		m := h.recvMsg()
		if m.Error != nil || len(m.ID) == 0 {
			t.Fatalf("want a call result, got %+v", m)
		}
		i := -1
		for j := range n {
			if callID(j) == string(m.ID) {
				i = j
			}
		}
		want := "action=decline confirmed=false"
		if i%2 == 1 {
			want = "action=accept confirmed=true"
		}
		if i < 0 || !strings.Contains(string(m.Result), want) {
			t.Errorf("call %s: got %s, want %q", m.ID, m.Result, want)
		}
		if seen[string(m.ID)] {
			t.Errorf("id %s answered twice", m.ID)
		}
		seen[string(m.ID)] = true
	}
	if len(seen) != n {
		t.Errorf("got %d distinct answers, want %d", len(seen), n)
	}
}

// TestBigResult checks that a 10 MB tool result reaches the host intact,
// as one line.
func TestBigResult(t *testing.T) {
	srv := demo(t, nil)
	h := startBridge(t, srv.MCPURL())
	h.initialize("2025-11-25", `{}`)
	const size = 10_000_000
	h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"big","arguments":{"bytes":%d}}}`, size))
	m := h.recvMsg()
	var res struct {
		Content []struct{ Text string } `json:"content"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil || len(res.Content) != 1 {
		t.Fatalf("bad result (%d bytes): %v", len(m.Result), err)
	}
	if res.Content[0].Text != demoserver.BigText(size) {
		t.Errorf("the 10 MB text came back altered (%d bytes)", len(res.Content[0].Text))
	}
}

// TestLegacyFallbackIsRemembered checks that auto mode falls back to
// HTTP+SSE when the initialize POST fails, and that the next start goes
// straight to HTTP+SSE without probing.
func TestLegacyFallbackIsRemembered(t *testing.T) {
	var log requestLog
	srv := demo(t, &demoserver.Options{Observe: log.observe})
	home := t.TempDir()
	start := func() *testHost {
		h := startBridgeIn(t, home, srv.SSEURL())
		h.initialize("2024-11-05", `{}`)
		h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}`)
		if m := h.recvMsg(); string(m.ID) != "1" || !strings.Contains(string(m.Result), `"sum":3`) {
			t.Fatalf("tools/call over HTTP+SSE: %+v", m)
		}
		if code := h.closeAndWait(); code != 0 {
			t.Errorf("exit code %d", code)
		}
		return h
	}

	h := start()
	first := log.all()
	if len(first) < 2 || first[0].Method != http.MethodPost || first[1].Method != http.MethodGet {
		t.Errorf("first start: want a POST probe then a GET, got %v", methods(first))
	}
	if !strings.Contains(h.stderr.String(), "legacy HTTP+SSE") {
		t.Errorf("the fallback was not logged:\n%s", h.stderr.String())
	}
	cache, err := os.ReadFile(filepath.Join(home, "cache", "mcp-bridge", "transports.json"))
	if err != nil || !strings.Contains(string(cache), `"sse"`) {
		t.Errorf("transport cache = %s, %v", cache, err)
	}

	start()
	second := log.all()[len(first):]
	if len(second) == 0 || second[0].Method != http.MethodGet {
		t.Errorf("second start: want a GET first (no probe), got %v", methods(second))
	}
}

func methods(reqs []*http.Request) []string {
	var ms []string
	for _, r := range reqs {
		ms = append(ms, r.Method+" "+r.URL.Path)
	}
	return ms
}

// startBridgeIn is startBridge with a given home directory, so that two
// starts share the user's cache.
func startBridgeIn(t *testing.T, home string, args ...string) *testHost {
	return startBridgeEnv(t, homeEnv(home), args...)
}

// TestShutdown checks the end of a session: on stdin EOF a pending request
// gets the grace period (5 s) and then an error, the session is DELETEd,
// and the exit code is 0; on SIGTERM the same happens at once.
func TestShutdown(t *testing.T) {
	for _, how := range []string{"eof", "sigterm"} {
		t.Run(how, func(t *testing.T) {
			var log requestLog
			srv := demo(t, &demoserver.Options{Observe: log.observe})
			h := startBridge(t, srv.MCPURL())
			h.initialize("2025-11-25", `{}`)
			h.send(`{"jsonrpc":"2.0","id":"long","method":"tools/call","params":{"name":"slow","arguments":{"delay_ms":60000},"_meta":{"progressToken":1}}}`)
			if m := h.recvMsg(); m.Method != "notifications/progress" {
				t.Fatalf("want the slow call's start, got %+v", m) // the call is running
			}
			if how == "eof" {
				h.stdin.Close()
			} else {
				h.cmd.Process.Signal(syscall.SIGTERM)
			}
			m := h.recvMsg()
			if string(m.ID) != `"long"` || m.Error == nil || !strings.Contains(m.Error.Message, "shutting down") {
				t.Errorf("the pending request got %+v, want an error saying the bridge is shutting down", m)
			}
			if code := h.closeAndWait(); code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			sawDelete := false
			for _, r := range log.all() {
				sawDelete = sawDelete || r.Method == http.MethodDelete && r.Header.Get("Mcp-Session-Id") != ""
			}
			if !sawDelete {
				t.Errorf("no DELETE of the session: %v", methods(log.all()))
			}
		})
	}
}

// TestCAFile checks --ca-file against a TLS server with its own CA, and
// that without it the host learns why the connection failed.
func TestCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(demoserver.Handler(nil))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	h := startBridge(t, srv.URL+"/mcp", "--ca-file", caFile)
	h.initialize("2025-11-25", `{}`)

	h2 := startBridge(t, srv.URL+"/mcp")
	h2.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if m := h2.recvMsg(); m.Error == nil || !strings.Contains(m.Error.Message, "certificate") {
		t.Errorf("without the CA: got %+v, want an error about the certificate", m)
	}
}

// TestProxyFromEnvironment checks that HTTP_PROXY is honoured: the bridge
// reaches a server by a name only the proxy can resolve.
func TestProxyFromEnvironment(t *testing.T) {
	srv := demo(t, nil)
	target, _ := url.Parse(srv.URL())
	var proxied sync.Map
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			proxied.Store(r.In.URL.Host, true)
			r.SetURL(target)
		},
	})
	t.Cleanup(proxy.Close)
	h := startBridgeEnv(t, []string{"HTTP_PROXY=" + proxy.URL, "NO_PROXY="},
		"http://mcp.example.test/mcp", "--allow-http")
	h.initialize("2025-11-25", `{}`)
	if _, ok := proxied.Load("mcp.example.test"); !ok {
		t.Errorf("the proxy saw no request for mcp.example.test")
	}
}

// TestStaticHeaders checks --header with ${VAR} and --header-file reach the
// server on every request, and that their values never reach the logs.
func TestStaticHeaders(t *testing.T) {
	var log requestLog
	srv := demo(t, &demoserver.Options{Observe: log.observe})
	file := filepath.Join(t.TempDir(), "headers")
	if err := os.WriteFile(file, []byte("X-From-File: file-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startBridgeEnv(t, []string{"DEMO_KEY=env-secret-value"},
		srv.MCPURL(), "--header", "X-Api-Key: ${DEMO_KEY}", "--header-file", file, "--log-level", "debug")
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	h.recvMsg()
	h.closeAndWait()
	for _, r := range log.all() {
		if r.Header.Get("X-Api-Key") != "env-secret-value" || r.Header.Get("X-From-File") != "file-secret-value" {
			t.Errorf("%s without the static headers: %v", r.Method, r.Header)
		}
	}
	if len(log.all()) < 4 {
		t.Errorf("want initialize, initialized, GET, tools/list and DELETE; got %v", methods(log.all()))
	}
	for _, secret := range []string{"env-secret-value", "file-secret-value"} {
		if strings.Contains(h.stderr.String(), secret) {
			t.Errorf("a header value appears in the debug log")
		}
	}
}

// TestLogging checks that at the default level the log has one line per
// session event, however many messages pass, and that --log-file gets the
// same lines as plain text, appended.
func TestLogging(t *testing.T) {
	srv := demo(t, nil)
	logFile := filepath.Join(t.TempDir(), "bridge.log")
	if err := os.WriteFile(logFile, []byte("earlier line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startBridge(t, srv.MCPURL(), "--log-file", logFile, "--log-level", "info") // the default, which startBridge changes
	h.initialize("2025-11-25", `{}`)
	for i := range 50 {
		h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/list"}`, i+1))
		h.recvMsg()
	}
	h.closeAndWait()
	lines := strings.Split(strings.TrimSpace(h.stderr.String()), "\n")
	if len(lines) > 4 {
		t.Errorf("%d log lines for 51 messages, want one per session event:\n%s", len(lines), h.stderr.String())
	}
	if !strings.Contains(lines[0], "connected") || !strings.Contains(lines[0], demoserver.Name) {
		t.Errorf("first line = %q, want the connection event", lines[0])
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "earlier line\n") || !strings.Contains(text, `msg=connected`) || strings.Contains(text, "\x1b[") {
		t.Errorf("log file = %q, want the earlier line kept, then plain text", text)
	}
}
