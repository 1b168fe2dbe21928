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
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/term"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// demoTokenLife is the lifetime of the demo's access tokens: short, so
// that the demo shows a refresh.
const demoTokenLife = 3 * time.Second

// runDemo plays a host session through the real bridge against the
// in-process demo server, protected by an in-process authorization server,
// printing each step; or, with --serve, keeps both up for a real host.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "approve" {
		// The browser of the bridges the demo starts: see browserArgs.
		return demoApprove(ctx, args[1], stderr)
	}
	fs := flag.NewFlagSet("mcp-bridge demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serve := fs.Bool("serve", false, "keep the demo servers running and print the host config entry that uses them")
	autoApprove := fs.Bool("auto-approve", false, "approve the sign-in without a browser, even where one could open")
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
	p := newPrinter(stdout)
	srv, err := demoserver.Start(ctx, &demoserver.Options{EventStore: true})
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge demo: %v\n", err)
		return exitError
	}
	defer srv.Close()
	life := demoTokenLife
	if *serve {
		life = 10 * time.Minute
	}
	pd, err := oauthtest.StartProtectedDemo(ctx, &oauthtest.DemoOptions{
		Handler: srv.Handler(),
		AuthServer: &oauthtest.ASOptions{
			AccessTokenTTL: life,
			OnEvent:        func(e oauthtest.Event) { p.note("auth   │ ", e.String()) },
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge demo: %v\n", err)
		return exitError
	}
	defer pd.Close()

	if *serve {
		return serveDemo(ctx, p, pd, exe)
	}
	if err := playDemo(ctx, p, srv, pd, exe, *autoApprove); err != nil {
		p.fail(err)
		return exitError
	}
	return exitOK
}

func serveDemo(ctx context.Context, p *printer, pd *oauthtest.ProtectedDemo, exe string) int {
	entry, _ := json.MarshalIndent(map[string]any{
		"mcpServers": map[string]any{
			"bridge-demo": map[string]any{"command": exe, "args": []string{pd.URL}},
		},
	}, "  ", "  ")
	p.say("The demo MCP server is listening at %s (Ctrl-C stops it),", p.bold(pd.URL))
	p.say("protected by the authorization server at %s (a consent page, 10-minute tokens).", pd.AuthServer.Issuer())
	p.say("A host config entry that reaches it through the bridge:\n\n  %s\n", entry)
	<-ctx.Done()
	return exitOK
}

// demoApprove is the browser of the demo's bridges: it opens the sign-in
// page, presses Approve, and follows the redirect to the bridge's loopback
// listener. Like the bridge, it only goes to loopback addresses.
func demoApprove(ctx context.Context, authURL string, stderr io.Writer) int {
	b := &oauthtest.Browser{LoopbackOnly: true}
	if err := b.Visit(ctx, authURL); err != nil {
		fmt.Fprintf(stderr, "mcp-bridge demo approve: %v\n", err)
		return exitError
	}
	return exitOK
}

// browserCanOpen reports whether a browser can be shown to the user here.
func browserCanOpen() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// playDemo runs the scripted session. The host is the Go SDK's client,
// launching the bridge over stdio exactly as a desktop host does.
func playDemo(ctx context.Context, p *printer, srv *demoserver.Server, pd *oauthtest.ProtectedDemo, exe string, autoApprove bool) error {
	p.say("%s: a host session through the real bridge, against an OAuth-protected MCP server on this machine.", p.bold("mcp-bridge demo"))
	p.say("")
	p.kv("server", "%s %s (Go SDK) at %s, protected (RFC 9728)", demoserver.Name, demoserver.Version, pd.URL)
	p.kv("auth", "authorization server %s: dynamic registration, PKCE, a consent page, %v access tokens, rotating refresh tokens", pd.AuthServer.Issuer(), demoTokenLife)
	p.kv("host", "the Go SDK client, launching %s %s", exe, pd.URL)

	// The bridges keep their credentials in a directory of the demo's own.
	home, err := os.MkdirTemp("", "mcp-bridge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "APPDATA="+home, "LOCALAPPDATA="+home)
	args := []string{pd.URL}
	switch {
	case autoApprove:
		p.kv("browser", "--auto-approve: the demo approves the consent page itself")
		args = append(args, "--browser-command", browserArgs(exe))
	case !browserCanOpen():
		p.kv("browser", "no browser can open here: the demo approves the consent page itself")
		args = append(args, "--browser-command", browserArgs(exe))
	default:
		p.kv("browser", "your browser will show the consent page: press Approve")
	}
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
	start := func() (*mcp.ClientSession, *exec.Cmd, error) {
		cmd := exec.CommandContext(ctx, exe, args...)
		cmd.Env = env
		cmd.Stderr = p.prefixed("bridge │ ")
		s, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		return s, cmd, err
	}

	p.begin("initialize (the server answers 401: the bridge signs in, then sends it again)")
	t := time.Now()
	session, cmd, err := start()
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	defer session.Close()
	init := session.InitializeResult()
	p.end(time.Since(t), "%s %s, protocol %s (includes starting the bridge and signing in)",
		init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion)

	t = time.Now()
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
		if err := demoCall(ctx, p, session, c.name, c.args, c.meta); err != nil {
			return err
		}
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

	// The access token expires; the bridge refreshes it before the next
	// request goes out.
	p.begin(fmt.Sprintf("waiting %v for the access token to expire", demoTokenLife))
	select {
	case <-time.After(demoTokenLife):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := demoCall(ctx, p, session, "echo", map[string]any{"text": "still signed in"}, false); err != nil {
		return err
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

	// The host starts the bridge again, as after a restart: the kept
	// credentials serve, and no sign-in happens.
	before := pd.AuthServer.Stats().AuthorizationRequests
	p.begin("a second start of the bridge, as after the host restarts")
	t = time.Now()
	session, cmd, err = start()
	if err != nil {
		return fmt.Errorf("second start: %w", err)
	}
	if err := demoCall(ctx, p, session, "echo", map[string]any{"text": "no sign-in needed"}, false); err != nil {
		return err
	}
	session.Close()
	signIns := pd.AuthServer.Stats().AuthorizationRequests - before
	p.end(time.Since(t), "%d sign-ins: the bridge used the credentials it kept (exit status %d)", signIns, cmd.ProcessState.ExitCode())
	if signIns != 0 {
		return fmt.Errorf("the second start signed in again")
	}

	p.say("")
	p.say("Every message went host → bridge (stdio) → server (Streamable HTTP, with the bearer token) and back.")
	p.say("Use it from a host: %s", p.bold("mcp-bridge help"))
	return nil
}

// browserArgs is the --browser-command that makes exe the demo's browser.
func browserArgs(exe string) string { return `"` + exe + `" demo approve` }

// demoCall calls a tool and prints the step.
func demoCall(ctx context.Context, p *printer, s *mcp.ClientSession, name string, args map[string]any, progress bool) error {
	params := &mcp.CallToolParams{Name: name, Arguments: args}
	if progress {
		params.Meta = mcp.Meta{"progressToken": "demo-" + name}
	}
	argText, _ := json.Marshal(args)
	p.begin("tools/call " + name + " " + string(argText))
	t := time.Now()
	res, err := s.CallTool(ctx, params)
	if err != nil {
		return fmt.Errorf("tools/call %s: %w", name, err)
	}
	p.end(time.Since(t), "%s", resultText(res))
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

// note prints a line of narration from a component, dimmed, after prefix.
func (p *printer) note(prefix, text string) {
	p.say("  %s", p.paint("2", prefix+text))
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
			p.note(prefix, sc.Text())
		}
	}()
	return w
}

func ms(d time.Duration) string {
	return fmt.Sprintf("(%.1f ms)", float64(d.Microseconds())/1000)
}
