//lint:file-ignore SA1019 the demo answers sampling, deprecated by SEP-2577 but still in use, to show the bridge relays it.

// Package demosession is `mcp-bridge demo`: a host session played through the
// real bridge binary, over stdio as a desktop host launches it, against the
// demo MCP server ([demoserver]) protected by the in-process authorization
// server ([oauthtest.StartProtectedDemo]), narrating each step: sign-in
// with dynamic registration (RFC 7591) and PKCE, tools, progress,
// elicitation, sampling, resources, prompts, a notification on the
// standalone GET stream, a token refresh and a restart that needs no
// sign-in. [Serve] keeps both servers up for a real host instead.
package demosession

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
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

// tokenLife is the lifetime of the demo's access tokens: short, so that
// the session shows a refresh.
const tokenLife = 3 * time.Second

// Options configure [Play] and [Serve].
type Options struct {
	// Bridge is the path of the mcp-bridge binary to launch, which must
	// also answer `Bridge demo approve URL` as the demo's browser.
	Bridge string
	// AutoApprove approves the sign-in without a browser, even where one
	// could open.
	AutoApprove bool
	// Out receives the narration, in colour on a terminal.
	Out io.Writer
	// AuditLog, if set, is the --audit-log of the bridges the demo
	// starts, and of the host config entry Serve prints.
	AuditLog string
}

// bridgeArgs are the arguments of a bridge to url.
func (o *Options) bridgeArgs(url string) []string {
	if o.AuditLog != "" {
		return []string{url, "--audit-log", o.AuditLog}
	}
	return []string{url}
}

// servers are the demo MCP server and its protection.
type servers struct {
	srv *demoserver.Server
	pd  *oauthtest.ProtectedDemo
}

func start(ctx context.Context, p *printer, life time.Duration) (*servers, error) {
	srv, err := demoserver.Start(ctx, &demoserver.Options{EventStore: true})
	if err != nil {
		return nil, err
	}
	pd, err := oauthtest.StartProtectedDemo(ctx, &oauthtest.DemoOptions{
		Handler: srv.Handler(),
		AuthServer: &oauthtest.ASOptions{
			AccessTokenTTL: life,
			OnEvent:        func(e oauthtest.Event) { p.note("auth   │ ", e.String()) },
		},
	})
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &servers{srv, pd}, nil
}

func (s *servers) close() {
	s.pd.Close()
	s.srv.Close()
}

// Play plays the scripted session and narrates it on opts.Out. A step that
// fails ends it, said on opts.Out, and is returned.
func Play(ctx context.Context, opts *Options) error {
	p := newPrinter(opts.Out)
	s, err := start(ctx, p, tokenLife)
	if err != nil {
		return err
	}
	defer s.close()
	if err := play(ctx, p, s.srv, s.pd, opts); err != nil {
		p.fail(err)
		return err
	}
	return nil
}

// Serve keeps the demo servers up, with 10-minute tokens, until ctx is
// done, and prints the host config entry that reaches them through
// opts.Bridge.
func Serve(ctx context.Context, opts *Options) error {
	p := newPrinter(opts.Out)
	s, err := start(ctx, p, 10*time.Minute)
	if err != nil {
		return err
	}
	defer s.close()
	pd := s.pd
	entry, _ := json.MarshalIndent(map[string]any{
		"mcpServers": map[string]any{
			"bridge-demo": map[string]any{"command": opts.Bridge, "args": opts.bridgeArgs(pd.URL)},
		},
	}, "  ", "  ")
	p.say("The demo MCP server is listening at %s (Ctrl-C stops it),", p.bold(pd.URL))
	p.say("protected by the authorization server at %s (a consent page, 10-minute tokens).", pd.AuthServer.Issuer())
	p.say("A host config entry that reaches it through the bridge:\n\n  %s\n", entry)
	<-ctx.Done()
	return nil
}

// browserCanOpen reports whether a browser can be shown to the user here.
func browserCanOpen() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// A session is the scripted host session. The host is the Go SDK's
// client, launching the bridge over stdio exactly as a desktop host does.
type session struct {
	ctx     context.Context
	p       *printer
	srv     *demoserver.Server
	pd      *oauthtest.ProtectedDemo
	exe     string
	args    []string // the bridge's
	env     []string // the bridge's: the user's directories in a directory of the demo's own
	client  *mcp.Client
	updated chan string // the URIs of notifications/resources/updated
}

