package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lmittmann/tint"

	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// serverCommand is what login, logout and doctor share: the bridge's flags,
// one server, a logger and the wiring, with the terminal to sign in on.
type serverCommand struct {
	*wiring
	url   string
	log   *slog.Logger
	close func()
}

// parseServerCommand parses name's command line. On failure it has
// reported the problem and returns the exit code.
func parseServerCommand(name string, args []string, extra func(*flag.FlagSet), stdin io.Reader, stderr io.Writer) (*serverCommand, int) {
	return parseServerCommandWith(name, args, extra, nil, stdin, stderr)
}

// parseServerCommandWith is parseServerCommand; adjust, if not nil, may
// change the options before the wiring is built.
func parseServerCommandWith(name string, args []string, extra func(*flag.FlagSet), adjust func(*bridgeOptions), stdin io.Reader, stderr io.Writer) (*serverCommand, int) {
	args, remote, err := fromMCPRemote(args, os.LookupEnv, stderr) // a host entry's mcp-remote arguments work here too
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge %s: %v\n", name, err)
		return nil, exitUsage
	}
	o, code := parseBridgeArgs("mcp-bridge "+name, args, extra, stderr)
	if o == nil {
		return nil, code
	}
	o.auth.mcpRemote = remote
	if adjust != nil {
		adjust(o)
	}
	log, closeLog, err := newLogger(stderr, nil, o.logLevel, o.logFile)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge %s: %v\n", name, err)
		return nil, exitUsage
	}
	au, err := openAudit(context.Background(), o)
	if err != nil {
		closeLog()
		fmt.Fprintf(stderr, "mcp-bridge %s: --audit-log: %v\n", name, err)
		return nil, exitUsage
	}
	w, err := wire(o, process{log: log, stderr: stderr, prompt: stderr, input: stdin, events: au.events()})
	if err != nil {
		au.close()
		closeLog()
		fmt.Fprintf(stderr, "mcp-bridge %s: %v\n", name, err)
		return nil, exitUsage
	}
	au.identify(w.handler)
	return &serverCommand{wiring: w, url: o.url, log: log, close: func() { au.close(); closeLog() }}, exitOK
}

// runLogin signs in to a server from a terminal: in the browser, with a
// device code, or by pasting the redirected URL. It prints who is signed
// in and until when, never a token.
func runLogin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// A sign-in process that a bridge started is waited for, its URL
	// shown, rather than a second sign-in started beside it.
	agents := &signInAgents{}
	c, code := parseServerCommandWith("login", args, nil, func(o *bridgeOptions) {
		o.auth.signInAgent = agents.run
	}, stdin, stderr)
	if c == nil {
		return code
	}
	defer c.close()
	agents.log, agents.store, agents.key = c.log, c.store, c.handler.Key()
	if err := c.handler.Login(ctx); err != nil {
		c.log.Error("sign-in failed", tint.Err(err))
		return exitError
	}
	cr := c.handler.Credentials(ctx)
	// The issuer, the client ID and the scopes are the servers' words
	// (issue 11).
	fmt.Fprintf(stdout, "Signed in to %s\n", c.url)
	fmt.Fprintf(stdout, "  authorization server  %s\n", safetext.Line(cr.Issuer))
	fmt.Fprintf(stdout, "  client                %s (%s)\n", safetext.Line(cr.Client.ID), cr.Client.Kind)
	if len(cr.Scopes) > 0 {
		fmt.Fprintf(stdout, "  scopes                %s\n", safetext.Line(strings.Join(cr.Scopes, " ")))
	}
	if !cr.Expiry.IsZero() {
		fmt.Fprintf(stdout, "  access token expires  %s (in %s)\n", cr.Expiry.Local().Format(time.DateTime), time.Until(cr.Expiry).Round(time.Second))
	}
	fmt.Fprintf(stdout, "  refresh token         %s\n", yesNo(cr.RefreshToken != ""))
	return exitOK
}

// runLogout removes a server's credentials, or, with --all, every
// server's, revoking them first where the authorization server allows.
func runLogout(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if slices.Contains(args, "--all") || slices.Contains(args, "-all") {
		var all bool
		o, pos, code := parseStoreFlags("logout", args, logoutFlags(&all), stderr)
		if o == nil {
			return code
		}
		if len(pos) != 0 {
			fmt.Fprintln(stderr, "mcp-bridge logout: --all takes no URL")
			return exitUsage
		}
		return runLogoutAll(ctx, o, stdout, stderr)
	}
	c, code := parseServerCommand("logout", args, nil, stdin, stderr)
	if c == nil {
		return code
	}
	defer c.close()
	res, err := c.handler.Logout(ctx)
	if err != nil {
		c.log.Error("logout failed", tint.Err(err))
		return exitError
	}
	printLogout(stdout, c.url, res)
	return exitOK
}

// logoutFlags adds logout's own flag to the bridge's.
func logoutFlags(all *bool) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.BoolVar(all, "all", false, "sign out of every server with stored credentials (takes no URL)")
	}
}

// doctorFlags adds doctor's own flag to the bridge's.
func doctorFlags(asJSON *bool) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.BoolVar(asJSON, "json", false, "print the checks as JSON")
	}
}

// printLogout says what a logout did.
func printLogout(stdout io.Writer, url string, res *oauthclient.LogoutResult) {
	switch {
	case !res.Found:
		fmt.Fprintf(stdout, "Not signed in to %s: nothing to remove\n", url)
	case res.RevokeError != nil:
		fmt.Fprintf(stdout, "Signed out of %s: credentials removed; revoking them at the authorization server failed: %s\n", url, safetext.Line(res.RevokeError.Error()))
	case len(res.Revoked) > 0:
		fmt.Fprintf(stdout, "Signed out of %s: %s revoked, credentials removed\n", url, strings.Join(res.Revoked, " and "))
	default:
		fmt.Fprintf(stdout, "Signed out of %s: credentials removed (the authorization server offers no revocation)\n", url)
	}
}

// runDoctor walks the chain a sign-in depends on and says which step fails
// and what to do.
func runDoctor(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var asJSON bool
	c, code := parseServerCommand("doctor", args, doctorFlags(&asJSON), stdin, stderr)
	if c == nil {
		return code
	}
	defer c.close()
	checks := append([]oauthclient.Check{c.store.Check(c.handler.Key())}, c.handler.Doctor(ctx)...)
	failed := len(checks) > 0 && !checks[len(checks)-1].OK
	if asJSON {
		// The checks' details quote servers: escaped as status --json's.
		b, _ := json.Marshal(map[string]any{"server": c.url, "ok": !failed, "checks": checks})
		stdout.Write(append(safetext.JSON(b), '\n'))
	} else {
		fmt.Fprintf(stdout, "mcp-bridge doctor %s\n\n", c.url)
		for _, ch := range checks {
			mark := "ok  "
			if !ch.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(stdout, "  %s  %-40s %s\n", mark, ch.Step, ch.Detail)
			if ch.Fix != "" {
				fmt.Fprintf(stdout, "        %-40s → %s\n", "", ch.Fix)
			}
		}
		if failed {
			fmt.Fprintf(stdout, "\nThe step that fails: %s.\n", checks[len(checks)-1].Step)
		} else {
			fmt.Fprintln(stdout, "\nEvery step works.")
		}
	}
	if failed {
		return exitError
	}
	return exitOK
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
