package main

// Drop-in for mcp-remote (https://github.com/geelen/mcp-remote), the tool
// most users come from: its command line, as host configs hold it, means
// the same to mcp-bridge. fromMCPRemote rewrites it into ours before our
// flags are parsed; what has no flag of ours (a client secret, client
// metadata, the redirect URI's host and path) travels in an *mcpRemote
// that the OAuth configuration takes (see mcpRemote.configure).

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// mcpRemote is what an mcp-remote command line asks for that no flag of
// ours expresses. A nil *mcpRemote asks for nothing.
type mcpRemote struct {
	// clientSecret comes from --static-oauth-client-info. It is never put
	// on our command line, which ps shows.
	clientSecret string
	// registration is --static-oauth-client-metadata: client metadata to
	// register with.
	registration json.RawMessage
	// callbackHost and callbackPath make mcp-remote's redirect URI,
	// http://localhost:PORT/oauth/callback, which its pre-registered
	// clients and metadata documents name.
	callbackHost, callbackPath string
}

// configure applies r to c and returns c, so that it wraps the
// configuration literal: oauthclient.New(a.mcpRemote.configure(&oauthclient.Config{...})).
// A secret from --client-secret-file or the environment wins over one
// from --static-oauth-client-info.
func (r *mcpRemote) configure(c *oauthclient.Config) *oauthclient.Config {
	if r == nil {
		return c
	}
	if c.ClientSecret == "" {
		c.ClientSecret = r.clientSecret
	}
	c.RegistrationMetadata = r.registration
	c.CallbackHost, c.CallbackPath = r.callbackHost, r.callbackPath
	return c
}

// mcp-remote's defaults.
const (
	mcpRemoteCallbackPath = "/oauth/callback"
	mcpRemoteCallbackHost = "localhost" // 127.0.0.1 on Windows since 0.1.3x; localhost before
)

// mcpRemoteValueFlags are mcp-remote's flags that take a value; its other
// flags are booleans. Those it shares with us (--header, --resource,
// --client-metadata-url, --authorize-param, --header-file) mean the same.
var mcpRemoteValueFlags = []string{
	"transport", "host", "callback-path", "auth-timeout", "ignore-tool", "resource",
	"static-oauth-client-info", "static-oauth-client-metadata",
}

// mcpRemoteBoolFlags are mcp-remote's boolean flags that we rewrite or
// drop. --allow-http and --client-credentials are ours too.
var mcpRemoteBoolFlags = []string{"debug", "silent", "device-code", "disable-resource-parameter", "enable-proxy"}

