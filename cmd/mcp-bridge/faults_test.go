package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// These tests inject faults between the real bridge and a real server (the
// demo server, Go SDK) and check that the host gets an answer to every
// request and that its session carries on: the server restarts, drops the
// session, becomes unreachable for a while, cuts the standalone stream in
// the middle of an event, or dies during a call. Each logs what the host
// saw and how long it took (run with -v for the table).

// restartable serves a demo server's Streamable HTTP endpoint (/mcp) and
// HTTP+SSE endpoint (/sse) on a fixed loopback address, and can be stopped and started again there, as a fresh
// server with no sessions.
type restartable struct {
	t    *testing.T
	addr string
	opts *demoserver.Options

	mu  sync.Mutex
	srv *http.Server
}

func newRestartable(t *testing.T, opts *demoserver.Options) *restartable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &restartable{t: t, addr: ln.Addr().String(), opts: opts}
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *restartable) url() string { return "http://" + s.addr + "/mcp" }

func (s *restartable) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("/mcp", demoserver.Handler(s.opts))
	mux.Handle("/sse", demoserver.LegacySSEHandler(s.opts))
	srv := &http.Server{Handler: mux}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection, as a dying process would.
func (s *restartable) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// start serves a new demo server on the same address.
func (s *restartable) start() {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen on %s again: %v", s.addr, err)
	}
	s.serve(ln)
}

// faultProxy is a TCP proxy between the bridge and a server that can take
// the network away (existing connections reset, new ones refused) and cut
// the server's stream in the middle of an event.
type faultProxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	cut   []byte        // when the server sends this, forward half of it and cut the connection
	cuts  chan struct{} // gets a value at each cut
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}, cuts: make(chan struct{}, 10)}
	p.accept(ln)
	t.Cleanup(p.down)
	return p
}

func (p *faultProxy) url() string { return "http://" + p.addr + "/mcp" }

func (p *faultProxy) accept(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *faultProxy) pipe(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		reset(client)
		server.Close()
		return
	}
	p.conns[client], p.conns[server] = true, true
	p.mu.Unlock()
	closeBoth := func() {
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, server)
		p.mu.Unlock()
		client.Close()
		server.Close()
	}
	go func() {
		io.Copy(server, client)
		closeBoth()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			p.mu.Lock()
			cut := p.cut
			i := -1
			if cut != nil {
				i = bytes.Index(chunk, cut)
			}
			if i >= 0 {
				p.cut = nil
			}
			p.mu.Unlock()
			if i >= 0 {
				client.Write(chunk[:i+len(cut)/2])
				closeBoth()
				p.cuts <- struct{}{}
				return
			}
			if _, werr := client.Write(chunk); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeBoth()
}

// reset closes c with a TCP reset, as a vanished network path does when
// packets come back to a host that forgot the connection.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// down takes the network away: connections are reset and new ones refused.
func (p *faultProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

// up brings the network back, on the same address.
func (p *faultProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen on %s again: %v", p.addr, err)
	}
	p.accept(ln)
}

// cutAt arms the proxy to cut, once, the connection on which the server
// sends marker, in the middle of it.
func (p *faultProxy) cutAt(marker string) {
	p.mu.Lock()
	p.cut = []byte(marker)
	p.mu.Unlock()
}

