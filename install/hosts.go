package install

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Env is what a host's config path depends on: the operating system, the
// home directory and environment variables. It is an input, not read from
// the process, so that every operating system's layout can be computed
// (and tested) anywhere.
type Env struct {
	// GOOS is "darwin", "windows", "linux" or another Unix (laid out as
	// Linux).
	GOOS string
	// Home is the user's home directory (%USERPROFILE% on Windows).
	Home string
	// Getenv returns an environment variable, "" when unset. If nil, no
	// variable is set.
	Getenv func(string) string
	// Glob lists the paths that match a pattern, as filepath.Glob. It is
	// used only to find an MSIX-packaged Claude Desktop on Windows. If nil,
	// filepath.Glob is used.
	Glob func(pattern string) ([]string, error)
}

// CurrentEnv returns this process's environment.
func CurrentEnv() (Env, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Env{}, fmt.Errorf("find the home directory: %w", err)
	}
	return Env{GOOS: runtime.GOOS, Home: home, Getenv: os.Getenv}, nil
}

func (env Env) getenv(k string) string {
	if env.Getenv == nil {
		return ""
	}
	return env.Getenv(k)
}

func (env Env) windows() bool { return env.GOOS == "windows" }

// join joins path elements with the separator of env's operating system.
func (env Env) join(elem ...string) string {
	if !env.windows() {
		return path.Join(elem...)
	}
	var parts []string
	for i, e := range elem {
		e = strings.ReplaceAll(e, "/", `\`)
		if i > 0 {
			e = strings.Trim(e, `\`)
		} else if len(e) > 3 || !strings.HasSuffix(e, `:\`) {
			e = strings.TrimRight(e, `\`)
		}
		if e != "" {
			parts = append(parts, e)
		}
	}
	joined := strings.Join(parts, `\`)
	return strings.ReplaceAll(joined, `:\\`, `:\`)
}

// absolute reports whether p is an absolute path on env's system.
func (env Env) absolute(p string) bool {
	if env.windows() {
		return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') || strings.HasPrefix(p, `\\`)
	}
	return strings.HasPrefix(p, "/")
}

// dirVar returns the directory an environment variable names, if it is set
// to an absolute path, else def.
func (env Env) dirVar(name, def string) string {
	if v := env.getenv(name); v != "" && env.absolute(v) {
		return v
	}
	return def
}

// appData is %APPDATA% (Roaming), localAppData %LOCALAPPDATA%.
func (env Env) appData() string {
	return env.dirVar("APPDATA", env.join(env.Home, "AppData", "Roaming"))
}
func (env Env) localAppData() string {
	return env.dirVar("LOCALAPPDATA", env.join(env.Home, "AppData", "Local"))
}

// xdgConfig is $XDG_CONFIG_HOME, or ~/.config.
func (env Env) xdgConfig() string {
	return env.dirVar("XDG_CONFIG_HOME", env.join(env.Home, ".config"))
}

// A Host is a desktop MCP host whose config install knows.
type Host struct {
	// ID names the host on the command line: claude-desktop, claude-code,
	// cursor, vscode, windsurf, zed, codex, gemini, opencode.
	ID string
	// Name is how people write it: Claude Desktop, VS Code, ...
	Name string
	// Key is where the entries are: "mcpServers", "servers",
	// "context_servers", "mcp" or the TOML table "mcp_servers".
	Key string
	// TOML is set for a TOML file, else the file is JSON (with comments
	// where the host allows them).
	TOML bool
	// Reload says what the host needs to see a new entry.
	Reload string

	format format
	fields func(Entry) []field
	path   func(Env) (string, error)
}

// format is how entries sit in a host's file.
type format interface {
	// fresh returns a whole new file that holds one entry. src is what the
	// file holds now: nothing but whitespace, and perhaps a byte order mark.
	fresh(src []byte, name string, fields []field) []byte
	// nextAdd returns the edits that bring src one step closer to holding
	// the entry (none when it does), and what the first step does.
	nextAdd(src []byte, name string, fields []field, self string, force bool) ([]edit, Action, error)
	nextRemove(src []byte, name, self string, force bool) ([]edit, Action, error)
	list(src []byte) ([]Entry, error)
}

// commandArgs is the entry most hosts take.
func commandArgs(e Entry) []field {
	return []field{{"command", e.Command}, {"args", e.Args}}
}

// stdioCommandArgs is the entry of hosts that name the transport.
func stdioCommandArgs(e Entry) []field {
	return []field{{"type", "stdio"}, {"command", e.Command}, {"args", e.Args}}
}

var hosts = []*Host{
	{
		ID: "claude-desktop", Name: "Claude Desktop", Key: "mcpServers",
		Reload: "Quit Claude Desktop completely and start it again to load it.",
		format: jsonFormat{key: "mcpServers"}, fields: commandArgs,
		path: func(env Env) (string, error) {
			const file = "claude_desktop_config.json"
			switch env.GOOS {
			case "darwin":
				return env.join(env.Home, "Library", "Application Support", "Claude", file), nil
			case "windows":
				dir, err := claudeMSIX(env)
				if err != nil || dir != "" {
					return env.join(dir, file), err
				}
				return env.join(env.appData(), "Claude", file), nil
			}
			return env.join(env.xdgConfig(), "Claude", file), nil
		},
	},
	{
		ID: "claude-code", Name: "Claude Code", Key: "mcpServers",
		Reload: "Start a new Claude Code session to load it (/mcp lists the servers).",
		format: jsonFormat{key: "mcpServers", projects: true}, fields: stdioCommandArgs,
		path: func(env Env) (string, error) {
			return env.join(env.dirVar("CLAUDE_CONFIG_DIR", env.Home), ".claude.json"), nil
		},
	},
	{
		ID: "cursor", Name: "Cursor", Key: "mcpServers",
		Reload: "Cursor picks up the change; if Settings > MCP does not show the server, restart Cursor.",
		format: jsonFormat{key: "mcpServers"}, fields: commandArgs,
		path: func(env Env) (string, error) {
			return env.join(env.Home, ".cursor", "mcp.json"), nil
		},
	},
	{
		ID: "vscode", Name: "VS Code", Key: "servers",
		Reload: "VS Code reloads the file; start the server from the MCP: List Servers command.",
		format: jsonFormat{key: "servers"}, fields: stdioCommandArgs,
		path: func(env Env) (string, error) {
			if p := env.getenv("VSCODE_PORTABLE"); p != "" {
				return env.join(p, "user-data", "User", "mcp.json"), nil
			}
			if p := env.getenv("VSCODE_APPDATA"); p != "" {
				return env.join(p, "Code", "User", "mcp.json"), nil
			}
			switch env.GOOS {
			case "darwin":
				return env.join(env.Home, "Library", "Application Support", "Code", "User", "mcp.json"), nil
			case "windows":
				return env.join(env.appData(), "Code", "User", "mcp.json"), nil
			}
			return env.join(env.xdgConfig(), "Code", "User", "mcp.json"), nil
		},
	},
	{
		ID: "windsurf", Name: "Windsurf", Key: "mcpServers",
		Reload: "Press the refresh button in Windsurf's MCP panel to load it.",
		format: jsonFormat{key: "mcpServers"}, fields: commandArgs,
		path: func(env Env) (string, error) {
			return env.join(env.Home, ".codeium", "windsurf", "mcp_config.json"), nil
		},
	},
	{
		ID: "zed", Name: "Zed", Key: "context_servers",
		Reload: "Zed reloads its settings; the agent panel's settings show the server's state.",
		format: jsonFormat{key: "context_servers"},
		fields: func(e Entry) []field {
			return []field{{"source", "custom"}, {"command", e.Command}, {"args", e.Args}}
		},
		path: func(env Env) (string, error) {
			switch env.GOOS {
			case "darwin":
				return env.join(env.Home, ".config", "zed", "settings.json"), nil
			case "windows":
				return env.join(env.appData(), "Zed", "settings.json"), nil
			}
			return env.join(env.dirVar("FLATPAK_XDG_CONFIG_HOME", env.xdgConfig()), "zed", "settings.json"), nil
		},
	},
	{
		ID: "codex", Name: "Codex", Key: "mcp_servers", TOML: true,
		Reload: "Start a new Codex session to load it (/mcp lists the servers).",
		format: tomlFormat{"mcp_servers"},
		fields: func(e Entry) []field {
			// Codex waits 10 s for a server's initialize unless told
			// otherwise, and passes it only a few variables (HOME, PATH,
			// ...): not those a browser, the keychain or a proxy needs.
			return append(commandArgs(e),
				field{"startup_timeout_sec", byDefault{60}},
				field{"env_vars", byDefault{SessionVariables}})
		},
		path: func(env Env) (string, error) {
			return env.join(env.dirVar("CODEX_HOME", env.join(env.Home, ".codex")), "config.toml"), nil
		},
	},
	{
		ID: "gemini", Name: "Gemini CLI", Key: "mcpServers",
		Reload: "Start Gemini CLI again to load it (/mcp lists the servers).",
		format: jsonFormat{key: "mcpServers"}, fields: commandArgs,
		path: func(env Env) (string, error) {
			return env.join(env.Home, ".gemini", "settings.json"), nil
		},
	},
	{
		ID: "opencode", Name: "opencode", Key: "mcp",
		Reload: "Start opencode again to load it (opencode mcp list shows the servers).",
		format: jsonFormat{key: "mcp"},
		fields: func(e Entry) []field {
			return []field{{"type", "local"}, {"command", append([]string{e.Command}, e.Args...)}, {"enabled", byDefault{true}}}
		},
		path: func(env Env) (string, error) {
			// opencode reads opencode.json or opencode.jsonc, under
			// ~/.config on every system.
			dir := env.join(env.xdgConfig(), "opencode")
			glob := env.Glob
			if glob == nil {
				glob = filepath.Glob
			}
			if json, _ := glob(env.join(dir, "opencode.json")); len(json) == 0 {
				if jsonc, _ := glob(env.join(dir, "opencode.jsonc")); len(jsonc) == 1 {
					return jsonc[0], nil
				}
			}
			return env.join(dir, "opencode.json"), nil
		},
	},
}

// SessionVariables are the environment variables the bridge needs from
// the user's session to open a browser (DISPLAY, WAYLAND_DISPLAY,
// BROWSER, WSL's), reach the keychain (the Secret Service's D-Bus
// session) and a proxy. A host that passes a server only some variables
// (Codex) must be told to pass these.
var SessionVariables = []string{
	"DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "BROWSER",
	"WSL_DISTRO_NAME", "WSL_INTEROP", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
}

// formatFor returns the format of the entries of project: the host's own
// for "" (the user's scope), else the entries Claude Code keeps for that
// project directory.
func (h *Host) formatFor(project string) (format, error) {
	if project == "" {
		return h.format, nil
	}
	if f, ok := h.format.(jsonFormat); ok && f.projects {
		f.project = project
		return f, nil
	}
	return nil, fmt.Errorf("%s keeps no entries per project", h.Name)
}

// claudeMSIX returns the directory where an MSIX-packaged Claude Desktop
// (the Windows installer's package since 2026) reads its config, or "" if
// there is none. Such an app does not see %APPDATA%\Claude: Windows
// redirects it into the package's LocalCache.
func claudeMSIX(env Env) (string, error) {
	glob := env.Glob
	if glob == nil {
		glob = filepath.Glob
	}
	pattern := env.join(env.localAppData(), "Packages", "Claude_*", "LocalCache", "Roaming", "Claude")
	dirs, err := glob(pattern)
	if err != nil || len(dirs) == 0 {
		return "", nil
	}
	if len(dirs) > 1 {
		return "", fmt.Errorf("more than one Claude Desktop package (%s): say which config file with --file", strings.Join(dirs, ", "))
	}
	return dirs[0], nil
}

// Hosts returns the hosts install knows, in a stable order.
func Hosts() []*Host { return slices.Clone(hosts) }

// ErrUnknownHost is returned by LookupHost for a name it does not know.
var ErrUnknownHost = errors.New("unknown host")

// LookupHost returns the host with this ID (case and punctuation aside:
// "VS Code", "vs-code" and "vscode" are one host).
func LookupHost(name string) (*Host, error) {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == '_' || r == ' ' || r == '.' {
				return -1
			}
			return r
		}, strings.ToLower(s))
	}
	for _, h := range hosts {
		if norm(h.ID) == norm(name) {
			return h, nil
		}
	}
	ids := make([]string, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
	}
	return nil, fmt.Errorf("%w %q: want one of %s", ErrUnknownHost, name, strings.Join(ids, ", "))
}

// ConfigPath returns the file the host reads its MCP servers from, in the
// user's (global) scope. (Claude Code keeps its local scope, per project,
// in the same file: see [Entry].Project.)
func (h *Host) ConfigPath(env Env) (string, error) {
	if env.Home == "" {
		return "", errors.New("no home directory")
	}
	return h.path(env)
}

// CheckName says whether the host accepts name as an entry's name. Codex
// takes only letters, digits, - and _; the others take any name without
// control characters.
func (h *Host) CheckName(name string) error {
	if name == "" {
		return errors.New("the entry name is empty")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("the entry name %q has a control character", name)
		}
		if h.TOML && !(r < 0x80 && isBareKeyByte(byte(r))) {
			return fmt.Errorf("%s takes entry names of letters, digits, - and _ only, not %q", h.Name, name)
		}
	}
	return nil
}

// EntryName is the entry name install gives the server at u when no name
// is asked for: its host, with the port if the URL has one, and its path
// without a last segment "mcp" or "sse" (what most endpoints end in), as
// [DeriveName] writes them. https://mcp.example.com/mcp is
// "mcp-example-com"; http://127.0.0.1:8080/mcp is "127-0-0-1-8080";
// https://example.com/tools/a/mcp is "example-com-tools-a". Two servers
// get the same name only if their URLs differ in scheme, query, or that
// last segment.
func EntryName(u *url.URL) string {
	p := strings.TrimRight(u.EscapedPath(), "/")
	if dir, last := path.Split(p); last == "mcp" || last == "sse" {
		p = dir
	}
	return DeriveName(u.Host + p)
}

// DeriveName turns a server's name or URL host into an entry name every
// host accepts: letters, digits, - and _, the rest replaced by -.
func DeriveName(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isBareKeyByte(c) {
			c = '-'
		}
		if c == '-' && len(b) > 0 && b[len(b)-1] == '-' {
			continue
		}
		b = append(b, c)
	}
	return strings.Trim(string(b), "-")
}
