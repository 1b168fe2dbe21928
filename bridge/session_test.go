package bridge

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pipeHost runs a Relay in this process and talks to it as a host does.
type pipeHost struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan string
}

func runRelay(t *testing.T, cfg *Config) *pipeHost {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &pipeHost{t: t, in: inW, lines: make(chan string, 100)}
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), inR, outW); outW.Close() }()
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the relay did not stop")
		}
	})
	return h
}

func (h *pipeHost) send(line string) {
	h.t.Helper()
	if _, err := io.WriteString(h.in, line+"\n"); err != nil {
		h.t.Fatal(err)
	}
}

func (h *pipeHost) recv() string {
	h.t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			h.t.Fatal("the relay closed its output")
		}
		return l
	case <-time.After(10 * time.Second):
		h.t.Fatal("no message from the relay")
		return ""
	}
}

func (h *pipeHost) initialize() {
	h.t.Helper()
	h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if l := h.recv(); !strings.Contains(l, `"result"`) {
		h.t.Fatalf("initialize: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

// pingServer is a Streamable HTTP server that answers initialize, pings
// and x/echo, reports each ping it gets, and answers 404 to the pings and
// requests of sessions it has ended.
type pingServer struct {
	*httptest.Server
	pings chan string // the session id of each ping

	mu       sync.Mutex
	sessions int
	ended    map[string]bool
}

func newPingServer(t *testing.T) *pingServer {
	s := &pingServer{pings: make(chan string, 100), ended: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost {
			http.Error(w, "no", http.StatusMethodNotAllowed)
			return
		}
		m, err := ParseMessage(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sid := r.Header.Get(headerSessionID)
		s.mu.Lock()
		gone := s.ended[sid]
		if m.Method == "initialize" {
			s.sessions++
			sid = fmt.Sprint("s", s.sessions)
		}
		s.mu.Unlock()
		switch {
		case gone:
			http.Error(w, "no such session", http.StatusNotFound)
			if m.Method == "ping" {
				s.pings <- sid
			}
			return
		case m.IsNotification():
			w.WriteHeader(http.StatusAccepted)
			return
		case m.Method == "ping":
			s.pings <- sid
		}
		w.Header().Set(headerSessionID, sid)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","session":%q}}`, m.ID, sid)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *pingServer) end(sid string) {
	s.mu.Lock()
	s.ended[sid] = true
	s.mu.Unlock()
}

// TestKeepAlive checks that an idle relay pings the server, that the host
// never sees the pings' answers, and that a ping that finds the session
// ended starts a new one at once, so that the host's next request goes
// straight to it.
func TestKeepAlive(t *testing.T) {
	srv := newPingServer(t)
	h := runRelay(t, &Config{URL: srv.URL + "/mcp", Transport: TransportStreamable, KeepAlive: 20 * time.Millisecond})
	h.initialize()
	for range 3 {
		if sid := <-srv.pings; sid != "s1" {
			t.Fatalf("ping in session %q, want s1", sid)
		}
	}
	srv.end("s1")
	// A ping meets the 404, then the new session gets pings.
	for sid := <-srv.pings; sid != "s2"; sid = <-srv.pings {
	}
	h.send(`{"jsonrpc":"2.0","id":7,"method":"x/echo"}`)
	if got, want := h.recv(), `{"jsonrpc":"2.0","id":7,"result":{"protocolVersion":"2025-06-18","session":"s2"}}`; got != want {
		t.Errorf("after the keep-alive found the session gone: got %s, want %s (and no ping answers)", got, want)
	}
}

func TestStaleConnection(t *testing.T) {
	dial := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	reset := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
	tests := []struct {
		err  error
		want bool
	}{
		{reset, true},
		{&url.Error{Op: "Post", URL: "http://x", Err: io.EOF}, true},
		{&url.Error{Op: "Post", URL: "http://x", Err: errors.New("http: server closed idle connection")}, true},
		{&url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "write", Err: syscall.EPIPE}}, true},
		{dial, false},
		{&url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNRESET}}, false},
		{&url.Error{Op: "Post", URL: "http://x", Err: context.Canceled}, false},
		{&url.Error{Op: "Post", URL: "http://x", Err: errors.New("tls: failed to verify certificate")}, false},
	}
	for _, tt := range tests {
		if got := staleConnection(tt.err); got != tt.want {
			t.Errorf("staleConnection(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if got := describe(dial).Error(); !strings.HasPrefix(got, "the server refused the connection") {
		t.Errorf("describe(refused) = %q", got)
	}
	if got := describe(reset).Error(); !strings.HasPrefix(got, "the connection to the server was reset") {
		t.Errorf("describe(reset) = %q", got)
	}
	if err := describe(reset); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("describe lost the cause: %v", err)
	}
}

func TestSafeToRepeat(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, true},
		{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a://b"}}`, true},
		{`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, true},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send"}}`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"vendor/unknown"}`, false},
		{`{"jsonrpc":"2.0","id":1,"result":{}}`, false},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`, true},
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, false},
		{`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`, true},
		{`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/call"}]`, false},
	}
	for _, tt := range tests {
		m, err := ParseMessage([]byte(tt.msg))
		if err != nil {
			t.Fatal(err)
		}
		if got := safeToRepeat(m); got != tt.want {
			t.Errorf("safeToRepeat(%s) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

func TestTuneTransport(t *testing.T) {
	c := tuneClient(nil)
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr == http.DefaultTransport {
		t.Fatalf("tuneClient(nil) uses %T, want a tuned clone of the default transport", c.Transport)
	}
	if tr.HTTP2 == nil || tr.HTTP2.SendPingTimeout != 15*time.Second || tr.HTTP2.PingTimeout != 10*time.Second {
		t.Errorf("HTTP/2 health checks: %+v", tr.HTTP2)
	}
	if tr.IdleConnTimeout != 90*time.Second || !tr.ForceAttemptHTTP2 || tr.ResponseHeaderTimeout != 0 {
		t.Errorf("IdleConnTimeout %v, ForceAttemptHTTP2 %v, ResponseHeaderTimeout %v", tr.IdleConnTimeout, tr.ForceAttemptHTTP2, tr.ResponseHeaderTimeout)
	}
	if again := tuneClient(c); again != c {
		t.Error("tuning a tuned client made another copy")
	}
	custom := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })}
	if tuneClient(custom) != custom {
		t.Error("a RoundTripper that is not an *http.Transport was replaced")
	}

	// The dialer is kept, and its connections get keep-alive probes.
	var dialed bool
	base := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = true
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	TuneTransport(base)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	resp, err := (&http.Client{Transport: base}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !dialed {
		t.Error("TuneTransport dropped the transport's dialer")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestInternalIDs checks that the relay's own request ids are JSON strings
// that differ from one to the next.
func TestInternalIDs(t *testing.T) {
	r, err := New(&Config{URL: "http://127.0.0.1:1/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.newID(), r.newID()
	var sa, sb string
	if json.Unmarshal(a, &sa) != nil || json.Unmarshal(b, &sb) != nil || sa == sb || !strings.HasPrefix(sa, "mcp-bridge-") {
		t.Errorf("ids %s and %s", a, b)
	}
}

// TestRequestEnvelope checks that the relay's own requests, whose
// envelope is recorded as they are written, hold what a parse finds.
func TestRequestEnvelope(t *testing.T) {
	r, err := New(&Config{URL: "http://127.0.0.1:1/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ method, params string }{
		{"tools/call", `{"name":"x","arguments":{"a":[1,{"b":"c"}]},"_meta":{"k":"v"}}`},
		{"ping", ""},
		{"odd\"<method>", `{}`},
	} {
		got := r.request(tt.method, []byte(tt.params))
		want, err := ParseMessage(got.Raw)
		if err != nil {
			t.Fatalf("request(%q, %s) = %s: %v", tt.method, tt.params, got.Raw, err)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(Message{})); diff != "" {
			t.Errorf("request(%q, %s): (-parsed +built):\n%s", tt.method, tt.params, diff)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	if d := retryDelay(0, 0); d != 0 {
		t.Errorf("first reconnection after a clean end waits %v, want 0", d)
	}
	if d := retryDelay(3*time.Second, 1); d != 3*time.Second {
		t.Errorf("the server's retry field: %v, want 3s", d)
	}
	for failures, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 4: 4 * time.Second, 7: 30 * time.Second, 50: 30 * time.Second} {
		lo, hi := want, time.Duration(0)
		for range 200 {
			d := retryDelay(0, failures)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < want/2 || hi > want || lo == hi {
			t.Errorf("after %d failures: delays in [%v, %v], want jitter within [%v, %v]", failures, lo, hi, want/2, want)
		}
	}
}

func TestOnlyResponses(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"jsonrpc":"2.0","id":1,"result":{}}`:                                                true,
		`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]`:         true,
		`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","method":"notifications/x"}]`: false,
		`{"jsonrpc":"2.0","method":"notifications/x"}`:                                        false,
	} {
		m, err := ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := onlyResponses(m); got != want {
			t.Errorf("onlyResponses(%s) = %v", raw, got)
		}
	}
}

// TestStreamResumeConflict: the standalone stream breaks, and the server,
// which has not yet noticed, answers the resuming GET 409 Conflict (the Go
// SDK does). The bridge tries again rather than giving the stream up, and
// the host gets the event sent after the break.
func TestStreamResumeConflict(t *testing.T) {
	var (
		mu   sync.Mutex
		gets []string // the Last-Event-ID of each GET
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set(headerSessionID, "s1")
		switch r.Method {
		case http.MethodGet:
			mu.Lock()
			gets = append(gets, r.Header.Get(headerLastEventID))
			n := len(gets)
			mu.Unlock()
			switch n {
			case 1:
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, "id: e1\nretry: 10\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x/one\"}\n\n")
			case 2:
				http.Error(w, "stream ID conflicts with ongoing stream", http.StatusConflict)
			default:
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, "id: e2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x/two\"}\n\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}
		case http.MethodDelete:
		default:
			m, _ := ParseMessage(body)
			if m.IsNotification() {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}`, m.ID)
		}
	}))
	t.Cleanup(srv.Close)
	h := runRelay(t, &Config{URL: srv.URL})
	h.initialize()
	for _, want := range []string{"x/one", "x/two"} {
		if l := h.recv(); !strings.Contains(l, want) {
			t.Fatalf("got %s, want %s", l, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gets) < 3 || gets[1] != "e1" || gets[2] != "e1" {
		t.Errorf("GETs with Last-Event-ID %q, want one without, then e1 until the server lets it resume", gets)
	}
}

// TestNoResumeForAnsweredRequest: a POST stream ends before its response,
// which the server sent on the standalone stream instead: the bridge does
// not resume the POST stream (conformance sse-retry hung so, 1 run in 7:
// the resumed stream stayed open and the bridge never exited).
func TestNoResumeForAnsweredRequest(t *testing.T) {
	var (
		mu      sync.Mutex
		resumes int
	)
	answer := make(chan []byte, 1) // the call's id, for the standalone stream
	delivered := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set(headerSessionID, "s1")
		switch {
		case r.Method == http.MethodGet && r.Header.Get(headerLastEventID) != "":
			mu.Lock()
			resumes++
			mu.Unlock()
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case r.Method == http.MethodGet:
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			select {
			case id := <-answer:
				fmt.Fprintf(w, "id: g1\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"via\":\"get\"}}\n\n", id)
				w.(http.Flusher).Flush()
				close(delivered)
			case <-r.Context().Done():
				return
			}
			<-r.Context().Done()
		case r.Method == http.MethodDelete:
		default:
			m, _ := ParseMessage(body)
			switch {
			case m.IsNotification():
				w.WriteHeader(http.StatusAccepted)
			case m.Method == "tools/call":
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, "id: p1\nretry: 10\ndata:\n\n")
				w.(http.Flusher).Flush()
				answer <- m.ID
				<-delivered // then the POST stream ends, unanswered
			default:
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}`, m.ID)
			}
		}
	}))
	t.Cleanup(srv.Close)
	h := runRelay(t, &Config{URL: srv.URL})
	h.initialize()
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`) // the standalone stream is open by its answer
	h.recv()
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}`)
	if l := h.recv(); !strings.Contains(l, `"via":"get"`) {
		t.Fatalf("tools/call: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`) // after the POST stream's end
	h.recv()
	mu.Lock()
	defer mu.Unlock()
	if resumes != 0 {
		t.Errorf("%d resumes of the answered request's stream", resumes)
	}
}

// TestHTTP2: a 2026 host's calls reach a server over TLS and HTTP/2, as
// most remote servers are reached, through the tuned transport's
// connections (package rawio, under crypto/tls), with the header a tool
// argument mirrors derived on each.
func TestHTTP2(t *testing.T) {
	s := &modernServer{listens: make(chan json.RawMessage, 10)}
	var notH2 atomic.Int32
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			notH2.Add(1)
		}
		s.serve(w, r)
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	h := runRelay(t, &Config{URL: s.URL, HTTPClient: s.Client()})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, `"region"`) {
		t.Fatalf("tools/list: %s", l)
	}
	for i, region := range []string{"eu-west", "us-east", "ap-south"} {
		h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"region","arguments":{"region":%q},%s}}`, i+2, region, meta))
		if l := h.recv(); !strings.Contains(l, "in "+region) {
			t.Fatalf("tools/call in %s: %s", region, l)
		}
	}
	if n := notH2.Load(); n > 0 || len(s.seen()) < 4 {
		t.Errorf("%d of the %d requests were not HTTP/2", n, len(s.seen()))
	}
}
