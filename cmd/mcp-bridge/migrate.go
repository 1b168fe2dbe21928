package main

// mcp-bridge migrate: from mcp-remote to mcp-bridge in one command. It
// finds the host config entries that launch mcp-remote, moves the tokens
// and client registrations mcp-remote left in plaintext under ~/.mcp-auth
// into our token store (the OS keychain by default), and rewrites the
// entries to launch this binary.
//
// The rewritten entry keeps mcp-remote's arguments as they were (less the
// npx launcher): fromMCPRemote gives them the same meaning at every start.
// Translating them once, here, would have to resolve what they leave to
// the start: a client secret in --static-oauth-client-info's ${VAR} or
// @FILE would land in the command line (ps shows it) or be lost, and
// --debug's log file, --header's ${VAR} and the callback port mcp-remote
// derives from the server would be frozen. Kept, they also still read as
// what the user wrote. Only --token-store is added, when migrate was told
// which store to use, so that the bridge looks where the credentials went.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/install"
	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
	"github.com/mcp-bridge/mcp-bridge/internal/mcpremote"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// mcpRemoteEntry is one host config entry that launches mcp-remote, and
// what migrate did with it.
type mcpRemoteEntry struct {
	host   *install.Host
	path   string
	name   string
	env    map[string]string
	remote []string // mcp-remote's arguments, as the entry gives them
	args   []string // the new command line's arguments

	handler *oauthclient.Handler
	client  mcpremote.Client // the client the command line names
	saved   *mcpremote.Saved // nil: mcp-remote kept none for this server
	keyErr  error            // mcp-remote's key for the server: why there is none

	invalid   error // the command line does not parse: left as it is
	importErr error // the credentials could not be moved: left as it is
	moved     bool
	rewritten error // from rewriting the file; nil and done: rewritten
	done      bool
	backup    string
}

// ok reports whether the entry may be rewritten: its command line means
// something to us and its credentials, if any, are in our store (or, in a
// dry run, would be tried).
func (e *mcpRemoteEntry) ok() bool { return e.invalid == nil && e.importErr == nil }

// runMigrate rewrites host entries that launch mcp-remote to launch
// mcp-bridge, moving mcp-remote's plaintext credentials into the token
// store first.
func runMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mcp-bridge migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "show what would change, as diffs, and change nothing")
	hostID := fs.String("host", "", "migrate this host's entries only: `name` is one of "+hostIDs())
	kind := fs.String("token-store", tokenstore.KindAuto, "where the credentials go: `auto` (the OS keychain, or 0600 files where there is none), keychain or file")
	logLevel := fs.String("log-level", "warn", "`level` of logs on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mcp-bridge migrate [--dry-run] [--host HOST] [--token-store KIND]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	switch *kind {
	case tokenstore.KindAuto, tokenstore.KindKeychain, tokenstore.KindFile:
	default:
		fmt.Fprintf(stderr, "mcp-bridge migrate: --token-store %q: want auto, keychain or file\n", *kind)
		return exitUsage
	}
	hosts := install.Hosts()
	if *hostID != "" {
		h, err := install.LookupHost(*hostID)
		if err != nil {
			fmt.Fprintf(stderr, "mcp-bridge migrate: %v\n", err)
			return exitUsage
		}
		hosts = []*install.Host{h}
	}
	log, closeLog, err := newLogger(stderr, nil, *logLevel, "")
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge migrate: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	env, err := install.CurrentEnv()
	if err == nil {
		var self string
		if self, err = executablePath(); err == nil { // as install writes it: not a versioned Cellar path
			m := &migration{self: self, kind: *kind, dryRun: *dryRun, log: log, stdout: stdout, now: time.Now}
			return m.run(ctx, env, hosts)
		}
	}
	fmt.Fprintf(stderr, "mcp-bridge migrate: %v\n", err)
	return exitError
}

type migration struct {
	self   string
	kind   string
	dryRun bool
	log    *slog.Logger
	stdout io.Writer
	now    func() time.Time
}

func (m *migration) run(ctx context.Context, env install.Env, hosts []*install.Host) int {
	entries, failed := m.find(env, hosts)
	if len(entries) == 0 {
		fmt.Fprintln(m.stdout, "No host config entry launches mcp-remote: nothing to migrate.")
		if failed {
			return exitError
		}
		return exitOK
	}
	// The credentials first: an entry is rewritten only once its
	// credentials are in our store, so that a failure leaves it (and
	// mcp-remote's files) as they were, and migrate can be run again.
	for _, e := range entries {
		m.prepare(e)
	}
	m.importAll(ctx, entries)
	m.rewriteAll(entries)
	removed, removeErr := m.removeAll(entries)
	for _, e := range entries {
		if !m.report(e, removed, removeErr) {
			failed = true
		}
	}
	if m.dryRun {
		fmt.Fprintln(m.stdout, "(dry run: nothing was written, no credentials were moved)")
	}
	if failed {
		return exitError
	}
	return exitOK
}

