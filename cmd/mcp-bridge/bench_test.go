package main

// Benchmarks of the bridge against direct HTTP calls on the same server.
//
// Run them with:
//
//	go test -run '^$' -bench . -benchtime 2000x ./cmd/mcp-bridge/
//
// "direct" is a minimal Streamable HTTP client in this process; "bridge" is
// the same calls written to the real mcp-bridge binary's stdin and read from
// its stdout, as a host does. Both talk to the demo server (Go SDK) running
// in a process of its own, and both classify messages with the same cheap
// check, so the difference between them is what the bridge costs. Latency benchmarks
// report p50 and p99 per call; throughput ones calls per second.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// bridgeBinary builds the real binary once per test process.
func bridgeBinary(b *testing.B) string {
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "mcp-bridge-bench-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "mcp-bridge")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as released
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		b.Fatal(binErr)
	}
	return binPath
}

// removeBenchBinary is called by TestMain after the tests.
func removeBenchBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// startDemo starts the demo server in a process of its own, as a remote
// server would be, and returns its MCP URL. In-process, the direct client
// would share a Go runtime with the server and skip the cross-process
// wake-ups that the bridge's calls pay.
func startDemo(b *testing.B) string { return startServer(b, "demo") }

// startServer starts a server process of the given kind and returns its
// MCP URL:
//   - "demo", the Go SDK demo server;
//   - "minimal", a server that answers every call at once with one SSE
//     event, to measure the bridge without the SDK server's own variance;
//   - "modern", a minimal 2026-07-28 server;
//   - "protected", the demo server behind the OAuth test servers;
//   - "protected-dpop", the minimal server behind them, with tokens bound
//     to a DPoP key where the client sends a proof.
func startServer(b *testing.B, kind string) string {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "MCP_BRIDGE_TEST_SERVER="+kind)
	// GOGC for the server process alone: with the SDK server's collector
	// off, the bridge's added p99 falls from hundreds of µs to tens, the
	// gap being the server's collections on a machine with two CPUs for
	// three busy processes.
	if g := os.Getenv("MCP_BRIDGE_BENCH_SERVER_GOGC"); g != "" {
		cmd.Env = append(cmd.Env, "GOGC="+g)
	}
	_, out := startPiped(b, cmd) // the server stops when its stdin closes
	url, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("the server process printed no URL: %v", err)
	}
	return strings.TrimSpace(url)
}

// serveBenchServer is the server process of startServer: it prints the MCP
// URL and serves until stdin closes.
func serveBenchServer(kind string) {
	var url string
	var stop func()
	switch kind {
	case "minimal":
		ts := httptest.NewServer(http.HandlerFunc(minimalServer))
		url, stop = ts.URL+"/mcp", ts.Close
	case "modern":
		ts := httptest.NewServer(http.HandlerFunc(modernBenchServer))
		url, stop = ts.URL+"/mcp", ts.Close
	case "protected", "protected-dpop":
		opts := &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{AutoApprove: true, AccessTokenTTL: time.Hour}}
		if kind == "protected-dpop" {
			opts.AuthServer.DPoP = true
			opts.Handler = http.HandlerFunc(minimalServer)
		}
		pd, err := oauthtest.StartProtectedDemo(context.Background(), opts)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		url, stop = pd.URL, pd.Close
	default:
		srv, err := demoserver.Start(context.Background(), nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		url, stop = srv.MCPURL(), func() { srv.Close() }
	}
	fmt.Println(url)
	io.Copy(io.Discard, os.Stdin)
	stop()
}

// minimalServer answers initialize with a session, notifications with 202,
// and every request with one SSE event holding a fixed echo result.
func minimalServer(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodGet:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	id, isResponse := classify(body)
	if !isResponse {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if bytes.Contains(body, []byte(`"method":"initialize"`)) {
		w.Header().Set("Mcp-Session-Id", "minimal")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"minimal","version":"0"}}}`, id)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprintf(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]}}\n\n", id)
}

const benchInit = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`

// A caller sends one request and returns the response line, counting the
// notifications that came before it.
type caller interface {
	call(id int, body string) (resp []byte, notes int, err error)
}

func callBody(id int, tool, args string) string {
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `,"_meta":{"progressToken":` + strconv.Itoa(id) + `}}}`
}

