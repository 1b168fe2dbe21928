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
	"slices"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"golang.org/x/term"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/internal/config"
	"github.com/mcp-bridge/mcp-bridge/internal/privfile"
	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
	"github.com/mcp-bridge/mcp-bridge/internal/transportcache"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version string

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the bridge or a command failed
	exitUsage = 2 // the command line is wrong
)

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
		if len(args) < 2 {
			printUsage(stdout)
			return exitOK
		}
		c := lookupCommand(args[1])
		if c == nil || len(args) > 2 {
			fmt.Fprintf(stderr, "mcp-bridge help: no command %q; the commands are listed by mcp-bridge help\n", strings.Join(args[1:], " "))
			return exitUsage
		}
		c.printHelp(stdout)
		return exitOK
	}
	// CMD --help, -h or -help, where its flags would take it so: the
	// command's help, on stdout.
	c, rest := lookupCommand(cmd), args
	if c == nil {
		c = lookupCommand("run") // mcp-bridge [flags] URL
	} else {
		rest = args[1:]
	}
	if c.flags != nil && asksHelp(c.flags(), rest) {
		c.printHelp(stdout)
		return exitOK
	}
	switch cmd {
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
	case "secret":
		return runSecret(ctx, args[1:], stdin, stdout, stderr)
	case "install":
		return runInstall(ctx, args[1:], stdin, stdout, stderr)
	case "uninstall":
		return runUninstall(ctx, args[1:], stdin, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdin, stdout, stderr)
	case agentCommand:
		return runSignInAgent(ctx, args[1:], stderr)
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
	configPath string
	transport  string
	headers    listFlag
	headerFile string
	allowHTTP  bool
	caFile     string
	proxy      string
	allowTools listFlag
	denyTools  listFlag
	logLevel   string
	logFile    string
	auditLog   string
	maxMessage int
	keepAlive  time.Duration
	auth       authOptions

	// The server: its URL, and if it was named, its name, its entry in the
	// configuration file and the command line's own arguments.
	url      string
	name     string
	server   *config.Server
	userArgs []string
}

