package bridge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkRelayCall measures one call through a Relay in this process, to
// a server that answers at once, for a 2025 host and session and for a
// 2026-07-28 host whose headers the era stage derives: the difference is
// the era stage's cost per call.
func BenchmarkRelayCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		i := bytes.Index(body, []byte(`"id":`))
		if i < 0 || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusAccepted) // a notification; GET and DELETE too
			return
		}
		j := bytes.IndexByte(body[i:], ',')
		id := body[i+5 : i+j]
		w.Header().Set("Content-Type", "application/json")
		switch {
		case bytes.Contains(body, []byte(`"initialize"`)):
			w.Header().Set("Mcp-Session-Id", "s")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"m","version":"0"}}}`, id)
		case bytes.Contains(body, []byte(`"tools/list"`)):
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"tools":[%s]}}`, id, regionTool)
		case bytes.Contains(body, []byte(`"server/discover"`)) && r.URL.Path == "/2025":
			w.WriteHeader(404) // a 2025 server
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"Method not found"}}`, id)
		case bytes.Contains(body, []byte(`"server/discover"`)):
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"supportedVersions":["2026-07-28"],"capabilities":{}}}`, id)
		case r.Header.Get("Mcp-Session-Id") == "" && r.Header.Get("Mcp-Param-Region") != "eu":
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32020,"message":"no header"}}`, id)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[]}}\n\n", id)
		}
	}))
	defer srv.Close()
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"b","version":"1"}}`
	init2025 := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`
	call2025 := `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"region","arguments":{"region":"eu","q":"x"}}}`
	for _, tt := range []struct {
		name, server, first, call string
	}{
		{"2025", "2025", init2025, call2025},
		{"2026", "2026", `{"jsonrpc":"2.0","id":0,"method":"tools/list","params":{` + meta + `}}`,
			`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"region","arguments":{"region":"eu","q":"x"},` + meta + `}}`},
		// A 2025 host of a 2026 server: the bridge stamps each call.
		{"2025-host-2026-server", "2026", init2025, call2025},
	} {
		b.Run(tt.name, func(b *testing.B) {
			r, err := New(&Config{URL: srv.URL + "/" + tt.server})
			if err != nil {
				b.Fatal(err)
			}
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			go r.Run(context.Background(), inR, outW)
			defer inW.Close()
			out := bufio.NewReader(outR)
			io.WriteString(inW, tt.first+"\n")
			out.ReadBytes('\n')
			id := 0
			for b.Loop() {
				id++
				fmt.Fprintf(inW, tt.call+"\n", id)
				line, _ := out.ReadBytes('\n')
				if !bytes.Contains(line, []byte(`"id":`+strconv.Itoa(id)+`,"result"`)) {
					b.Fatalf("call %d: %s", id, line)
				}
			}
		})
	}
}
