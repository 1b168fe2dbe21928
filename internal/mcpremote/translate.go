package mcpremote

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// Options are what [Translate] needs besides the command line.
type Options struct {
	// Ours are mcp-bridge's flags: a flag it knows passes through, with
	// its value. It must not be nil.
	Ours *flag.FlagSet
	// Getenv looks up the variables ${VAR} names in
	// --static-oauth-client-info. If nil, no variable is set.
	Getenv func(string) (string, bool)
	// Warn receives warnings, a line each. If nil, they are dropped.
	Warn io.Writer
	// LogDir is the directory (created if need be) for --debug's log
	// file, KEY_debug.log as mcp-remote names its. If "", --debug only
	// raises the log level.
	LogDir string
	// ReadFile reads @FILE arguments and --header-file. If nil,
	// os.ReadFile is used.
	ReadFile func(string) ([]byte, error)
}

// Extras is what an mcp-remote command line asks for that no flag of
// mcp-bridge expresses; the OAuth configuration takes it.
type Extras struct {
	// ClientSecret comes from --static-oauth-client-info. It is never put
	// on mcp-bridge's command line, which ps shows.
	ClientSecret string
	// Registration is --static-oauth-client-metadata: the client metadata
	// to register with.
	Registration json.RawMessage
	// CallbackHost and CallbackPath make mcp-remote's redirect URI,
	// http://localhost:PORT/oauth/callback unless --host or
	// --callback-path say otherwise, which its pre-registered clients and
	// metadata documents name.
	CallbackHost, CallbackPath string
}

// mcp-remote's defaults.
const (
	defaultCallbackPath = "/oauth/callback"
	defaultCallbackHost = "localhost" // 127.0.0.1 on Windows since 0.1.3x; localhost before
)

// A rewrite is what one of mcp-remote's flags becomes.
type rewrite struct {
	value bool // the flag takes a value
	// only: mcp-remote has the flag and mcp-bridge does not, so a command
	// line with it is mcp-remote's. (--resource and --transport are ours
	// too; so are --header, --header-file, --authorize-param,
	// --client-metadata-url, --allow-http and --client-credentials, which
	// mean the same and pass through.)
	only  bool
	apply func(t *translation, v string) error
}

// rewrites are mcp-remote's flags that mcp-bridge rewrites or drops.
var rewrites = map[string]rewrite{
	"debug":                        {only: true, apply: func(t *translation, _ string) error { t.debug = true; return nil }},
	"silent":                       {only: true, apply: func(t *translation, _ string) error { t.silent = true; return nil }},
	"device-code":                  {only: true, apply: func(t *translation, _ string) error { return t.emit("--login", oauthclient.LoginDevice) }},
	"disable-resource-parameter":   {only: true, apply: func(t *translation, _ string) error { t.noResource = true; return nil }},
	"enable-proxy":                 {only: true, apply: func(*translation, string) error { return nil }}, // mcp-bridge always takes proxies from the environment
	"host":                         {value: true, only: true, apply: func(t *translation, v string) error { t.extras.CallbackHost = v; return nil }},
	"callback-path":                {value: true, only: true, apply: (*translation).callbackPath},
	"auth-timeout":                 {value: true, only: true, apply: (*translation).authTimeout},
	"ignore-tool":                  {value: true, only: true, apply: func(t *translation, v string) error { return t.emit("--deny-tool", caselessGlob(v)) }},
	"static-oauth-client-info":     {value: true, only: true, apply: (*translation).staticClientInfo},
	"static-oauth-client-metadata": {value: true, only: true, apply: (*translation).staticClientMetadata},
	"transport":                    {value: true, apply: (*translation).transport},
	"resource":                     {value: true, apply: (*translation).resource},
}

// watched are flags of mcp-bridge that pass through and that the
// translation takes note of.
var watched = map[string]func(t *translation, v string){
	"client-id":           func(t *translation, v string) { t.clientID, t.idFlag = v, true },
	"client-metadata-url": func(t *translation, v string) { t.metadataURL = v },
	"callback-port":       func(t *translation, _ string) { t.portFlag = true },
	"scope":               func(t *translation, _ string) { t.scopeFlag = true },
}

