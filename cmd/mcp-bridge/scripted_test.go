package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These tests run the real bridge against scripted HTTP servers that answer
// exactly what a test needs, to pin the relay's behaviour at the byte level
// and under server faults.

// recorded is one request a scripted server received.
type recorded struct {
	method string
	header http.Header
	body   []byte
}

// scripted is an HTTP server whose handler a test writes; it records every
// request but the bridge's era probes (see isDiscover), which the handler
// answers all the same.
type scripted struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newScripted(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *scripted {
	s := &scripted{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !isDiscover(r) {
			s.mu.Lock()
			s.reqs = append(s.reqs, recorded{r.Method, r.Header.Clone(), body})
			s.mu.Unlock()
		}
		handle(w, r, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// bodies returns the bodies of the POSTs received.
func (s *scripted) bodies() []string {
	var out []string
	for _, r := range s.requests() {
		if r.method == http.MethodPost {
			out = append(out, string(r.body))
		}
	}
	return out
}

// envelope decodes the id and method of a request body.
func envelope(body []byte) (id json.RawMessage, method string) {
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	json.Unmarshal(body, &m)
	return m.ID, m.Method
}

const initResult = `{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"scripted","version":"0"}}`

// answerInit answers initialize with a session id, notifications with 202
// and the bridge's era probe (server/discover, no session) as the
// TypeScript SDK's 2025 servers do, and reports whether it handled the
// request.
func answerInit(w http.ResponseWriter, r *http.Request, body []byte) bool {
	id, method := envelope(body)
	switch {
	case r.Method == http.MethodGet:
		http.Error(w, "no stream", http.StatusMethodNotAllowed)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case method == "initialize":
		w.Header().Set("Mcp-Session-Id", "sess-1")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, id, initResult)
	case id == nil:
		w.WriteHeader(http.StatusAccepted)
	case method == "server/discover":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}`, id)
	default:
		return false
	}
	return true
}

// TestFidelity checks that bytes pass unchanged both ways: unknown
// methods and fields, number formats, and ids, which come back to the host
// exactly as it sent them even when the server re-encodes them.
func TestFidelity(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if answerInit(w, r, body) {
			return
		}
		id, method := envelope(body)
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "x/reencode":
			// Like a server that decodes ids into float64: 1.0 becomes 1,
			// 9007199254740993 becomes 9007199254740992.
			var f float64
			json.Unmarshal(id, &f)
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%v,"result":{}}`, json.Number(fmt.Sprint(int64(f))))
		case "x/pretty":
			fmt.Fprintf(w, "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": %s,\n  \"result\": {\"text\": \"line1\\nline2\"}\n}\n", id)
		default:
			// Unknown fields at every level, odd number formats.
			fmt.Fprintf(w, `{"result":{"n":1.50e+3,"future":{"x":[true,null]}},"id":%s,"jsonrpc":"2.0","extension":"kept"}`, id)
		}
	})
	h := startBridge(t, srv.URL+"/mcp")
	h.initialize("2025-06-18", `{}`)

	sent := []string{
		`{"jsonrpc":"2.0","id":7,"method":"vendor/unknown","params":{"a":1.0e2,"b":"\u00e9\"\\","c":[{}]},"x-extra":{"deep":[1,2]}}`,
		`{"jsonrpc":"2.0","id":"str\"id","method":"tools/list"}`,
		`{"jsonrpc":"2.0","method":"notifications/vendor","params":{"z":-0}}`,
	}
	for _, s := range sent {
		h.send(s)
	}
	// Requests are in flight at once, so their answers come in any order.
	answers := []string{string(h.recv()), string(h.recv())}
	slices.Sort(answers)
	if diff := cmp.Diff([]string{
		`{"result":{"n":1.50e+3,"future":{"x":[true,null]}},"id":"str\"id","jsonrpc":"2.0","extension":"kept"}`,
		`{"result":{"n":1.50e+3,"future":{"x":[true,null]}},"id":7,"jsonrpc":"2.0","extension":"kept"}`,
	}, answers); diff != "" {
		t.Errorf("the host got other bytes than the server sent (-sent +got):\n%s", diff)
	}

	for _, id := range []string{"1.0", "9007199254740993", "-0"} {
		h.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"x/reencode"}`)
		if got := h.recvMsg(); string(got.ID) != id {
			t.Errorf("id %s came back as %s", id, got.ID)
		}
	}

	// The bridge sends a notification before it reads the next line, so by
	// now the server has everything; requests go out concurrently, in any
	// order.
	// Every byte but the trace context the bridge adds (trace_test.go).
	var bodies []string
	for _, b := range srv.bodies() {
		bodies = append(bodies, untraced(b))
	}
	for _, s := range sent {
		if !slices.Contains(bodies, s) {
			t.Errorf("the server did not get this exact message:\n%s\nit got:\n%s", s, strings.Join(bodies, "\n"))
		}
	}

	h.send(`{"jsonrpc":"2.0","id":3,"method":"x/pretty"}`)
	if got, want := string(h.recv()), `{"jsonrpc":"2.0","id":3,"result":{"text":"line1\nline2"}}`; got != want {
		t.Errorf("pretty-printed response: host got %s, want %s", got, want)
	}
}

// TestServerFailuresAnswerTheHost checks that each way a server can fail a
// request gives the host a JSON-RPC error with that request's id, naming
// the cause, and that the bridge carries on.
func TestServerFailuresAnswerTheHost(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if answerInit(w, r, body) {
			return
		}
		id, method := envelope(body)
		switch method {
		case "x/html502":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>\n<body><h1>502 Bad Gateway</h1>\n</body></html>")
		case "x/rpcerror400":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32602,"message":"bad params","data":{"field":"x"}}}`)
		case "x/notjson":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "this is not json")
		case "x/wrongtype":
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "hello")
		case "x/cutstream":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n")
		case "x/truncated":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"id\":%s,\"res", id)
		case "x/ok":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"ok":true}}`, id)
		}
	})
	h := startBridge(t, srv.URL+"/mcp")
	h.initialize("2025-06-18", `{}`)

	tests := []struct {
		method   string
		wantCode int
		wantMsg  []string
	}{
		{"x/html502", -32000, []string{"502 Bad Gateway", "<html> <body><h1>502"}},
		{"x/rpcerror400", -32602, []string{"bad params"}},
		{"x/notjson", -32000, []string{"not a JSON-RPC message", "this is not json"}},
		{"x/wrongtype", -32000, []string{`content type "text/plain"`}},
		{"x/cutstream", -32000, []string{"closed the event stream before sending the response"}},
		{"x/truncated", -32000, []string{"closed the event stream before sending the response"}},
	}
	for i, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			id := fmt.Sprint(100 + i)
			h.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + tt.method + `"}`)
			m := h.recvMsg()
			if m.Method == "notifications/progress" {
				m = h.recvMsg() // the cut stream's one event comes first
			}
			if string(m.ID) != id || m.Error == nil {
				t.Fatalf("got %+v, want an error for id %s", m, id)
			}
			if m.Error.Code != tt.wantCode {
				t.Errorf("code = %d, want %d", m.Error.Code, tt.wantCode)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(m.Error.Message, w) {
					t.Errorf("message %q does not contain %q", m.Error.Message, w)
				}
			}
		})
	}
	// The bridge carries on.
	h.send(`{"jsonrpc":"2.0","id":"after","method":"x/ok"}`)
	if m := h.recvMsg(); string(m.ID) != `"after"` || m.Error != nil {
		t.Errorf("after the failures: got %+v", m)
	}
}

