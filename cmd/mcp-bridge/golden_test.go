package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// The golden transcript tests run the real bridge over stdio against the
// in-process demo server (a Go SDK server) and compare every line the host
// receives, byte for byte, with testdata/transcripts/*.txtar. The bridge
// forwards the server's bytes unchanged, so the expected lines are what the
// Go SDK server writes.
//
// A transcript file is a txtar archive (the format of
// golang.org/x/tools/txtar, parsed here by [parseArchive] to avoid the
// dependency): its comment says what the transcript shows, an optional
// "options" file configures the server and the bridge, and the "transcript"
// file holds one step per line:
//
//	> LINE     the host sends LINE
//	< LINE     the host must receive LINE next, byte for byte
//	! ACTION   the harness acts (see [transcriptRun.action])
//	# text     a comment
//
// Options, one per line:
//
//	json-response    the server answers POSTs with application/json
//	                 (demoserver Options.JSONResponse)
//	event-store      the server keeps and replays SSE events
//	                 (demoserver Options.EventStore)
//	legacy-sse       the bridge is pointed at the HTTP+SSE endpoint (/sse)
//	                 with --transport sse
//	transport NAME   the bridge runs with --transport NAME
//	warning TEXT     the bridge must log a warning containing TEXT
//
// One field is volatile: the server's base URL (a random loopback port),
// which appears where the bridge names the server in an error it makes.
// The harness replaces it with $SERVER in the lines the host receives.
//
// After the last step the harness closes the bridge's stdin and checks that
// the bridge exits with status 0, that no line arrived beyond those the
// transcript expects, and that the bridge logged no warning or error other
// than those the options expect.
//
// go test ./cmd/mcp-bridge -run TestGolden -update rewrites the "<" lines
// from what the host received.
var update = flag.Bool("update", false, "rewrite the < lines of testdata/transcripts/*.txtar from what the host received")

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/transcripts")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			runTranscript(t, file)
		})
	}
}

// A step is one line of a transcript.
type step struct {
	line int    // line number in the file
	kind byte   // '>', '<', '!' or 0 for a comment or blank line
	text string // the line after "> ", "< " or "! "
	raw  string // the whole line, for rewriting
}

// transcriptRun is one transcript being played.
type transcriptRun struct {
	t        *testing.T
	file     string
	srv      *demoserver.Server
	notifier *notifier
}

func runTranscript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a := parseArchive(data)
	if len(bytes.TrimSpace(a.comment)) == 0 {
		t.Errorf("%s: the comment explaining the transcript is missing", file)
	}
	var opts []string
	var steps []step
	haveTranscript := false
	for _, f := range a.files {
		switch f.name {
		case "options":
			for line := range strings.Lines(string(f.data)) {
				if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
					opts = append(opts, line)
				}
			}
		case "transcript":
			steps = parseSteps(t, file, f)
			haveTranscript = true
		default:
			t.Fatalf("%s: unknown section %q", file, f.name)
		}
	}
	if !haveTranscript {
		t.Fatalf("%s: no transcript section", file)
	}

	sopts := &demoserver.Options{}
	legacy := false
	var args, warnings []string
	for _, o := range opts {
		switch f := strings.Fields(o); {
		case o == "json-response":
			sopts.JSONResponse = true
		case o == "event-store":
			sopts.EventStore = true
		case o == "legacy-sse":
			legacy = true
		case len(f) == 2 && f[0] == "transport":
			args = append(args, "--transport", f[1])
		case len(f) > 1 && f[0] == "warning":
			warnings = append(warnings, strings.TrimSpace(strings.TrimPrefix(o, "warning")))
		default:
			t.Fatalf("%s: unknown option %q", file, o)
		}
	}
	srv, err := demoserver.Start(t.Context(), sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close the demo server: %v", err)
		}
	})
	n := &notifier{}
	srv.MCPServer().AddSendingMiddleware(n.middleware)
	url := srv.MCPURL()
	if legacy {
		url = srv.SSEURL()
		if len(args) == 0 {
			args = []string{"--transport", "sse"}
		}
	}
	// Registered after srv's cleanup, so the bridge stops first.
	h := startBridge(t, append([]string{url, "--log-level", "debug"}, args...)...)
	r := &transcriptRun{t: t, file: file, srv: srv, notifier: n}

	received := map[int]string{} // by step line, for -update
	for _, s := range steps {
		switch s.kind {
		case '>':
			h.send(s.text)
		case '<':
			got := strings.ReplaceAll(string(h.recv()), srv.URL(), "$SERVER")
			if *update {
				received[s.line] = got
				continue
			}
			if got != s.text {
				t.Fatalf("%s:%d: the host received another line\nwant: %s\n got: %s", file, s.line, s.text, got)
			}
		case '!':
			r.action(s)
		}
	}
	if code := h.closeAndWait(); code != 0 {
		t.Errorf("the bridge exited with status %d, want 0", code)
	}
	for line := range h.lines {
		t.Errorf("%s: the host received a line the transcript does not expect: %s", file, clip(line))
	}
	checkWarnings(t, h.stderr.String(), warnings)
	if *update && !t.Failed() {
		rewrite(t, file, a, steps, received)
	}
}