// find returns the entries of hosts that launch mcp-remote; false if a
// config file could not be read.
func (m *migration) find(env install.Env, hosts []*install.Host) ([]*mcpRemoteEntry, bool) {
	var entries []*mcpRemoteEntry
	failed := false
	for _, h := range hosts {
		path, err := h.ConfigPath(env)
		if err != nil {
			continue
		}
		src, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var list []install.Entry
		if err == nil {
			list, err = h.Entries(src)
		}
		if err != nil {
			fmt.Fprintf(m.stdout, "%s: %s: %v\n", h.Name, path, err)
			failed = true
			continue
		}
		for _, e := range list {
			remote, ok := mcpremote.Args(e.Command, e.Args)
			if !ok {
				continue
			}
			entryEnv, _ := h.EntryEnv(src, e.Name)
			me := &mcpRemoteEntry{host: h, path: path, name: e.Name, env: entryEnv, remote: remote, args: slices.Clone(remote)}
			if m.kind != tokenstore.KindAuto {
				me.args = append(me.args, "--token-store", m.kind)
			}
			entries = append(entries, me)
		}
	}
	return entries, failed
}

// prepare builds the entry's handler and reads what mcp-remote kept for
// its server.
func (m *migration) prepare(e *mcpRemoteEntry) {
	if e.handler, e.invalid = m.handlerFor(e); e.invalid != nil {
		return
	}
	keys, err := mcpremote.FileKeys(e.remote, os.ReadFile)
	if e.keyErr = err; err != nil {
		return // mcp-remote refuses the command line: it kept nothing for it
	}
	base, err := mcpremote.BaseDir(e.getenv)
	if err != nil {
		e.importErr = err
		return
	}
	e.saved, err = mcpremote.Find(mcpremote.Dirs(base), keys, e.client)
	if !errors.Is(err, mcpremote.ErrNotFound) {
		e.importErr = err
	}
}

// importAll moves each entry's credentials into the store, once for
// entries that share the tokens and the store key.
func (m *migration) importAll(ctx context.Context, entries []*mcpRemoteEntry) {
	if m.dryRun {
		return
	}
	type importKey struct{ file, key string }
	imported := map[importKey]error{}
	for _, e := range entries {
		if !e.ok() || e.saved == nil || e.saved.Unusable(m.now()) {
			continue // an unusable one is said in the report; the entry is rewritten, the files stay
		}
		k := importKey{e.saved.TokensFile, e.handler.Key()}
		err, done := imported[k]
		if !done {
			err = e.importInto(ctx)
			imported[k] = err
		}
		e.importErr, e.moved = err, err == nil
	}
}

// rewriteAll rewrites the entries whose credentials are in the store:
// one edit (and one backup) per file.
func (m *migration) rewriteAll(entries []*mcpRemoteEntry) {
	var paths []string
	byPath := map[string][]*mcpRemoteEntry{}
	for _, e := range entries {
		if !slices.Contains(paths, e.path) {
			paths = append(paths, e.path)
		}
		byPath[e.path] = append(byPath[e.path], e)
	}
	for _, path := range paths {
		var es []install.Entry
		var todo []*mcpRemoteEntry
		for _, e := range byPath[path] {
			if e.ok() {
				es = append(es, install.Entry{Name: e.name, Command: m.self, Args: e.args})
				todo = append(todo, e)
			}
		}
		if len(todo) == 0 {
			continue
		}
		res, err := todo[0].host.RewriteFile(path, es, install.Options{DryRun: m.dryRun, Now: m.now})
		for _, e := range todo {
			e.rewritten, e.done = err, err == nil
			if res != nil {
				e.backup = res.Backup
			}
		}
		if err == nil && m.dryRun {
			fmt.Fprint(m.stdout, install.Diff(path, path+" (migrated)", res.Old, res.New))
		}
	}
}

// removeAll removes mcp-remote's files once every entry that used them
// runs mcp-bridge with the credentials in our store. It returns what it
// removed and what failed, by tokens file.
func (m *migration) removeAll(entries []*mcpRemoteEntry) (map[string][]string, map[string]error) {
	removed := map[string][]string{}
	removeErr := map[string]error{}
	if m.dryRun {
		return removed, removeErr
	}
	for _, e := range entries {
		if e.saved == nil || !e.moved {
			continue
		}
		f := e.saved.TokensFile
		if _, seen := removed[f]; seen || removeErr[f] != nil {
			continue
		}
		all := true
		for _, o := range entries {
			if o.saved != nil && o.saved.TokensFile == f && !(o.moved && o.done) {
				all = false
			}
		}
		if all {
			removed[f], removeErr[f] = e.saved.Remove()
		}
	}
	return removed, removeErr
}

// report says what became of one entry; false if something failed.
func (m *migration) report(e *mcpRemoteEntry, removed map[string][]string, removeErr map[string]error) bool {
	fmt.Fprintf(m.stdout, "%s: %q in %s\n", e.host.Name, e.name, e.path)
	ok := m.reportEntry(e)
	if e.invalid != nil || e.importErr != nil && e.saved == nil {
		return ok
	}
	return m.reportCredentials(e, removed, removeErr) && ok
}