// TestServerUnreachable checks that a request to a server that is not
// there gets a prompt JSON-RPC error naming the cause.
func TestServerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	h := startBridge(t, "http://"+addr+"/mcp")
	h.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	m := h.recvMsg()
	if string(m.ID) != "1" || m.Error == nil || !strings.Contains(m.Error.Message, "connection refused") {
		t.Errorf("got %+v, want an error naming the refused connection", m)
	}
}

// TestHostInputErrors checks malformed lines from the host: each gets an
// error with id null, and the bridge carries on.
func TestHostInputErrors(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !answerInit(w, r, body) {
			id, _ := envelope(body)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{}}`, id)
		}
	})
	h := startBridge(t, srv.URL+"/mcp", "--max-message-size", "1000")
	h.initialize("2025-06-18", `{}`)
	tests := []struct {
		line     string
		wantCode int
	}{
		{`{"jsonrpc":"2.0","id":1,"method":`, -32700},
		{`not json at all`, -32700},
		{`{"id":1,"method":"x"}`, -32600},
		{`[]`, -32600},
		{`{"jsonrpc":"2.0","id":true,"method":"x"}`, -32600},
		{`{"jsonrpc":"2.0","id":1,"method":"x","params":"` + strings.Repeat("a", 5000) + `"}`, -32600},
	}
	for _, tt := range tests {
		h.send(tt.line)
		m := h.recvMsg()
		if string(m.ID) != "null" || m.Error == nil || m.Error.Code != tt.wantCode {
			t.Errorf("%s: got %+v, want error %d with id null", clip([]byte(tt.line)), m, tt.wantCode)
		}
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"x"}`)
	if m := h.recvMsg(); string(m.ID) != "2" || m.Error != nil {
		t.Errorf("after bad input: got %+v", m)
	}
	if strings.Contains(h.stderr.String(), strings.Repeat("a", 100)) {
		t.Errorf("the oversized message was logged")
	}
}