// checkWarnings checks that the log holds a warning or error containing
// each of want, and no other.
func checkWarnings(t *testing.T, log string, want []string) {
	t.Helper()
	found := make([]bool, len(want))
	for line := range strings.Lines(log) {
		f := strings.Fields(line)
		if len(f) < 2 || f[1] != "WRN" && f[1] != "ERR" {
			continue
		}
		expected := false
		for i, w := range want {
			if strings.Contains(line, w) {
				found[i], expected = true, true
			}
		}
		if !expected {
			t.Errorf("the bridge logged: %s", strings.TrimSpace(line))
		}
	}
	for i, w := range want {
		if !found[i] {
			t.Errorf("the bridge logged no warning containing %q", w)
		}
	}
}

// parseSteps parses the transcript section f of file.
func parseSteps(t *testing.T, file string, f archiveFile) []step {
	var steps []step
	n := f.line
	for line := range strings.Lines(string(f.data)) {
		line = strings.TrimSuffix(line, "\n")
		s := step{line: n, raw: line}
		n++
		switch {
		case strings.TrimSpace(line) == "", strings.HasPrefix(line, "#"):
		case len(line) >= 2 && strings.Contains("><!", line[:1]) && line[1] == ' ':
			s.kind, s.text = line[0], line[2:]
		case line == "<":
			s.kind = '<' // to be filled in by -update
		default:
			t.Fatalf("%s:%d: want \"> \", \"< \", \"! \" or \"#\" at the start of %q", file, s.line, line)
		}
		steps = append(steps, s)
	}
	return steps
}

// action runs a "!" step:
//
//	notify TEXT   calls [demoserver.Server.NotifyAll](TEXT): every session
//	              gets notifications/resources/list_changed, subscribers to
//	              demo://notice also notifications/resources/updated. The
//	              harness makes their order deterministic; see [notifier].
func (r *transcriptRun) action(s step) {
	t := r.t
	verb, arg, _ := strings.Cut(s.text, " ")
	switch verb {
	case "notify":
		release := r.notifier.hold()
		err := r.srv.NotifyAll(t.Context(), arg)
		release()
		if err != nil {
			t.Fatalf("%s:%d: %v", r.file, s.line, err)
		}
	default:
		t.Fatalf("%s:%d: unknown action %q", r.file, s.line, s.text)
	}
}

// A notifier orders the two notifications of [demoserver.Server.NotifyAll].
// NotifyAll sends notifications/resources/updated before it returns, but the
// SDK sends notifications/resources/list_changed from a 10ms debounce timer
// started just before, so on a loaded machine list_changed can come first.
// While held, the notifier's sending middleware keeps list_changed waiting;
// released after NotifyAll returns, the list_changed follows resources/updated
// on the same stream. It changes when, not what, the server sends.
type notifier struct {
	mu   sync.Mutex    // guards gate
	gate chan struct{} // if not nil, list_changed waits until it is closed
}

