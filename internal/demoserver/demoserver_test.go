//lint:file-ignore SA1019 the demo server exercises the deprecated sampling, roots and logging features on purpose.

package demoserver_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// waitTimeout bounds every wait on a channel, so that a missing message
// fails the test instead of hanging it.
const waitTimeout = 10 * time.Second

// A setup is one way of reaching the server.
type setup struct {
	name string
	opts demoserver.Options
	sse  bool // use the HTTP+SSE endpoint instead of Streamable HTTP
}

var (
	streamable = setup{name: "streamable"}
	jsonResp   = setup{name: "streamable-json", opts: demoserver.Options{JSONResponse: true}}
	eventStore = setup{name: "streamable-eventstore", opts: demoserver.Options{EventStore: true}}
	stateless  = setup{name: "stateless", opts: demoserver.Options{Stateless: true}}
	legacySSE  = setup{name: "sse", sse: true}

	// stateful setups have sessions, so the server can send requests and
	// notifications outside a request.
	stateful = []setup{streamable, jsonResp, eventStore, legacySSE}
	all      = append(slices.Clone(stateful), stateless)
)

// events collects what the server sends the client outside responses.
type events struct {
	progress    chan *mcp.ProgressNotificationParams
	logs        chan *mcp.LoggingMessageParams
	listChanged chan struct{}
	updated     chan string
	elicited    chan string // the elicitation messages
	// streamReady is closed when a GET stream (the standalone stream of
	// Streamable HTTP, or the HTTP+SSE session stream) has been answered.
	// The server only registers that stream after it has sent the response
	// headers, so from then on notifications outside requests are delivered.
	// (The SDK client happens to wait for those headers inside Connect; the
	// tests do not rely on that.)
	streamReady chan struct{}
}

// readyWatcher closes ready when a GET gets a 200 response.
type readyWatcher struct {
	base  http.RoundTripper
	once  sync.Once
	ready chan struct{}
}

func (w *readyWatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && resp.StatusCode == http.StatusOK {
		w.once.Do(func() { close(w.ready) })
	}
	return resp, err
}

// start starts a demo server, closed when the test ends.
func start(t *testing.T, opts demoserver.Options) *demoserver.Server {
	t.Helper()
	srv, err := demoserver.Start(t.Context(), &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// connect connects an SDK client to srv as su says. The client accepts
// elicitations with confirmed=true, answers sampling with "model: <prompt>"
// and has the roots file:///a and file:///b.
func connect(t *testing.T, srv *demoserver.Server, su setup) (*mcp.ClientSession, *events) {
	t.Helper()
	ev := &events{
		progress:    make(chan *mcp.ProgressNotificationParams, 100),
		logs:        make(chan *mcp.LoggingMessageParams, 10),
		listChanged: make(chan struct{}, 10),
		updated:     make(chan string, 10),
		elicited:    make(chan string, 10),
		streamReady: make(chan struct{}),
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			ev.elicited <- req.Params.Message
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirmed": true}}, nil
		},
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			prompt := req.Params.Messages[0].Content.(*mcp.TextContent).Text
			return &mcp.CreateMessageResult{Role: "assistant", Model: "fake", Content: &mcp.TextContent{Text: "model: " + prompt}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			ev.progress <- req.Params
		},
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			ev.logs <- req.Params
		},
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) {
			ev.listChanged <- struct{}{}
		},
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			ev.updated <- req.Params.URI
		},
	})
	client.AddRoots(&mcp.Root{URI: "file:///a", Name: "a"}, &mcp.Root{URI: "file:///b", Name: "b"})

	httpClient := &http.Client{Transport: &readyWatcher{base: http.DefaultTransport, ready: ev.streamReady}}
	var transport mcp.Transport = &mcp.StreamableClientTransport{Endpoint: srv.MCPURL(), HTTPClient: httpClient}
	if su.sse {
		transport = &mcp.SSEClientTransport{Endpoint: srv.SSEURL(), HTTPClient: httpClient}
	}
	cs, err := client.Connect(t.Context(), transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, ev
}