// fromMCPRemote rewrites an mcp-remote command line into ours, flags
// before or after the URL; a command line of ours comes back unchanged
// with a nil *mcpRemote. A leading "mcp-remote" (or "-y mcp-remote@1.2.3",
// as npx takes it) is dropped. Warnings go to stderr.
//
// mcp-remote's positional callback port becomes --callback-port; with a
// pre-registered client (--static-oauth-client-info) or a metadata
// document (--client-metadata-url) and no port, the port mcp-remote
// derives from the server is used, since the registration names it.
func fromMCPRemote(args []string, getenv func(string) (string, bool), stderr io.Writer) ([]string, *mcpRemote, error) {
	ours := bridgeFlags(&bridgeOptions{})
	ours.SetOutput(io.Discard)
	args = dropLauncher(args)

	var (
		pos, pass, out []string
		remote         bool // something only mcp-remote says
		r              = &mcpRemote{}
		headers        []string // raw, for mcp-remote's server hash
		resource       string
		noResource     bool
		clientID       string
		metadataURL    string
		debug, silent  bool
		portFlag       bool // --callback-port given
		scopeFlag      bool // --scope given
		idFlag         bool // --client-id given
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag needs an argument: --%s", name)
			}
			i++
			return args[i], nil
		}
		if (slices.Contains(mcpRemoteValueFlags, name) || slices.Contains(mcpRemoteBoolFlags, name)) && name != "resource" && name != "transport" {
			remote = true
		}
		switch name {
		case "debug":
			debug = true
		case "silent":
			silent = true
		case "device-code":
			out = append(out, "--login", oauthclient.LoginDevice)
		case "disable-resource-parameter":
			noResource = true
		case "enable-proxy":
			// We always take proxies from the environment.
		case "transport":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			switch v {
			case bridge.TransportAuto, bridge.TransportStreamable, bridge.TransportSSE:
			case "http-first", "sse-first":
				// sse-first has no exact match: auto tries Streamable HTTP
				// first, then HTTP+SSE, and remembers which worked, so after
				// the first start an SSE-only server is reached first anyway.
				v, remote = bridge.TransportAuto, true
			case "http-only":
				v, remote = bridge.TransportStreamable, true
			case "sse-only":
				v, remote = bridge.TransportSSE, true
			}
			out = append(out, "--transport", v)
		case "host":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			r.callbackHost = v
		case "callback-path":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			if !strings.HasPrefix(v, "/") {
				return nil, nil, fmt.Errorf("--callback-path %q: want a path starting with /", v)
			}
			r.callbackPath = v
		case "auth-timeout":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				// As mcp-remote does: warn and keep the default.
				fmt.Fprintf(stderr, "mcp-bridge: ignoring --auth-timeout %q: want a positive number of seconds\n", v)
				continue
			}
			out = append(out, "--login-timeout", strconv.Itoa(n)+"s")
		case "ignore-tool":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			out = append(out, "--deny-tool", caselessGlob(v))
		case "resource":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			if strings.TrimSpace(v) == "" {
				noResource = true // mcp-remote's `--resource ""`
			} else {
				resource = strings.TrimSpace(v)
			}
		case "static-oauth-client-info":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			id, secret, err := staticClientInfo(v, getenv, stderr)
			if err != nil {
				return nil, nil, err
			}
			clientID, r.clientSecret = id, secret
		case "static-oauth-client-metadata":
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			meta, err := readJSONArg("--static-oauth-client-metadata", v)
			if err != nil {
				return nil, nil, err
			}
			var m struct {
				Scope string `json:"scope"`
			}
			if err := json.Unmarshal(meta, &m); err != nil {
				return nil, nil, fmt.Errorf("--static-oauth-client-metadata: want a JSON object: %w", err)
			}
			r.registration = meta
			if m.Scope != "" {
				// mcp-remote asks for the scope it registers with.
				out = append(out, "--scope", m.Scope)
			}
		default:
			// One of ours (or unknown, which our parser refuses): pass it
			// on with its value.
			f := ours.Lookup(name)
			pass = append(pass, a)
			if f == nil || hasVal || isBoolFlag(f) {
				continue
			}
			v, err := value()
			if err != nil {
				return nil, nil, err
			}
			pass = append(pass, v)
			switch name {
			case "header":
				headers = append(headers, v)
			case "client-id":
				clientID, idFlag = v, true
			case "client-metadata-url":
				metadataURL = v
			case "callback-port":
				portFlag = true
			case "scope":
				scopeFlag = true
			}
		}
	}

	port := 0
	if len(pos) >= 2 && isPort(pos[1]) {
		port, _ = strconv.Atoi(pos[1])
		pos = slices.Delete(pos, 1, 2)
		remote = true
	}
	if !remote {
		return args, nil, nil
	}
	if len(pos) == 0 {
		return nil, nil, errors.New("no server URL")
	}
	if noResource {
		if resource != "" {
			fmt.Fprintf(stderr, "mcp-bridge: --disable-resource-parameter overrides --resource %s: the resource parameter is left out\n", resource)
		}
		resource = ""
		out = append(out, "--no-resource")
	} else if resource != "" {
		out = append(out, "--resource", resource)
	}
	if clientID != "" && !idFlag {
		out = append(out, "--client-id", clientID)
	}
	if scopeFlag {
		// Our own --scope wins: drop the one the metadata gave.
		if i := slices.Index(out, "--scope"); i >= 0 {
			out = slices.Delete(out, i, i+2)
		}
	}
	if port == 0 && !portFlag && (clientID != "" || metadataURL != "") {
		// The registration names mcp-remote's port for this server.
		port = mcpRemotePort(mcpRemoteHash(pos[0], resource, headers))
	}
	if port != 0 && !portFlag {
		out = append(out, "--callback-port", strconv.Itoa(port))
	}
	switch {
	case debug:
		out = append(out, "--log-level", "debug")
		if f := debugLogFile(pos[0], resource, headers); f != "" {
			out = append(out, "--log-file", f)
			fmt.Fprintf(stderr, "mcp-bridge: --debug: logging to %s\n", f)
		}
	case silent:
		out = append(out, "--log-level", "error")
	}
	if r.callbackHost == "" {
		r.callbackHost = mcpRemoteCallbackHost
	}
	if r.callbackPath == "" {
		r.callbackPath = mcpRemoteCallbackPath
	}
	// Ours last: where both say something, ours wins.
	return slices.Concat(pos[:1], out, pass, pos[1:]), r, nil
}

// dropLauncher drops what launched mcp-remote from the front of args:
// "-y", "--yes", "mcp-remote", "mcp-remote@latest".
func dropLauncher(args []string) []string {
	i := 0
	for i < len(args) && (args[i] == "-y" || args[i] == "--yes") {
		i++
	}
	if i < len(args) && isMCPRemotePackage(args[i]) {
		return args[i+1:]
	}
	return args
}

// isMCPRemotePackage reports whether s names the mcp-remote package, as
// npx takes it: mcp-remote, mcp-remote@0.1.29, mcp-remote@latest.
func isMCPRemotePackage(s string) bool {
	name, _, _ := strings.Cut(s, "@")
	return name == "mcp-remote"
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536 && s[0] != '+' && s[0] != '-'
}

