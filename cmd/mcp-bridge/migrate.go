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
//
// Nothing is lost and no one is stranded: an entry is rewritten only once
// its credentials are in our store; mcp-remote's files are removed only
// once they are imported and no entry left running mcp-remote, in any
// host's config, may read them; where two sign-ins land on one key of our
// store (one server, two --header values), the freshest usable one is
// imported, the report says so and the other's files stay.
//
// This file is the orchestration; migrate_entry.go holds what one entry
// takes (its handler, its files), migrate_report.go what is said.

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
	"time"

	"github.com/mcp-bridge/mcp-bridge/install"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// runMigrate rewrites host entries that launch mcp-remote to launch
// mcp-bridge, moving mcp-remote's plaintext credentials into the token
// store first.
func runMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var mo migrateOptions
	fs := migrateFlags(&mo)
	fs.Init("mcp-bridge migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printShortUsage(stderr, "migrate") }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "mcp-bridge migrate: takes no arguments")
		fs.Usage()
		return exitUsage
	}
	m := &migration{kind: mo.kind, dryRun: mo.dryRun, timeout: mo.timeout, stdout: stdout, stderr: stderr, now: time.Now}
	if err := m.setHost(mo.host); err != nil {
		fmt.Fprintf(stderr, "mcp-bridge migrate: %v\n", err)
		return exitUsage
	}
	log, closeLog, err := newLogger(stderr, nil, mo.logLevel, "")
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge migrate: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	m.log = log
	env, err := install.CurrentEnv()
	if err == nil {
		if m.self, err = install.Executable(); err == nil { // as install writes it: not a versioned Cellar path
			return m.run(ctx, env)
		}
	}
	fmt.Fprintf(stderr, "mcp-bridge migrate: %v\n", err)
	return exitError
}

// migrateOptions are migrate's flags.
type migrateOptions struct {
	dryRun   bool
	host     string
	kind     string
	logLevel string
	timeout  time.Duration
}

func migrateFlags(o *migrateOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("mcp-bridge migrate", flag.ContinueOnError)
	fs.BoolVar(&o.dryRun, "dry-run", false, "show what would change, as diffs, and change nothing")
	fs.StringVar(&o.host, "host", "", "migrate this host's entries only: `name` is one of "+hostIDs())
	fs.StringVar(&o.kind, "token-store", tokenstore.KindAuto, "where the credentials go: `auto` (the OS keychain, or 0600 files where there is none), keychain or file")
	fs.StringVar(&o.logLevel, "log-level", "warn", "`level` of logs on stderr: debug, info, warn or error")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for a server and its authorization server, asked where the credentials belong")
	return fs
}

// A migration is one run of migrate.
type migration struct {
	self    string        // this binary, as the entries will run it
	kind    string        // --token-store
	host    *install.Host // --host; nil: every host
	dryRun  bool
	timeout time.Duration // for each server's discovery, in an import
	log     *slog.Logger
	stdout  io.Writer // the report
	stderr  io.Writer // what migrate waits for
	now     func() time.Time

	// unread name the config files that could not be found or read: an
	// entry there may still run mcp-remote, so no file of mcp-remote's is
	// removed.
	unread []string
}

// setHost checks --token-store and takes --host.
func (m *migration) setHost(id string) error {
	switch m.kind {
	case tokenstore.KindAuto, tokenstore.KindKeychain, tokenstore.KindFile:
	default:
		return fmt.Errorf("--token-store %q: want auto, keychain or file", m.kind)
	}
	if id == "" {
		return nil
	}
	h, err := install.LookupHost(id)
	m.host = h
	return err
}

