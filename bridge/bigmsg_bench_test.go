package bridge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// BenchmarkRelayBigResult measures one 10 MB result through a Relay in
// this process, as a server-sent event and as a JSON body: the bytes the
// relay allocates for it (B/op) and the heap it holds at the peak.
func BenchmarkRelayBigResult(b *testing.B) {
	text := bytes.Repeat([]byte("x"), 10_000_000)
	for _, sse := range []bool{true, false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			i := bytes.Index(body, []byte(`"id":`))
			if i < 0 || r.Method != http.MethodPost {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			j := bytes.IndexByte(body[i:], ',')
			id := body[i+5 : i+j]
			if bytes.Contains(body, []byte(`"initialize"`)) || bytes.Contains(body, []byte(`"server/discover"`)) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Mcp-Session-Id", "s")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"m","version":"0"}}}`, id)
				return
			}
			// Written in parts, so that the server allocates nothing per call.
			if sse {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write([]byte(`data: `))
			} else {
				w.Header().Set("Content-Type", "application/json")
			}
			w.Write([]byte(`{"jsonrpc":"2.0","id":`))
			w.Write(id)
			w.Write([]byte(`,"result":{"content":[{"type":"text","text":"`))
			w.Write(text)
			w.Write([]byte(`"}]}}`))
			if sse {
				w.Write([]byte("\n\n"))
			}
		}))
		name := "json"
		if sse {
			name = "sse"
		}
		b.Run(name, func(b *testing.B) {
			defer srv.Close()
			r, err := New(&Config{URL: srv.URL})
			if err != nil {
				b.Fatal(err)
			}
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			go r.Run(context.Background(), inR, outW)
			defer inW.Close()
			out := bufio.NewReaderSize(outR, 1<<20)
			io.WriteString(inW, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`+"\n")
			out.ReadBytes('\n')
			id := 0
			var peak uint64
			for b.Loop() {
				id++
				fmt.Fprintf(inW, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"big"}}`+"\n", id)
				n := 0
				for {
					chunk, err := out.ReadSlice('\n')
					n += len(chunk)
					if err == nil {
						break
					}
					if err != bufio.ErrBufferFull {
						b.Fatal(err)
					}
				}
				if n < 10_000_000 {
					b.Fatalf("call %d: %d bytes", id, n)
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapSys-ms.HeapReleased)
			}
			b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-held")
		})
	}
}
