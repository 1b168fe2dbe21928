package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These tests pin what the host sees when the server's answers are bad,
// when a batch meets a protocol revision that has none, and when a pooled
// connection turns out to be dead.

// TestBatchPerRevision checks that a batch from the host goes to the
// server only when the negotiated revision (or, before an initialize
// result, the one the host asked for) is 2025-03-26; otherwise each request
// in it gets Invalid Request, in a batch, and nothing goes upstream.
func TestBatchPerRevision(t *testing.T) {
	const batch = `[{"jsonrpc":"2.0","id":1,"method":"x/a"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"two","method":"x/b"}]`
	tests := []struct {
		name      string
		requested string // the host's protocolVersion
		answered  string // the server's, or "" to fail initialize
		forwarded bool
	}{
		{"negotiated 2025-03-26", "2025-03-26", "2025-03-26", true},
		{"negotiated 2025-06-18", "2025-06-18", "2025-06-18", false},
		{"negotiated 2025-11-25", "2025-11-25", "2025-11-25", false},
		{"host asks 2025-06-18, server answers 2025-03-26", "2025-06-18", "2025-03-26", true},
		{"no initialize result, host asked 2025-03-26", "2025-03-26", "", true},
		{"no initialize result, host asked 2025-06-18", "2025-06-18", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				id, method := envelope(body)
				switch {
				case r.Method != http.MethodPost:
					http.Error(w, "no", http.StatusMethodNotAllowed)
				case method == "initialize" && tt.answered == "":
					http.Error(w, "initialize is broken today", http.StatusInternalServerError)
				case method == "initialize":
					w.Header().Set("Mcp-Session-Id", "s")
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":%q,"capabilities":{},"serverInfo":{"name":"b","version":"0"}}}`, id, tt.answered)
				case body[0] == '[':
					w.Header().Set("Content-Type", "application/json")
					io.WriteString(w, `[{"jsonrpc":"2.0","id":1,"result":{"a":true}},{"jsonrpc":"2.0","id":"two","result":{"b":true}}]`)
				default:
					w.WriteHeader(http.StatusAccepted)
				}
			})
			h := startBridge(t, srv.URL+"/mcp")
			h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + tt.requested + `","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
			if m := h.recvMsg(); (m.Error == nil) != (tt.answered != "") {
				t.Fatalf("initialize: %+v", m)
			}
			if tt.answered != "" {
				h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			}
			h.send(batch)
			var got []msg
			if line := h.recv(); json.Unmarshal(line, &got) != nil {
				t.Fatalf("want a batch in answer, got %s", line)
			}
			sawBatch := false
			for _, b := range srv.bodies() {
				sawBatch = sawBatch || b == batch
			}
			if sawBatch != tt.forwarded {
				t.Errorf("the server got the batch: %v, want %v", sawBatch, tt.forwarded)
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, string(m.ID))
				switch {
				case tt.forwarded && m.Error != nil:
					t.Errorf("forwarded batch: member %s got an error: %+v", m.ID, m.Error)
				case !tt.forwarded && (m.Error == nil || m.Error.Code != -32600 || !strings.Contains(m.Error.Message, "only in protocol revision 2025-03-26")):
					t.Errorf("refused batch: member %s got %+v, want Invalid Request naming the revision", m.ID, m)
				}
			}
			if diff := cmp.Diff([]string{"1", `"two"`}, ids); diff != "" {
				t.Errorf("answered ids (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServerBadAnswers extends TestServerFailuresAnswerTheHost: each bad
// answer gives the host an error for its request that names the HTTP status
// and quotes a short, printable excerpt of what came back, and the bridge
// carries on.
func TestServerBadAnswers(t *testing.T) {
	var (
		hangMu  sync.Mutex
		hanging = make(chan struct{})
	)
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if answerInit(w, r, body) {
			return
		}
		id, method := envelope(body)
		switch method {
		case "x/hugeevent":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"pad\":\"%s\"}}\n\n", id, strings.Repeat("x", 5000))
		case "x/hugejson":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"pad":"%s"}}`, id, strings.Repeat("x", 5000))
		case "x/wrongid":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":999,"result":{"for":"someone else"}}`)
		case "x/badevent":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"hello\":\"world\"}\n\n")
		case "x/htmljson":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "<!DOCTYPE html><html><title>Sign in</title></html>")
		case "x/503":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "upstream overloaded\n\x1b[2J\x07"+strings.Repeat("long ", 200))
		case "x/notype":
			w.Header()["Content-Type"] = nil
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "plain words")
		case "x/hang":
			hangMu.Lock()
			close(hanging)
			hangMu.Unlock()
			<-r.Context().Done() // never answers; the host's cancellation ends it
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"ok":true}}`, id)
		}
	})
	h := startBridge(t, srv.URL+"/mcp", "--max-message-size", "1000")
	h.initialize("2025-06-18", `{}`)

	tests := []struct {
		method string
		want   []string
	}{
		{"x/hugeevent", []string{"200 OK", "server-sent event too large: more than 1000 bytes"}},
		{"x/hugejson", []string{"200 OK", "exceeds the 1000 byte limit"}},
		{"x/wrongid", []string{"200 OK", "did not answer the request", `"id":999`}},
		{"x/badevent", []string{"200 OK", "invalid JSON-RPC message", `{"hello":"world"}`}},
		{"x/htmljson", []string{"200 OK", "not a JSON-RPC message", "<!DOCTYPE html><html><title>Sign in"}},
		{"x/503", []string{"503 Service Unavailable", "upstream overloaded ␛[2J␇long long", "…"}},
		{"x/notype", []string{"200 OK", `content type ""`, "plain words"}},
	}
	for i, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			id := fmt.Sprint(10 + i)
			h.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + tt.method + `"}`)
			m := h.recvMsg()
			if string(m.ID) != id || m.Error == nil || m.Error.Code != -32000 {
				t.Fatalf("got %+v, want error -32000 for id %s", m, id)
			}
			for _, w := range tt.want {
				if !strings.Contains(m.Error.Message, w) {
					t.Errorf("message %q does not contain %q", m.Error.Message, w)
				}
			}
			if len(m.Error.Message) > 600 || strings.ContainsAny(m.Error.Message, "\x1b\x07\n") {
				t.Errorf("the message is long (%d bytes) or holds control characters: %q", len(m.Error.Message), m.Error.Message)
			}
		})
	}

	// A server that never sends headers: the request waits, as a long tool
	// call does, until the host cancels it; meanwhile others go through.
	h.send(`{"jsonrpc":"2.0","id":"hang","method":"x/hang"}`)
	waitFor(t, hanging, "the server got the request that hangs")
	h.send(`{"jsonrpc":"2.0","id":"meanwhile","method":"x/ok"}`)
	if m := h.recvMsg(); string(m.ID) != `"meanwhile"` || m.Error != nil {
		t.Fatalf("beside a hanging request: %+v", m)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"hang","reason":"took too long"}}`)
	h.send(`{"jsonrpc":"2.0","id":"after","method":"x/ok"}`)
	if m := h.recvMsg(); string(m.ID) != `"after"` || m.Error != nil {
		t.Errorf("after the cancellation: got %+v (a cancelled request gets no answer)", m)
	}
}

// TestStaleConnection has a server drop a pooled connection as a request
// arrives on it, without answering: what a server restart, or a NAT that
// forgot the connection while a laptop slept, looks like. A request that
// is safe to repeat (tools/list) is sent once more on a new connection and
// succeeds; a tools/call, which the server may have run, gets an error
// naming the cause.
func TestStaleConnection(t *testing.T) {
	var (
		mu      sync.Mutex
		drop    bool
		used    = map[string]int{} // requests served per client connection
		drops   = map[string]int{} // connections dropped, by method
		calls   int                // tools/call arrivals, dropped or not
		gotGET  = make(chan struct{})
		getOnce sync.Once
	)
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		_, method := envelope(body)
		mu.Lock()
		n := used[r.RemoteAddr]
		used[r.RemoteAddr]++
		kill := drop && n > 0 && r.Method == http.MethodPost
		if kill {
			drops[method]++
		}
		if method == "tools/call" {
			calls++
		}
		mu.Unlock()
		if kill {
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				c.Close()
			}
			return
		}
		if answerInit(w, r, body) {
			if r.Method == http.MethodGet {
				getOnce.Do(func() { close(gotGET) })
			}
			return
		}
		id, _ := envelope(body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"tools":[]}}`, id)
	})
	h := startBridge(t, srv.URL+"/mcp")
	h.initialize("2025-06-18", `{}`)
	<-gotGET // the bridge's attempt at a standalone stream is over
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	h.recvMsg() // every connection the bridge holds has now served a request

	mu.Lock()
	drop = true
	mu.Unlock()
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if m := h.recvMsg(); string(m.ID) != "2" || m.Error != nil {
		t.Errorf("tools/list on a dead pooled connection: got %+v (error %+v), want the answer", m, m.Error)
	}
	h.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"send_mail"}}`)
	m := h.recvMsg()
	if string(m.ID) != "3" || m.Error == nil || !strings.Contains(m.Error.Message, "connection") {
		t.Errorf("tools/call on a dead pooled connection: got %+v, want an error naming the connection", m)
	} else {
		t.Logf("fault: pooled connection dead → tools/call: host saw %q", m.Error.Message)
	}
	mu.Lock()
	defer mu.Unlock()
	if drops["tools/list"] == 0 {
		t.Errorf("tools/list was never sent on a dead connection; the test proves nothing")
	}
	if calls != 1 || drops["tools/call"] != 1 {
		t.Errorf("tools/call reached the server %d times (%d dropped), want once, dropped", calls, drops["tools/call"])
	}
}
