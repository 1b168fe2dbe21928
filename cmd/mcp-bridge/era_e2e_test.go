package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// TestEraPairings runs the Go SDK's client as a real host of each protocol
// era against the Go SDK demo server held to each era, once straight over
// HTTP and once through the real binary over stdio, and checks that the
// same calls give the same outcome both ways: the bridge is as good as a
// direct connection in every pairing. The host speaks the revision it
// negotiates directly, but a 2026 host: neither demo server answers its
// server/discover as a 2026 server (the bridge's probe finds both legacy),
// so directly it falls back to 2025-11-25, while through the bridge, which
// answers server/discover itself, it speaks 2026-07-28, translated.
func TestEraPairings(t *testing.T) {
	for _, host := range []string{"2025-06-18", "2025-11-25", "2026-07-28"} {
		for _, server := range []struct {
			name     string
			versions []string
		}{{"2025-only", []string{"2025-06-18", "2025-11-25"}}, {"dual-era", nil}} {
			srv := demo(t, &demoserver.Options{ProtocolVersions: server.versions})
			var direct string // the protocol revision negotiated directly
			for _, path := range []string{"direct", "bridge"} {
				t.Run(fmt.Sprintf("host %s/server %s/%s", host, server.name, path), func(t *testing.T) {
					var transport mcp.Transport = &mcp.StreamableClientTransport{Endpoint: srv.MCPURL()}
					if path == "bridge" {
						cmd := exec.Command(os.Args[0], srv.MCPURL(), "--log-level", "debug")
						cmd.Env = append(append(os.Environ(), "MCP_BRIDGE_TEST_AS_MAIN=1"), homeEnv(t.TempDir())...)
						var stderr lockedBuffer
						cmd.Stderr = &stderr
						t.Cleanup(func() {
							if t.Failed() {
								t.Logf("bridge stderr:\n%s", stderr.String())
							}
						})
						transport = &mcp.CommandTransport{Command: cmd}
					}
					negotiated := checkPairing(t, host, transport, srv)
					switch {
					case path == "direct":
						direct = negotiated
					case host == "2026-07-28":
						if negotiated != host {
							t.Errorf("through the bridge the host speaks %s, want %s (directly %s)", negotiated, host, direct)
						}
					case negotiated != direct:
						t.Errorf("through the bridge the host speaks %s, directly %s", negotiated, direct)
					}
				})
			}
		}
	}
}

// checkPairing connects a Go SDK client speaking version over transport
// and makes the calls every pairing must carry. It returns the protocol
// revision the session speaks.
func checkPairing(t *testing.T, version string, transport mcp.Transport, srv *demoserver.Server) string {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	progress := make(chan struct{}, 16) // the SDK calls the handler after the call may have returned
	listChanged := make(chan struct{}, 16)
	client := mcp.NewClient(&mcp.Implementation{Name: "era-host", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirmed": true}}, nil
		},
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { progress <- struct{}{} },
		ToolListChangedHandler:      func(context.Context, *mcp.ToolListChangedRequest) { listChanged <- struct{}{} },
	})
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() {
		if err := cs.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v, %v", tools, err)
	}
	text := func(r *mcp.CallToolResult) string {
		var sb strings.Builder
		for _, c := range r.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				sb.WriteString(tc.Text)
			}
		}
		return sb.String()
	}
	for _, c := range []struct {
		tool    string
		args    map[string]any
		want    string
		isError bool
	}{
		{"add", map[string]any{"a": 2, "b": 3}, "5", false},
		{"confirm", map[string]any{}, "action=accept confirmed=true", false},
		{"fail", map[string]any{"message": "no"}, "no", true},
		{"big", map[string]any{"bytes": 1 << 20}, demoserver.BigText(1 << 20), false},
	} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Errorf("tools/call %s: %v", c.tool, err)
			continue
		}
		if got := text(res); got != c.want || res.IsError != c.isError {
			t.Errorf("tools/call %s = %.80q (isError %v), want %.80q (isError %v)", c.tool, got, res.IsError, c.want, c.isError)
		}
	}
	params := &mcp.CallToolParams{Name: "count", Arguments: map[string]any{"n": 3}}
	params.SetProgressToken("p1")
	if _, err := cs.CallTool(ctx, params); err != nil {
		t.Errorf("tools/call count: %v", err)
	}
	for i := range 3 {
		select {
		case <-progress:
		case <-ctx.Done():
			t.Fatalf("%d progress notifications, want 3", i)
		}
	}
	if res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: demoserver.ReadmeURI}); err != nil || len(res.Contents) != 1 {
		t.Errorf("resources/read: %v, %v", res, err)
	}
	if res, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"name": "Ada"}}); err != nil || len(res.Messages) == 0 {
		t.Errorf("prompts/get: %v, %v", res, err)
	}

	// 20 calls at once.
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": i, "b": 1}})
			if err == nil && text(res) != fmt.Sprint(i+1) {
				err = fmt.Errorf("add %d+1 = %q", i, text(res))
			}
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent call: %v", err)
		}
	}

	// A call the host cancels once it has started ends at once.
	callCtx, stop := context.WithCancel(ctx)
	slow := &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"delay_ms": 60000}}
	slow.SetProgressToken("slow")
	go func() {
		select {
		case <-progress: // "started"
		case <-ctx.Done():
		}
		stop()
	}()
	if _, err := cs.CallTool(callCtx, slow); err == nil || ctx.Err() != nil {
		t.Errorf("cancelled call: %v (test context: %v)", err, ctx.Err())
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 1}}); err != nil || text(res) != "2" {
		t.Errorf("a call after the cancelled one: %v, %v", res, err)
	}

	// A tool added on the server reaches the host as a list change.
	name := fmt.Sprintf("added-%d", time.Now().UnixNano())
	srv.MCPServer().AddTool(&mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil
	})
	select {
	case <-listChanged:
	case <-ctx.Done():
		t.Errorf("no notifications/tools/list_changed after a tool was added")
	}
	return cs.InitializeResult().ProtocolVersion
}
