package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/install"
)

// The sign-in hint a host shows names the server without a URL: hosts
// redact URL-looking arguments (Claude Code shows `mcp-bridge login
// [redacted]`). It names the configuration file's server, or else the
// name install gives the server's entry (install.EntryName), which login,
// logout and doctor find in the hosts' configs or the token store.

// resolvesNames are the commands that take such a name.
var resolvesNames = map[string]bool{"mcp-bridge login": true, "mcp-bridge logout": true, "mcp-bridge doctor": true}

// loginHint is the command the bridge for o tells the host to run.
func loginHint(o *bridgeOptions) string {
	if o.name != "" {
		return "mcp-bridge login " + o.name
	}
	u, err := url.Parse(o.url)
	if err != nil {
		return "mcp-bridge login " + o.url
	}
	return "mcp-bridge login " + install.EntryName(u)
}

// serverNamed returns the arguments (the URL, then the entry's flags) of
// the server name stands for: a host entry of that name that runs
// mcp-bridge for a URL, or one whose URL install would name so, in the
// config files of the hosts install knows; else a server with stored
// credentials whose URL install would name so. stored lists those
// servers. It returns nil if nothing is named so, and an error if more
// than one server is.
func serverNamed(name string, stored func() []string) ([]string, error) {
	found := map[string][]string{} // by URL: the first entry's arguments
	var order []string
	add := func(server string, args []string) {
		if _, ok := found[server]; !ok {
			found[server] = args
			order = append(order, server)
		}
	}
	if env, err := install.CurrentEnv(); err == nil {
		for _, h := range install.Hosts() {
			p, err := h.ConfigPath(env)
			if err != nil {
				continue
			}
			src, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			entries, _ := h.Entries(src)
			for _, e := range entries {
				server := serverOf(e.Args)
				if !isBridgeEntry(e) || !strings.Contains(server, "://") {
					continue
				}
				if u, err := url.Parse(server); err == nil && (e.Name == name || install.EntryName(u) == name) {
					add(server, e.Args)
				}
			}
		}
	}
	if len(found) == 0 && stored != nil {
		for _, server := range stored() {
			if u, err := url.Parse(server); err == nil && install.EntryName(u) == name {
				add(server, []string{server})
			}
		}
	}
	switch len(order) {
	case 0:
		return nil, nil
	case 1:
		return found[order[0]], nil
	}
	return nil, fmt.Errorf("%q names more than one server (%s): give the URL", name, strings.Join(order, ", "))
}

// storedServers lists the servers the token store o names holds
// credentials for; nil if it cannot be opened.
func storedServers(o *bridgeOptions) []string {
	store, err := o.auth.store(nil)
	if err != nil {
		return nil
	}
	list, _ := store.List()
	var servers []string
	for _, e := range list {
		servers = append(servers, e.Server)
	}
	return servers
}
