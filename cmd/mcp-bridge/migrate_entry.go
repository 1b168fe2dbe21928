package main

// One host config entry that launches mcp-remote, as migrate sees it: the
// handler the rewritten entry's bridge will build, and the files
// mcp-remote keeps for it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/install"
	"github.com/mcp-bridge/mcp-bridge/internal/mcpremote"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// mcpRemoteEntry is one host config entry that launches mcp-remote, and
// what migrate did with it.
type mcpRemoteEntry struct {
	host     *install.Host
	path     string
	name     string
	project  string // Claude Code's local scope: the project's directory
	env      map[string]string
	remote   []string // mcp-remote's arguments, as the entry gives them
	server   string   // the server's URL
	args     []string // the new command line's arguments
	selected bool     // of a host being migrated; else only its files count
	uses     []string // the tokens files mcp-remote may read for it

	handler *oauthclient.Handler
	client  mcpremote.Client // the client the command line names
	dirs    []string         // where mcp-remote keeps its files for it
	saved   *mcpremote.Saved // nil: mcp-remote kept none for this server
	keyErr  error            // mcp-remote's key for the server: why there is none

	invalid   error           // the command line does not parse: left as it is
	importErr error           // the credentials could not be moved: left as it is
	newer     *mcpRemoteEntry // the entry whose sign-in went under the same store key instead
	moved     bool
	rewritten error // from rewriting the file; nil and done: rewritten
	done      bool
	backup    string
}

// entry returns the entry e of host h's config at path (src) if it
// launches mcp-remote, else nil.
func (m *migration) entry(h *install.Host, path string, src []byte, e install.Entry) *mcpRemoteEntry {
	remote, ok := mcpremote.Args(e.Command, e.Args)
	if !ok {
		return nil
	}
	env, _ := h.EntryEnv(src, e)
	me := &mcpRemoteEntry{host: h, path: path, name: e.Name, project: e.Project, env: env, remote: remote, args: slices.Clone(remote)}
	if m.kind != tokenstore.KindAuto {
		me.args = append(me.args, "--token-store", m.kind)
	}
	return me
}

// String names the entry for the report: Cursor's "remote", Claude
// Code's "remote" (project /home/u/app).
func (e *mcpRemoteEntry) String() string {
	if e.project != "" {
		return fmt.Sprintf("%s's %q (project %s)", e.host.Name, e.name, e.project)
	}
	return fmt.Sprintf("%s's %q", e.host.Name, e.name)
}

// ok reports whether the entry may be rewritten: its command line means
// something to us and its credentials, if any, are in our store (or, in a
// dry run, would be tried).
func (e *mcpRemoteEntry) ok() bool { return e.invalid == nil && e.importErr == nil }

// wouldMove reports whether a run that is not a dry run would import the
// entry's own sign-in.
func (e *mcpRemoteEntry) wouldMove(now time.Time) bool {
	return e.selected && e.ok() && e.saved != nil && !e.saved.Unusable(now) && e.newer == nil
}

// prepare finds the files mcp-remote may read for the entry and, for an
// entry being migrated, builds its handler and reads what mcp-remote kept
// for its server.
func (m *migration) prepare(e *mcpRemoteEntry) {
	keys, keyErr := mcpremote.FileKeys(e.remote, os.ReadFile)
	base, baseErr := mcpremote.BaseDir(e.getenv)
	if baseErr == nil {
		e.dirs = mcpremote.Dirs(base)
	}
	if keyErr == nil {
		e.uses = keys.TokensFiles(e.dirs)
	}
	if !e.selected {
		return
	}
	if e.handler, e.invalid = m.handlerFor(e); e.invalid != nil {
		return
	}
	if e.keyErr = keyErr; keyErr != nil {
		return // mcp-remote refuses the command line: it kept nothing for it
	}
	if baseErr != nil {
		e.importErr = baseErr
		return
	}
	var err error
	e.saved, err = mcpremote.Find(e.dirs, keys, e.client)
	if !errors.Is(err, mcpremote.ErrNotFound) {
		e.importErr = err
	}
}

// getenv is what the entry's command sees: its env, then ours.
func (e *mcpRemoteEntry) getenv(k string) (string, bool) {
	if v, ok := e.env[k]; ok {
		return v, true
	}
	return os.LookupEnv(k)
}

// handlerFor builds the OAuth handler the rewritten entry's bridge will
// build, so that the credentials go under the key it looks up.
func (m *migration) handlerFor(e *mcpRemoteEntry) (*oauthclient.Handler, error) {
	var msgs strings.Builder
	ours, remote, err := fromMCPRemote(e.args, e.getenv, io.Discard)
	if err != nil {
		return nil, err
	}
	o, _ := parseBridgeArgs("mcp-bridge", ours, nil, &msgs)
	if o == nil {
		return nil, errors.New(strings.TrimSpace(msgs.String()))
	}
	o.auth.mcpRemote = remote
	e.server = o.url
	w, err := wire(o, process{log: m.log, getenv: e.getenv})
	if err != nil {
		return nil, err
	}
	secret, _ := o.auth.secret(w.refs)
	if secret == "" && remote != nil {
		secret = remote.ClientSecret
	}
	e.client = mcpremote.Client{ID: o.auth.clientID, Secret: secret, MetadataURL: o.auth.clientMetadataURL}
	return w.handler, nil
}

// importInto moves e's credentials into the store, through the handler the
// bridge will use: Import reads them back and compares before it returns.
// Import first asks the server and its authorization server for their
// metadata, then takes the store's lock (another mcp-bridge may hold
// it): either can hang, so migrate says what it waits for, and waits
// m.timeout at most.
func (m *migration) importInto(ctx context.Context, e *mcpRemoteEntry) error {
	fmt.Fprintf(m.stderr, "mcp-bridge migrate: %v: waiting for %s and its authorization server to say where the credentials belong, then for the token store (at most %s)\n",
		e, e.server, m.timeout)
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	c := e.saved.Credentials
	err := e.handler.Import(ctx, &c)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s, its authorization server or the token store did not answer within %s (--timeout): %w", e.server, m.timeout, err)
	}
	return err
}