// play runs the session: an introduction, the steps, and a restart.
func play(ctx context.Context, p *printer, srv *demoserver.Server, pd *oauthtest.ProtectedDemo, opts *Options) error {
	exe := opts.Bridge
	p.say("%s: a host session through the real bridge, against an OAuth-protected MCP server on this machine.", p.bold("mcp-bridge demo"))
	p.say("")
	p.kv("server", "%s %s (Go SDK) at %s, protected (RFC 9728)", demoserver.Name, demoserver.Version, pd.URL)
	p.kv("auth", "authorization server %s: dynamic registration, PKCE, a consent page, %v access tokens, rotating refresh tokens", pd.AuthServer.Issuer(), tokenLife)
	p.kv("host", "the Go SDK client, launching %s %s", exe, pd.URL)

	// The bridges keep their credentials in a directory of the demo's own.
	home, err := os.MkdirTemp("", "mcp-bridge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	s := &session{ctx: ctx, p: p, srv: srv, pd: pd, exe: exe, args: opts.bridgeArgs(pd.URL), updated: make(chan string, 1),
		env: append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
			"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "APPDATA="+home, "LOCALAPPDATA="+home,
			// The demo shows the bridge's sign-in steps in its own log: no
			// sign-in process of its own, which no host kills here.
			"MCP_BRIDGE_NO_SIGNIN_AGENT=1")}
	switch {
	case opts.AutoApprove:
		p.kv("browser", "--auto-approve: the demo approves the consent page itself")
		s.args = append(s.args, "--browser-command", browserArgs(exe))
	case !browserCanOpen():
		p.kv("browser", "no browser can open here: the demo approves the consent page itself")
		s.args = append(s.args, "--browser-command", browserArgs(exe))
	default:
		p.kv("browser", "your browser will show the consent page: press Approve")
	}
	p.say("")
	s.client = s.newClient()

	p.begin("initialize (the server answers 401: the bridge signs in, then sends it again)")
	t := time.Now()
	cs, cmd, err := s.start()
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	defer cs.Close()
	init := cs.InitializeResult()
	p.end(time.Since(t), "%s %s, protocol %s (includes starting the bridge and signing in)",
		init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion)
	for _, step := range []func(*mcp.ClientSession) error{s.listTools, s.callTools, s.readResource, s.getPrompt, s.unprompted, s.refresh} {
		if err := step(cs); err != nil {
			return err
		}
	}
	if err := s.shutdown(cs, cmd); err != nil {
		return err
	}
	if err := s.restart(); err != nil {
		return err
	}
	p.say("")
	p.say("Every message went host → bridge (stdio) → server (Streamable HTTP, with the bearer token) and back.")
	p.say("Use it from a host: %s", p.bold("mcp-bridge help"))
	return nil
}

// newClient returns the demo host: it answers elicitation and sampling for
// the user and the model, and narrates progress.
func (s *session) newClient() *mcp.Client {
	p := s.p
	return mcp.NewClient(&mcp.Implementation{Name: "demo-host", Version: "1.0"}, &mcp.ClientOptions{
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
			case s.updated <- req.Params.URI:
			default:
			}
		},
	})
}