func (m *migration) run(ctx context.Context, env install.Env) int {
	all, failed := m.find(env)
	m.stdout = redactingWriter{m.stdout, redactor(all)}
	entries := slices.DeleteFunc(slices.Clone(all), func(e *mcpRemoteEntry) bool { return !e.selected })
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
	for _, e := range all {
		m.prepare(e)
	}
	m.importAll(ctx, entries)
	m.rewriteAll(entries)
	cleanups := m.removeAll(all)
	for _, e := range entries {
		if !m.report(e, cleanups) {
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

// find returns the entries that launch mcp-remote in every host's config:
// those of the host --host names (all, without it) are selected, the
// others are there for what files they use. false: a selected host's
// config could not be read.
func (m *migration) find(env install.Env) ([]*mcpRemoteEntry, bool) {
	var entries []*mcpRemoteEntry
	failed := false
	for _, h := range install.Hosts() {
		selected := m.host == nil || m.host.ID == h.ID
		path, err := h.ConfigPath(env)
		if err != nil {
			m.unread = append(m.unread, fmt.Sprintf("%s's config (%v)", h.Name, err))
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
			m.unread = append(m.unread, path)
			if selected {
				fmt.Fprintf(m.stdout, "%s: %s: %v\n", h.Name, path, err)
				failed = true
			}
			continue
		}
		for _, e := range list {
			if me := m.entry(h, path, src, e); me != nil {
				me.selected = selected
				entries = append(entries, me)
			}
		}
	}
	return entries, failed
}

// importAll moves the entries' credentials into the store: for each
// store key, the sign-in [migration.choose] picks, once however many
// entries share it. The entries of the sign-ins not picked use it.
func (m *migration) importAll(ctx context.Context, entries []*mcpRemoteEntry) {
	todo, chosen := m.choose(entries)
	type importKey struct{ file, key string }
	imported := map[importKey]error{}
	hung := map[string]error{} // servers that did not answer in time: not asked again
	for _, e := range todo {
		if c := chosen[e.handler.Key()]; c.saved.TokensFile != e.saved.TokensFile {
			e.newer = c
			continue
		}
		if m.dryRun {
			continue
		}
		k := importKey{e.saved.TokensFile, e.handler.Key()}
		err, done := imported[k]
		if !done {
			if err = hung[e.server]; err == nil {
				err = m.importInto(ctx, e)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				hung[e.server] = err
			}
			imported[k] = err
		}
		e.importErr, e.moved = err, err == nil
	}
	for _, e := range todo {
		if e.newer != nil {
			e.importErr = e.newer.importErr // without them in the store, the entry stays as it is
		}
	}
}

// choose returns the entries with a usable sign-in to import and, by
// store key, the entry whose sign-in goes in. One store key holds one
// sign-in: where entries with different files share a key (one server,
// two --header values), the one mcp-remote last wrote is picked.
func (m *migration) choose(entries []*mcpRemoteEntry) ([]*mcpRemoteEntry, map[string]*mcpRemoteEntry) {
	chosen := map[string]*mcpRemoteEntry{}
	var todo []*mcpRemoteEntry
	for _, e := range entries {
		if !e.ok() || e.saved == nil || e.saved.Unusable(m.now()) {
			continue // an unusable one is said in the report; the entry is rewritten, the files stay
		}
		todo = append(todo, e)
		k := e.handler.Key()
		if c := chosen[k]; c == nil || e.saved.Credentials.Obtained.After(c.saved.Credentials.Obtained) {
			chosen[k] = e
		}
	}
	return todo, chosen
}

// rewriteAll rewrites the entries whose credentials are in the store:
// one edit (and one backup) per file.
func (m *migration) rewriteAll(entries []*mcpRemoteEntry) {
	var paths []string
	byPath := map[string][]*mcpRemoteEntry{}
	for _, e := range entries {
		if !e.ok() {
			continue
		}
		if !slices.Contains(paths, e.path) {
			paths = append(paths, e.path)
		}
		byPath[e.path] = append(byPath[e.path], e)
	}
	for _, path := range paths {
		todo := byPath[path]
		es := make([]install.Entry, len(todo))
		for i, e := range todo {
			es[i] = install.Entry{Name: e.name, Command: m.self, Args: e.args, Project: e.project}
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

// A cleanup is what became of mcp-remote's files for one sign-in.
type cleanup struct {
	removed []string // their names
	err     error    // why some could not be removed
	keptFor string   // why they stay: what may still read them
}

// removeAll removes mcp-remote's files for each sign-in imported (in a
// dry run: would be), unless an entry that still runs mcp-remote (in any
// host's config, migrated or not) may read them. It returns what it did,
// or would do, by tokens file.
func (m *migration) removeAll(all []*mcpRemoteEntry) map[string]*cleanup {
	out := map[string]*cleanup{}
	for _, e := range all {
		if !(e.moved || m.dryRun && e.wouldMove(m.now())) || out[e.saved.TokensFile] != nil {
			continue
		}
		c := &cleanup{keptFor: m.stillUsed(all, e.saved.TokensFile)}
		if c.keptFor == "" && !m.dryRun {
			c.removed, c.err = e.saved.Remove()
		}
		out[e.saved.TokensFile] = c
	}
	return out
}

// stillUsed says what may still read the tokens file f once the entries
// are rewritten: an entry that runs mcp-remote, or a config file that
// could not be read; "" if nothing.
func (m *migration) stillUsed(all []*mcpRemoteEntry, f string) string {
	for _, o := range all {
		if !o.done && slices.Contains(o.uses, f) {
			return fmt.Sprintf("%v still runs mcp-remote with them", o)
		}
	}
	if len(m.unread) > 0 {
		return fmt.Sprintf("%s could not be read: an entry there may still run mcp-remote with them", m.unread[0])
	}
	return ""
}