// call sends a tools/call for add and returns the host's next message.
func (h *testHost) callAdd(id string, a, b int) msg {
	h.t.Helper()
	h.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"add","arguments":{"a":` + fmt.Sprint(a) + `,"b":` + fmt.Sprint(b) + `}}}`)
	return h.recvMsg()
}

// wantSum checks that m answers id with the sum.
func wantSum(t *testing.T, m msg, id string, sum int) {
	t.Helper()
	if string(m.ID) != id || m.Error != nil || !strings.Contains(string(m.Result), fmt.Sprintf(`"sum":%d`, sum)) {
		t.Fatalf("want the answer %d to %s, got %+v (error %+v)", sum, id, m, m.Error)
	}
}

// recvUntil returns the messages from the bridge up to and including the
// first for which stop is true.
func (h *testHost) recvUntil(stop func(msg) bool) []msg {
	h.t.Helper()
	var got []msg
	for {
		m := h.recvMsg()
		got = append(got, m)
		if stop(m) {
			return got
		}
	}
}

// recvAnswer returns the answer to id, skipping the notifications before it.
func (h *testHost) recvAnswer(id string) msg {
	h.t.Helper()
	got := h.recvUntil(func(m msg) bool { return string(m.ID) == id })
	return got[len(got)-1]
}

// logText returns the data of a notifications/message, or "".
func logText(m msg) string {
	var p struct {
		Data string `json:"data"`
	}
	if m.Method != "notifications/message" || json.Unmarshal(m.Params, &p) != nil {
		return ""
	}
	return p.Data
}

// countInitializes counts the initialize POSTs a server received: the only
// POSTs without a session id.
func countInitializes(log *requestLog) int {
	n := 0
	for _, r := range log.all() {
		if r.Method == http.MethodPost && r.Header.Get("Mcp-Session-Id") == "" {
			n++
		}
	}
	return n
}

// TestFaultServerRestarts restarts the server mid-session: the new one
// knows no session and answers 404, so the bridge starts a new session with
// the host's initialize and sends the call again. The host sees the
// answer, and nothing else: not the new initialize result.
func TestFaultServerRestarts(t *testing.T) {
	var log requestLog
	srv := newRestartable(t, &demoserver.Options{Observe: log.observe})
	h := startBridge(t, srv.url())
	h.initialize("2025-11-25", `{}`)
	wantSum(t, h.callAdd("1", 1, 2), "1", 3)

	srv.stop()
	srv.start()
	start := time.Now()
	m := h.callAdd("2", 2, 3)
	wantSum(t, m, "2", 5)
	t.Logf("fault: server restarts → host saw the normal answer %s in %v", m.Result, time.Since(start).Round(time.Millisecond))
	wantSum(t, h.callAdd("3", 3, 4), "3", 7)
	if n := countInitializes(&log); n != 2 {
		t.Errorf("the servers got %d initialize requests, want 2 (the host's, then the bridge's replay)", n)
	}
}

// TestFaultLegacyServerRestarts restarts an HTTP+SSE (2024-11-05) server:
// its event stream, and the session with it, ends; the host's next request
// opens a new stream, sets up a new session and is answered.
func TestFaultLegacyServerRestarts(t *testing.T) {
	srv := newRestartable(t, nil)
	h := startBridge(t, strings.TrimSuffix(srv.url(), "/mcp")+"/sse", "--transport", "sse")
	h.initialize("2024-11-05", `{}`)
	wantSum(t, h.callAdd("1", 1, 2), "1", 3)

	srv.stop()
	srv.start()
	// The next request comes after the bridge saw the stream end: one in
	// flight as it does is answered with the loss.
	h.waitStderr("connection to the server lost", 1)
	start := time.Now()
	m := h.callAdd("2", 2, 3)
	wantSum(t, m, "2", 5)
	t.Logf("fault: HTTP+SSE server restarts → host saw the normal answer in %v", time.Since(start).Round(time.Millisecond))
}

// TestFaultSessionDropped has the server end the session (its next request
// gets 404) while the host has subscribed to a resource and set a log
// level: the bridge starts a new session, restores both, and the calls in
// flight get their answers. Many requests meet the 404 at once: one new
// session serves them all.
func TestFaultSessionDropped(t *testing.T) {
	var log requestLog
	srv := demo(t, &demoserver.Options{Observe: log.observe, EventStore: true})
	h := startBridge(t, srv.MCPURL())
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":"sub","method":"resources/subscribe","params":{"uri":"` + demoserver.NoticeURI + `"}}`)
	if m := h.recvMsg(); string(m.ID) != `"sub"` || m.Error != nil {
		t.Fatalf("subscribe: %+v", m)
	}
	h.send(`{"jsonrpc":"2.0","id":"lvl","method":"logging/setLevel","params":{"level":"info"}}`)
	if m := h.recvMsg(); string(m.ID) != `"lvl"` || m.Error != nil {
		t.Fatalf("setLevel: %+v", m)
	}

	for ss := range srv.MCPServer().Sessions() {
		ss.Close()
	}
	start := time.Now()
	const n = 16
	for i := range n {
		h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"add","arguments":{"a":%d,"b":1}}}`, 100+i, i))
	}
	for range n {
		m := h.recvMsg()
		var id int
		if json.Unmarshal(m.ID, &id) != nil || id < 100 || id >= 100+n {
			t.Fatalf("want a call's answer, got %+v", m)
		}
		wantSum(t, m, fmt.Sprint(id), id-100+1)
	}
	t.Logf("fault: server drops the session → host saw %d normal answers in %v", n, time.Since(start).Round(time.Millisecond))
	if got := countInitializes(&log); got != 2 {
		t.Errorf("the server got %d initialize requests, want 2 (one new session for all)", got)
	}

	// The subscription and the log level hold in the new session.
	if err := srv.NotifyAll(t.Context(), "changed"); err != nil {
		t.Fatal(err)
	}
	h.recvUntil(func(m msg) bool {
		return m.Method == "notifications/resources/updated" && strings.Contains(string(m.Params), demoserver.NoticeURI)
	})
	h.send(`{"jsonrpc":"2.0","id":"n","method":"tools/call","params":{"name":"notify","arguments":{"text":"still logging","delay_ms":10}}}`)
	h.recvUntil(func(m msg) bool { return logText(m) == "still logging" })
}

// TestFaultSessionDroppedWhileIdle has the server end the session while
// the host sends nothing: the standalone stream's reconnection meets the
// 404, and the bridge starts a new session at once, with the host's
// subscription, so that the server's next notification reaches the host
// without waiting for a request from it.
func TestFaultSessionDroppedWhileIdle(t *testing.T) {
	srv := demo(t, &demoserver.Options{EventStore: true})
	subscribed := make(chan struct{}, 2)
	srv.MCPServer().AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			res, err := next(ctx, method, req)
			if method == "resources/subscribe" {
				subscribed <- struct{}{}
			}
			return res, err
		}
	})
	h := startBridge(t, srv.MCPURL())
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":"sub","method":"resources/subscribe","params":{"uri":"` + demoserver.NoticeURI + `"}}`)
	if m := h.recvMsg(); string(m.ID) != `"sub"` || m.Error != nil {
		t.Fatalf("subscribe: %+v", m)
	}
	waitFor(t, subscribed, "the server saw the host's subscription")
	// Idle means with the standalone stream open: were the session ended
	// before its first GET, the 404 would say "no stream" (as some servers
	// mean it), not "session over".
	h.waitStderr("standalone event stream open", 1)

	start := time.Now()
	for ss := range srv.MCPServer().Sessions() {
		ss.Close()
	}
	waitFor(t, subscribed, "the bridge restored the subscription in a new session, with no request from the host")
	if err := srv.NotifyAll(t.Context(), "changed"); err != nil {
		t.Fatal(err)
	}
	h.recvUntil(func(m msg) bool {
		return m.Method == "notifications/resources/updated" && strings.Contains(string(m.Params), demoserver.NoticeURI)
	})
	t.Logf("fault: server drops an idle session → host got the next notification %v later, without a request", time.Since(start).Round(time.Millisecond))
}

