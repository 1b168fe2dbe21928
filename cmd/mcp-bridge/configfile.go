package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/internal/config"
	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
)

// parseBridgeArgs parses a command line of the bridge's flags and one
// server: a URL, or the name of a server in the configuration file. A
// named server's settings are read as the flags config.Server.Args gives,
// before the command line's own, which override them. extra adds a
// command's own flags. On failure it has reported the problem and returns
// nil and the exit code.
func parseBridgeArgs(cmd string, args []string, extra func(*flag.FlagSet), stderr io.Writer) (*bridgeOptions, int) {
	parse := func(args []string, output io.Writer) (*bridgeOptions, []string, error) {
		o := &bridgeOptions{}
		fs := bridgeFlags(o)
		fs.Init(cmd, flag.ContinueOnError)
		if extra != nil {
			extra(fs)
		}
		fs.SetOutput(output)
		fs.Usage = func() {
			printShortUsage(output, cmp.Or(strings.TrimSpace(strings.TrimPrefix(cmd, "mcp-bridge")), "run"))
		}
		pos, err := parseInterspersed(fs, args)
		return o, pos, err
	}
	o, pos, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil, exitOK
	}
	if err != nil {
		return nil, exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want exactly one server URL, or the name of a server in the configuration file\n", cmd)
		return nil, exitUsage
	}
	if strings.Contains(pos[0], "://") {
		o.url = pos[0]
		return checkURL(cmd, o, stderr)
	}
	name, path := pos[0], o.configPath
	if path == "" {
		if path, err = config.DefaultPath(); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return nil, exitUsage
		}
	}
	f, err := config.Load(path)
	if err != nil && !errors.Is(err, config.ErrNoConfig) {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, exitUsage
	}
	var s *config.Server
	if f != nil {
		s = f.Servers[name]
	}
	if s == nil && resolvesNames[cmd] {
		// The name a sign-in hint gives (loginname.go).
		found, err := serverNamed(name, func() []string { return storedServers(o) })
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return nil, exitUsage
		}
		if found != nil {
			if o, pos, err = parse(append(found, args...), stderr); err != nil {
				return nil, exitUsage
			}
			o.url = pos[0]
			return checkURL(cmd, o, stderr)
		}
	}
	switch {
	case s == nil && f == nil:
		fmt.Fprintf(stderr, "%s: %q is not a URL, and there is no configuration file %s to look it up in\n", cmd, name, path)
		return nil, exitUsage
	case s == nil:
		fmt.Fprintf(stderr, "%s: no server %q in %s; it has: %s\n", cmd, name, path, strings.Join(slices.Sorted(maps.Keys(f.Servers)), ", "))
		return nil, exitUsage
	}
	// The file was checked: an error now is in the command line.
	o, pos, err = parse(append(s.Args(), args...), stderr)
	if err != nil {
		return nil, exitUsage
	}
	o.url, o.configPath, o.name, o.server, o.userArgs = pos[0], path, name, s, args
	return checkURL(cmd, o, stderr)
}

// checkURL applies the bridge's rule for server URLs (https, or http to
// loopback or with --allow-http) to o.url, so that install does not write,
// login does not probe and doctor does not pass a URL the bridge refuses.
func checkURL(cmd string, o *bridgeOptions, stderr io.Writer) (*bridgeOptions, int) {
	if err := bridge.CheckServerURL(o.url, o.allowHTTP); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, exitUsage
	}
	return o, exitOK
}

// liveSettings are what a configuration change applies to a running
// bridge. Everything else needs a restart.
type liveSettings struct {
	header              http.Header
	allowTool, denyTool []string
	level               slog.Level
	scopes              []string
}

// reloadConfig reads the configuration file again after a change and
// returns the server's new entry and the settings to apply, or an error
// saying why the last good configuration stays.
func (o *bridgeOptions) reloadConfig(refs secretref.Lookups) (*config.Server, *liveSettings, error) {
	f, err := config.Load(o.configPath)
	if err != nil {
		return nil, nil, err
	}
	s := f.Servers[o.name]
	if s == nil {
		return nil, nil, fmt.Errorf("%s: the server %q is gone", o.configPath, o.name)
	}
	// The options o would have had if the file had held s.
	n := &bridgeOptions{}
	fs := bridgeFlags(n)
	fs.SetOutput(io.Discard)
	if _, err := parseInterspersed(fs, append(s.Args(), o.userArgs...)); err != nil {
		return nil, nil, err
	}
	live := &liveSettings{allowTool: n.allowTools, denyTool: n.denyTools, scopes: strings.Fields(n.auth.scope)}
	if live.header, err = parseHeaders(n.headers, n.headerFile, refs); err != nil {
		return nil, nil, err
	}
	if live.level, err = parseLevel(n.logLevel); err != nil {
		return nil, nil, err
	}
	return s, live, nil
}

// takeUp returns the entry running becomes when the file holds next: its
// live fields change, the others wait for a restart, and those are named.
func takeUp(running, next *config.Server) (*config.Server, []string) {
	r := *running
	r.Headers, r.HeaderFile, r.Tools, r.LogLevel = next.Headers, next.HeaderFile, next.Tools, next.LogLevel
	r.Auth.Scopes = next.Auth.Scopes
	return &r, config.Diff(&r, next)
}
