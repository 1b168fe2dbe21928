// Command driver is the "client under test" that the official MCP
// conformance suite (npm @modelcontextprotocol/conformance) launches for each
// client scenario. It plays a desktop MCP host: it starts the real mcp-bridge
// binary as a stdio child with the scenario's server URL and the flags a real
// user would set for the scenario's inputs, initializes, lists the tools and
// calls each of them, answers elicitations as a user accepting the defaults,
// then closes stdin and waits for the bridge to exit.
//
// The suite runs it as
//
//	driver [flags] SERVER_URL
//
// with MCP_CONFORMANCE_SCENARIO (the scenario's name) and, for some
// scenarios, MCP_CONFORMANCE_CONTEXT (a JSON object of inputs) in the
// environment. Only the driver reads them: it maps them to documented bridge
// flags (see README.md beside this file) and removes them from the bridge's
// environment, so the bridge cannot know which scenario runs.
//
// The exit code is 0 when every step succeeded, 1 when one failed (the
// suite judges a scenario by what its servers saw, not by this code).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Environment variables of the driver (never of the bridge).
const (
	envBridge   = "MCP_BRIDGE_BIN"             // the mcp-bridge binary
	envBrowser  = "MCP_BRIDGE_FAKE_BROWSER"    // the fakebrowser binary
	envScenario = "MCP_CONFORMANCE_SCENARIO"   // set by the suite
	envContext  = "MCP_CONFORMANCE_CONTEXT"    // set by the suite
	envLogLevel = "MCP_BRIDGE_DRIVER_LOGLEVEL" // the bridge's --log-level
)

func run(ctx context.Context, args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("who", "driver")
	fs := flag.NewFlagSet("driver", flag.ContinueOnError)
	bridgeBin := fs.String("bridge", os.Getenv(envBridge), "the mcp-bridge `binary` (default $"+envBridge+", else mcp-bridge beside the driver)")
	browser := fs.String("browser", os.Getenv(envBrowser), "the `program` the bridge runs to open an authorization URL (default $"+envBrowser+", else fakebrowser beside the driver)")
	timeout := fs.Duration("timeout", 25*time.Second, "give up on the whole session after this `duration` (the suite's own limit is 30s)")
	logLevel := fs.String("log-level", envOr(envLogLevel, "debug"), "the bridge's --log-level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: driver [flags] SERVER_URL")
		return 2
	}
	serverURL := fs.Arg(0)
	if *bridgeBin == "" {
		*bridgeBin = besideSelf("mcp-bridge")
	}
	if *browser == "" {
		*browser = besideSelf("fakebrowser")
	}

	scenario := os.Getenv(envScenario)
	sc, err := parseContext(os.Getenv(envContext))
	if err != nil {
		log.Error("bad scenario context", "err", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "mcp-bridge-driver-")
	if err != nil {
		log.Error("temp dir", "err", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	secrets := filepath.Join(tmp, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		log.Error("secret dir", "err", err)
		return 1
	}
	p, err := makePlan(&planConfig{Scenario: scenario, Context: sc, SecretDir: secrets, Browser: *browser, LogLevel: *logLevel})
	if err != nil {
		log.Error("plan", "err", err)
		return 1
	}
	log.Info("scenario", "name", scenario, "server", serverURL, "bridge", *bridgeBin, "args", p.Args, "protocol", p.ProtocolVersion)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, *bridgeBin, append([]string{serverURL}, p.Args...)...)
	cmd.Stderr = os.Stderr // the suite keeps it in stderr.txt
	cmd.Env = bridgeEnv(os.Environ(), tmp)
	setParentDeathSignal(cmd)
	if err := session(ctx, log, cmd, p); err != nil {
		log.Error("FAILED", "err", err)
		return 1
	}
	log.Info("done")
	return 0
}

// session is the host's side: connect through the bridge, list and call the
// tools, close.
func session(ctx context.Context, log *slog.Logger, cmd *exec.Cmd, p *plan) (err error) {
	client := mcp.NewClient(
		&mcp.Implementation{Name: "mcp-bridge-conformance-host", Version: "1.0.0"},
		&mcp.ClientOptions{
			Capabilities: &mcp.ClientCapabilities{},
			ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				res := answerElicitation(req.Params)
				log.Info("elicitation answered", "message", req.Params.Message, "action", res.Action, "content", res.Content)
				return res, nil
			},
		})
	// The bridge gets 5 s to finish pending requests and 2 s to DELETE the
	// session after stdin closes; SIGTERM only after that.
	transport := &mcp.CommandTransport{Command: cmd, TerminateDuration: 10 * time.Second}
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: p.ProtocolVersion})
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	defer func() {
		// Closing stdin is how a host ends the session; the bridge must exit 0.
		if cerr := cs.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("bridge exit: %w", cerr)
		}
	}()
	init := cs.InitializeResult()
	log.Info("initialized", "protocol", init.ProtocolVersion, "server", init.ServerInfo)

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	for _, c := range plannedCalls(tools.Tools, p.ToolCalls) {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.Name, Arguments: c.Arguments})
		if rpcErr, ok := errors.AsType[*jsonrpc.Error](err); ok && rpcErr.Code == jsonrpc.CodeMethodNotFound {
			// The server itself does not take tools/call (json-schema-ref-
			// no-deref serves only tools/list): a host shows the error and
			// goes on. Errors of the bridge's own still end the session.
			log.Info("the server does not take this call", "name", c.Name, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("tools/call %s: %w", c.Name, err)
		}
		log.Info("tool called", "name", c.Name, "arguments", c.Arguments, "isError", res.IsError, "content", contentText(res.Content))
	}
	return nil
}