func bridgeFlags(o *bridgeOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("mcp-bridge", flag.ContinueOnError)
	fs.StringVar(&o.configPath, "config", "", "read named servers from this configuration `file` (default: the user config directory's mcp-bridge/config.json)")
	fs.StringVar(&o.transport, "transport", bridge.TransportAuto, "`auto`, streamable or sse: auto tries Streamable HTTP, falls back to HTTP+SSE, and remembers which worked")
	fs.Var(&o.headers, "header", "add the header `'Name: value'` to every request to the server; ${VAR} is taken from the environment, ${keychain:NAME} from 'mcp-bridge secret set NAME' (repeatable)")
	fs.StringVar(&o.headerFile, "header-file", "", "read headers, one 'Name: value' per line, from `file` (keeps secrets out of ps)")
	fs.BoolVar(&o.allowHTTP, "allow-http", false, "allow plain http to hosts other than loopback (tokens then travel unencrypted)")
	fs.StringVar(&o.caFile, "ca-file", "", "trust the certificate authorities in this PEM `file` as well as the system's")
	fs.StringVar(&o.proxy, "proxy", "", "send requests through this proxy `URL` instead of the one HTTPS_PROXY names")
	fs.Var(&o.allowTools, "allow-tool", "show only the tools whose names match this `glob` (repeatable)")
	fs.Var(&o.denyTools, "deny-tool", "hide the tools whose names match this `glob`, and refuse calls to them (repeatable)")
	fs.StringVar(&o.logLevel, "log-level", "info", "`level` of logs on stderr: debug, info, warn or error")
	fs.StringVar(&o.logFile, "log-file", "", "also append logs, as plain text, to `file`")
	fs.StringVar(&o.auditLog, "audit-log", "", "append one JSON line per tool call, prompt, resource read, sign-in, refresh and logout to `file` (never arguments, results or secrets)")
	fs.IntVar(&o.maxMessage, "max-message-size", bridge.DefaultMaxMessageSize, "largest message accepted in either direction, in `bytes`")
	fs.DurationVar(&o.keepAlive, "keepalive", 0, "ping the server after this long without traffic (e.g. 60s), to keep an idle session and find a dead connection before the host's next request; 0: never")
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
	if stdin == io.Reader(os.Stdin) && stdout == io.Writer(os.Stdout) {
		// The host's pipes (stdio_unix.go), set back on the way out.
		var restore func()
		stdin, stdout, restore = pollableStdio()
		defer restore()
	}
	args, remote, err := fromMCPRemote(args, os.LookupEnv, stderr) // mcp-remote drop-in (mcpremote.go)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge: %v\n", err)
		return exitUsage
	}
	o, code := parseBridgeArgs("mcp-bridge", args, nil, stderr)
	if o == nil {
		return code
	}
	o.auth.mcpRemote = remote // mcp-remote drop-in
	// The host shows the sign-in command: without a URL, which hosts
	// redact (loginname.go).
	o.auth.loginHint = loginHint(o)
	level := new(slog.LevelVar)
	log, closeLog, err := newLogger(stderr, level, o.logLevel, o.logFile)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	au, err := openAudit(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge: --audit-log: %v\n", err)
		return exitUsage
	}
	defer au.close()

	// A browser sign-in runs in a process of its own, which the host's
	// impatience does not end (agent.go).
	agents := &signInAgents{args: args, spawn: true, log: log}
	o.auth.signInAgent = agents.run
	b, err := o.build(log, stderr, au)
	if err == nil {
		agents.store, agents.key = b.store, b.handler.Key()
	}
	var r *bridge.Relay
	if err == nil {
		r, err = bridge.New(b.cfg)
		b.relay = r
	}
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge: %v\n", err)
		return exitUsage
	}
	oauth := b.handler
	oauth.Preload(ctx)
	// Pick up credentials another process writes (a bridge beside this
	// one, `mcp-bridge login`) or removes (`mcp-bridge logout`). The
	// notice of this process's own write changes nothing, and says so
	// only at debug level.
	reload := func() {
		changed := oauth.Reload(ctx)
		signedIn := oauth.Credentials(ctx).HasToken()
		if changed {
			log.Info("the stored credentials changed; reloaded them", "signed_in", signedIn)
		} else {
			log.Debug("the stored credentials were written; they are those in use", "signed_in", signedIn)
		}
	}
	if stop, err := b.store.Watch(ctx, oauth.Key(), reload); err != nil {
		log.Debug("not watching the token store", "err", err)
	} else {
		defer stop()
	}
	if o.server != nil {
		b.running = o.server
		stop, err := config.Watch(o.configPath, func() { b.apply(o, level, log) })
		if err != nil {
			log.Warn("not watching the configuration file; changes need a restart", tint.Err(err))
		} else {
			defer stop()
		}
	}
	// Start-up is over: its pages of the binary need not stay mapped
	// (startpages_linux.go).
	defer time.AfterFunc(startPagesDelay, dropStartupPages).Stop()
	if err := r.Run(ctx, stdin, stdout); err != nil {
		log.Error("mcp-bridge failed", tint.Err(err))
		return exitError
	}
	return exitOK
}

// built is a bridge's configuration with the parts a configuration change
// may replace while it runs.
type built struct {
	*wiring
	cfg     *bridge.Config
	tools   *bridge.ToolFilter
	running *config.Server // the configuration entry in force
	relay   *bridge.Relay  // the relay built from cfg, once it is
}

// build turns the options into the relay's configuration. Launched by a
// host, the bridge has no terminal to prompt on: sign-ins that need one
// say so in the error the host shows.
func (o *bridgeOptions) build(log *slog.Logger, stderr io.Writer, au *auditor) (*built, error) {
	tools, err := bridge.NewToolFilter(o.allowTools, o.denyTools)
	if err != nil {
		return nil, err
	}
	w, err := wire(o, process{log: log, stderr: stderr, events: au.events()})
	if err != nil {
		return nil, err
	}
	b := &built{wiring: w, tools: tools}
	b.cfg = &bridge.Config{
		URL:          o.url,
		Transport:    o.transport,
		HTTPClient:   w.client,
		OAuthHandler: w.handler,
		// The store key: a hash of what, besides the URL, keys the
		// credentials (resource, client id, client metadata URL), never a
		// secret.
		AuthContext:    w.handler.Key(),
		AllowHTTP:      o.allowHTTP,
		MaxMessageSize: o.maxMessage,
		KeepAlive:      o.keepAlive,
		UserAgent:      "mcp-bridge/" + versionString(),
		Logger:         log,
	}
	if au != nil {
		au.identify(w.handler)
		b.cfg.Audit = au.Call
	}
	// The filter costs nothing to a message that is not about tools, but
	// is left out unless it may have rules.
	if len(o.allowTools)+len(o.denyTools) > 0 || o.server != nil {
		b.cfg.Stages = append(b.cfg.Stages, b.tools)
	}
	if dir, err := os.UserCacheDir(); err == nil && o.transport == bridge.TransportAuto {
		// The cache steers the transport and the era: another user's
		// (or a world-writable) one is not read.
		dir = filepath.Join(dir, "mcp-bridge")
		if err := errors.Join(privfile.CheckDir(dir, "the cache directory"), privfile.CheckFile(filepath.Join(dir, "transports.json"), "the transport cache")); err != nil {
			log.Warn("not using the cache", tint.Err(err))
		} else {
			b.cfg.TransportCache = transportcache.Open(filepath.Join(dir, "transports.json"))
		}
	}
	return b, nil
}