// waitFor waits for a value on c for at most recvTimeout.
func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(recvTimeout):
		t.Fatalf("not within %v: %s", recvTimeout, what)
	}
}

// TestFaultNetworkOutage takes the network away for 10 s: a request meanwhile
// gets an error at once that names the cause; once the network is back,
// the next request works on the same session, and the standalone stream
// reconnects and resumes with Last-Event-ID, so a notification sent while
// the host was cut off arrives.
func TestFaultNetworkOutage(t *testing.T) {
	var log requestLog
	srv := demo(t, &demoserver.Options{Observe: log.observe, EventStore: true})
	proxy := newFaultProxy(t, strings.TrimPrefix(srv.URL(), "http://"))
	h := startBridge(t, proxy.url())
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":"sub","method":"resources/subscribe","params":{"uri":"` + demoserver.NoticeURI + `"}}`)
	if m := h.recvMsg(); string(m.ID) != `"sub"` || m.Error != nil {
		t.Fatalf("subscribe: %+v", m)
	}
	wantSum(t, h.callAdd("1", 1, 1), "1", 2)
	// An event on the standalone stream before the outage, so that the
	// stream has an id to resume after.
	if err := srv.NotifyAll(t.Context(), "before"); err != nil {
		t.Fatal(err)
	}
	h.recvUntil(func(m msg) bool { return m.Method == "notifications/resources/updated" })

	proxy.down()
	start := time.Now()
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":2}}}`)
	m := h.recvAnswer("2")
	took := time.Since(start)
	if string(m.ID) != "2" || m.Error == nil || !strings.Contains(m.Error.Message, "refused the connection") {
		t.Fatalf("during the outage: want an error naming the refused connection, got %+v", m)
	}
	t.Logf("fault: network down → host saw %q in %v", m.Error.Message, took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("the error took %v", took)
	}
	if err := srv.NotifyAll(t.Context(), "while away"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second) // the outage itself, not a synchronisation
	proxy.up()

	start = time.Now()
	h.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":3,"b":3}}}`)
	got := h.recvUntil(func(m msg) bool { return string(m.ID) == "3" })
	wantSum(t, got[len(got)-1], "3", 6)
	t.Logf("fault: network back after 10 s → host saw the normal answer %s in %v", got[len(got)-1].Result, time.Since(start).Round(time.Millisecond))
	updated := func(m msg) bool {
		return m.Method == "notifications/resources/updated" && strings.Contains(string(m.Params), demoserver.NoticeURI)
	}
	if !slices.ContainsFunc(got, updated) {
		h.recvUntil(updated)
	}
	t.Logf("fault: network back → the notification sent during the outage arrived %v after the first answer", time.Since(start).Round(time.Millisecond))
	if n := countInitializes(&log); n != 1 {
		t.Errorf("%d initialize requests, want 1: the session survived", n)
	}
	if !resumedStream(&log) {
		t.Errorf("no GET resumed the standalone stream with Last-Event-ID: %v", methods(log.all()))
	}
}

