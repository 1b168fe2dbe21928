package main

import (
	"bytes"
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

// parseStoreFlags parses the command line of logout --all, which works on
// every server of the token store: the bridge's flags, of which it needs
// the store's, the connection's and the client's. extra adds the
// command's own. It returns the options and the positional arguments; on
// failure it has reported the problem and returns nil and the exit code.
func parseStoreFlags(name string, args []string, extra func(*flag.FlagSet), stderr io.Writer) (*bridgeOptions, []string, int) {
	var o bridgeOptions
	fs := bridgeFlags(&o)
	if extra != nil {
		extra(fs)
	}
	pos, code, ok := parseFlags(name, fs, args, stderr)
	if !ok {
		return nil, nil, code
	}
	return &o, pos, exitOK
}

// parseFlags parses the command line of the command name with fs, flags
// and positional arguments interspersed, and returns the positional ones.
// On failure it has reported the problem, with the command's usage, and
// returns false and the exit code. (A request for help does not get here:
// run answers it.)
func parseFlags(name string, fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, int, bool) {
	fs.Init("mcp-bridge "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printShortUsage(stderr, name) }
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK, false
	case err != nil:
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// subset returns a flag set with the flags names of from, which keep
// their values: parsing it sets what parsing from would.
func subset(from *flag.FlagSet, names ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(from.Name(), flag.ContinueOnError)
	for _, name := range names {
		f := from.Lookup(name)
		fs.Var(f.Value, f.Name, f.Usage)
		fs.Lookup(name).DefValue = f.DefValue
	}
	return fs
}

// statusFlags are status's flags: which store to list, and how.
func statusFlags(o *bridgeOptions, asJSON *bool) *flag.FlagSet {
	fs := subset(bridgeFlags(o), "token-store")
	fs.BoolVar(asJSON, "json", false, "print JSON: the store's kind and a list of servers")
	return fs
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
	var o bridgeOptions
	var asJSON bool
	pos, code, ok := parseFlags("status", statusFlags(&o, &asJSON), args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintln(stderr, "mcp-bridge status: takes no arguments")
		return exitUsage
	}
	w, list, code := listStored("status", &o, stderr)
	if w == nil {
		return code
	}
	if asJSON {
		if list == nil {
			list = []credstore.Entry{} // [] rather than null
		}
		// Servers chose the issuer, the client ID and the scopes: what
		// is not printable in them is written as a \u escape, which a
		// JSON decoder reads as the same string but a terminal does not
		// act on (issue 11).
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"store": w.store.Kind(), "servers": list})
		stdout.Write(safetext.JSON(b.Bytes()))
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
	if e.DPoP {
		// Sender-constrained (RFC 9449): a copy is useless without the key.
		return expiryText(e.Expiry, now) + ", DPoP-bound"
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
