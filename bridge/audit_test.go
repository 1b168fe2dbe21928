package bridge

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAudit: each tools/call, prompts/get and resources/read the host
// makes is told to Config.Audit once it is over, with its outcome, and
// nothing of its arguments or result.
func TestAudit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m, err := ParseMessage(body)
		if err != nil || r.Method != http.MethodPost || m.IsNotification() {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case m.Method == "initialize":
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}`, m.ID)
		case strings.Contains(string(body), `"hang"`):
			<-r.Context().Done()
		case strings.Contains(string(body), `"broken"`):
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"secret-result"}],"isError":true}}`, m.ID)
		case m.Method == "prompts/get":
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32602,"message":"no such prompt"}}`, m.ID)
		default:
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"isErrorNot":true,"content":[{"type":"text","text":"{\"isError\":true}"}]}}`, m.ID)
		}
	}))
	defer srv.Close()
	var mu sync.Mutex
	var recs []*CallRecord
	filter, _ := NewToolFilter(nil, []string{"hidden"})
	h := runRelay(t, &Config{URL: srv.URL, Stages: []Stage{filter}, Audit: func(r *CallRecord) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	}})
	h.initialize()
	meta := `"_meta":{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}`
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fine","arguments":{"q":"secret-arg"},` + meta + `}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"broken"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"p"}}`,
		`{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"file:///r"}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"hidden"}}`,
		`{"jsonrpc":"2.0","id":6,"method":"tools/list"}`,
	} {
		h.send(s)
		h.recv()
	}
	h.send(`{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"hang"}}`)
	h.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c"}}`)
	h.send(`{"jsonrpc":"2.0","id":7,"method":"x/after"}`)
	h.recv()

	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s %s %s %s %d", r.ID, r.Method, r.Name, r.Outcome, r.Code))
		if r.Duration < 0 || r.Duration > time.Minute || r.Start.IsZero() {
			t.Errorf("%s: start %v, duration %v", r.ID, r.Start, r.Duration)
		}
		if s := fmt.Sprintf("%+v", *r); strings.Contains(s, "secret") {
			t.Errorf("the record holds an argument or a result: %s", s)
		}
	}
	want := []string{
		"1 tools/call fine ok 0",
		"2 tools/call broken tool_error 0",
		"3 prompts/get p error -32602",
		"4 resources/read file:///r ok 0",
		"5 tools/call hidden refused -32602",
		`"c" tools/call hang cancelled 0`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(recs) > 0 && recs[0].TraceID != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace id %q, want the host's", recs[0].TraceID)
	}
	if len(recs) > 1 && len(recs[1].TraceID) != 32 {
		t.Errorf("trace id %q, want the one the bridge started", recs[1].TraceID)
	}
}
