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
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/install"
	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// mcpRemoteEntry is one host config entry that launches mcp-remote, and
// what migrate did with it.
type mcpRemoteEntry struct {
	host    *install.Host
	path    string
	name    string
	env     map[string]string
	args    []string // the new command line's arguments
	handler *oauthclient.Handler
	creds   *mcpRemoteCreds // nil: mcp-remote kept none for this server

	hashInputs hashInputs

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
	hostID := fs.String("host", "", "migrate this host's entries only: `name` is one of "+strings.Join(migrateHostIDs(), ", "))
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
		if self, err = migrateExecutable(); err == nil {
			m := &migration{self: self, kind: *kind, dryRun: *dryRun, log: log, stdout: stdout, now: time.Now}
			return m.run(ctx, env, hosts)
		}
	}
	fmt.Fprintf(stderr, "mcp-bridge migrate: %v\n", err)
	return exitError
}

func migrateHostIDs() []string {
	var ids []string
	for _, h := range install.Hosts() {
		ids = append(ids, h.ID)
	}
	return ids
}

// migrateExecutable is this binary's absolute path, links resolved: what
// the rewritten entries run, with no shell and no PATH lookup.
func migrateExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this program's path: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return filepath.Abs(exe)
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
			remote, ok := mcpRemoteArgs(e.Command, e.Args)
			if !ok {
				continue
			}
			entryEnv, _ := h.EntryEnv(src, e.Name)
			me := &mcpRemoteEntry{host: h, path: path, name: e.Name, env: entryEnv, args: slices.Clone(remote)}
			if m.kind != tokenstore.KindAuto {
				me.args = append(me.args, "--token-store", m.kind)
			}
			entries = append(entries, me)
		}
	}
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
	type importKey struct{ file, key string }
	imported := map[importKey]error{}
	for _, e := range entries {
		e.handler, e.invalid = m.handlerFor(e)
		if e.invalid != nil {
			continue
		}
		if e.creds, e.importErr = findMCPRemoteCreds(e); e.importErr != nil || e.creds == nil || m.dryRun {
			continue
		}
		if e.creds.unusable(m.now()) {
			continue // said in the report; the entry is rewritten, the files stay
		}
		k := importKey{e.creds.tokensFile, e.handler.Key()}
		err, done := imported[k]
		if !done {
			err = e.importInto(ctx)
			imported[k] = err
		}
		e.importErr, e.moved = err, err == nil
	}

	// One edit (and one backup) per file.
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

	// mcp-remote's files go once every entry that used them runs
	// mcp-bridge with the credentials in our store.
	removed := map[string][]string{}
	removeErr := map[string]error{}
	if !m.dryRun {
		for _, e := range entries {
			if e.creds == nil || !e.moved {
				continue
			}
			f := e.creds.tokensFile
			if _, seen := removed[f]; seen || removeErr[f] != nil {
				continue
			}
			all := true
			for _, o := range entries {
				if o.creds != nil && o.creds.tokensFile == f && !(o.moved && o.done) {
					all = false
				}
			}
			if all {
				removed[f], removeErr[f] = e.creds.remove()
			}
		}
	}

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

// report says what became of one entry; false if something failed.
func (m *migration) report(e *mcpRemoteEntry, removed map[string][]string, removeErr map[string]error) bool {
	ok := true
	fmt.Fprintf(m.stdout, "%s: %q in %s\n", e.host.Name, e.name, e.path)
	switch {
	case e.invalid != nil:
		fmt.Fprintf(m.stdout, "  entry:        left as it is: its command line: %v\n", e.invalid)
		return false
	case e.importErr != nil && e.creds == nil:
		fmt.Fprintf(m.stdout, "  entry:        left as it is: %v\n", e.importErr)
		return false
	case e.importErr != nil:
		fmt.Fprintln(m.stdout, "  entry:        left as it is, since its credentials could not be moved")
		ok = false
	case e.rewritten != nil:
		fmt.Fprintf(m.stdout, "  entry:        not rewritten: %v\n", e.rewritten)
		ok = false
	case m.dryRun:
		fmt.Fprintf(m.stdout, "  entry:        would run %s %s\n", m.self, strings.Join(e.args, " "))
	default:
		fmt.Fprintf(m.stdout, "  entry:        rewritten to run %s %s\n", m.self, strings.Join(e.args, " "))
		if e.backup != "" {
			fmt.Fprintf(m.stdout, "  backup:       %s\n", e.backup)
		}
	}
	c := e.creds
	switch {
	case c == nil:
		fmt.Fprintf(m.stdout, "  credentials:  mcp-remote kept none for this server (looked in %s); the first start signs in\n", strings.Join(mcpRemoteDirs(e.getenv), ", "))
	case c.unusable(m.now()):
		fmt.Fprintf(m.stdout, "  credentials:  not moved: the access token in %s has expired and there is no refresh token; the first start signs in. The file is left as it is.\n", c.tokensFile)
	case m.dryRun:
		fmt.Fprintf(m.stdout, "  credentials:  would move %s (client %s, refresh token: %s) into the token store and remove %d file(s)\n",
			c.tokensFile, c.client.ID, yesNo(c.refreshToken != ""), len(c.files()))
	case e.importErr != nil:
		fmt.Fprintf(m.stdout, "  credentials:  not moved: %v; mcp-remote's files stay in %s\n", e.importErr, filepath.Dir(c.tokensFile))
	case !e.done:
		fmt.Fprintf(m.stdout, "  credentials:  copied into the token store (%s); mcp-remote's files stay in %s, since the entry still runs mcp-remote\n", e.handler.Key(), filepath.Dir(c.tokensFile))
	default:
		fmt.Fprintf(m.stdout, "  credentials:  moved into the token store (client %s, refresh token: %s)\n", c.client.ID, yesNo(c.refreshToken != ""))
		switch err := removeErr[c.tokensFile]; {
		case err != nil:
			fmt.Fprintf(m.stdout, "  plaintext:    removing it failed: %v; remove %s_* in %s by hand\n", err, c.hash, filepath.Dir(c.tokensFile))
			ok = false
		default:
			fmt.Fprintf(m.stdout, "  plaintext:    removed %s\n", strings.Join(removed[c.tokensFile], ", "))
		}
	}
	return ok
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
	refs := storeLookups(e.getenv, store)
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
		secret = remote.clientSecret
	}
	e.hashInputs = hashInputs{url: o.url, resource: o.auth.resource, headers: o.headers,
		clientID: o.auth.clientID, clientSecret: secret, metadataURL: o.auth.clientMetadataURL}
	return h, nil
}