// reportEntry says what became of the entry's command line.
func (m *migration) reportEntry(e *mcpRemoteEntry) bool {
	switch {
	case e.invalid != nil:
		fmt.Fprintf(m.stdout, "  entry:        left as it is: its command line: %v\n", e.invalid)
		return false
	case e.importErr != nil && e.saved == nil:
		fmt.Fprintf(m.stdout, "  entry:        left as it is: %v\n", e.importErr)
		return false
	case e.importErr != nil:
		fmt.Fprintln(m.stdout, "  entry:        left as it is, since its credentials could not be moved")
		return false
	case e.rewritten != nil:
		fmt.Fprintf(m.stdout, "  entry:        not rewritten: %v\n", e.rewritten)
		return false
	case m.dryRun:
		fmt.Fprintf(m.stdout, "  entry:        would run %s %s\n", m.self, strings.Join(e.args, " "))
	default:
		fmt.Fprintf(m.stdout, "  entry:        rewritten to run %s %s\n", m.self, strings.Join(e.args, " "))
		if e.backup != "" {
			fmt.Fprintf(m.stdout, "  backup:       %s\n", e.backup)
		}
	}
	return true
}

// reportCredentials says what became of mcp-remote's files for the
// entry's server.
func (m *migration) reportCredentials(e *mcpRemoteEntry, removed map[string][]string, removeErr map[string]error) bool {
	s := e.saved
	switch {
	case s == nil && e.keyErr != nil:
		fmt.Fprintf(m.stdout, "  credentials:  none: mcp-remote cannot have kept any, since it refuses this command line (%v); the first start signs in\n", e.keyErr)
	case s == nil:
		base, _ := mcpremote.BaseDir(e.getenv)
		fmt.Fprintf(m.stdout, "  credentials:  mcp-remote kept none for this server (looked in %s); the first start signs in\n", strings.Join(mcpremote.Dirs(base), ", "))
	case s.Unusable(m.now()):
		fmt.Fprintf(m.stdout, "  credentials:  not moved: the access token in %s has expired and there is no refresh token; the first start signs in. The file is left as it is.\n", s.TokensFile)
	case m.dryRun:
		fmt.Fprintf(m.stdout, "  credentials:  would move %s (client %s, refresh token: %s) into the token store and remove %d file(s)\n",
			s.TokensFile, s.Credentials.Client.ID, yesNo(s.Credentials.RefreshToken != ""), len(s.Files()))
	case e.importErr != nil:
		fmt.Fprintf(m.stdout, "  credentials:  not moved: %v; mcp-remote's files stay in %s\n", e.importErr, s.Dir)
	case !e.done:
		fmt.Fprintf(m.stdout, "  credentials:  copied into the token store (%s); mcp-remote's files stay in %s, since the entry still runs mcp-remote\n", e.handler.Key(), s.Dir)
	default:
		fmt.Fprintf(m.stdout, "  credentials:  moved into the token store (client %s, refresh token: %s)\n", s.Credentials.Client.ID, yesNo(s.Credentials.RefreshToken != ""))
		if err := removeErr[s.TokensFile]; err != nil {
			fmt.Fprintf(m.stdout, "  plaintext:    removing it failed: %v; remove %s_* in %s by hand\n", err, s.Key, s.Dir)
			return false
		}
		fmt.Fprintf(m.stdout, "  plaintext:    removed %s\n", strings.Join(removed[s.TokensFile], ", "))
	}
	return true
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
	client, err := httpclient.New(httpclient.Options{CAFile: o.caFile, Proxy: o.proxy})
	if err != nil {
		return nil, err
	}
	store, err := o.auth.store(m.log)
	if err != nil {
		return nil, err
	}
	refs := lookups{env: e.getenv, secret: func(n string) (string, error) { return store.secret(context.Background(), n) }}
	header, err := parseHeaders(o.headers, o.headerFile, refs)
	if err != nil {
		return nil, err
	}
	headers, err := httpclient.NewHeaders(client.Transport, o.url, header)
	if err != nil {
		return nil, err
	}
	client.Transport = headers
	h, err := o.auth.handler(o.url, client, store, refs, m.log, io.Discard, nil, nil)
	if err != nil {
		return nil, err
	}
	secret, _ := o.auth.secret(refs)
	if secret == "" && remote != nil {
		secret = remote.ClientSecret
	}
	e.client = mcpremote.Client{ID: o.auth.clientID, Secret: secret, MetadataURL: o.auth.clientMetadataURL}
	return h, nil
}

// importInto moves e's credentials into the store, through the handler the
// bridge will use: Import reads them back and compares before it returns.
func (e *mcpRemoteEntry) importInto(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c := e.saved.Credentials
	return e.handler.Import(ctx, &c)
}