// classify finds a message's id without decoding it: the demo server (Go
// SDK) writes {"jsonrpc":"2.0","id":N,... for responses.
func classify(line []byte) (id string, isResponse bool) {
	const prefix = `{"jsonrpc":"2.0","id":`
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return "", false
	}
	rest := line[len(prefix):]
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return "", false
	}
	return string(rest[:end]), true
}

// directClient speaks Streamable HTTP itself.
type directClient struct {
	url, session string
	client       *http.Client
	header       http.Header // sent with every POST, if not nil
}

func newDirect(b *testing.B, url string) *directClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	d := &directClient{url: url, client: &http.Client{Transport: t}}
	resp, err := d.post(benchInit)
	if err != nil {
		b.Fatal(err)
	}
	d.session = resp.Header.Get("Mcp-Session-Id")
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r, err := d.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if err != nil {
		b.Fatal(err)
	}
	r.Body.Close()
	// Listen for the server's own messages, as a full client (the SDK's,
	// the bridge) does: the SDK server's work per call depends on it.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", d.session)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	get, err := d.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	go func() { io.Copy(io.Discard, get.Body); get.Body.Close() }()
	b.Cleanup(func() { get.Body.Close() })
	return d
}

func (d *directClient) post(body string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, d.url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range d.header {
		req.Header[k] = v
	}
	if d.session != "" {
		req.Header.Set("Mcp-Session-Id", d.session)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	return d.client.Do(req)
}

func (d *directClient) call(id int, body string) ([]byte, int, error) {
	resp, err := d.post(body)
	if err != nil {
		return nil, 0, err
	}
	// Like the bridge, read the rest of the stream in the background so
	// that the connection is reused.
	defer func() { go func() { io.Copy(io.Discard, resp.Body); resp.Body.Close() }() }()
	want := strconv.Itoa(id)
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	notes := 0
	var data []byte
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, notes, fmt.Errorf("stream ended before the response: %w", err)
		}
		switch {
		case bytes.HasPrefix(line, []byte("data: ")):
			data = line[len("data: "):]
		case len(line) == 0 && data != nil:
			if got, ok := classify(data); ok && got == want {
				return data, notes, nil
			}
			notes++
			data = nil
		}
	}
}

// readLine reads a line of any length, without its newline, in a new slice.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			return bytes.TrimSuffix(line, []byte("\n")), nil
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
}

// startPiped starts cmd with pipes to its stdin and stdout, and its
// stderr on ours. When the benchmark ends, its stdin is closed and it is
// waited for.
func startPiped(b *testing.B, cmd *exec.Cmd) (io.WriteCloser, io.Reader) {
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return in, out
}

