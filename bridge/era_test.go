package bridge

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// modernServer is a scripted MCP server of revision 2026-07-28 that checks
// what the TypeScript SDK's server checks: the per-request _meta, the
// protocol version header against it, Mcp-Method, Mcp-Name and the
// Mcp-Param-* header of its one annotated tool. It refuses initialize
// with -32022 unless dualEra is set, and answers GET with 405.
type modernServer struct {
	*httptest.Server
	dualEra bool

	mu       sync.Mutex
	methods  []string          // of every POST, in order
	metas    []json.RawMessage // the _meta of every request
	discover int               // server/discover requests seen
	listens  chan json.RawMessage
}

func newModernServer(t *testing.T) *modernServer {
	s := &modernServer{listens: make(chan json.RawMessage, 10)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *modernServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.methods...)
}

func writeRPC(w http.ResponseWriter, status int, id json.RawMessage, member string, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, member: v})
	w.Write(body)
}

func rpcError(code int, msg string) map[string]any {
	return map[string]any{"code": code, "message": msg}
}

const regionTool = `{"name":"region","inputSchema":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"},"q":{"type":"string"}}}}`

func (s *modernServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params struct {
			Name      string                     `json:"name"`
			URI       string                     `json:"uri"`
			Arguments map[string]json.RawMessage `json:"arguments"`
			Meta      map[string]json.RawMessage `json:"_meta"`
			Responses map[string]json.RawMessage `json:"inputResponses"`
			State     json.RawMessage            `json:"requestState"`
			Filter    json.RawMessage            `json:"notifications"`
		} `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.methods = append(s.methods, req.Method)
	metaJSON, _ := json.Marshal(req.Params.Meta)
	s.metas = append(s.metas, metaJSON)
	if req.Method == "server/discover" {
		s.discover++
	}
	s.mu.Unlock()
	if req.ID == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	var version string
	json.Unmarshal(req.Params.Meta[metaVersion], &version)
	if req.Method == "initialize" && version == "" {
		if !s.dualEra {
			writeRPC(w, 400, req.ID, "error", map[string]any{"code": codeUnsupportedVersion, "message": "Unsupported protocol version",
				"data": map[string]any{"supported": []string{modernVersion}}})
			return
		}
		writeRPC(w, 200, req.ID, "result", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "serverInfo": map[string]any{"name": "dual", "version": "1"}})
		return
	}
	switch {
	case version == "" || req.Params.Meta[metaCapabilities] == nil:
		writeRPC(w, 400, req.ID, "error", rpcError(-32602, "missing _meta"))
		return
	case r.Header.Get("MCP-Protocol-Version") != version:
		writeRPC(w, 400, req.ID, "error", rpcError(codeHeaderMismatch, "MCP-Protocol-Version does not match _meta"))
		return
	case r.Header.Get("Mcp-Method") != req.Method:
		writeRPC(w, 400, req.ID, "error", rpcError(codeHeaderMismatch, "Mcp-Method does not match"))
		return
	}
	name := req.Params.Name
	if req.Method == "resources/read" {
		name = req.Params.URI
	}
	if req.Method == "tools/call" || req.Method == "prompts/get" || req.Method == "resources/read" {
		if decodeHeader(r.Header.Get("Mcp-Name")) != name {
			writeRPC(w, 400, req.ID, "error", rpcError(codeHeaderMismatch, "Mcp-Name does not match"))
			return
		}
	}
	switch req.Method {
	case "server/discover":
		writeRPC(w, 200, req.ID, "result", map[string]any{
			"resultType": "complete", "supportedVersions": []string{modernVersion},
			"capabilities": map[string]any{"tools": map[string]any{"listChanged": true}, "resources": map[string]any{"subscribe": true}, "extensions": map[string]any{"x/y": map[string]any{}}},
			"instructions": "be kind", "ttlMs": 0, "cacheScope": "public",
			"_meta": map[string]any{metaServerInfo: map[string]any{"name": "modern", "version": "2"}},
		})
	case "tools/list":
		var tools []json.RawMessage
		json.Unmarshal([]byte(`[{"name":"add","inputSchema":{"type":"object"}},`+regionTool+`,{"name":"bad","inputSchema":{"type":"object","properties":{"n":{"type":"number","x-mcp-header":"N"}}}}]`), &tools)
		writeRPC(w, 200, req.ID, "result", map[string]any{"resultType": "complete", "tools": tools, "ttlMs": 0, "cacheScope": "public"})
	case "tools/call":
		switch name {
		case "region":
			var region string
			json.Unmarshal(req.Params.Arguments["region"], &region)
			if decodeHeader(r.Header.Get("Mcp-Param-Region")) != region {
				writeRPC(w, 400, req.ID, "error", rpcError(codeHeaderMismatch, "Mcp-Param-Region does not match"))
				return
			}
			writeRPC(w, 200, req.ID, "result", map[string]any{"resultType": "complete", "content": []any{map[string]any{"type": "text", "text": "in " + region}}})
		case "ask":
			if req.Params.Responses == nil {
				writeRPC(w, 200, req.ID, "result", map[string]any{"resultType": "input_required", "requestState": "st\u00e4te-1",
					"inputRequests": map[string]any{"who": map[string]any{"method": "elicitation/create", "params": map[string]any{"message": "Name?", "requestedSchema": map[string]any{"type": "object"}}}}})
				return
			}
			if string(req.Params.State) != `"st\u00e4te-1"` && string(req.Params.State) != `"stäte-1"` {
				writeRPC(w, 400, req.ID, "error", rpcError(-32602, "requestState changed: "+string(req.Params.State)))
				return
			}
			var answer struct {
				Content struct {
					Name string `json:"name"`
				} `json:"content"`
			}
			json.Unmarshal(req.Params.Responses["who"], &answer)
			writeRPC(w, 200, req.ID, "result", map[string]any{"resultType": "complete", "content": []any{map[string]any{"type": "text", "text": "hello " + answer.Content.Name}}})
		default:
			writeRPC(w, 200, req.ID, "result", map[string]any{"resultType": "complete", "content": []any{map[string]any{"type": "text", "text": "ok"}}})
		}
	case "resources/read":
		writeRPC(w, 200, req.ID, "result", map[string]any{"resultType": "complete", "contents": []any{map[string]any{"uri": name, "text": "ok"}}})
	case "subscriptions/listen":
		s.listens <- req.Params.Filter
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		tag := map[string]any{metaSubscriptionID: req.ID}
		for _, n := range []map[string]any{
			{"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": map[string]any{"notifications": req.Params.Filter, "_meta": tag}},
			{"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": map[string]any{"_meta": tag}},
		} {
			b, _ := json.Marshal(n)
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		writeRPC(w, 404, req.ID, "error", rpcError(codeMethodNotFound, "Method not found"))
	}
}

func decodeHeader(v string) string {
	if enc, ok := strings.CutPrefix(v, "=?base64?"); ok {
		b, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(enc, "?="))
		return string(b)
	}
	return v
}

// memEraCache is an in-memory [EraCache] and [TransportCache].
type memEraCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memEraCache) Era(key string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[key]; ok {
		return []byte(v)
	}
	return nil
}

func (c *memEraCache) SetEra(key string, v []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	if v == nil {
		delete(c.m, key)
		return
	}
	c.m[key] = string(v)
}

// TestLegacyHostModernServer plays a 2025-06-18 host against a server that
// speaks only 2026-07-28: the bridge answers initialize from
// server/discover, asked first or (when the server was remembered as
// legacy) after the server refused initialize with -32022; each request
// carries the host's _meta and every header, ping and the host's
// subscriptions are answered by the bridge, a listen carries list changes,
// and an input_required result becomes an elicitation the host answers.
func TestLegacyHostModernServer(t *testing.T) {
	t.Run("unknown", func(t *testing.T) { testLegacyHostModernServer(t, false) })
	t.Run("remembered legacy", func(t *testing.T) { testLegacyHostModernServer(t, true) })
}

func testLegacyHostModernServer(t *testing.T, rememberedLegacy bool) {
	srv := newModernServer(t)
	cache := &memEraCache{}
	if rememberedLegacy {
		cache.SetEra("era "+srv.URL+" ", []byte(`{"era":"legacy"}`))
	}
	h := runRelay(t, &Config{URL: srv.URL, EraCache: cache})

	h.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{},"tasks":{}},"clientInfo":{"name":"host","version":"9"}}}`)
	var init struct {
		Result struct {
			ProtocolVersion string                     `json:"protocolVersion"`
			Capabilities    map[string]json.RawMessage `json:"capabilities"`
			ServerInfo      struct{ Name string }      `json:"serverInfo"`
			Instructions    string                     `json:"instructions"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(h.recv()), &init); err != nil {
		t.Fatal(err)
	}
	if r := init.Result; r.ProtocolVersion != "2025-06-18" || r.ServerInfo.Name != "modern" || r.Instructions != "be kind" || r.Capabilities["tools"] == nil || r.Capabilities["extensions"] != nil {
		t.Errorf("initialize result = %+v", r)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if f := <-srv.listens; string(f) != `{"toolsListChanged":true}` {
		t.Errorf("listen filter = %s", f)
	}
	if l := h.recv(); l != `{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}` {
		t.Errorf("listen notification reached the host as %s", l)
	}

	h.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if l := h.recv(); l != `{"jsonrpc":"2.0","id":2,"result":{}}` {
		t.Errorf("ping: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"file:///a"}}`)
	if l := h.recv(); l != `{"jsonrpc":"2.0","id":3,"result":{}}` {
		t.Errorf("subscribe: %s", l)
	}
	if f := <-srv.listens; string(f) != `{"resourceSubscriptions":["file:///a"],"toolsListChanged":true}` {
		t.Errorf("listen filter after subscribe = %s", f)
	}
	h.recv() // the new listen's list_changed

	h.send(`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`)
	var list struct {
		ID     int                                     `json:"id"`
		Result struct{ Tools []struct{ Name string } } `json:"result"`
	}
	json.Unmarshal([]byte(h.recv()), &list)
	if list.ID != 4 || len(list.Result.Tools) != 2 {
		t.Errorf("tools/list without the invalid tool: %+v", list)
	}
	h.send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"region","arguments":{"region":"eu-west","q":"x"},"_meta":{"progressToken":7}}}`)
	if l := h.recv(); !strings.Contains(l, `"id":5`) || !strings.Contains(l, "in eu-west") {
		t.Errorf("tools/call region: %s", l)
	}

	h.send(`{"jsonrpc":"2.0","id":"six","method":"tools/call","params":{"name":"ask"}}`)
	var ask struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	json.Unmarshal([]byte(h.recv()), &ask)
	if ask.Method != "elicitation/create" {
		t.Fatalf("expected an elicitation, got %+v", ask)
	}
	h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"action":"accept","content":{"name":"Ada"}}}`, ask.ID))
	if l := h.recv(); !strings.Contains(l, `"id":"six"`) || !strings.Contains(l, "hello Ada") {
		t.Errorf("tools/call ask: %s", l)
	}

	srv.mu.Lock()
	metas := srv.metas
	srv.mu.Unlock()
	want := []string{"server/discover", "subscriptions/listen", "subscriptions/listen", "tools/list", "tools/call", "tools/call", "tools/call"}
	if rememberedLegacy {
		metas = metas[1:] // the refused initialize carries no _meta
		want = append([]string{"initialize"}, want...)
	}
	for i, m := range metas {
		var meta map[string]json.RawMessage
		json.Unmarshal(m, &meta)
		if string(meta[metaClientInfo]) != `{"name":"host","version":"9"}` || string(meta[metaCapabilities]) != `{"elicitation":{}}` {
			t.Errorf("request %d (%s) _meta = %s", i, want[len(want)-len(metas)+i], m)
		}
	}
	if diff := cmp.Diff(want, srv.seen()); diff != "" {
		t.Errorf("requests the server saw (-want +got):\n%s", diff)
	}
	if v := cache.Era("era " + srv.URL + " "); !strings.Contains(string(v), modernVersion) {
		t.Errorf("remembered era = %s", v)
	}
}