// staticClientInfo reads --static-oauth-client-info: JSON, or @FILE. As
// mcp-remote does, ${VAR} in its values is taken from the environment. A
// secret written into the command line itself draws a warning: every
// process on the machine can read it.
func staticClientInfo(arg string, getenv func(string) (string, bool), stderr io.Writer) (id, secret string, err error) {
	data, err := readJSONArg("--static-oauth-client-info", arg)
	if err != nil {
		return "", "", err
	}
	var info struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return "", "", fmt.Errorf("--static-oauth-client-info: want a JSON object: %w", err)
	}
	if info.ClientID == "" {
		return "", "", errors.New("--static-oauth-client-info: no client_id")
	}
	if id, err = expandVars(info.ClientID, getenv); err != nil {
		return "", "", fmt.Errorf("--static-oauth-client-info: client_id: %w", err)
	}
	if secret, err = expandVars(info.ClientSecret, getenv); err != nil {
		return "", "", fmt.Errorf("--static-oauth-client-info: client_secret: %w", err)
	}
	if !strings.HasPrefix(arg, "@") && info.ClientSecret != "" && !mcpRemoteVar.MatchString(info.ClientSecret) {
		fmt.Fprintln(stderr, "mcp-bridge: warning: the client secret in --static-oauth-client-info is visible to every process on this machine (ps);"+
			` keep it out of the command line: --client-secret-file FILE, --static-oauth-client-info @FILE, or "client_secret":"${VAR}" with VAR set in the host's env for this server`)
	}
	return id, secret, nil
}

// mcpRemoteVar is mcp-remote's ${NAME} reference to an environment
// variable.
var mcpRemoteVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// expandVars replaces each ${NAME} in s with the variable's value. Unlike
// mcp-remote, which sends an empty value, an unset variable is an error
// that names it: an empty client id or secret fails later, and less
// clearly.
func expandVars(s string, getenv func(string) (string, bool)) (string, error) {
	var missing []string
	out := mcpRemoteVar.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := getenv(m[2 : len(m)-1])
		if !ok {
			missing = append(missing, m[2:len(m)-1])
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// readJSONArg reads mcp-remote's "JSON or @file" argument.
func readJSONArg(flagName, arg string) (json.RawMessage, error) {
	data := []byte(arg)
	if path, ok := strings.CutPrefix(arg, "@"); ok {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("%s: %w", flagName, err)
		}
	}
	data = bytes.TrimSpace(data)
	if !json.Valid(data) || len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("%s: want a JSON object or @FILE holding one", flagName)
	}
	return data, nil
}

// caselessGlob turns an mcp-remote --ignore-tool pattern (only * is
// special; case is ignored) into a [path.Match] pattern of --deny-tool:
// each letter becomes [xX], and ?, [ and \ lose their meaning.
func caselessGlob(p string) string {
	var b strings.Builder
	for _, r := range p {
		lo, up := unicode.ToLower(r), unicode.ToUpper(r)
		switch {
		case r == '?' || r == '[' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case lo != up:
			b.WriteByte('[')
			b.WriteRune(lo)
			b.WriteRune(up)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mcpRemoteHeader is how mcp-remote reads --header: a name of letters,
// digits, _ and -, a colon, optional blanks, the value.
var mcpRemoteHeader = regexp.MustCompile(`^([A-Za-z0-9_-]+):\s*(.*)$`)

// mcpRemoteHash is mcp-remote's key for a server's files under
// ~/.mcp-auth: the hex MD5 of the URL, the --resource if any, and the
// --header values (before ${VAR} expansion) as JSON with sorted names,
// joined by "|" (mcp-remote 0.1.2x and later; before, the URL alone).
func mcpRemoteHash(serverURL, resource string, headers []string) string {
	parts := []string{serverURL}
	if resource != "" {
		parts = append(parts, resource)
	}
	h := map[string]string{}
	for _, v := range headers {
		if m := mcpRemoteHeader.FindStringSubmatch(v); m != nil {
			h[m[1]] = m[2]
		}
	}
	if len(h) > 0 {
		names := make([]string, 0, len(h))
		for n := range h {
			names = append(names, n)
		}
		slices.Sort(names)
		var b bytes.Buffer
		b.WriteByte('{')
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(jsString(n))
			b.WriteByte(':')
			b.Write(jsString(h[n]))
		}
		b.WriteByte('}')
		parts = append(parts, b.String())
	}
	sum := md5.Sum([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])
}

// jsString encodes s as JavaScript's JSON.stringify does: no HTML escapes.
func jsString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// mcpRemotePort is the callback port mcp-remote derives from a server's
// hash: 3335 plus the first four hex digits modulo 45816.
func mcpRemotePort(hash string) int {
	n, _ := strconv.ParseUint(hash[:4], 16, 32)
	return 3335 + int(n%45816)
}

// debugLogFile is where --debug logs go: mcp-remote writes
// ~/.mcp-auth/mcp-remote-vN/HASH_debug.log; we keep ours in our cache
// directory, under the same name.
func debugLogFile(serverURL, resource string, headers []string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	dir = filepath.Join(dir, "mcp-bridge")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	return filepath.Join(dir, mcpRemoteHash(serverURL, resource, headers)+"_debug.log")
}