// startBridgeProcess starts the real binary on url with args and runs
// the initialize handshake.
func startBridgeProcess(b *testing.B, url string, args ...string) (cmd *exec.Cmd, in io.WriteCloser, out *bufio.Reader) {
	cmd = exec.Command(bridgeBinary(b), append([]string{url, "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir())
	in, out = startInitialized(b, cmd)
	return cmd, in, out
}

// startInitialized starts the bridge command cmd and runs the initialize
// handshake.
func startInitialized(b *testing.B, cmd *exec.Cmd) (in io.WriteCloser, out *bufio.Reader) {
	in, stdout := startPiped(b, cmd)
	out = bufio.NewReaderSize(stdout, 64<<10)
	io.WriteString(in, benchInit+"\n")
	if _, err := readLine(out); err != nil {
		b.Fatal(err)
	}
	io.WriteString(in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	return in, out
}

// seqStdio drives the bridge one call at a time and reads its stdout on
// the calling goroutine, as the direct client reads its response.
type seqStdio struct {
	cmd *exec.Cmd
	in  io.Writer
	out *bufio.Reader
}

func newSeqStdio(b *testing.B, url string, args ...string) *seqStdio {
	cmd, in, out := startBridgeProcess(b, url, args...)
	return &seqStdio{cmd, in, out}
}

func (s *seqStdio) call(id int, body string) ([]byte, int, error) {
	if _, err := io.WriteString(s.in, body+"\n"); err != nil {
		return nil, 0, err
	}
	want := strconv.Itoa(id)
	notes := 0
	for {
		line, err := readLine(s.out)
		if err != nil {
			return nil, notes, err
		}
		if got, ok := classify(line); ok && got == want {
			return line, notes, nil
		}
		notes++
	}
}

// muxStdio drives the bridge with any number of calls in flight: a reader
// goroutine hands each response to its caller.
type muxStdio struct {
	in  io.Writer
	wmu sync.Mutex // serializes writes to in

	mu      sync.Mutex // guards waiting
	waiting map[string]chan []byte
}

func newMuxStdio(b *testing.B, url string) *muxStdio {
	_, in, out := startBridgeProcess(b, url)
	return newMux(in, out)
}

// newMux drives a bridge that has shaken hands through its stdin in and
// stdout out.
func newMux(in io.Writer, out *bufio.Reader) *muxStdio {
	s := &muxStdio{in: in, waiting: map[string]chan []byte{}}
	go func() {
		for {
			line, err := readLine(out)
			if err != nil {
				return
			}
			id, ok := classify(line)
			if !ok {
				continue // a notification
			}
			s.mu.Lock()
			ch := s.waiting[id]
			delete(s.waiting, id)
			s.mu.Unlock()
			if ch != nil {
				ch <- line
			}
		}
	}()
	return s
}

func (s *muxStdio) call(id int, body string) ([]byte, int, error) {
	ch := make(chan []byte, 1)
	s.mu.Lock()
	s.waiting[strconv.Itoa(id)] = ch
	s.mu.Unlock()
	s.wmu.Lock()
	_, err := io.WriteString(s.in, body+"\n")
	s.wmu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	select {
	case line := <-ch:
		return line, 0, nil
	case <-time.After(30 * time.Second):
		return nil, 0, fmt.Errorf("no response to %d", id)
	}
}

// clients returns a direct and a bridge caller for the same server; the
// bridge caller supports concurrent calls if concurrent is set.
func clients(b *testing.B, concurrent bool) []struct {
	name string
	c    caller
} {
	url := startDemo(b)
	var bridge caller
	if concurrent {
		bridge = newMuxStdio(b, url)
	} else {
		bridge = newSeqStdio(b, url)
	}
	return []struct {
		name string
		c    caller
	}{
		{"direct", newDirect(b, url)},
		{"bridge", bridge},
	}
}

// BenchmarkColdStart measures, per start of the binary, the time from exec
// to the initialize response (target: 10 ms or less).
func BenchmarkColdStart(b *testing.B) {
	coldStarts(b, startDemo(b), append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir()))
}

// BenchmarkColdStartSignedIn is BenchmarkColdStart against an
// OAuth-protected server with a token the bridge kept from an earlier
// sign-in: the extra start-up time the stored credentials cost (target:
// 3 ms or less over BenchmarkColdStart, issue 14). The store is what
// --token-store auto finds: the OS keychain if one answers, else files.
func BenchmarkColdStartSignedIn(b *testing.B) {
	url := startServer(b, "protected")
	// A browser command that fails: the starts must need no sign-in.
	coldStarts(b, url, signIn(b, url), "--browser-command", "false")
}

// signIn runs the real login command on url with args, the demo's
// approver as the browser, in a home of its own, and returns the
// environment of that home.
func signIn(b *testing.B, url string, args ...string) []string {
	bin := bridgeBinary(b)
	env := append(os.Environ(), homeEnv(b.TempDir())...)
	login := exec.Command(bin, append([]string{"login", url, "--browser-command", `"` + bin + `" demo approve`}, args...)...)
	login.Env = env
	if out, err := login.CombinedOutput(); err != nil {
		b.Fatalf("login: %v\n%s", err, out)
	}
	return env
}

// BenchmarkColdStartSignedInPaired is BenchmarkColdStart and
// BenchmarkColdStartSignedIn in one loop, a start of each per iteration
// (their order alternating), so that a busy machine slows both alike. It
// reports the median of each and added-p50-ms, the median of the paired
// differences: the extra start-up time of stored credentials (issue 14,
// target +3 ms with the Secret Service).
func BenchmarkColdStartSignedInPaired(b *testing.B) {
	plain, plainEnv := startDemo(b), append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir())
	url := startServer(b, "protected")
	env := signIn(b, url)
	var plainT, signedT, added []time.Duration
	for i := 0; b.Loop(); i++ {
		var p, s time.Duration
		if i%2 == 0 {
			p = coldStart(b, plain, plainEnv)
			s = coldStart(b, url, env, "--browser-command", "false")
		} else {
			s = coldStart(b, url, env, "--browser-command", "false")
			p = coldStart(b, plain, plainEnv)
		}
		plainT, signedT, added = append(plainT, p), append(signedT, s), append(added, s-p)
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.ReportMetric(median(plainT), "plain-p50-ms")
	b.ReportMetric(median(signedT), "signedin-p50-ms")
	b.ReportMetric(median(added), "added-p50-ms")
}

// coldStarts starts the real binary b.N times with args, as a host does,
// and reports the mean time from exec to the initialize response.
func coldStarts(b *testing.B, url string, env []string, args ...string) {
	var total time.Duration
	for b.Loop() {
		total += coldStart(b, url, env, args...)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-initialize")
}

// coldStart starts the real binary once and returns the time from exec to
// the initialize response.
func coldStart(b *testing.B, url string, env []string, args ...string) time.Duration {
	bin := bridgeBinary(b) // the first call builds it: not part of a start
	start := time.Now()
	cmd := exec.Command(bin, append([]string{url}, args...)...)
	cmd.Env = env
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	io.WriteString(in, benchInit+"\n")
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil || !bytes.Contains(line, []byte(`"protocolVersion":"2025-11-25"`)) {
		b.Fatalf("initialize: %q, %v", line, err)
	}
	d := time.Since(start)
	in.Close()
	cmd.Wait()
	return d
}

// A contender is one way to make a call, in a latency benchmark.
type contender struct {
	name string
	c    caller
	body func(id int) string // the call's JSON-RPC request
}

// echoCall is a 2025 host's call of the echo tool.
func echoCall(id int) string { return callBody(id, "echo", `{"text":"hello"}`) }

// interleaved makes one call at a time through each contender in turn,
// every iteration, rotating who goes first, so that the machine's noise
// falls on all of them alike. It reports each one's p50 and p99 and, for
// all but the first, added-p50-µs: the median of its paired difference
// from the first (the baseline) in the same iteration.
func interleaved(b *testing.B, cs ...contender) {
	lat := make([][]time.Duration, len(cs))
	added := make([][]time.Duration, len(cs))
	took := make([]time.Duration, len(cs))
	id := 1
	for i := 0; b.Loop(); i++ {
		for k := range cs {
			j := (i + k) % len(cs)
			id++
			start := time.Now()
			line, _, err := cs[j].c.call(id, cs[j].body(id))
			took[j] = time.Since(start)
			if err != nil || !bytes.Contains(line, []byte(`"result"`)) {
				b.Fatalf("%s: %s, %v", cs[j].name, line, err)
			}
		}
		for j := range cs {
			lat[j] = append(lat[j], took[j])
			added[j] = append(added[j], took[j]-took[0])
		}
	}
	quantile := func(d []time.Duration, q int) float64 {
		slices.Sort(d)
		return float64(d[len(d)*q/100].Nanoseconds()) / 1000
	}
	for j, c := range cs {
		b.ReportMetric(quantile(lat[j], 50), c.name+"-p50-µs")
		b.ReportMetric(quantile(lat[j], 99), c.name+"-p99-µs")
		if j > 0 {
			b.ReportMetric(quantile(added[j], 50), c.name+"-added-p50-µs")
		}
	}
}

// BenchmarkLatency makes one call at a time, directly and through the
// bridge in turns (interleaved), and reports the p50 and p99 of a call's
// round trip and what the bridge adds (target: 50 µs or less at the p50).
func BenchmarkLatency(b *testing.B) {
	for _, server := range []string{"demo", "minimal"} {
		url := startServer(b, server)
		b.Run(server, func(b *testing.B) {
			interleaved(b, contender{"direct", newDirect(b, url), echoCall}, contender{"bridge", newSeqStdio(b, url), echoCall})
		})
	}
}

// BenchmarkLatencyAudit reports what an audit line per call adds to a
// call's round trip (target: 10 µs or less at the p50): a bridge that
// writes the audit log against one that does not.
func BenchmarkLatencyAudit(b *testing.B) {
	url := startServer(b, "minimal")
	interleaved(b,
		contender{"bridge", newSeqStdio(b, url), echoCall},
		contender{"audit", newSeqStdio(b, url, "--audit-log", filepath.Join(b.TempDir(), "audit.jsonl")), echoCall})
}

// BenchmarkThroughput keeps 8 or 64 calls in flight and reports calls per
// second (target: the bridge at 0.9× direct or better).
func BenchmarkThroughput(b *testing.B) {
	for _, cl := range clients(b, true) {
		for _, inflight := range []int{8, 64} {
			b.Run(fmt.Sprintf("%s/inflight-%d", cl.name, inflight), func(b *testing.B) {
				var next atomic.Int64
				next.Store(1_000_000 * int64(inflight))
				n := int64(b.N)
				var wg sync.WaitGroup
				errs := make(chan error, inflight)
				b.ResetTimer()
				start := time.Now()
				for range inflight {
					wg.Go(func() {
						for {
							id := int(next.Add(1))
							if int64(id)-1_000_000*int64(inflight) > n {
								return
							}
							if _, _, err := cl.c.call(id, callBody(id, "echo", `{"text":"hello"}`)); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				select {
				case err := <-errs:
					b.Fatal(err)
				default:
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
			})
		}
	}
}

// BenchmarkBigResult fetches a 10 MB tool result (target: the bridge at
// 0.9× direct or better) and checks it arrives whole. On Linux it also
// reports the bridge's peak resident memory over the run.
func BenchmarkBigResult(b *testing.B) {
	const size = 10_000_000
	want := demoserver.BigText(size)
	for _, cl := range clients(b, false) {
		b.Run(cl.name, func(b *testing.B) {
			b.SetBytes(size)
			id := 1
			for b.Loop() {
				id++
				resp, _, err := cl.c.call(id, callBody(id, "big", `{"bytes":10000000}`))
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.Contains(resp, []byte(want)) {
					b.Fatalf("the 10 MB result is not intact (%d bytes)", len(resp))
				}
			}
			if s, ok := cl.c.(*seqStdio); ok && runtime.GOOS == "linux" {
				b.ReportMetric(procMiB(b, s.cmd.Process.Pid, "VmHWM"), "MiB-peak-RSS")
			}
		})
	}
}

// BenchmarkProgress makes a call that sends 1000 progress notifications
// before its result (target: 1.3× direct or better, none lost).
func BenchmarkProgress(b *testing.B) {
	for _, cl := range clients(b, false) {
		b.Run(cl.name, func(b *testing.B) {
			id := 1
			for b.Loop() {
				id++
				_, notes, err := cl.c.call(id, callBody(id, "count", `{"n":1000}`))
				if err != nil {
					b.Fatal(err)
				}
				if notes != 1000 {
					b.Fatalf("got %d progress notifications, want 1000", notes)
				}
			}
		})
	}
}

// procMiB returns a field of /proc/pid/status that counts kB, in MiB:
// VmRSS, the resident memory, or VmHWM, its peak.
func procMiB(b *testing.B, pid int, field string) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// BenchmarkIdleRSS reports the resident memory of a bridge with an open
// session, 10 s after the initialize answer and a few calls (target: 8 MiB
// or less), and how much of it is the binary's pages (RssFile, shared
// with every other process of the binary). Linux only.
func BenchmarkIdleRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	url := startDemo(b)
	var rss, file float64
	for b.Loop() {
		s := newSeqStdio(b, url)
		initialized := time.Now()
		for id := 1; id <= 10; id++ {
			if _, _, err := s.call(id, callBody(id, "echo", `{"text":"hello"}`)); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(time.Until(initialized.Add(10 * time.Second))) // idle is what is measured
		if _, _, err := s.call(11, callBody(11, "echo", `{"text":"hello"}`)); err != nil {
			b.Fatal(err)
		}
		rss = procMiB(b, s.cmd.Process.Pid, "VmRSS")
		file = procMiB(b, s.cmd.Process.Pid, "RssFile")
	}
	b.ReportMetric(rss, "MiB-RSS")
	b.ReportMetric(file, "MiB-RssFile")
}