// TestResumeWithLastEventID checks that a POST stream cut after an event
// with an id is resumed with GET and Last-Event-ID after the server's retry
// delay, and that the response arrives through the resumed stream.
func TestResumeWithLastEventID(t *testing.T) {
	var resumed sync.Once
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Method == http.MethodGet && r.Header.Get("Last-Event-ID") != "" {
			resumed.Do(func() {})
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "id: ev-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"resumed\":true}}\n\n")
			return
		}
		if answerInit(w, r, body) {
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		// A priming event (id, empty data) and a retry delay, then the
		// connection ends (2025-11-25 SSE polling).
		io.WriteString(w, "id: ev-1\nretry: 10\ndata:\n\n")
	})
	h := startBridge(t, srv.URL+"/mcp")
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow"}}`)
	if got, want := string(h.recv()), `{"jsonrpc":"2.0","id":5,"result":{"resumed":true}}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var gets []string
	for _, r := range srv.requests() {
		if r.method == http.MethodGet && r.header.Get("Last-Event-ID") != "" {
			gets = append(gets, r.header.Get("Last-Event-ID")+" "+r.header.Get("Mcp-Session-Id")+" "+r.header.Get("Mcp-Protocol-Version"))
		}
	}
	if want := []string{"ev-1 sess-1 2025-06-18"}; strings.Join(gets, ",") != strings.Join(want, ",") {
		t.Errorf("resuming GETs (Last-Event-ID, session, version) = %q, want %q", gets, want)
	}
}

// TestRedirectKeepsCredentialsOnOrigin checks that a redirect to another
// origin carries neither the static headers nor the session id.
func TestRedirectKeepsCredentialsOnOrigin(t *testing.T) {
	other := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		id, _ := envelope(body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"elsewhere":true}}`, id)
	})
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if answerInit(w, r, body) {
			return
		}
		if r.URL.Path == "/mcp" {
			http.Redirect(w, r, "/moved", http.StatusTemporaryRedirect) // same origin
			return
		}
		http.Redirect(w, r, other.URL+"/mcp", http.StatusTemporaryRedirect)
	})
	h := startBridge(t, srv.URL+"/mcp", "--header", "Authorization: Bearer static-secret", "--header", "X-Api-Key: k-secret")
	h.initialize("2025-06-18", `{}`)
	h.send(`{"jsonrpc":"2.0","id":9,"method":"tools/list"}`)
	if m := h.recvMsg(); string(m.ID) != "9" || !bytes.Contains(m.Result, []byte("elsewhere")) {
		t.Fatalf("got %+v", m)
	}
	for _, r := range srv.requests() {
		if r.header.Get("X-Api-Key") != "k-secret" || r.header.Get("Authorization") != "Bearer static-secret" {
			t.Errorf("same origin %s lost the static headers: %v", r.method, r.header)
		}
	}
	reqs := other.requests()
	if len(reqs) != 1 {
		t.Fatalf("other origin got %d requests, want 1", len(reqs))
	}
	for _, name := range []string{"Authorization", "X-Api-Key", "Mcp-Session-Id"} {
		if v := reqs[0].header.Get(name); v != "" {
			t.Errorf("the other origin received %s: %q", name, v)
		}
	}
	if untraced(string(reqs[0].body)) != `{"jsonrpc":"2.0","id":9,"method":"tools/list"}` {
		t.Errorf("redirected body = %s", reqs[0].body)
	}
}