// resumedStream reports whether a GET in log carried Last-Event-ID.
func resumedStream(log *requestLog) bool {
	for _, r := range log.all() {
		if r.Method == http.MethodGet && r.Header.Get("Last-Event-ID") != "" {
			return true
		}
	}
	return false
}

// TestFaultStreamCutMidEvent cuts the standalone stream in the middle of an
// event: the bridge drops the partial event, resumes with Last-Event-ID,
// and the server's event store sends the event again. The host gets it
// once.
func TestFaultStreamCutMidEvent(t *testing.T) {
	var log requestLog
	srv := demo(t, &demoserver.Options{Observe: log.observe, EventStore: true})
	proxy := newFaultProxy(t, strings.TrimPrefix(srv.URL(), "http://"))
	h := startBridge(t, proxy.url())
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":"lvl","method":"logging/setLevel","params":{"level":"info"}}`)
	if m := h.recvMsg(); m.Error != nil {
		t.Fatalf("setLevel: %+v", m)
	}

	// An event before the cut, so that the stream has an id to resume after.
	h.send(`{"jsonrpc":"2.0","id":0,"method":"tools/call","params":{"name":"notify","arguments":{"text":"first","delay_ms":20}}}`)
	got := h.recvUntil(func(m msg) bool { return logText(m) == "first" })

	proxy.cutAt("cut-me-here")
	start := time.Now()
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"notify","arguments":{"text":"cut-me-here","delay_ms":20}}}`)
	got = append(got, h.recvUntil(func(m msg) bool { return logText(m) == "cut-me-here" })...)
	took := time.Since(start)
	select {
	case <-proxy.cuts:
	default:
		t.Fatal("the proxy never cut the stream")
	}
	t.Logf("fault: GET stream cut mid-event → host saw the notification once, %v after the call", took.Round(time.Millisecond))
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"notify","arguments":{"text":"after the cut","delay_ms":20}}}`)
	got = append(got, h.recvUntil(func(m msg) bool { return logText(m) == "after the cut" })...)
	var texts []string
	for _, m := range got {
		if s := logText(m); s != "" {
			texts = append(texts, s)
		}
	}
	if strings.Join(texts, "|") != "first|cut-me-here|after the cut" {
		t.Errorf("log notifications = %q, want each once, in order", texts)
	}
	if !resumedStream(&log) {
		t.Errorf("no GET carried Last-Event-ID: %v", methods(log.all()))
	}
}