// hashInputs are what mcp-remote keys a server's files by, and the client
// the command line names.
type hashInputs struct {
	url, resource string
	headers       []string
	clientID      string // --static-oauth-client-info or --client-id
	clientSecret  string
	metadataURL   string
}

// mcpRemoteArgs returns the arguments an entry's command line gives
// mcp-remote, if it launches mcp-remote: `mcp-remote ARGS`, `npx [-y]
// mcp-remote[@VERSION] ARGS` (or pnpx, bunx), and Windows's `cmd /c` in
// front of either.
func mcpRemoteArgs(command string, args []string) ([]string, bool) {
	base := strings.ToLower(command[strings.LastIndexAny(command, `/\`)+1:])
	for _, ext := range []string{".exe", ".cmd", ".bat"} {
		base = strings.TrimSuffix(base, ext)
	}
	switch base {
	case "cmd":
		if len(args) >= 2 && strings.EqualFold(args[0], "/c") {
			return mcpRemoteArgs(args[1], args[2:])
		}
	case "mcp-remote":
		return args, true
	case "npx", "pnpx", "bunx":
		i := 0
		for i < len(args) && slices.Contains([]string{"-y", "--yes", "-q", "--quiet"}, args[i]) {
			i++
		}
		if i < len(args) && isMCPRemotePackage(args[i]) {
			return args[i+1:], true
		}
	}
	return nil, false
}

// mcpRemoteDirs are where mcp-remote keeps its files, newest layout first:
// $MCP_REMOTE_CONFIG_DIR (or ~/.mcp-auth), then mcp-remote-v1 (its store
// layout since 0.1.3x), then mcp-remote-VERSION (before, one per release),
// most recently changed first.
func mcpRemoteDirs(getenv func(string) (string, bool)) []string {
	base, ok := getenv("MCP_REMOTE_CONFIG_DIR")
	if !ok || base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		base = filepath.Join(home, ".mcp-auth")
	}
	dirs := []string{filepath.Join(base, "mcp-remote-v1")}
	old, _ := filepath.Glob(filepath.Join(base, "mcp-remote-*"))
	mtime := func(p string) time.Time {
		fi, err := os.Stat(p)
		if err != nil {
			return time.Time{}
		}
		return fi.ModTime()
	}
	slices.SortFunc(old, func(a, b string) int { return mtime(b).Compare(mtime(a)) })
	for _, d := range old {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// mcpRemoteCreds is what mcp-remote kept for one server.
type mcpRemoteCreds struct {
	dir, hash    string
	tokensFile   string
	client       oauthclient.Client
	accessToken  string
	refreshToken string
	tokenType    string
	scopes       []string
	expiry       time.Time
	obtained     time.Time
}

// unusable reports whether the tokens can do nothing: the access token has
// expired and there is no refresh token.
func (c *mcpRemoteCreds) unusable(now time.Time) bool {
	return c.refreshToken == "" && (c.accessToken == "" || !c.expiry.IsZero() && !now.Before(c.expiry))
}

// files are mcp-remote's files for the server that hold secrets or state
// about them: tokens, client registration, PKCE verifiers, token state.
func (c *mcpRemoteCreds) files() []string {
	all, _ := filepath.Glob(filepath.Join(c.dir, c.hash+"_*"))
	var out []string
	for _, f := range all {
		rest := strings.TrimPrefix(filepath.Base(f), c.hash+"_")
		if rest == "tokens.json" || rest == "client_info.json" || rest == "token_state.json" ||
			strings.HasPrefix(rest, "code_verifier") && strings.HasSuffix(rest, ".txt") {
			out = append(out, f)
		}
	}
	return out
}

// remove deletes the files and returns their names.
func (c *mcpRemoteCreds) remove() ([]string, error) {
	var names []string
	var errs []error
	for _, f := range c.files() {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		names = append(names, filepath.Base(f))
	}
	return names, errors.Join(errs...)
}

// mcp-remote's files, as its SDK writes them (OAuthTokens,
// OAuthClientInformationFull).
type (
	mcpRemoteTokens struct {
		AccessToken  string  `json:"access_token"`
		TokenType    string  `json:"token_type"`
		ExpiresIn    float64 `json:"expires_in"`
		RefreshToken string  `json:"refresh_token"`
		Scope        string  `json:"scope"`
	}
	mcpRemoteClientInfo struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	// mcpRemoteTokenState is kept beside the tokens by mcp-remote's
	// background refresher: when the access token expires, in ms.
	mcpRemoteTokenState struct {
		ExpiresAt float64 `json:"expiresAt"`
	}
)

// findMCPRemoteCreds reads what mcp-remote kept for e's server: nil if
// nothing. The file key is mcp-remote's hash of the URL, the resource and
// the headers; with a resource, the hash without it is tried too (mcp-remote
// versions differ on whether --disable-resource-parameter leaves it out).
func findMCPRemoteCreds(e *mcpRemoteEntry) (*mcpRemoteCreds, error) {
	in := e.hashInputs
	hashes := []string{mcpRemoteHash(in.url, in.resource, in.headers)}
	if in.resource != "" {
		hashes = append(hashes, mcpRemoteHash(in.url, "", in.headers))
	}
	for _, dir := range mcpRemoteDirs(e.getenv) {
		for _, hash := range hashes {
			path := filepath.Join(dir, hash+"_tokens.json")
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return readMCPRemoteCreds(dir, hash, path, data, in)
		}
	}
	return nil, nil
}

func readMCPRemoteCreds(dir, hash, path string, data []byte, in hashInputs) (*mcpRemoteCreds, error) {
	var t mcpRemoteTokens
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: not mcp-remote's tokens: %w", path, err)
	}
	if t.AccessToken == "" && t.RefreshToken == "" {
		return nil, fmt.Errorf("%s: no token in it", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	c := &mcpRemoteCreds{dir: dir, hash: hash, tokensFile: path, accessToken: t.AccessToken, refreshToken: t.RefreshToken,
		tokenType: t.TokenType, scopes: strings.Fields(t.Scope), obtained: fi.ModTime()}
	// expires_in counts from when the file was written.
	if t.ExpiresIn > 0 {
		c.expiry = fi.ModTime().Add(time.Duration(t.ExpiresIn * float64(time.Second)))
	}
	var st mcpRemoteTokenState
	if data, err := os.ReadFile(filepath.Join(dir, hash+"_token_state.json")); err == nil && json.Unmarshal(data, &st) == nil && st.ExpiresAt > 0 {
		c.expiry = time.UnixMilli(int64(st.ExpiresAt))
	}

	infoPath := filepath.Join(dir, hash+"_client_info.json")
	var info mcpRemoteClientInfo
	if data, err := os.ReadFile(infoPath); err == nil {
		if err := json.Unmarshal(data, &info); err != nil {
			return nil, fmt.Errorf("%s: not mcp-remote's client registration: %w", infoPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	switch {
	case in.clientID != "":
		// A pre-registered client (--static-oauth-client-info): mcp-remote
		// keeps no registration for it, and the bridge signs in as it.
		c.client = oauthclient.Client{ID: in.clientID, Secret: in.clientSecret, Kind: oauthclient.KindPreregistered}
	case in.metadataURL != "" && info.ClientID == in.metadataURL:
		c.client = oauthclient.Client{ID: info.ClientID, Kind: oauthclient.KindMetadataDocument, AuthMethod: "none"}
	case info.ClientID != "":
		c.client = oauthclient.Client{ID: info.ClientID, Secret: info.ClientSecret, Kind: oauthclient.KindDynamic, AuthMethod: info.AuthMethod}
		if c.client.AuthMethod == "none" && c.client.Secret != "" {
			c.client.AuthMethod = "client_secret_basic"
		}
		if len(info.RedirectURIs) > 0 {
			// A later sign-in reuses the registration, on its redirect URI.
			c.client.RedirectURI = info.RedirectURIs[0]
		}
	default:
		return nil, fmt.Errorf("%s: no client registration beside it (%s)", path, filepath.Base(infoPath))
	}
	return c, nil
}

// importInto moves e's credentials into the store, through the handler the
// bridge will use: Import reads them back and compares before it returns.
func (e *mcpRemoteEntry) importInto(ctx context.Context) error {
	c := e.creds
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return e.handler.Import(ctx, &oauthclient.Credentials{
		Client:       c.client,
		Scopes:       c.scopes,
		AccessToken:  c.accessToken,
		RefreshToken: c.refreshToken,
		TokenType:    c.tokenType,
		Expiry:       c.expiry,
		Obtained:     c.obtained,
	})
}
