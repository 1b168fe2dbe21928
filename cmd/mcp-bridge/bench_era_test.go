package main

// Benchmarks of the bridge against a server of protocol revision
// 2026-07-28, beside those of bench_test.go:
//
//	go test -run '^$' -bench 'Modern' -benchtime 2000x ./cmd/mcp-bridge/

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// modernDiscovers counts the server/discover requests modernBenchServer
// has answered; GET /discovers reads it.
var modernDiscovers atomic.Int64

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}`

// modernBenchServer is a stateless 2026-07-28 server that checks the
// request metadata headers as a real one must (400 and -32020 when one is
// missing or does not match) and answers each call with one SSE event.
// Its one tool, echo, mirrors its region argument into Mcp-Param-Region.
func modernBenchServer(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/discovers" {
		fmt.Fprint(w, modernDiscovers.Load())
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(r.Body)
	id, _ := classify(body)
	mismatch := func(what string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32020,"message":"header mismatch: %s"}}`, id, what)
	}
	method := r.Header.Get("Mcp-Method")
	switch {
	case r.Header.Get("Mcp-Protocol-Version") != "2026-07-28" || !bytes.Contains(body, []byte(`"io.modelcontextprotocol/protocolVersion":"2026-07-28"`)):
		mismatch("MCP-Protocol-Version")
		return
	case method == "" || !bytes.Contains(body, []byte(`"method":"`+method+`"`)):
		mismatch("Mcp-Method")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "server/discover":
		modernDiscovers.Add(1)
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"resultType":"complete","supportedVersions":["2026-07-28"],"capabilities":{"tools":{}},"ttlMs":60000,"cacheScope":"public","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"modern","version":"0"}}}}`, id)
	case "tools/list":
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"resultType":"complete","tools":[{"name":"echo","inputSchema":{"type":"object","properties":{"text":{"type":"string"},"region":{"type":"string","x-mcp-header":"Region"}}}}],"ttlMs":0,"cacheScope":"public"}}`, id)
	case "tools/call":
		region := r.Header.Get("Mcp-Param-Region")
		if r.Header.Get("Mcp-Name") != "echo" || region == "" || !bytes.Contains(body, []byte(`"region":"`+region+`"`)) {
			mismatch("Mcp-Name or Mcp-Param-Region")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"resultType\":\"complete\",\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]}}\n\n", id)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"Method not found"}}`, id)
	}
}

// modernCallBody is a 2026-07-28 host's tools/call of echo.
func modernCallBody(id int) string {
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello","region":"eu-west-1"},` + modernMeta + `}}`
}

// startModernBridge starts the real binary on url as a host of the given
// era would use it: a 2026 host lists the tools first (so that the bridge
// learns the echo tool's header), a 2025 host initializes.
func startModernBridge(b *testing.B, url string, modernHost bool) *seqStdio {
	cmd := exec.Command(bridgeBinary(b), url, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir())
	in, stdout := startPiped(b, cmd)
	s := &seqStdio{cmd, in, bufio.NewReaderSize(stdout, 64<<10)}
	first := `{"jsonrpc":"2.0","id":0,"method":"tools/list","params":{` + modernMeta + `}}`
	if !modernHost {
		first = benchInit
	}
	line, _, err := s.call(0, first)
	if err != nil || !bytes.Contains(line, []byte(`"result"`)) {
		b.Fatalf("first request: %s, %v", line, err)
	}
	if !modernHost {
		io.WriteString(in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
		if line, _, err := s.call(1, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); err != nil || !bytes.Contains(line, []byte(`"echo"`)) {
			b.Fatalf("tools/list: %s, %v", line, err)
		}
	}
	return s
}

// BenchmarkLatencyModern is BenchmarkLatency against a 2026-07-28 server:
// "direct" is a 2026 client that sets the request headers itself; "bridge"
// a 2026 host on stdio, whose headers the bridge derives from each message
// (MCP-Protocol-Version, Mcp-Method, Mcp-Name and Mcp-Param-Region; target:
// 50 µs or less over direct at p50); "bridge-2025-host" a 2025-11-25 host,
// whose calls the bridge also stamps with the _meta of its initialize.
func BenchmarkLatencyModern(b *testing.B) {
	url := startServer(b, "modern")
	direct := &directClient{url: url, client: &http.Client{}, header: http.Header{
		"Mcp-Protocol-Version": {"2026-07-28"}, "Mcp-Method": {"tools/call"},
		"Mcp-Name": {"echo"}, "Mcp-Param-Region": {"eu-west-1"},
	}}
	interleaved(b,
		contender{"direct", direct, modernCallBody},
		contender{"bridge", startModernBridge(b, url, true), modernCallBody},
		contender{"bridge-2025-host", startModernBridge(b, url, false), func(id int) string {
			return callBody(id, "echo", `{"text":"hello","region":"eu-west-1"}`)
		}})
}

// BenchmarkColdStartModern is BenchmarkColdStart against a 2026-07-28
// server whose era the bridge remembers from an earlier start: a 2025
// host's initialize is answered from the remembered DiscoverResult, with
// no request to the server (target: 10 ms or less; it fails if a start
// probes).
func BenchmarkColdStartModern(b *testing.B) {
	url := startServer(b, "modern")
	env := append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir())
	coldStart(b, url, env) // the first start probes and remembers
	before := modernDiscoverCount(b, url)
	coldStarts(b, url, env)
	if after := modernDiscoverCount(b, url); after != before {
		b.Fatalf("%d starts with a remembered era sent %d server/discover probes", b.N, after-before)
	}
}

func modernDiscoverCount(b *testing.B, url string) int {
	resp, err := http.Get(strings.TrimSuffix(url, "/mcp") + "/discovers")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	n, err := strconv.Atoi(string(data))
	if err != nil {
		b.Fatalf("discover count %q: %v", data, err)
	}
	return n
}
