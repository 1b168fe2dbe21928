package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// bridgeTrace matches the trace context the bridge adds to a request the
// host sent without one, and the params it had to add to hold it.
var bridgeTrace = regexp.MustCompile(`,"params":\{"_meta":\{"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"\}\}|"_meta":\{"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"\},?|"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01",?`)

// untraced returns body without the trace context the bridge added.
func untraced(body string) string { return bridgeTrace.ReplaceAllString(body, "") }

// TestTraceContext: each request reaches the server with W3C trace
// context, in the traceparent header and in params._meta alike: the
// host's own, untouched, when it sent one; else one the bridge started,
// added to the body without changing another byte.
func TestTraceContext(t *testing.T) {
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if answerInit(w, r, body) {
			return
		}
		id, _ := envelope(body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":{}}`))
	})
	h := startBridge(t, srv.URL+"/mcp")
	h.initialize("2025-11-25", `{}`)
	const hostParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	sent := map[string]string{
		"host":      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"traceparent":"` + hostParent + `","tracestate":"congo=t61rcWkgMzE","baggage":"user=ada"}}}`,
		"no params": `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		"no _meta":  `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"b","arguments":{"n":1.0e2}}}`,
		"_meta":     `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"_meta":{"progressToken":7},"name":"c"}}`,
		"bad":       `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"d","_meta":{"traceparent":"not one"}}}`,
	}
	for _, s := range sent {
		h.send(s)
		h.recvMsg()
	}
	got := map[string]recorded{}
	for _, r := range srv.requests() {
		for name, s := range sent {
			if r.method == http.MethodPost && (string(r.body) == s || untraced(string(r.body)) == s) {
				got[name] = r
			}
		}
	}
	for name, s := range sent {
		r, ok := got[name]
		if !ok {
			t.Errorf("%s: the server got no request that is %s with trace context added", name, s)
			continue
		}
		header := r.header.Get("Traceparent")
		var body struct {
			Params struct {
				Meta struct {
					Traceparent string `json:"traceparent"`
				} `json:"_meta"`
			} `json:"params"`
		}
		json.Unmarshal(r.body, &body)
		switch name {
		case "host":
			if string(r.body) != s || header != hostParent || r.header.Get("Tracestate") != "congo=t61rcWkgMzE" || r.header.Get("Baggage") != "user=ada" {
				t.Errorf("host's trace context: body %s, headers %v", r.body, r.header)
			}
		case "bad":
			if string(r.body) != s || header != "" {
				t.Errorf("a malformed traceparent from the host: body %s, header %q, want both as the host sent them", r.body, header)
			}
		default:
			if !strings.HasPrefix(header, "00-") || body.Params.Meta.Traceparent != header || r.header.Get("Tracestate") != "" {
				t.Errorf("%s: header %q, _meta.traceparent %q, want one and the same, started by the bridge", name, header, body.Params.Meta.Traceparent)
			}
		}
	}
}
