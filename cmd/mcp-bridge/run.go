package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/lmittmann/tint"
	"golang.org/x/term"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
	"github.com/mcp-bridge/mcp-bridge/internal/transportcache"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version string

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the bridge or a command failed
	exitUsage = 2 // the command line is wrong
)

const usage = `mcp-bridge connects an MCP host that speaks stdio (Claude Desktop, Cursor,
VS Code, Zed, ...) to a remote MCP server over Streamable HTTP.

Usage:
  mcp-bridge [flags] URL        bridge the server at URL over stdin/stdout
  mcp-bridge run [flags] URL    the same
  mcp-bridge login [flags] URL  sign in from a terminal (browser, --login=device or --login=paste)
  mcp-bridge logout [flags] URL sign out: revoke the tokens and remove them (--all: every server)
  mcp-bridge status [--json]    list the servers signed in to, their tokens' state, and where they are kept
  mcp-bridge doctor [flags] URL check each step a sign-in depends on, and say which fails
  mcp-bridge demo [--serve]     run a full session against a built-in server
  mcp-bridge version            print the version
  mcp-bridge help               print this help

Flags may come before or after the URL.

Examples:
  mcp-bridge https://mcp.example.com/mcp
  mcp-bridge https://mcp.example.com/mcp --header 'X-Api-Key: ${EXAMPLE_KEY}'
  mcp-bridge --transport sse https://legacy.example.com/sse
  mcp-bridge http://127.0.0.1:8080/mcp --log-level debug --log-file /tmp/bridge.log

Claude Desktop (claude_desktop_config.json):
  {"mcpServers": {"example": {"command": "/usr/local/bin/mcp-bridge",
                              "args": ["https://mcp.example.com/mcp"]}}}

Flags:
`

// run is the whole program; main only adds the process around it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "mcp-bridge %s\n", versionString())
		return exitOK
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		f := bridgeFlags(&bridgeOptions{})
		f.SetOutput(stdout)
		f.PrintDefaults()
		return exitOK
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "login":
		return runLogin(ctx, args[1:], stdin, stdout, stderr)
	case "logout":
		return runLogout(ctx, args[1:], stdin, stdout, stderr)
	case "doctor":
		return runDoctor(ctx, args[1:], stdin, stdout, stderr)
	case "status":
		return runStatus(ctx, args[1:], stdout, stderr)
	case "run":
		args = args[1:]
	}
	return runBridge(ctx, args, stdin, stdout, stderr)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// bridgeOptions are the flags of the bridge command.
type bridgeOptions struct {
	transport  string
	headers    headerFlag
	headerFile string
	allowHTTP  bool
	caFile     string
	logLevel   string
	logFile    string
	maxMessage int
	auth       authOptions

	// Set by config.
	oauth     *oauthclient.Handler
	credStore credStore
}

func bridgeFlags(o *bridgeOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("mcp-bridge", flag.ContinueOnError)
	fs.StringVar(&o.transport, "transport", bridge.TransportAuto, "`auto`, streamable or sse: auto tries Streamable HTTP, falls back to HTTP+SSE, and remembers which worked")
	fs.Var(&o.headers, "header", "add the header 'Name: value' to every request; ${VAR} is taken from the environment (repeatable)")
	fs.StringVar(&o.headerFile, "header-file", "", "read headers, one 'Name: value' per line, from `file` (keeps secrets out of ps)")
	fs.BoolVar(&o.allowHTTP, "allow-http", false, "allow plain http to hosts other than loopback (tokens then travel unencrypted)")
	fs.StringVar(&o.caFile, "ca-file", "", "trust the certificate authorities in this PEM `file` as well as the system's")
	fs.StringVar(&o.logLevel, "log-level", "info", "`level` of logs on stderr: debug, info, warn or error")
	fs.StringVar(&o.logFile, "log-file", "", "also append logs, as plain text, to `file`")
	fs.IntVar(&o.maxMessage, "max-message-size", bridge.DefaultMaxMessageSize, "largest message accepted in either direction, in `bytes`")
	o.auth.register(fs)
	return fs
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, which it returns: host configs copied from
// mcp-remote put the URL first.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func runBridge(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	args, remote, err := fromMCPRemote(args, os.LookupEnv, stderr) // mcp-remote drop-in (mcpremote.go)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge: %v\n", err)
		return exitUsage
	}
	var o bridgeOptions
	o.auth.mcpRemote = remote // mcp-remote drop-in
	fs := bridgeFlags(&o)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: mcp-bridge [flags] URL (see mcp-bridge help)") }
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "mcp-bridge: want exactly one server URL (see mcp-bridge help)")
		return exitUsage
	}
	log, closeLog, err := newLogger(stderr, o.logLevel, o.logFile)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge: %v\n", err)
		return exitUsage
	}
	defer closeLog()

	cfg, err := o.config(pos[0], log, stderr)
	var r *bridge.Relay
	if err == nil {
		r, err = bridge.New(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge: %v\n", err)
		return exitUsage
	}
	o.oauth.Preload(ctx)
	// Pick up credentials another process writes (a bridge beside this
	// one, `mcp-bridge login`) or removes (`mcp-bridge logout`).
	reload := func() {
		o.oauth.Reload(ctx)
		log.Info("the stored credentials changed; reloaded them")
	}
	if stop, err := o.credStore.watch(ctx, o.oauth.Key(), reload); err != nil {
		log.Debug("not watching the token store", "err", err)
	} else {
		defer stop()
	}
	if err := r.Run(ctx, stdin, stdout); err != nil {
		log.Error("mcp-bridge failed", tint.Err(err))
		return exitError
	}
	return exitOK
}

// config turns the flags into the relay's configuration.
func (o *bridgeOptions) config(url string, log *slog.Logger, stderr io.Writer) (*bridge.Config, error) {
	header, err := parseHeaders(o.headers, o.headerFile, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	client, err := httpclient.New(httpclient.Options{CAFile: o.caFile})
	if err != nil {
		return nil, err
	}
	// Host-launched: no terminal to prompt on, so sign-ins that need one
	// say so in the error the host shows.
	oauth, store, err := o.auth.handler(url, client, log, stderr, nil, nil)
	if err != nil {
		return nil, err
	}
	o.oauth, o.credStore = oauth, store
	cfg := &bridge.Config{
		URL:            url,
		Transport:      o.transport,
		HTTPClient:     client,
		Header:         header,
		OAuthHandler:   oauth,
		AllowHTTP:      o.allowHTTP,
		MaxMessageSize: o.maxMessage,
		UserAgent:      "mcp-bridge/" + versionString(),
		Logger:         log,
	}
	if dir, err := os.UserCacheDir(); err == nil && o.transport == bridge.TransportAuto {
		cfg.TransportCache = transportcache.Open(filepath.Join(dir, "mcp-bridge", "transports.json"))
	}
	return cfg, nil
}

// newLogger builds the logger: tint on stderr, coloured only on a
// terminal, and plain text appended to logFile if set.
func newLogger(stderr io.Writer, level, logFile string) (*slog.Logger, func(), error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	noColor := true
	if f, ok := stderr.(*os.File); ok {
		noColor = !term.IsTerminal(int(f.Fd()))
	}
	h := slog.Handler(tint.NewTextHandler(stderr, &tint.Options{Level: lvl, NoColor: noColor, TimeFormat: "15:04:05.000"}))
	closeLog := func() {}
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
		h = slog.NewMultiHandler(h, slog.NewTextHandler(f, &slog.HandlerOptions{Level: lvl}))
		closeLog = func() { f.Close() }
	}
	return slog.New(h), closeLog, nil
}