// hold holds list_changed notifications until release is called.
func (n *notifier) hold() (release func()) {
	gate := make(chan struct{})
	n.mu.Lock()
	n.gate = gate
	n.mu.Unlock()
	return func() {
		n.mu.Lock()
		n.gate = nil
		n.mu.Unlock()
		close(gate)
	}
}

func (n *notifier) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "notifications/resources/list_changed" {
			n.mu.Lock()
			gate := n.gate
			n.mu.Unlock()
			if gate != nil {
				select {
				case <-gate:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		}
		return next(ctx, method, req)
	}
}

// rewrite writes file back with the "<" lines replaced by received.
func rewrite(t *testing.T, file string, a *archive, steps []step, received map[int]string) {
	var sb strings.Builder
	for _, s := range steps {
		if got, ok := received[s.line]; ok {
			sb.WriteString("< " + got + "\n")
		} else {
			sb.WriteString(s.raw + "\n")
		}
	}
	for i := range a.files {
		if a.files[i].name == "transcript" {
			a.files[i].data = []byte(sb.String())
		}
	}
	if err := os.WriteFile(file, a.format(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An archive is a txtar archive: a comment, then files, each introduced by
// a "-- NAME --" line (the format of golang.org/x/tools/txtar).
type archive struct {
	comment []byte
	files   []archiveFile
}

type archiveFile struct {
	name string
	data []byte
	line int // line number, in the archive, of the file's first line
}

// parseArchive parses data; every input is a valid archive.
func parseArchive(data []byte) *archive {
	a := &archive{}
	dst := &a.comment
	n := 0
	for line := range bytes.Lines(data) {
		n++
		if name, ok := fileMarker(line); ok {
			a.files = append(a.files, archiveFile{name: name, line: n + 1})
			dst = &a.files[len(a.files)-1].data
			continue
		}
		*dst = append(*dst, line...)
	}
	return a
}

// fileMarker reports whether line is "-- NAME --", and returns NAME.
func fileMarker(line []byte) (string, bool) {
	line = bytes.TrimRight(line, "\r\n")
	if !bytes.HasPrefix(line, []byte("-- ")) || !bytes.HasSuffix(line, []byte(" --")) || len(line) < 7 {
		return "", false
	}
	name := strings.TrimSpace(string(line[3 : len(line)-3]))
	return name, name != ""
}

// format returns the archive's text; parseArchive(a.format()) equals a.
func (a *archive) format() []byte {
	var b bytes.Buffer
	b.Write(withNewline(a.comment))
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(withNewline(f.data))
	}
	return b.Bytes()
}

func withNewline(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return append(b, '\n')
	}
	return b
}

func TestArchiveRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *archive
	}{
		{"empty", "", &archive{}},
		{"comment only", "hello\nworld\n", &archive{comment: []byte("hello\nworld\n")}},
		{
			"files",
			"c\n-- a --\n1\n2\n-- b --\n-- c --\nx\n",
			&archive{comment: []byte("c\n"), files: []archiveFile{
				{name: "a", data: []byte("1\n2\n"), line: 3},
				{name: "b", line: 6},
				{name: "c", data: []byte("x\n"), line: 7},
			}},
		},
		{"not markers", "-- --\n--a--\n- a -\n", &archive{comment: []byte("-- --\n--a--\n- a -\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseArchive([]byte(tt.in))
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(archive{}, archiveFile{})); diff != "" {
				t.Errorf("parseArchive (-want +got):\n%s", diff)
			}
			if out := string(got.format()); out != tt.in {
				t.Errorf("format = %q, want %q", out, tt.in)
			}
		})
	}
}