// start launches the bridge and initializes a session through it.
func (s *session) start() (*mcp.ClientSession, *exec.Cmd, error) {
	cmd := exec.CommandContext(s.ctx, s.exe, s.args...)
	cmd.Env = s.env
	cmd.Stderr = s.p.prefixed("bridge │ ")
	cs, err := s.client.Connect(s.ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	return cs, cmd, err
}

func (s *session) listTools(cs *mcp.ClientSession) error {
	t := time.Now()
	tools, err := cs.ListTools(s.ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	s.p.step("tools/list", time.Since(t), "%d tools: %s", len(names), strings.Join(names, ", "))
	return nil
}

// callTools calls the tools that show a server's features: progress,
// elicitation and sampling.
func (s *session) callTools(cs *mcp.ClientSession) error {
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
		if err := call(s.ctx, s.p, cs, c.name, c.args, c.meta); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) readResource(cs *mcp.ClientSession) error {
	t := time.Now()
	rr, err := cs.ReadResource(s.ctx, &mcp.ReadResourceParams{URI: demoserver.ReadmeURI})
	if err != nil {
		return fmt.Errorf("resources/read: %w", err)
	}
	text := ""
	if len(rr.Contents) > 0 {
		text = firstLine(rr.Contents[0].Text)
	}
	s.p.step("resources/read "+demoserver.ReadmeURI, time.Since(t), "%s", text)
	return nil
}

func (s *session) getPrompt(cs *mcp.ClientSession) error {
	t := time.Now()
	pr, err := cs.GetPrompt(s.ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"name": "Ada"}})
	if err != nil {
		return fmt.Errorf("prompts/get: %w", err)
	}
	text := ""
	if len(pr.Messages) > 0 {
		if tc, ok := pr.Messages[0].Content.(*mcp.TextContent); ok {
			text = firstLine(tc.Text)
		}
	}
	s.p.step("prompts/get greet {\"name\":\"Ada\"}", time.Since(t), "%s", text)
	return nil
}

// unprompted has the server send a message on its own, while no request
// is in flight: it travels on the standalone GET stream the bridge keeps
// open.
func (s *session) unprompted(cs *mcp.ClientSession) error {
	if err := cs.Subscribe(s.ctx, &mcp.SubscribeParams{URI: demoserver.NoticeURI}); err != nil {
		return fmt.Errorf("resources/subscribe: %w", err)
	}
	t := time.Now()
	if err := s.srv.NotifyAll(s.ctx, "hello from the server"); err != nil {
		return err
	}
	select {
	case uri := <-s.updated:
		s.p.step("server → host, unprompted", time.Since(t), "notifications/resources/updated %s, on the GET stream", uri)
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("the server's notification did not arrive within 5s")
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// refresh waits for the access token to expire: the bridge refreshes it
// before the next request goes out.
func (s *session) refresh(cs *mcp.ClientSession) error {
	s.p.begin(fmt.Sprintf("waiting %v for the access token to expire", tokenLife))
	select {
	case <-time.After(tokenLife):
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
	return call(s.ctx, s.p, cs, "echo", map[string]any{"text": "still signed in"}, false)
}

// shutdown closes the host's side, as a host that quits: the bridge ends
// the session and exits.
func (s *session) shutdown(cs *mcp.ClientSession, cmd *exec.Cmd) error {
	t := time.Now()
	if err := cs.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	status := cmd.ProcessState.ExitCode()
	s.p.step("shutdown", time.Since(t), "stdin closed; the bridge ended the session (DELETE) and exited with status %d", status)
	if status != 0 {
		return fmt.Errorf("the bridge exited with status %d", status)
	}
	return nil
}

// restart starts the bridge again, as after the host restarts: the kept
// credentials serve, and no sign-in happens.
func (s *session) restart() error {
	before := s.pd.AuthServer.Stats().AuthorizationRequests
	s.p.begin("a second start of the bridge, as after the host restarts")
	t := time.Now()
	cs, cmd, err := s.start()
	if err != nil {
		return fmt.Errorf("second start: %w", err)
	}
	if err := call(s.ctx, s.p, cs, "echo", map[string]any{"text": "no sign-in needed"}, false); err != nil {
		cs.Close()
		return err
	}
	cs.Close()
	signIns := s.pd.AuthServer.Stats().AuthorizationRequests - before
	s.p.end(time.Since(t), "%d sign-ins: the bridge used the credentials it kept (exit status %d)", signIns, cmd.ProcessState.ExitCode())
	if signIns != 0 {
		return fmt.Errorf("the second start signed in again")
	}
	return nil
}

// browserArgs is the --browser-command that makes exe the demo's browser.
func browserArgs(exe string) string { return `"` + exe + `" demo approve` }

// demoCall calls a tool and prints the step.
func call(ctx context.Context, p *printer, s *mcp.ClientSession, name string, args map[string]any, progress bool) error {
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
