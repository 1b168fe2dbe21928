package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// The era stage against the Go SDK's own servers (the demo server), held
// to one era by the SDK's SupportedProtocolVersions. (Held to 2026-07-28
// alone, the SDK's server v1.8.0 still accepts initialize, then refuses the
// session's requests with a plain-text 400: the modern-only server of
// these tests is era_test.go's scripted one.)

func startSDKServer(t *testing.T, versions ...string) string {
	ts := httptest.NewServer(demoserver.Handler(&demoserver.Options{ProtocolVersions: versions}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestSDKModernHostLegacyServer: a host that sends 2026-07-28 requests
// without a probe reaches a Go SDK server of 2025-11-25: the bridge holds
// the session, and the server's elicitation comes back as input_required,
// resumed by the host's retry.
func TestSDKModernHostLegacyServer(t *testing.T) {
	h := runRelay(t, &Config{URL: startSDKServer(t, "2025-11-25")})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}},"io.modelcontextprotocol/clientInfo":{"name":"m","version":"1"}}`
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, `"id":1`) || !strings.Contains(l, `"sum":5`) || !strings.Contains(l, `"resultType":"complete"`) {
		t.Errorf("add: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"confirm","arguments":{},` + meta + `}}`)
	var ir struct {
		ID     int `json:"id"`
		Result struct {
			ResultType    string                     `json:"resultType"`
			InputRequests map[string]json.RawMessage `json:"inputRequests"`
			RequestState  string                     `json:"requestState"`
		} `json:"result"`
	}
	l := h.recv()
	json.Unmarshal([]byte(l), &ir)
	if ir.ID != 2 || ir.Result.ResultType != "input_required" || len(ir.Result.InputRequests) != 1 || ir.Result.RequestState == "" {
		t.Fatalf("confirm: %s", l)
	}
	var key string
	for k := range ir.Result.InputRequests {
		key = k
	}
	h.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"confirm","arguments":{},"inputResponses":{%q:{"action":"accept","content":{"confirmed":true}}},"requestState":%q,%s}}`, key, ir.Result.RequestState, meta))
	if l := h.recv(); !strings.Contains(l, `"id":3`) || !strings.Contains(l, "action=accept confirmed=true") {
		t.Errorf("confirm retry: %s", l)
	}
	h.send(`{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"` + demoserver.ReadmeURI + `",` + meta + `}}`)
	if l := h.recv(); !strings.Contains(l, `"id":4`) || !strings.Contains(l, `"resultType":"complete"`) || !strings.Contains(l, "demo server") {
		t.Errorf("resources/read: %s", l)
	}
}

// TestSDKModernHostDiscoversLegacyServer: a 2026 host's server/discover
// to a Go SDK server of 2025-11-25 gets a DiscoverResult made from the
// server's InitializeResult, so that a 2026-only host carries on; the next
// start answers it from the era cache, with no request to the server.
func TestSDKModernHostDiscoversLegacyServer(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	sdk := demoserver.Handler(&demoserver.Options{ProtocolVersions: []string{"2025-11-25"}})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()

		sdk.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	cache := &memEraCache{}
	discover := `{"jsonrpc":"2.0","id":"server-discover-probe-1","method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	var first string
	for start := range 2 {
		mu.Lock()
		before := requests
		mu.Unlock()
		t.Run(fmt.Sprint("start ", start), func(t *testing.T) {
			h := runRelay(t, &Config{URL: ts.URL, EraCache: cache})
			h.send(discover)
			l := h.recv()
			var resp struct {
				ID     string `json:"id"`
				Result struct {
					SupportedVersions []string                   `json:"supportedVersions"`
					Capabilities      map[string]json.RawMessage `json:"capabilities"`
					ResultType        string                     `json:"resultType"`
					Meta              map[string]struct {
						Name string `json:"name"`
					} `json:"_meta"`
				} `json:"result"`
			}
			json.Unmarshal([]byte(l), &resp)
			r := resp.Result
			if resp.ID != "server-discover-probe-1" || !slices.Equal(r.SupportedVersions, []string{"2026-07-28"}) || r.ResultType != "complete" ||
				r.Capabilities["tools"] == nil || r.Meta[metaServerInfo].Name != demoserver.Name {
				t.Fatalf("start %d: server/discover: %s", start, l)
			}
			mu.Lock()
			asked := requests - before
			mu.Unlock()
			switch {
			case start == 0:
				first = l
				if asked == 0 {
					t.Fatalf("the first start answered server/discover without asking the server")
				}
			case asked != 0 || l != first:
				t.Errorf("the second start sent %d requests and answered %s, want none and %s", asked, l, first)
			}
		})
	}
}

// indentingCache is an EraCache that keeps verdicts indented, as a file
// of them may, and counts what it is told to store.
type indentingCache struct {
	memEraCache
	sets int
}

func (c *indentingCache) SetEra(key string, v []byte) {
	var b bytes.Buffer
	json.Indent(&b, v, "", "  ")
	c.mu.Lock()
	c.sets++
	c.mu.Unlock()
	c.memEraCache.SetEra(key, b.Bytes())
}

// TestRememberedLegacyServerWritesNothing: a 2025 host's second start
// against a remembered 2025 server stores nothing in the era cache (a
// write costs the start a file's write).
func TestRememberedLegacyServerWritesNothing(t *testing.T) {
	url := startSDKServer(t, "2025-11-25")
	cache := &indentingCache{}
	var sets []int
	for start := range 2 {
		t.Run(fmt.Sprint("start ", start), func(t *testing.T) {
			h := runRelay(t, &Config{URL: url, EraCache: cache})
			h.initialize()
		})
		cache.mu.Lock()
		sets = append(sets, cache.sets)
		cache.mu.Unlock()
	}
	if sets[0] == 0 || sets[1] != sets[0] {
		t.Errorf("era cache writes after each start: %v, want some on the first and none on the second", sets)
	}
}
