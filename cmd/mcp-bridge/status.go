package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// storeCommand is what status and logout --all share: the token store's
// flags and its contents.
func openStoreFlags(name string, args []string, extra func(*flag.FlagSet), stderr io.Writer) (*authOptions, *bridgeOptions, []string, int) {
	var o bridgeOptions
	fs := bridgeFlags(&o)
	fs.Init("mcp-bridge "+name, flag.ContinueOnError)
	if extra != nil {
		extra(fs)
	}
	fs.SetOutput(stderr)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, nil, nil, exitOK
	}
	if err != nil {
		return nil, nil, nil, exitUsage
	}
	return &o.auth, &o, pos, exitOK
}

// index reads the token store's index: one entry per server with stored
// credentials, by store key, sorted by server.
func (s credStore) entries() ([]string, map[string]indexEntry, error) {
	raw, err := s.store.Index()
	if err != nil {
		return nil, nil, err
	}
	m := map[string]indexEntry{}
	for k, v := range raw {
		var e indexEntry
		if json.Unmarshal(v, &e) == nil {
			m[k] = e
		}
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int { return strings.Compare(m[a].Server, m[b].Server) })
	return keys, m, nil
}

// runStatus prints one row per server with stored credentials: no tokens,
// only what they are and where they live.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var asJSON bool
	a, _, pos, code := openStoreFlags("status", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, stderr)
	if a == nil {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintln(stderr, "mcp-bridge status: takes no arguments")
		return exitUsage
	}
	store, err := a.store(nil)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge status: %v\n", err)
		return exitError
	}
	keys, m, err := store.entries()
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge status: %v\n", err)
		return exitError
	}
	if asJSON {
		list := make([]indexEntry, 0, len(keys))
		for _, k := range keys {
			e := m[k]
			e.Registered, e.HasSecret = nil, false // the bridge's own bookkeeping
			list = append(list, e)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"store": store.store.Kind(), "servers": list})
		return exitOK
	}
	if len(keys) == 0 {
		fmt.Fprintf(stdout, "No stored credentials (store: %s).\n", store.store.Kind())
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tISSUER\tCLIENT\tSCOPES\tACCESS TOKEN\tREFRESH\tLAST REFRESH\tSTORE")
	now := time.Now()
	for _, k := range keys {
		e := m[k]
		scopes := strings.Join(e.Scopes, " ")
		if scopes == "" {
			scopes = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s (%s)\t%s\t%s\t%s\t%s\t%s\n", e.Server, e.Issuer, e.ClientID, e.Registration,
			scopes, expiryText(e.Expiry, now), yesNo(e.RefreshToken), timeText(e.LastRefresh), e.Store)
	}
	tw.Flush()
	return exitOK
}

// runLogoutAll signs out of every server with stored credentials.
func runLogoutAll(ctx context.Context, a *authOptions, o *bridgeOptions, stdout, stderr io.Writer) int {
	store, err := a.store(nil)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge logout: %v\n", err)
		return exitError
	}
	keys, m, err := store.entries()
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge logout: %v\n", err)
		return exitError
	}
	if len(keys) == 0 {
		fmt.Fprintln(stdout, "No stored credentials: nothing to remove")
		return exitOK
	}
	client, err := httpclient.New(httpclient.Options{CAFile: o.caFile})
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge logout: %v\n", err)
		return exitUsage
	}
	code := exitOK
	for _, k := range keys {
		h, err := oauthclient.New(&oauthclient.Config{ServerURL: m[k].Server, Store: store, StoreKey: k, HTTPClient: client})
		if err == nil {
			var res *oauthclient.LogoutResult
			if res, err = h.Logout(ctx); err == nil {
				printLogout(stdout, m[k].Server, res)
				continue
			}
		}
		fmt.Fprintf(stderr, "mcp-bridge logout: %s: %v\n", m[k].Server, err)
		code = exitError
	}
	return code
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