// translation is the state of one Translate.
type translation struct {
	o      Options
	args   []string // the command line, launcher dropped
	i      int      // the argument being read
	remote bool     // something only mcp-remote says
	extras Extras

	pos  []string // the server URL, and a port
	out  []string // our flags for mcp-remote's
	pass []string // our flags as given: last, so that where both say something, ours wins

	resourceURL       string
	noResource        bool
	clientID          string
	metadataURL       string
	port              int
	debug, silent     bool
	idFlag, portFlag  bool // --client-id, --callback-port given
	scopeFlag         bool // --scope given
	metadataScopeFrom int  // where in out the --scope the metadata gave is; -1 if none
}

// Translate rewrites an mcp-remote command line (flags before or after
// the URL, a leading "mcp-remote" or "-y mcp-remote@1.2.3" dropped, see
// [DropLauncher]) into mcp-bridge's, and returns what no flag of ours
// says. A command line of ours comes back unchanged, with nil Extras.
//
// mcp-remote's positional callback port becomes --callback-port; with a
// pre-registered client (--static-oauth-client-info, --client-id) or a
// metadata document (--client-metadata-url) and no port, the port
// mcp-remote derives from the server's key is used, since the
// registration names it.
func Translate(args []string, o Options) ([]string, *Extras, error) {
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if o.Getenv == nil {
		o.Getenv = func(string) (string, bool) { return "", false }
	}
	if o.Warn == nil {
		o.Warn = io.Discard
	}
	args = DropLauncher(args)
	t := &translation{o: o, args: args, metadataScopeFrom: -1}
	if err := t.scan(); err != nil {
		return nil, nil, err
	}
	if !t.remote {
		return args, nil, nil
	}
	if err := t.finish(); err != nil {
		return nil, nil, err
	}
	return slices.Concat(t.pos[:1], t.out, t.pass, t.pos[1:]), &t.extras, nil
}

