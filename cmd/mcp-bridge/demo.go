//lint:file-ignore SA1019 the demo answers sampling, deprecated by SEP-2577 but still in use, to show the bridge relays it.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/term"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// runDemo plays a host session through the real bridge against the
// in-process demo server, printing each step, or with --serve keeps the
// server up for a real host.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcp-bridge demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serve := fs.Bool("serve", false, "keep the demo server running and print the host config entry that uses it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge demo: %v\n", err)
		return exitError
	}
	srv, err := demoserver.Start(ctx, &demoserver.Options{EventStore: true})
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge demo: %v\n", err)
		return exitError
	}
	defer srv.Close()

	p := newPrinter(stdout)
	if *serve {
		return serveDemo(ctx, p, srv, exe)
	}
	if err := playDemo(ctx, p, srv, exe); err != nil {
		p.fail(err)
		return exitError
	}
	return exitOK
}

func serveDemo(ctx context.Context, p *printer, srv *demoserver.Server, exe string) int {
	entry, _ := json.MarshalIndent(map[string]any{
		"mcpServers": map[string]any{
			"bridge-demo": map[string]any{"command": exe, "args": []string{srv.MCPURL()}},
		},
	}, "  ", "  ")
	p.say("The demo MCP server is listening at %s (Ctrl-C stops it).", p.bold(srv.MCPURL()))
	p.say("A host config entry that reaches it through the bridge:\n\n  %s\n", entry)
	<-ctx.Done()
	return exitOK
}

