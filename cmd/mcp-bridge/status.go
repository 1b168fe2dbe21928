package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/credstore"
	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// parseStoreFlags parses the command line of a command that works on the
// token store (status, logout --all, secret): the bridge's flags, of which
// it needs the store's and the client's. extra adds the command's own. It
// returns the options and the positional arguments; on failure it has
// reported the problem and returns nil and the exit code.
func parseStoreFlags(name string, args []string, extra func(*flag.FlagSet), stderr io.Writer) (*bridgeOptions, []string, int) {
	var o bridgeOptions
	fs := bridgeFlags(&o)
	fs.Init("mcp-bridge "+name, flag.ContinueOnError)
	if extra != nil {
		extra(fs)
	}
	fs.SetOutput(stderr)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, nil, exitOK
	}
	if err != nil {
		return nil, nil, exitUsage
	}
	return &o, pos, exitOK
}

// listStored wires o without a server and lists the servers the store
// holds credentials for. On failure it has reported the problem, as
// command name's, and returns a nil wiring and the exit code.
func listStored(name string, o *bridgeOptions, stderr io.Writer) (*wiring, []credstore.Entry, int) {
	w, err := wire(o, process{})
	var list []credstore.Entry
	if err == nil {
		list, err = w.store.List()
	}
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge %s: %v\n", name, err)
		return nil, nil, exitError
	}
	return w, list, exitOK
}

// runStatus prints one row per server with stored credentials: no tokens,
// only what they are and where they live.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var asJSON bool
	o, pos, code := parseStoreFlags("status", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, stderr)
	if o == nil {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintln(stderr, "mcp-bridge status: takes no arguments")
		return exitUsage
	}
	w, list, code := listStored("status", o, stderr)
	if w == nil {
		return code
	}
	if asJSON {
		if list == nil {
			list = []credstore.Entry{} // [] rather than null
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"store": w.store.Kind(), "servers": list})
		return exitOK
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "No stored credentials (store: %s).\n", w.store.Kind())
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tISSUER\tCLIENT\tSCOPES\tACCESS TOKEN\tREFRESH\tLAST REFRESH\tSTORE")
	now := time.Now()
	for _, e := range list {
		scopes := strings.Join(e.Scopes, " ")
		if scopes == "" {
			scopes = "-"
		}
		// Servers chose the issuer, the client ID and the scopes: one
		// printable line each, without the tabs that would shift the
		// table (issue 11).
		l := safetext.Line
		fmt.Fprintf(tw, "%s\t%s\t%s (%s)\t%s\t%s\t%s\t%s\t%s\n", l(e.Server), l(e.Issuer), l(e.ClientID), l(e.Registration),
			l(scopes), tokenText(e, now), yesNo(e.RefreshToken), timeText(e.LastRefresh), l(e.Store))
	}
	tw.Flush()
	return exitOK
}

// runLogoutAll signs out of every server with stored credentials, each
// with the wiring of the flags given and the server's own URL and key.
func runLogoutAll(ctx context.Context, o *bridgeOptions, stdout, stderr io.Writer) int {
	w, list, code := listStored("logout", o, stderr)
	if w == nil {
		return code
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No stored credentials: nothing to remove")
		return exitOK
	}
	code = exitOK
	for _, e := range list {
		one := *o
		one.url, one.auth.storeKey = e.Server, e.Key
		sw, err := wire(&one, process{store: w.store})
		if err == nil {
			var res *oauthclient.LogoutResult
			if res, err = sw.handler.Logout(ctx); err == nil {
				printLogout(stdout, e.Server, res)
				continue
			}
		}
		fmt.Fprintf(stderr, "mcp-bridge logout: %s: %v\n", e.Server, err)
		code = exitError
	}
	return code
}

// tokenText describes the access token of a status row: none, or when it
// expires.
func tokenText(e credstore.Entry, now time.Time) string {
	if e.AccessToken != nil && !*e.AccessToken {
		return "none (not signed in)"
	}
	return expiryText(e.Expiry, now)
}

func expiryText(t, now time.Time) string {
	switch {
	case t.IsZero():
		return "no expiry"
	case t.After(now):
		return "expires in " + t.Sub(now).Round(time.Second).String()
	default:
		return "expired " + now.Sub(t).Round(time.Second).String() + " ago"
	}
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}