// scan reads the command line: each flag of mcp-remote's through its
// rewrite, each of ours into pass, the rest into pos.
func (t *translation) scan() error {
	for t.i = 0; t.i < len(t.args); t.i++ {
		a := t.args[t.i]
		if a == "--" {
			t.pos = append(t.pos, t.args[t.i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			t.pos = append(t.pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		rw, ok := rewrites[name]
		if !ok {
			if err := t.passOurs(a, name, hasVal); err != nil {
				return err
			}
			continue
		}
		t.remote = t.remote || rw.only
		v := val
		if rw.value && !hasVal {
			var err error
			if v, err = t.next(name); err != nil {
				return err
			}
		}
		if err := rw.apply(t, v); err != nil {
			return err
		}
	}
	if len(t.pos) >= 2 && isPort(t.pos[1]) {
		t.port, _ = strconv.Atoi(t.pos[1])
		t.pos = slices.Delete(t.pos, 1, 2)
		t.remote = true
	}
	return nil
}

// next returns the argument after the flag being read.
func (t *translation) next(name string) (string, error) {
	if t.i+1 >= len(t.args) {
		return "", fmt.Errorf("flag needs an argument: --%s", name)
	}
	t.i++
	return t.args[t.i], nil
}

// passOurs passes one of our flags (or an unknown one, which our parser
// refuses) on, with its value.
func (t *translation) passOurs(a, name string, hasVal bool) error {
	t.pass = append(t.pass, a)
	f := t.o.Ours.Lookup(name)
	if f == nil || hasVal || isBoolFlag(f) {
		return nil
	}
	v, err := t.next(name)
	if err != nil {
		return err
	}
	t.pass = append(t.pass, v)
	if w := watched[name]; w != nil {
		w(t, v)
	}
	return nil
}

// emit adds flags of ours to the rewritten command line.
func (t *translation) emit(flags ...string) error {
	t.out = append(t.out, flags...)
	return nil
}

func (t *translation) transport(v string) error {
	switch v {
	case "http-first", "sse-first":
		// sse-first has no exact match: auto tries Streamable HTTP first,
		// then HTTP+SSE, and remembers which worked, so after the first
		// start an SSE-only server is reached first anyway.
		v, t.remote = bridge.TransportAuto, true
	case "http-only":
		v, t.remote = bridge.TransportStreamable, true
	case "sse-only":
		v, t.remote = bridge.TransportSSE, true
	}
	return t.emit("--transport", v)
}

func (t *translation) callbackPath(v string) error {
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("--callback-path %q: want a path starting with /", v)
	}
	t.extras.CallbackPath = v
	return nil
}

func (t *translation) authTimeout(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		// As mcp-remote does: warn and keep the default.
		fmt.Fprintf(t.o.Warn, "mcp-bridge: ignoring --auth-timeout %q: want a positive number of seconds\n", v)
		return nil
	}
	return t.emit("--login-timeout", strconv.Itoa(n)+"s")
}

func (t *translation) resource(v string) error {
	if v = strings.TrimSpace(v); v == "" {
		t.noResource = true // mcp-remote's `--resource ""`
	} else {
		t.resourceURL = v
	}
	return nil
}

func (t *translation) staticClientInfo(v string) error {
	id, secret, err := staticClientInfo(v, t.o.Getenv, t.o.ReadFile, t.o.Warn)
	if err != nil {
		return err
	}
	t.clientID, t.extras.ClientSecret = id, secret
	return nil
}

func (t *translation) staticClientMetadata(v string) error {
	meta, err := readJSONArg("--static-oauth-client-metadata", v, t.o.ReadFile)
	if err != nil {
		return err
	}
	var m struct {
		Scope string `json:"scope"`
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		return fmt.Errorf("--static-oauth-client-metadata: want a JSON object: %w", err)
	}
	t.extras.Registration = meta
	if m.Scope != "" {
		// mcp-remote asks for the scope it registers with.
		t.metadataScopeFrom = len(t.out)
		return t.emit("--scope", m.Scope)
	}
	return nil
}

// finish adds what depends on the whole command line.
func (t *translation) finish() error {
	if len(t.pos) == 0 {
		return errors.New("no server URL")
	}
	switch {
	case t.noResource:
		if t.resourceURL != "" {
			fmt.Fprintf(t.o.Warn, "mcp-bridge: --disable-resource-parameter overrides --resource %s: the resource parameter is left out\n", t.resourceURL)
		}
		t.emit("--no-resource")
	case t.resourceURL != "":
		t.emit("--resource", t.resourceURL)
	}
	if t.clientID != "" && !t.idFlag {
		t.emit("--client-id", t.clientID)
	}
	if t.scopeFlag && t.metadataScopeFrom >= 0 {
		// Our own --scope wins: drop the one the metadata gave.
		t.out = slices.Delete(t.out, t.metadataScopeFrom, t.metadataScopeFrom+2)
	}
	if err := t.callbackPort(); err != nil {
		return err
	}
	if err := t.logLevel(); err != nil {
		return err
	}
	if t.extras.CallbackHost == "" {
		t.extras.CallbackHost = defaultCallbackHost
	}
	if t.extras.CallbackPath == "" {
		t.extras.CallbackPath = defaultCallbackPath
	}
	return nil
}

// callbackPort sets --callback-port from mcp-remote's positional port, or
// derives the port mcp-remote would use where a registration names it.
func (t *translation) callbackPort() error {
	if t.portFlag {
		return nil
	}
	if t.port == 0 && (t.clientID != "" || t.metadataURL != "") {
		key, err := t.key()
		if err != nil {
			return err
		}
		t.port = Port(key)
	}
	if t.port != 0 {
		t.emit("--callback-port", strconv.Itoa(t.port))
	}
	return nil
}

func (t *translation) logLevel() error {
	switch {
	case t.silent && !t.debug:
		return t.emit("--log-level", "error")
	case !t.debug:
		return nil
	}
	t.emit("--log-level", "debug")
	if t.o.LogDir == "" {
		return nil
	}
	key, err := t.key()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(t.o.LogDir, 0o700); err != nil {
		return fmt.Errorf("--debug: %w", err)
	}
	f := filepath.Join(t.o.LogDir, key+"_debug.log")
	fmt.Fprintf(t.o.Warn, "mcp-bridge: --debug: logging to %s\n", f)
	return t.emit("--log-file", f)
}

// key is mcp-remote's key for the server, the URL being the one
// mcp-bridge takes (mcp-remote wants it first).
func (t *translation) key() (string, error) {
	in, err := parseKeyInput(t.args, t.o.ReadFile)
	if err != nil {
		return "", err
	}
	in.url = t.pos[0]
	return in.hash(), nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536 && s[0] != '+' && s[0] != '-'
}

// Flags returns, sorted, the flags of mcp-remote's that mcp-bridge has not
// and rewrites or drops: the help lists them.
func Flags() []string {
	var names []string
	for name, r := range rewrites {
		if r.only {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