// TestSessionHeaders checks, for each protocol revision, the HTTP side of a
// session as the demo server sees it: the initialize POST carries no session
// id; every later POST, GET and DELETE carries the Mcp-Session-Id the server
// assigned and MCP-Protocol-Version equal to the negotiated version (the
// bridge must set both itself, see DESIGN.md on go-sdk issue 657); and when
// the host closes stdin the bridge ends the session with DELETE, the last
// request, and exits 0.
func TestSessionHeaders(t *testing.T) {
	for _, version := range []string{"2025-03-26", "2025-06-18", "2025-11-25"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			var (
				mu   sync.Mutex
				seen []observed
			)
			getSeen := make(chan struct{})
			var getOnce sync.Once
			srv, err := demoserver.Start(t.Context(), &demoserver.Options{Observe: func(r *http.Request) {
				if isDiscover(r) {
					return // the era probe, before initialize
				}
				mu.Lock()
				seen = append(seen, observed{
					Method:    r.Method,
					Path:      r.URL.Path,
					SessionID: r.Header.Get("Mcp-Session-Id"),
					Version:   r.Header.Get("Mcp-Protocol-Version"),
				})
				mu.Unlock()
				if r.Method == http.MethodGet {
					getOnce.Do(func() { close(getSeen) })
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })

			h := startBridge(t, srv.MCPURL())
			res := h.initialize(version, `{}`)
			var negotiated struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			if err := json.Unmarshal(res, &negotiated); err != nil {
				t.Fatal(err)
			}
			if negotiated.ProtocolVersion != version {
				t.Fatalf("negotiated %q, want %q", negotiated.ProtocolVersion, version)
			}
			var sessionID string
			for ss := range srv.MCPServer().Sessions() {
				if sessionID != "" {
					t.Fatalf("the server has more than one session")
				}
				sessionID = ss.ID()
			}
			if sessionID == "" {
				t.Fatal("the server has no session with an id")
			}

			h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`)
			if m := h.recvMsg(); string(m.ID) != "1" || m.Error != nil {
				t.Fatalf("tools/call: got %+v", m)
			}
			select {
			case <-getSeen:
			case <-time.After(recvTimeout):
				t.Fatalf("the bridge opened no standalone GET stream within %v", recvTimeout)
			}
			if code := h.closeAndWait(); code != 0 {
				t.Errorf("the bridge exited with status %d, want 0", code)
			}

			// The bridge has exited, so every request it sent has been observed.
			mu.Lock()
			got := append([]observed(nil), seen...)
			mu.Unlock()
			if len(got) == 0 {
				t.Fatal("the server saw no request")
			}
			if first := got[0]; first.Method != http.MethodPost || first.SessionID != "" {
				t.Errorf("the first request is %s with session id %q, want the initialize POST without one", first.Method, first.SessionID)
			}
			count := map[string]int{}
			for _, o := range got[1:] {
				count[o.Method]++
				want := observed{Method: o.Method, Path: "/mcp", SessionID: sessionID, Version: version}
				if diff := cmp.Diff(want, o); diff != "" {
					t.Errorf("a request after initialize (-want +got):\n%s", diff)
				}
			}
			// initialize, notifications/initialized and tools/call; the GET
			// may have been reopened; one DELETE, the last request.
			if count[http.MethodPost] != 2 || count[http.MethodGet] < 1 || count[http.MethodDelete] != 1 {
				t.Errorf("after initialize the server saw %v, want 2 POST, at least 1 GET and 1 DELETE", count)
			}
			if last := got[len(got)-1]; last.Method != http.MethodDelete {
				t.Errorf("the last request is %s, want DELETE", last.Method)
			}
			for ss := range srv.MCPServer().Sessions() {
				t.Errorf("session %s is still open after the DELETE", ss.ID())
			}
		})
	}
}

// observed is what TestSessionHeaders records of a request.
type observed struct {
	Method, Path, SessionID, Version string
}