// TestRememberedModernServer: a second start answers initialize from the
// remembered DiscoverResult, sending nothing to the server first.
func TestRememberedModernServer(t *testing.T) {
	srv := newModernServer(t)
	cache := &memEraCache{}
	cache.SetEra("era "+srv.URL+" ", []byte(`{"era":"2026-07-28","discover":{"supportedVersions":["2026-07-28"],"capabilities":{},"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"remembered","version":"1"}}}}`))
	h := runRelay(t, &Config{URL: srv.URL, EraCache: cache})
	h.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"h","version":"1"}}}`)
	if l := h.recv(); !strings.Contains(l, `"remembered"`) || !strings.Contains(l, `"2025-11-25"`) {
		t.Errorf("initialize: %s", l)
	}
	if got := srv.seen(); len(got) != 0 {
		t.Errorf("the server saw %v before the host's first request", got)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add"}}`)
	if l := h.recv(); !strings.Contains(l, `"id":2`) || !strings.Contains(l, `"ok"`) {
		t.Errorf("tools/call: %s", l)
	}
}

// TestModernHostListensFirst: a 2026 host whose first request, to a server
// remembered as modern, is a subscriptions/listen (as the TypeScript SDK's
// pinned client sends it) still gets its next requests answered while the
// listen stays open.
func TestModernHostListensFirst(t *testing.T) {
	srv := newModernServer(t)
	cache := &memEraCache{}
	cache.SetEra("era "+srv.URL+" ", []byte(`{"era":"2026-07-28","discover":{"supportedVersions":["2026-07-28"],"capabilities":{}}}`))
	h := runRelay(t, &Config{URL: srv.URL, EraCache: cache})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	h.send(`{"jsonrpc":"2.0","id":"listen:0","method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, "notifications/subscriptions/acknowledged") {
		t.Fatalf("listen: %s", l)
	}
	h.recv() // the list change
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, `"id":1`) || !strings.Contains(l, `"region"`) {
		t.Errorf("tools/list: %s", l)
	}
}

// TestModernHostModernServer: a 2026 host's requests go as they are, with
// the headers stdio cannot carry; a call whose tool the bridge has not seen
// listed gets -32020, which the bridge cures by listing the tools once and
// sending the call again; notifications/cancelled never reaches the server.
func TestModernHostModernServer(t *testing.T) {
	srv := newModernServer(t)
	h := runRelay(t, &Config{URL: srv.URL})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	h.send(`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, `"id":1`) || !strings.Contains(l, `"supportedVersions"`) {
		t.Fatalf("server/discover: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"region","arguments":{"region":"Zürich"},` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, `"id":2`) || !strings.Contains(l, "in Zürich") {
		t.Errorf("tools/call region: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}`)
	h.send(`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///ä",` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, `"id":3`) || !strings.Contains(l, `"ok"`) {
		t.Errorf("resources/read: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","id":4,"method":"x/unknown","params":{` + meta + `}}`)
	if l := h.recv(); l != `{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"Method not found"}}` {
		t.Errorf("unknown method: %s", l)
	}
	want := []string{"server/discover", "tools/call", "tools/list", "tools/call", "resources/read", "x/unknown"}
	if diff := cmp.Diff(want, srv.seen()); diff != "" {
		t.Errorf("requests the server saw (-want +got):\n%s", diff)
	}
}

// TestModernHostLegacyServer: a 2026 host's server/discover through the
// bridge to a 2025 server gets a DiscoverResult of the bridge's making; a
// dual-era host that falls back to initialize all the same goes through
// untouched.
func TestModernHostLegacyServer(t *testing.T) {
	srv := newPingServer(t)
	h := runRelay(t, &Config{URL: srv.URL})
	h.send(`{"jsonrpc":"2.0","id":"p","method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`)
	var resp struct {
		ID     string `json:"id"`
		Result struct {
			SupportedVersions []string `json:"supportedVersions"`
		}
	}
	l := h.recv()
	json.Unmarshal([]byte(l), &resp)
	if resp.ID != "p" || !slices.Equal(resp.Result.SupportedVersions, []string{modernVersion}) {
		t.Errorf("server/discover answer = %s", l)
	}
	h.initialize()
	h.send(`{"jsonrpc":"2.0","id":2,"method":"x/echo"}`)
	if l := h.recv(); !strings.Contains(l, `"id":2`) || !strings.Contains(l, `"result"`) {
		t.Errorf("x/echo: %s", l)
	}
}

func TestEncodeHeaderValue(t *testing.T) {
	for in, want := range map[string]string{
		"us-west1":           "us-west1",
		"Hello, 世界":          "=?base64?SGVsbG8sIOS4lueVjA==?=",
		" padded ":           "=?base64?IHBhZGRlZCA=?=",
		"line1\nline2":       "=?base64?bGluZTEKbGluZTI=?=",
		"=?base64?literal?=": "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=",
		"":                   "=?base64??=",
		"a\tb":               "a\tb",
	} {
		if got := encodeHeaderValue(in); got != want {
			t.Errorf("encodeHeaderValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeaderParams(t *testing.T) {
	for _, tt := range []struct {
		name, schema string
		want         []paramPath
		bad          bool
	}{
		{"none", `{"type":"object","properties":{"a":{"type":"string","description":"no x-mcp-header here"}}}`, nil, false},
		{"top", `{"type":"object","properties":{"r":{"type":"string","x-mcp-header":"Region"}}}`, []paramPath{{"Region", "Mcp-Param-Region", []string{"r"}, "string"}}, false},
		{"nested", `{"type":"object","properties":{"o":{"type":"object","properties":{"n":{"type":"integer","x-mcp-header":"N"}}}}}`, []paramPath{{"N", "Mcp-Param-N", []string{"o", "n"}, "integer"}}, false},
		{"number", `{"type":"object","properties":{"n":{"type":"number","x-mcp-header":"N"}}}`, nil, true},
		{"items", `{"type":"object","properties":{"l":{"type":"array","items":{"type":"string","x-mcp-header":"L"}}}}`, nil, true},
		{"anyOf", `{"type":"object","anyOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]}`, nil, true},
		{"duplicate", `{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"X"},"b":{"type":"string","x-mcp-header":"x"}}}`, nil, true},
		{"not a token", `{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"A B"}}}`, nil, true},
		{"empty", `{"type":"object","properties":{"a":{"type":"string","x-mcp-header":""}}}`, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := headerParams(json.RawMessage(tt.schema))
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want error %v", err, tt.bad)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(paramPath{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassifyDiscover(t *testing.T) {
	parse := func(s string) *Message {
		m, err := ParseMessage([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tt := range []struct {
		name string
		resp *Message
		err  error
		want era
		fail bool
	}{
		{"modern", parse(`{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"]}}`), nil, eraModern, false},
		{"no overlap", parse(`{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2027-01-01"]}}`), nil, eraLegacy, false},
		{"-32000 in 400", nil, &StatusError{Status: 400, RPCError: json.RawMessage(`{"code":-32000,"message":"Bad Request: Unsupported protocol version: 2026-07-28"}`)}, eraLegacy, false},
		{"-32601", parse(`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"x"}}`), nil, eraLegacy, false},
		{"plain 404", nil, &StatusError{Status: 404}, eraLegacy, false},
		{"-32022 modern", nil, &StatusError{Status: 400, RPCError: json.RawMessage(`{"code":-32022,"message":"x","data":{"supported":["2026-07-28"]}}`)}, eraModern, false},
		{"-32022 legacy only", nil, &StatusError{Status: 400, RPCError: json.RawMessage(`{"code":-32022,"message":"x","data":{"supported":["2025-11-25"]}}`)}, eraLegacy, false},
		{"401", nil, &StatusError{Status: 401}, eraUnknown, true},
		{"503", nil, &StatusError{Status: 503}, eraUnknown, true},
		{"network", nil, fmt.Errorf("connection refused"), eraUnknown, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := classifyDiscover(tt.resp, tt.err)
			if got != tt.want || (err != nil) != tt.fail {
				t.Errorf("classifyDiscover = %v, %v; want %v, error %v", got, err, tt.want, tt.fail)
			}
		})
	}
}

// BenchmarkModernHeaders measures what the era stage adds to a modern
// host's tools/call: reading the params and deriving every header.
func BenchmarkModernHeaders(b *testing.B) {
	var tools toolHeaders
	tools.observe([]byte(`{"tools":[`+regionTool+`]}`), func(string, error) {})
	m, err := ParseMessage([]byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"region","arguments":{"q":"hello","region":"eu-west-1"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}`))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		env := parseReqFields(m.params)
		h := modernHeaders(m.Method, env.Meta.ProtocolVersion, &env, &tools)
		if len(h) != 4 {
			b.Fatal(h)
		}
	}
}

// TestProbeRetriesOnce: a server that refuses the first request with
// -32022, naming the very version the bridge sent (a refusal it means as
// passing), is asked once more, and the host's initialize is answered
// from the second answer; a server that keeps refusing gets an error to
// the host, not a crash.
func TestProbeRetriesOnce(t *testing.T) {
	for _, refusals := range []int{1, 100} {
		t.Run(fmt.Sprint(refusals, " refusals"), func(t *testing.T) {
			srv := newModernServer(t)
			var mu sync.Mutex
			n := 0
			refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				refuse := n <= refusals
				mu.Unlock()
				if refuse {
					writeRPC(w, 400, json.RawMessage(`"x"`), "error", map[string]any{"code": codeUnsupportedVersion, "message": "Unsupported protocol version",
						"data": map[string]any{"supported": []string{modernVersion}, "requested": modernVersion}})
					return
				}
				srv.Config.Handler.ServeHTTP(w, r)
			}))
			defer refusing.Close()
			h := runRelay(t, &Config{URL: refusing.URL})
			h.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"host","version":"9"}}}`)
			l := h.recv()
			if refusals == 1 && !strings.Contains(l, `"serverInfo":{"name":"modern"`) {
				t.Errorf("initialize after one refusal: %s", l)
			}
			if refusals > 1 && (!strings.Contains(l, `"error"`) || !strings.Contains(l, `"id":1`)) {
				t.Errorf("initialize against a server that always refuses: %s, want an error", l)
			}
		})
	}
}

// TestParamsWithMeta: the _meta a 2025 host's requests are stamped with
// is spliced into the bytes of params where it can be (every other byte
// as it came), and means the same as the decoding path's answer in every
// case.
func TestParamsWithMeta(t *testing.T) {
	const meta = `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"h","version":"1"}}`
	for _, tt := range []struct {
		params string
		splice bool // the bytes of params are kept
	}{
		{"", true},
		{"null", true},
		{"{}", true},
		{` { } `, true},
		{`{"name":"echo","arguments":{"_meta":"not this one"}}`, true},
		{`{"name":"echo","_meta":{"progressToken":7}}`, true},
		{`{"_meta":{}, "name":"echo"}`, true},
		{`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25"},"name":"echo"}`, false},
		{`{"_meta":{"\u0069o.modelcontextprotocol/protocolVersion":"x"}}`, false},
		{`{"_meta":"text"}`, false},
	} {
		got := paramsWithMeta([]byte(tt.params), []byte(meta))
		var gotV, wantV map[string]any
		if err := json.Unmarshal(got, &gotV); err != nil {
			t.Errorf("%s: not JSON: %s", tt.params, got)
			continue
		}
		json.Unmarshal([]byte(tt.params), &wantV)
		if wantV == nil {
			wantV = map[string]any{}
		}
		cur, _ := wantV["_meta"].(map[string]any)
		if cur == nil {
			cur = map[string]any{}
		}
		var add map[string]any
		json.Unmarshal([]byte(meta), &add)
		maps.Copy(cur, add)
		wantV["_meta"] = cur
		if diff := cmp.Diff(wantV, gotV); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.params, diff)
		}
		_, spliced := spliceMeta([]byte(tt.params), []byte(meta))
		if spliced != tt.splice {
			t.Errorf("%s: spliced %v, want %v", tt.params, spliced, tt.splice)
		}
		if spliced && strings.Contains(tt.params, "progressToken") && !strings.Contains(string(got), `"progressToken":7`) {
			t.Errorf("%s: the host's own members changed: %s", tt.params, got)
		}
	}
}