// apply takes up a change to the configuration file: it applies what a
// running bridge can and logs what needs a restart. An invalid file
// leaves everything as it was and says why.
func (b *built) apply(o *bridgeOptions, level *slog.LevelVar, log *slog.Logger) {
	next, live, err := o.reloadConfig(b.refs)
	if err == nil {
		err = b.tools.Set(live.allowTool, live.denyTool)
	}
	if err != nil {
		log.Error("the configuration file changed but is not valid; keeping the last good one", tint.Err(err))
		return
	}
	running, restart := takeUp(b.running, next)
	if len(config.Diff(b.running, running)) == 0 && len(restart) == 0 {
		log.Debug("the configuration file changed, but not this server's entry")
		return
	}
	toolsChanged := !slices.Equal(b.running.Tools.Allow, running.Tools.Allow) || !slices.Equal(b.running.Tools.Deny, running.Tools.Deny)
	b.running = running
	b.headers.Set(live.header)
	level.Set(live.level)
	b.handler.SetScopes(live.scopes)
	if len(restart) > 0 {
		log.Warn("the configuration file changed settings that apply at the next start", "server", o.name, "fields", strings.Join(restart, ", "))
	}
	log.Info("reloaded the configuration file", "server", o.name)
	if toolsChanged {
		b.relay.ToolsChanged()
	}
}

// newLogger builds the logger: tint on stderr, coloured only on a
// terminal, and plain text appended to logFile if set. level, if not nil,
// is set to the level named and lets it be changed later.
func newLogger(stderr io.Writer, level *slog.LevelVar, name, logFile string) (*slog.Logger, func(), error) {
	lvl, err := parseLevel(name)
	if err != nil {
		return nil, nil, err
	}
	if level == nil {
		level = new(slog.LevelVar)
	}
	level.Set(lvl)
	noColor := true
	if f, ok := stderr.(*os.File); ok {
		noColor = !term.IsTerminal(int(f.Fd()))
	}
	h := newTint(stderr, level, noColor)
	closeLog := func() {}
	if logFile != "" {
		f, err := privfile.OpenAppend(logFile, "--log-file")
		if err != nil {
			return nil, nil, err
		}
		h = slog.NewMultiHandler(h, slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}))
		closeLog = func() { f.Close() }
	}
	return slog.New(h), closeLog, nil
}

// newTint returns the handler of the log on stderr. Its ReplaceAttr
// escapes the message and every string, error and other value as
// [safetext.Escape] does: the values quote servers, and tint writes a
// coloured log's values with ESC intact (it turns strconv.Quote's \x1b
// back into ESC, to keep colours a value carries), so a server's client
// ID or error text could drive the user's terminal (issue 11). The file
// log's slog.TextHandler quotes such values itself.
func newTint(w io.Writer, level slog.Leveler, noColor bool) slog.Handler {
	return tint.NewTextHandler(w, &tint.Options{Level: level, NoColor: noColor, TimeFormat: "15:04:05.000", ReplaceAttr: escapeAttr})
}

// escapeAttr is newTint's ReplaceAttr.
func escapeAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.SourceKey) {
		return a
	}
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(safetext.Escape(v.String()))
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			a.Value = slog.StringValue(safetext.Escape(x.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(safetext.Escape(x.String()))
		case []string:
			a.Value = slog.StringValue(safetext.Escape(fmt.Sprint(x)))
		}
	}
	return a
}

// parseLevel parses a --log-level value.
func parseLevel(name string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", name)
	}
	return l, nil
}