// recv returns the next value from ch, failing the test after waitTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// text returns the concatenated text contents of res.
func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

func TestTools(t *testing.T) {
	tests := []struct {
		name    string
		args    map[string]any
		want    string
		wantErr bool
		// statelessErr: the tool needs a server-to-client request, which a
		// stateless server cannot send.
		statelessErr bool
	}{
		{name: "echo", args: map[string]any{"text": "hello"}, want: "hello"},
		{name: "add", args: map[string]any{"a": 2, "b": 3.5}, want: "5.5"},
		{name: "count", args: map[string]any{"n": 3}, want: "counted to 3"},
		{name: "big", args: map[string]any{"bytes": 30}, want: "abcdefghijklmnopqrstuvwxyzabcd"},
		{name: "confirm", args: map[string]any{"message": "Deploy?"}, want: "action=accept confirmed=true"},
		{name: "sample", args: map[string]any{"prompt": "hi"}, want: "model: hi"},
		{name: "roots", want: "file:///a\nfile:///b"},
		{name: "notify", args: map[string]any{"text": "x"}, want: "will notify"},
		{name: "ping_host", want: "pong received", statelessErr: true},
		{name: "slow", args: map[string]any{"delay_ms": 1}, want: "done"},
		{name: "fail", args: map[string]any{"message": "boom"}, want: "boom", wantErr: true},
		{name: "fail", want: "failure requested", wantErr: true},
	}
	for _, su := range all {
		t.Run(su.name, func(t *testing.T) {
			srv := start(t, su.opts)
			cs, _ := connect(t, srv, su)
			for _, tt := range tests {
				res := call(t, cs, tt.name, tt.args)
				if su.opts.Stateless && tt.statelessErr {
					if !res.IsError {
						t.Errorf("%s: IsError = false, want true on a stateless server; result %q", tt.name, text(res))
					}
					continue
				}
				if got := text(res); got != tt.want || res.IsError != tt.wantErr {
					t.Errorf("%s(%v) = %q, IsError %t; want %q, IsError %t", tt.name, tt.args, got, res.IsError, tt.want, tt.wantErr)
				}
			}
		})
	}
}

