package main

// Drop-in for mcp-remote (https://github.com/geelen/mcp-remote), the tool
// most users come from: its command line, as host configs hold it, means
// the same to mcp-bridge. internal/mcpremote rewrites it into ours before
// our flags are parsed; what has no flag of ours (a client secret, client
// metadata, the redirect URI's host and path) travels in an *mcpRemote
// that the OAuth configuration takes (see mcpRemote.configure).

import (
	"io"
	"os"
	"path/filepath"

	"github.com/mcp-bridge/mcp-bridge/internal/mcpremote"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// mcpRemote is what an mcp-remote command line asks for that no flag of
// ours expresses. A nil *mcpRemote asks for nothing.
type mcpRemote mcpremote.Extras

// configure applies r to c and returns c, so that it wraps the
// configuration literal: oauthclient.New(a.mcpRemote.configure(&oauthclient.Config{...})).
// A secret from --client-secret-file or the environment wins over one
// from --static-oauth-client-info.
func (r *mcpRemote) configure(c *oauthclient.Config) *oauthclient.Config {
	if r == nil {
		return c
	}
	if c.ClientSecret == "" {
		c.ClientSecret = r.ClientSecret
	}
	c.RegistrationMetadata = r.Registration
	c.CallbackHost, c.CallbackPath = r.CallbackHost, r.CallbackPath
	return c
}

// fromMCPRemote rewrites an mcp-remote command line into ours
// ([mcpremote.Translate]); a command line of ours comes back unchanged
// with a nil *mcpRemote. Warnings go to stderr; --debug logs into our
// cache directory, under the name mcp-remote gives its log.
func fromMCPRemote(args []string, getenv func(string) (string, bool), stderr io.Writer) ([]string, *mcpRemote, error) {
	logDir := ""
	if dir, err := os.UserCacheDir(); err == nil {
		logDir = filepath.Join(dir, "mcp-bridge")
	}
	out, x, err := mcpremote.Translate(args, mcpremote.Options{Ours: bridgeFlags(&bridgeOptions{}), Getenv: getenv, Warn: stderr, LogDir: logDir})
	return out, (*mcpRemote)(x), err
}