// schemaEchoTool is the tool of the json-schema-2020-12-preservation
// scenario that asks the host to pass back, as its "schema" argument, the
// inputSchema it saw for the scenario's other tool: the server then sees
// whether the schema reached the host intact through the bridge.
const schemaEchoTool = "json_schema_echo"

// plannedCalls returns the tool calls the host makes: those the suite
// names, if it names any, else one call of every listed tool with
// arguments made from its schema.
func plannedCalls(tools []*mcp.Tool, given []toolCall) []toolCall {
	if len(given) > 0 {
		return given
	}
	var calls []toolCall
	for _, t := range tools {
		args := argumentsFor(t.InputSchema)
		if t.Name == schemaEchoTool {
			for _, other := range tools {
				if other.Name != schemaEchoTool {
					args = map[string]any{"schema": other.InputSchema}
					break
				}
			}
		}
		calls = append(calls, toolCall{Name: t.Name, Arguments: args})
	}
	return calls
}

// bridgeEnv is the bridge's environment: the driver's, without the suite's
// and the driver's own variables, and with a home, cache and config of its
// own so that nothing (remembered transports, tokens) carries over from one
// scenario to the next or touches the user's.
func bridgeEnv(env []string, tmp string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "MCP_CONFORMANCE_"), strings.HasPrefix(name, "MCP_BRIDGE_"),
			name == "HOME", strings.HasPrefix(name, "XDG_"):
			continue
		}
		out = append(out, kv)
	}
	home := filepath.Join(tmp, "home")
	return append(out,
		"HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"),
	)
}

func besideSelf(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return name
	}
	return filepath.Join(filepath.Dir(exe), name)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// contentText is a short text of a tool result for the log.
func contentText(cs []mcp.Content) string {
	var b strings.Builder
	for _, c := range cs {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	s := b.String()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

var errNoSchema = errors.New("no schema")

// schemaProperties returns a JSON schema's properties and required names.
func schemaProperties(schema any) (map[string]map[string]any, map[string]bool, error) {
	m, ok := schema.(map[string]any)
	if !ok {
		return nil, nil, errNoSchema
	}
	props := map[string]map[string]any{}
	if ps, ok := m["properties"].(map[string]any); ok {
		for name, p := range ps {
			if pm, ok := p.(map[string]any); ok {
				props[name] = pm
			}
		}
	}
	required := map[string]bool{}
	if rs, ok := m["required"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	return props, required, nil
}

// argumentsFor makes tool arguments from an input schema: each property's
// default, and a plain value for each required property without one.
func argumentsFor(schema any) map[string]any {
	props, required, err := schemaProperties(schema)
	args := map[string]any{}
	if err != nil {
		return args
	}
	n := 0
	for name, p := range props {
		if d, ok := p["default"]; ok {
			args[name] = d
			continue
		}
		if required[name] {
			n++
			args[name] = plainValue(p, n)
		}
	}
	return args
}

// answerElicitation answers as a user who accepts a form as it is offered:
// every default is kept, required fields without one get a plain value. URL
// elicitations are declined (there is no user to visit them).
func answerElicitation(p *mcp.ElicitParams) *mcp.ElicitResult {
	if p.Mode == "url" || p.URL != "" {
		return &mcp.ElicitResult{Action: "decline"}
	}
	props, required, err := schemaProperties(p.RequestedSchema)
	if err != nil {
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{}}
	}
	content := map[string]any{}
	n := 0
	for name, pr := range props {
		if d, ok := pr["default"]; ok {
			content[name] = d
			continue
		}
		if required[name] {
			n++
			content[name] = plainValue(pr, n)
		}
	}
	return &mcp.ElicitResult{Action: "accept", Content: content}
}

// plainValue is a valid value for a simple schema property; n varies numbers.
func plainValue(p map[string]any, n int) any {
	if e, ok := p["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	switch p["type"] {
	case "number", "integer":
		return n + 1
	case "boolean":
		return true
	case "array":
		return []any{}
	case "object":
		return map[string]any{}
	default:
		return "test"
	}
}