func TestStructuredOutput(t *testing.T) {
	srv := start(t, demoserver.Options{})
	cs, ev := connect(t, srv, streamable)
	tests := []struct {
		name string
		args map[string]any
		want any
	}{
		{"add", map[string]any{"a": 2, "b": 3}, map[string]any{"sum": 5.0}},
		{"confirm", nil, map[string]any{"action": "accept", "confirmed": true}},
		{"roots", nil, map[string]any{"uris": []any{"file:///a", "file:///b"}}},
	}
	for _, tt := range tests {
		res := call(t, cs, tt.name, tt.args)
		if diff := cmp.Diff(tt.want, res.StructuredContent); diff != "" {
			t.Errorf("%s structured content mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	if got := recv(t, ev.elicited, "elicitation"); got != "Proceed?" {
		t.Errorf("elicitation message = %q, want the default %q", got, "Proceed?")
	}
}

// TestServerToClientRequests checks how confirm reaches the client. Stateful
// servers negotiate a version before 2026-07-28, where results cannot carry
// input requests, so the client handler can only have run because of an
// elicitation/create request. Stateless servers negotiate 2026-07-28, where
// the server cannot send requests and the result carries the input request.
func TestServerToClientRequests(t *testing.T) {
	for _, su := range all {
		t.Run(su.name, func(t *testing.T) {
			srv := start(t, su.opts)
			cs, ev := connect(t, srv, su)
			if v := cs.InitializeResult().ProtocolVersion; (v >= "2026-07-28") != su.opts.Stateless {
				t.Fatalf("negotiated protocol %s; want 2026-07-28 or later only if stateless", v)
			}
			call(t, cs, "confirm", map[string]any{"message": "Sure?"})
			if got := recv(t, ev.elicited, "elicitation"); got != "Sure?" {
				t.Errorf("elicitation message = %q, want %q", got, "Sure?")
			}
		})
	}
}

func TestResourcesAndPrompts(t *testing.T) {
	for _, su := range []setup{streamable, legacySSE} {
		t.Run(su.name, func(t *testing.T) {
			srv := start(t, su.opts)
			cs, _ := connect(t, srv, su)
			ctx := t.Context()

			tools, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			slices.Sort(names)
			want := []string{"add", "big", "confirm", "count", "echo", "fail", "notify", "ping_host", "roots", "sample", "slow"}
			if diff := cmp.Diff(want, names); diff != "" {
				t.Errorf("tools mismatch (-want +got):\n%s", diff)
			}

			for uri, want := range map[string]string{
				demoserver.ReadmeURI:     "mcp-bridge demo server",
				demoserver.NoticeURI:     "",
				"demo://echo/hi%20there": "hi there",
			} {
				res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
				if err != nil {
					t.Fatalf("read %s: %v", uri, err)
				}
				if got := res.Contents[0].Text; !strings.HasPrefix(got, want) || (want == "" && got != "") {
					t.Errorf("read %s = %q, want prefix %q", uri, got, want)
				}
			}
			if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "demo://nope"}); err == nil {
				t.Error("read demo://nope: no error")
			}

			prompt, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"name": "Ada"}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := prompt.Messages[0].Content.(*mcp.TextContent).Text, "Please greet Ada."; got != want {
				t.Errorf("greet = %q, want %q", got, want)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	const n = 5
	for _, su := range all {
		t.Run(su.name, func(t *testing.T) {
			srv := start(t, su.opts)
			cs, ev := connect(t, srv, su)
			if !su.opts.Stateless {
				// With JSONResponse, progress travels on the standalone stream.
				recv(t, ev.streamReady, "GET stream")
			}
			params := &mcp.CallToolParams{Name: "count", Arguments: map[string]any{"n": n, "delay_ms": 1}}
			params.SetProgressToken("tok")
			res, err := cs.CallTool(t.Context(), params)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := text(res), "counted to 5"; got != want {
				t.Errorf("count = %q, want %q", got, want)
			}
			var got []float64
			for range n {
				p := recv(t, ev.progress, "progress notification")
				if p.ProgressToken != "tok" || p.Total != n {
					t.Errorf("progress token %v, total %v; want tok, %d", p.ProgressToken, p.Total, n)
				}
				got = append(got, p.Progress)
			}
			if diff := cmp.Diff([]float64{1, 2, 3, 4, 5}, got); diff != "" {
				t.Errorf("progress mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNotifyWhileIdle checks that a notification the server sends while no
// request is in flight reaches the client.
func TestNotifyWhileIdle(t *testing.T) {
	for _, su := range stateful {
		t.Run(su.name, func(t *testing.T) {
			srv := start(t, su.opts)
			cs, ev := connect(t, srv, su)
			// Without a level the SDK drops logging notifications.
			if err := cs.SetLoggingLevel(t.Context(), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
				t.Fatal(err)
			}
			recv(t, ev.streamReady, "GET stream")

			var returned atomic.Bool
			// The delay only orders the notification after the response, to
			// check that it is sent outside the call; nothing waits on it.
			res := call(t, cs, "notify", map[string]any{"text": "hello later", "delay_ms": 200})
			returned.Store(true)
			if got := text(res); got != "will notify" {
				t.Errorf("notify = %q, want %q", got, "will notify")
			}
			msg := recv(t, ev.logs, "logging notification")
			if !returned.Load() {
				t.Error("notification arrived before the call returned")
			}
			if msg.Data != "hello later" || msg.Level != "notice" || msg.Logger != demoserver.Name {
				t.Errorf("notification = %+v, want data %q, level notice, logger %q", msg, "hello later", demoserver.Name)
			}
		})
	}
}

func TestNotifyAll(t *testing.T) {
	for _, su := range stateful {
		t.Run(su.name, func(t *testing.T) {
			srv := start(t, su.opts)
			cs, ev := connect(t, srv, su)
			ctx := t.Context()
			if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: demoserver.NoticeURI}); err != nil {
				t.Fatal(err)
			}
			recv(t, ev.streamReady, "GET stream")

			if err := srv.NotifyAll(ctx, "news"); err != nil {
				t.Fatal(err)
			}
			recv(t, ev.listChanged, "resources/list_changed")
			if got := recv(t, ev.updated, "resources/updated"); got != demoserver.NoticeURI {
				t.Errorf("updated URI = %q, want %q", got, demoserver.NoticeURI)
			}
			res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: demoserver.NoticeURI})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Contents[0].Text; got != "news" {
				t.Errorf("notice = %q, want %q", got, "news")
			}
		})
	}
}

// TestEventStoreKeepsEarlyNotifications checks that with an event store a
// notification sent before the client's standalone GET arrives is replayed
// on that GET. (Without one, the SDK drops it.) The SDK client opens that
// stream inside Connect, so this test sends the GET itself.
func TestEventStoreKeepsEarlyNotifications(t *testing.T) {
	srv := start(t, eventStore.opts)
	ctx := t.Context()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.MCPURL(), DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: demoserver.NoticeURI}); err != nil {
		t.Fatal(err)
	}
	// NotifyAll has sent resources/updated when it returns.
	if err := srv.NotifyAll(ctx, "early"); err != nil {
		t.Fatal(err)
	}

	getCtx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(getCtx, http.MethodGet, srv.MCPURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", cs.ID())
	req.Header.Set("MCP-Protocol-Version", cs.InitializeResult().ProtocolVersion)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"notifications/resources/updated"`) {
			return
		}
	}
	t.Fatalf("stream ended without resources/updated: %v", sc.Err())
}

func TestBig(t *testing.T) {
	const size = 10 << 20
	for _, su := range []setup{streamable, legacySSE} {
		t.Run(su.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, su.opts)
			cs, _ := connect(t, srv, su)
			got := text(call(t, cs, "big", map[string]any{"bytes": size}))
			if len(got) != size {
				t.Fatalf("big returned %d bytes, want %d", len(got), size)
			}
			if got != demoserver.BigText(size) {
				t.Error("big returned other bytes than BigText")
			}
		})
	}
	if got := demoserver.BigText(3); got != "abc" {
		t.Errorf("BigText(3) = %q, want %q", got, "abc")
	}
}

// TestSlowCancel checks that cancelling a call sends notifications/cancelled
// and that the server's handler sees it.
func TestSlowCancel(t *testing.T) {
	for _, su := range stateful {
		t.Run(su.name, func(t *testing.T) {
			srv := start(t, su.opts)
			results := make(chan *mcp.CallToolResult, 1)
			srv.MCPServer().AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
				return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
					res, err := next(ctx, method, req)
					if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && p.Name == "slow" && err == nil {
						results <- res.(*mcp.CallToolResult)
					}
					return res, err
				}
			})
			cs, ev := connect(t, srv, su)
			recv(t, ev.streamReady, "GET stream")

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			callErr := make(chan error, 1)
			go func() {
				params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"delay_ms": 10 * 60 * 1000}}
				params.SetProgressToken("slow")
				_, err := cs.CallTool(ctx, params)
				callErr <- err
			}()
			if p := recv(t, ev.progress, "progress \"started\""); p.Message != "started" {
				t.Errorf("progress message = %q, want %q", p.Message, "started")
			}
			cancel()
			if err := recv(t, callErr, "CallTool to return"); !errors.Is(err, context.Canceled) {
				t.Errorf("CallTool error = %v, want context.Canceled", err)
			}
			res := recv(t, results, "server-side slow result")
			if got := text(res); !res.IsError || got != "cancelled: context canceled" {
				t.Errorf("server-side result = %q, IsError %t; want %q, true", got, res.IsError, "cancelled: context canceled")
			}
		})
	}
}

// TestObserve checks that Observe sees the Streamable HTTP session headers
// and the DELETE a client sends when it closes.
func TestObserve(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []*http.Request
	)
	srv := start(t, demoserver.Options{Observe: func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
	}})
	cs, _ := connect(t, srv, streamable)
	call(t, cs, "echo", map[string]any{"text": "x"})
	id := cs.ID()
	if id == "" {
		t.Fatal("no session ID")
	}
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	// Before the session exists the client POSTs server/discover (rejected
	// by a stateful server) and initialize, without a session ID.
	var before, posts, deletes int
	for _, r := range seen {
		if r.URL.Path != "/mcp" {
			t.Errorf("%s %s: want path /mcp", r.Method, r.URL.Path)
		}
		if r.Header.Get("Mcp-Session-Id") == "" {
			before++
			if r.Method != http.MethodPost || posts+deletes > 0 {
				t.Errorf("%s without Mcp-Session-Id after the session started", r.Method)
			}
			continue
		}
		if got := r.Header.Get("Mcp-Session-Id"); got != id {
			t.Errorf("%s: Mcp-Session-Id = %q, want %q", r.Method, got, id)
		}
		if got, want := r.Header.Get("MCP-Protocol-Version"), cs.InitializeResult().ProtocolVersion; got != want {
			t.Errorf("%s: MCP-Protocol-Version = %q, want %q", r.Method, got, want)
		}
		switch r.Method {
		case http.MethodPost:
			posts++
		case http.MethodDelete:
			deletes++
		}
	}
	if before == 0 || posts < 2 || deletes != 1 {
		t.Errorf("saw %d requests without session ID, then %d POSTs and %d DELETEs; want at least 1 (initialize), at least 2 (initialized, tools/call) and 1",
			before, posts, deletes)
	}
}

// TestClose checks that Close ends sessions and running calls and does not
// wait for them to finish on their own.
func TestClose(t *testing.T) {
	srv, err := demoserver.Start(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("server listens on %s, want 127.0.0.1", u.Host)
	}
	cs, ev := connect(t, srv, streamable)
	sse, _ := connect(t, srv, legacySSE)
	recv(t, ev.streamReady, "GET stream")
	// succeeded reports whether slow returned "done" rather than an error.
	succeeded := make(chan bool, 1)
	go func() {
		params := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"delay_ms": 10 * 60 * 1000}}
		params.SetProgressToken("slow")
		res, err := cs.CallTool(context.Background(), params)
		succeeded <- err == nil && !res.IsError
	}()
	recv(t, ev.progress, "progress \"started\"")

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	if err := recv(t, closed, "Close"); err != nil {
		t.Errorf("Close: %v", err)
	}
	if recv(t, succeeded, "slow to end") {
		t.Error("slow call succeeded despite Close")
	}
	sseDone := make(chan error, 1)
	go func() { sseDone <- sse.Wait() }()
	recv(t, sseDone, "the HTTP+SSE session to end")
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}}); err == nil {
		t.Error("call after Close succeeded")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestHandlers checks the handlers and NewServer on their own.
func TestHandlers(t *testing.T) {
	ctx := t.Context()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	echo := func(t *testing.T, cs *mcp.ClientSession) {
		t.Helper()
		defer cs.Close()
		if got := text(call(t, cs, "echo", map[string]any{"text": "hi"})); got != "hi" {
			t.Errorf("echo = %q, want %q", got, "hi")
		}
		if got := cs.InitializeResult().ServerInfo; got.Name != demoserver.Name || got.Version != demoserver.Version {
			t.Errorf("server info = %+v, want %s %s", got, demoserver.Name, demoserver.Version)
		}
	}
	t.Run("streamable", func(t *testing.T) {
		hs := httptest.NewServer(demoserver.Handler(nil))
		defer hs.Close()
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: hs.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		echo(t, cs)
	})
	t.Run("sse", func(t *testing.T) {
		hs := httptest.NewServer(demoserver.LegacySSEHandler(nil))
		defer hs.Close()
		cs, err := client.Connect(ctx, &mcp.SSEClientTransport{Endpoint: hs.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		echo(t, cs)
	})
	t.Run("in-memory", func(t *testing.T) {
		ct, st := mcp.NewInMemoryTransports()
		ss, err := demoserver.NewServer(nil).Connect(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ss.Close()
		cs, err := client.Connect(ctx, ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		echo(t, cs)
	})
}