// TestFaultServerDiesDuringCall stops the server while a slow call is
// running: the host gets an error for it at once, not when some timeout
// fires; with an event store the bridge first tries to resume the stream.
// When a server is back, the next request works in a new session.
func TestFaultServerDiesDuringCall(t *testing.T) {
	for _, store := range []bool{false, true} {
		t.Run(fmt.Sprintf("eventstore=%v", store), func(t *testing.T) {
			srv := newRestartable(t, &demoserver.Options{EventStore: store})
			h := startBridge(t, srv.url())
			h.initialize("2025-11-25", `{}`)
			h.send(`{"jsonrpc":"2.0","id":"long","method":"tools/call","params":{"name":"slow","arguments":{"delay_ms":60000},"_meta":{"progressToken":1}}}`)
			if m := h.recvMsg(); m.Method != "notifications/progress" {
				t.Fatalf("want the slow call's start, got %+v", m)
			}
			start := time.Now()
			srv.stop()
			m := h.recvMsg()
			took := time.Since(start)
			if string(m.ID) != `"long"` || m.Error == nil {
				t.Fatalf("want an error for the running call, got %+v", m)
			}
			t.Logf("fault: server dies during a call (event store %v) → host saw %q in %v", store, m.Error.Message, took.Round(time.Millisecond))
			if took > 5*time.Second {
				t.Errorf("the error took %v", took)
			}
			srv.start()
			start = time.Now()
			m = h.callAdd(`"after"`, 1, 2)
			wantSum(t, m, `"after"`, 3)
			t.Logf("fault: server back → host saw the normal answer in %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestFaultSessionEndsForEveryone is a server that ends the session under
// many requests at once: all of them meet 404 together (the server holds
// its answers until all have arrived). The bridge starts one new session
// for all, and sends each request again in it.
func TestFaultSessionEndsForEveryone(t *testing.T) {
	const n = 12
	var (
		mu       sync.Mutex
		sessions int
		arrived  = make(chan struct{}, n)
		release  = make(chan struct{})
		once     sync.Once
	)
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		id, method := envelope(body)
		switch {
		case r.Method == http.MethodGet:
			http.Error(w, "no stream", http.StatusMethodNotAllowed)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case method == "initialize":
			mu.Lock()
			sessions++
			sid := fmt.Sprint("sess-", sessions)
			mu.Unlock()
			w.Header().Set("Mcp-Session-Id", sid)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, id, initResult)
		case id == nil:
			w.WriteHeader(http.StatusAccepted)
		case r.Header.Get("Mcp-Session-Id") == "sess-1" && method == "x/work":
			arrived <- struct{}{}
			if len(arrived) == n {
				once.Do(func() { close(release) })
			}
			<-release
			http.Error(w, "session not found", http.StatusNotFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"session":%q}}`, id, r.Header.Get("Mcp-Session-Id"))
		}
	})
	h := startBridge(t, srv.URL+"/mcp")
	h.initialize("2025-06-18", `{}`)
	for i := range n {
		h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"x/work"}`, i))
	}
	seen := map[string]bool{}
	for range n {
		m := h.recvMsg()
		if m.Error != nil || !strings.Contains(string(m.Result), `"session":"sess-2"`) {
			t.Fatalf("want an answer from the new session, got %+v", m)
		}
		seen[string(m.ID)] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct answers, want %d", len(seen), n)
	}
	mu.Lock()
	defer mu.Unlock()
	if sessions != 2 {
		t.Errorf("%d sessions started, want 2", sessions)
	}
}

// TestFaultSessionEndsAgain is a server that ends every new session at
// once: the bridge starts one new session per failing request, not more,
// and the host gets an error that says why.
func TestFaultSessionEndsAgain(t *testing.T) {
	var inits atomic.Int32
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		id, method := envelope(body)
		switch {
		case r.Method != http.MethodPost:
			http.Error(w, "no", http.StatusMethodNotAllowed)
		case method == "initialize":
			w.Header().Set("Mcp-Session-Id", fmt.Sprint("s", inits.Add(1)))
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, id, initResult)
		case id == nil:
			w.WriteHeader(http.StatusAccepted)
		default:
			http.Error(w, "session not found", http.StatusNotFound)
		}
	})
	h := startBridge(t, srv.URL+"/mcp")
	h.initialize("2025-06-18", `{}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	m := h.recvMsg()
	if string(m.ID) != "1" || m.Error == nil || !strings.Contains(m.Error.Message, "again right after mcp-bridge started a new one") {
		t.Fatalf("got %+v, want an error saying the new session ended too", m)
	}
	t.Logf("fault: every new session 404s → host saw %q", m.Error.Message)
	if n := inits.Load(); n != 2 {
		t.Errorf("%d initialize requests, want 2", n)
	}
}

// TestFaultReplayIsTheHostsOwn checks the bytes of a new session's set-up:
// the host's own initialize (its id replaced by one of the bridge's),
// notifications/initialized, the subscription that still holds (not the
// one the host dropped) and the log level; and that the host sees none of
// their answers.
func TestFaultReplayIsTheHostsOwn(t *testing.T) {
	var (
		mu      sync.Mutex
		expired bool
		second  []string // the POSTs of the new session, in order
	)
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		id, method := envelope(body)
		sid := r.Header.Get("Mcp-Session-Id")
		mu.Lock()
		if r.Method == http.MethodPost && (method == "initialize" && expired || sid == "sess-2") {
			second = append(second, string(body))
		}
		mu.Unlock()
		switch {
		case r.Method == http.MethodGet:
			http.Error(w, "no stream", http.StatusMethodNotAllowed)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case method == "initialize":
			w.Header().Set("Mcp-Session-Id", map[bool]string{false: "sess-1", true: "sess-2"}[expired])
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, id, initResult)
		case id == nil:
			w.WriteHeader(http.StatusAccepted)
		case sid == "sess-1" && method == "x/expire":
			mu.Lock()
			expired = true
			mu.Unlock()
			http.Error(w, "gone", http.StatusNotFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"method":%q}}`, id, method)
		}
	})
	h := startBridge(t, srv.URL+"/mcp")
	initLine := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{"listChanged":true}},"clientInfo":{"name":"host-x","version":"9"},"_meta":{"x":1.50}}}`
	h.send(initLine)
	if m := h.recvMsg(); m.Error != nil {
		t.Fatal(m.Error)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized","params":{"_meta":{"from":"host"}}}`)
	for i, line := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"a://kept"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"b://dropped"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"resources/unsubscribe","params":{"uri":"b://dropped"}}`,
		`{"jsonrpc":"2.0","id":4,"method":"logging/setLevel","params":{"level":"debug"}}`,
	} {
		h.send(line)
		if m := h.recvMsg(); string(m.ID) != fmt.Sprint(i+1) {
			t.Fatalf("got %+v", m)
		}
	}
	h.send(`{"jsonrpc":"2.0","id":5,"method":"x/expire"}`)
	if m := h.recvMsg(); string(m.ID) != "5" || m.Error != nil || !strings.Contains(string(m.Result), "x/expire") {
		t.Fatalf("the replayed request: got %+v", m)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(second) != 5 {
		t.Fatalf("the new session's POSTs:\n%s\nwant initialize, initialized, subscribe, setLevel, the request", strings.Join(second, "\n"))
	}
	var id string
	if err := json.Unmarshal([]byte(second[0]), &struct {
		ID *string `json:"id"`
	}{&id}); err != nil || !strings.HasPrefix(id, "mcp-bridge-") {
		t.Errorf("the replayed initialize has id %q (%v), want one of the bridge's", id, err)
	}
	idJSON, _ := json.Marshal(id)
	if want := strings.Replace(initLine, `"id":0`, `"id":`+string(idJSON), 1); untraced(second[0]) != want {
		t.Errorf("replayed initialize:\n got %s\nwant %s", second[0], want)
	}
	if second[1] != `{"jsonrpc":"2.0","method":"notifications/initialized","params":{"_meta":{"from":"host"}}}` {
		t.Errorf("replayed initialized: %s", second[1])
	}
	if !strings.Contains(untraced(second[2]), `"method":"resources/subscribe","params":{"uri":"a://kept"}`) {
		t.Errorf("replayed subscription: %s", second[2])
	}
	if !strings.Contains(untraced(second[3]), `"method":"logging/setLevel","params":{"level":"debug"}`) {
		t.Errorf("replayed log level: %s", second[3])
	}
	if untraced(second[4]) != `{"jsonrpc":"2.0","id":5,"method":"x/expire"}` {
		t.Errorf("replayed request: %s", second[4])
	}
}