// playDemo runs the scripted session. The host is the Go SDK's client,
// launching the bridge over stdio exactly as a desktop host does.
func playDemo(ctx context.Context, p *printer, srv *demoserver.Server, exe string) error {
	p.say("%s: a host session through the real bridge, against an MCP server on this machine.", p.bold("mcp-bridge demo"))
	p.say("")
	p.kv("server", "%s %s (Go SDK) at %s", demoserver.Name, demoserver.Version, srv.MCPURL())
	p.kv("host", "the Go SDK client, launching %s %s", exe, srv.MCPURL())
	p.say("")

	updated := make(chan string, 1)
	client := mcp.NewClient(&mcp.Implementation{Name: "demo-host", Version: "1.0"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			p.detail("← elicitation/create %q: the demo answers for the user: accept", req.Params.Message)
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirmed": true}}, nil
		},
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			prompt := ""
			if len(req.Params.Messages) > 0 {
				if t, ok := req.Params.Messages[0].Content.(*mcp.TextContent); ok {
					prompt = t.Text
				}
			}
			p.detail("← sampling/createMessage %q: the demo host's model answers", prompt)
			return &mcp.CreateMessageResult{
				Model:   "demo-model",
				Role:    "assistant",
				Content: &mcp.TextContent{Text: "Hello from the host's model."},
			}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			p.detail("← progress %v/%v", req.Params.Progress, req.Params.Total)
		},
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			select {
			case updated <- req.Params.URI:
			default:
			}
		},
	})

	cmd := exec.CommandContext(ctx, exe, srv.MCPURL())
	cmd.Stderr = p.prefixed("bridge │ ")
	start := time.Now()
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	defer session.Close()
	init := session.InitializeResult()
	p.step("initialize", time.Since(start), "%s %s, protocol %s (includes starting the bridge)",
		init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion)

	t := time.Now()
	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	p.step("tools/list", time.Since(t), "%d tools: %s", len(names), strings.Join(names, ", "))

	calls := []struct {
		name string
		args map[string]any
		meta bool // ask for progress
	}{
		{"add", map[string]any{"a": 2, "b": 40}, false},
		{"count", map[string]any{"n": 3, "delay_ms": 20}, true},
		{"confirm", map[string]any{"message": "Deploy to staging?"}, false},
		{"sample", map[string]any{"prompt": "Say hello to the demo."}, false},
	}
	for _, c := range calls {
		params := &mcp.CallToolParams{Name: c.name, Arguments: c.args}
		if c.meta {
			params.Meta = mcp.Meta{"progressToken": "demo-" + c.name}
		}
		argText, _ := json.Marshal(c.args)
		p.begin("tools/call " + c.name + " " + string(argText))
		t := time.Now()
		res, err := session.CallTool(ctx, params)
		if err != nil {
			return fmt.Errorf("tools/call %s: %w", c.name, err)
		}
		p.end(time.Since(t), "%s", resultText(res))
	}

	t = time.Now()
	rr, err := session.ReadResource(ctx, &mcp.ReadResourceParams{URI: demoserver.ReadmeURI})
	if err != nil {
		return fmt.Errorf("resources/read: %w", err)
	}
	text := ""
	if len(rr.Contents) > 0 {
		text = firstLine(rr.Contents[0].Text)
	}
	p.step("resources/read "+demoserver.ReadmeURI, time.Since(t), "%s", text)

	t = time.Now()
	pr, err := session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"name": "Ada"}})
	if err != nil {
		return fmt.Errorf("prompts/get: %w", err)
	}
	if len(pr.Messages) > 0 {
		if tc, ok := pr.Messages[0].Content.(*mcp.TextContent); ok {
			text = firstLine(tc.Text)
		}
	}
	p.step("prompts/get greet {\"name\":\"Ada\"}", time.Since(t), "%s", text)

	// A message the server sends on its own, while no request is in flight:
	// it travels on the standalone GET stream the bridge keeps open.
	if err := session.Subscribe(ctx, &mcp.SubscribeParams{URI: demoserver.NoticeURI}); err != nil {
		return fmt.Errorf("resources/subscribe: %w", err)
	}
	t = time.Now()
	if err := srv.NotifyAll(ctx, "hello from the server"); err != nil {
		return err
	}
	select {
	case uri := <-updated:
		p.step("server → host, unprompted", time.Since(t), "notifications/resources/updated %s, on the GET stream", uri)
	case <-time.After(5 * time.Second):
		return errors.New("the server's notification did not arrive within 5s")
	case <-ctx.Done():
		return ctx.Err()
	}

	t = time.Now()
	if err := session.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	status := cmd.ProcessState.ExitCode()
	p.step("shutdown", time.Since(t), "stdin closed; the bridge ended the session (DELETE) and exited with status %d", status)
	if status != 0 {
		return fmt.Errorf("the bridge exited with status %d", status)
	}
	p.say("")
	p.say("Every message went host → bridge (stdio) → server (Streamable HTTP) and back.")
	p.say("Use it from a host: %s", p.bold("mcp-bridge help"))
	return nil
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, firstLine(t.Text))
		}
	}
	s := strings.Join(parts, " ")
	if res.IsError {
		s = "tool error: " + s
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// A printer writes the demo's steps, in colour on a terminal.
type printer struct {
	mu    sync.Mutex // serializes lines
	w     io.Writer
	color bool
}

func newPrinter(w io.Writer) *printer {
	p := &printer{w: w}
	if f, ok := w.(*os.File); ok {
		p.color = term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
	}
	return p
}

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *printer) bold(s string) string { return p.paint("1", s) }

func (p *printer) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *printer) kv(k, format string, args ...any) {
	p.say("  %s %s", p.paint("2", fmt.Sprintf("%-7s", k)), fmt.Sprintf(format, args...))
}

// begin and end print a step whose details come in between.
func (p *printer) begin(what string) { p.say("%s %s", p.paint("36", "→"), p.bold(what)) }

func (p *printer) end(d time.Duration, format string, args ...any) {
	p.say("    %s %s", fmt.Sprintf(format, args...), p.paint("2", ms(d)))
}

func (p *printer) step(what string, d time.Duration, format string, args ...any) {
	p.begin(what)
	p.end(d, format, args...)
}

func (p *printer) detail(format string, args ...any) {
	p.say("    %s", p.paint("33", fmt.Sprintf(format, args...)))
}

func (p *printer) fail(err error) {
	p.say("%s %v", p.paint("31", "demo failed:"), err)
}

// prefixed returns a writer that prints each line it gets, dimmed, after
// prefix: the bridge's own log lines.
func (p *printer) prefixed(prefix string) io.Writer {
	r, w := io.Pipe()
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.say("  %s", p.paint("2", prefix+sc.Text()))
		}
	}()
	return w
}

func ms(d time.Duration) string {
	return fmt.Sprintf("(%.1f ms)", float64(d.Microseconds())/1000)
}
