package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/lmittmann/tint"

	"github.com/mcp-bridge/mcp-bridge/internal/atomicfile"
	"github.com/mcp-bridge/mcp-bridge/internal/credstore"
	"github.com/mcp-bridge/mcp-bridge/internal/privfile"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// A browser sign-in outlives the process that needs it. Hosts wait 5 to
// 30 seconds for the answer to initialize, then kill the bridge; a person
// signing in with SSO and MFA takes minutes. So the bridge hands the
// sign-in to a sign-in process of its own (the hidden signin-agent
// command, the same binary with the same arguments), detached from the
// host: a session of its own on unix (setsid), a detached process group
// on Windows, stdin from nowhere and its log in the cache directory. That
// process holds the loopback listener, its port fixed for the URL's life,
// and the store's lock until the sign-in completes or the login timeout
// passes, saves the tokens and exits.
//
// It keeps a record next to the store's lock files, KEY.signin.json: its
// pid, the authorization URL and redirect port once known, its deadline.
// The next start of the bridge, or `mcp-bridge login`, finds a live
// record and waits for that process instead of starting another sign-in
// or opening another tab, and shows the URL first shown. A record whose
// process is gone or whose deadline has passed is removed.

// agentCommand is the hidden subcommand of the sign-in process.
const agentCommand = "signin-agent"

// noAgentEnv, set to 1, keeps sign-ins in the bridge's own process.
const noAgentEnv = "MCP_BRIDGE_NO_SIGNIN_AGENT"

// agentSlack is how much longer than the login timeout a sign-in process
// may live: discovery and registration come before the wait for the user.
const agentSlack = 30 * time.Second

// agentStartGrace bounds how long a bridge waits for the sign-in process
// it started to write its record.
const agentStartGrace = 10 * time.Second

// A signInRecord is what a sign-in process tells the others, in
// KEY.signin.json.
type signInRecord struct {
	PID      int       `json:"pid"`
	Deadline time.Time `json:"deadline"`
	URL      string    `json:"url,omitempty"`    // the authorization URL, once known
	Port     int       `json:"port,omitempty"`   // of the redirect listener
	Opened   bool      `json:"opened,omitempty"` // a browser was opened with URL
	Log      string    `json:"log,omitempty"`    // where the process logs
	Done     bool      `json:"done,omitempty"`   // the process has ended, with Error
	Error    string    `json:"error,omitempty"`
}

// stale reports whether r's process can no longer complete its sign-in.
func (r *signInRecord) stale(now time.Time) bool {
	return r.Done || now.After(r.Deadline) || !processAlive(r.PID)
}

// recordPath returns where the sign-in record for key is kept, or "" for
// a store with nothing on disk.
func recordPath(store *credstore.Store, key string) string {
	dir := store.Tokens().Dir()
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "locks", key+".signin.json")
}

// readRecord reads the record at path: nil and no error if there is none,
// an error if it cannot be read or parsed (it may be being written).
func readRecord(path string) (*signInRecord, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r signInRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("sign-in record %s: %w", path, err)
	}
	return &r, nil
}

// writeRecord replaces the record at path.
func writeRecord(path string, r *signInRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

// claimRecord creates the record at path for this process, unless a live
// sign-in process has one: then it reports false. A stale record is
// removed first.
func claimRecord(path string, r *signInRecord) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	for range 3 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := f.Write(data)
			return true, errors.Join(werr, f.Close())
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		cur, rerr := readRecord(path)
		switch {
		case cur != nil && !cur.stale(time.Now()):
			return false, nil
		case cur == nil && rerr != nil && young(path):
			return false, nil // being written
		}
		os.Remove(path)
	}
	return false, errors.New("the sign-in record keeps changing")
}

// young reports whether the file at path was written moments ago.
func young(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && time.Since(fi.ModTime()) < agentStartGrace
}

// signInAgents is a [oauthclient.Config.SignInAgent]: it joins the sign-in
// process under way for the credentials, or, with spawn, starts one.
type signInAgents struct {
	args  []string // the command line the bridge was started with, for the sign-in process
	spawn bool     // start a sign-in process if none is under way (the bridge; login only joins)
	log   *slog.Logger

	// Set once the wiring is built, before any sign-in.
	store *credstore.Store
	key   string
}

// run implements [oauthclient.Config.SignInAgent].
func (a *signInAgents) run(ctx context.Context, shown func(url string, opened bool)) error {
	if a.store == nil || os.Getenv(noAgentEnv) == "1" {
		return oauthclient.ErrNoSignInAgent
	}
	path := recordPath(a.store, a.key)
	if path == "" {
		return oauthclient.ErrNoSignInAgent // a memory store: nothing another process could fill
	}
	rec, _ := readRecord(path)
	var exited <-chan struct{}
	var started time.Time
	logPath := ""
	switch {
	case rec != nil && !rec.stale(time.Now()):
		a.log.Info("another mcp-bridge process is signing in to this server; waiting for it", "pid", rec.PID, "until", rec.Deadline.Local().Format(time.TimeOnly))
	case !a.spawn:
		return oauthclient.ErrNoSignInAgent
	default:
		if rec != nil {
			os.Remove(path)
		}
		var err error
		if exited, logPath, err = a.start(); err != nil {
			a.log.Warn("starting the sign-in process failed; signing in in this one, which the host may end", tint.Err(err))
			return oauthclient.ErrNoSignInAgent
		}
		started = time.Now()
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	seen, told := false, false
	for {
		rec, err := readRecord(path)
		switch {
		case rec == nil && err == nil && !seen && exited != nil:
			select {
			case <-exited:
				return fmt.Errorf("the sign-in process exited before it began (its log: %s)", logPath)
			default:
			}
			if time.Since(started) > agentStartGrace {
				return fmt.Errorf("the sign-in process did not begin within %v (its log: %s)", agentStartGrace, logPath)
			}
		case rec == nil && err == nil:
			return nil // ended; its tokens are in the store
		case rec == nil:
			// Being written; or unreadable, which the deadline ends.
		case rec.Done:
			if rec.Error != "" {
				return errors.New(rec.Error)
			}
			return nil
		case rec.stale(time.Now()):
			os.Remove(path)
			return fmt.Errorf("the sign-in process %d ended without finishing (its log: %s)", rec.PID, rec.Log)
		default:
			seen = true
			if rec.URL != "" && !told {
				told = true
				shown(rec.URL, rec.Opened)
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// start starts a sign-in process, detached from this one. It returns a
// channel closed when that process exits (while this one lives) and the
// path of its log.
func (a *signInAgents) start() (<-chan struct{}, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil, "", err
	}
	dir = filepath.Join(dir, "mcp-bridge")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	logPath := filepath.Join(dir, "signin-"+a.key+".log")
	f, err := privfile.OpenAppend(logPath, "the sign-in log")
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	fmt.Fprintf(f, "\n%s: sign-in process for %d\n", time.Now().Format(time.RFC3339), os.Getpid())
	cmd := exec.Command(exe, append([]string{agentCommand}, a.args...)...)
	cmd.Stdout, cmd.Stderr = f, f // stdin: the null device, never the host's pipe
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	a.log.Info("started a sign-in process that outlives this one", "pid", cmd.Process.Pid, "log", logPath)
	exited := make(chan struct{})
	go func() {
		cmd.Wait() // no zombie while this process lives
		close(exited)
	}()
	return exited, logPath, nil
}

// agentRecord keeps a sign-in process's record up to date.
type agentRecord struct {
	path string
	log  *slog.Logger

	mu  sync.Mutex // guards rec
	rec signInRecord
}

// shown implements [oauthclient.Config.OnSignInURL]: the record gets the
// URL, for the processes that wait.
func (r *agentRecord) shown(authURL string, opened bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rec.URL, r.rec.Opened = authURL, opened
	if u, err := url.Parse(authURL); err == nil {
		if ru, err := url.Parse(u.Query().Get("redirect_uri")); err == nil {
			r.rec.Port, _ = strconv.Atoi(ru.Port())
		}
	}
	if err := writeRecord(r.path, &r.rec); err != nil {
		r.log.Warn("writing the sign-in record failed", tint.Err(err))
	}
}

// runSignInAgent is the sign-in process: `mcp-bridge signin-agent` with
// the bridge's own arguments. It signs in in the browser, saves the
// tokens, and exits.
func runSignInAgent(ctx context.Context, args []string, stderr io.Writer) int {
	rec := &agentRecord{}
	var timeout time.Duration
	c, code := parseServerCommandWith(agentCommand, args, nil, func(o *bridgeOptions) {
		o.auth.onSignInURL = rec.shown
		timeout = o.auth.loginTimeout
	}, nil, stderr)
	if c == nil {
		return code
	}
	defer c.close()
	rec.log = c.log
	rec.path = recordPath(c.store, c.handler.Key())
	if rec.path == "" {
		c.log.Error("the sign-in process needs a token store on disk")
		return exitUsage
	}
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	rec.rec = signInRecord{PID: os.Getpid(), Deadline: time.Now().Add(timeout + agentSlack)}
	if f, ok := stderr.(*os.File); ok {
		rec.rec.Log = f.Name()
	}
	ok, err := claimRecord(rec.path, &rec.rec)
	if err != nil {
		c.log.Error("claiming the sign-in record failed", tint.Err(err))
		return exitError
	}
	if !ok {
		c.log.Info("another sign-in process is under way for this server; leaving it to finish")
		return exitOK
	}
	ctx, cancel := context.WithDeadline(ctx, rec.rec.Deadline)
	defer cancel()
	c.log.Info("signing in", "server", c.url, "pid", os.Getpid())
	err = c.handler.Login(ctx)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err == nil {
		os.Remove(rec.path)
		c.log.Info("signed in; the bridges waiting for it go on")
		return exitOK
	}
	c.log.Error("sign-in failed", tint.Err(err))
	rec.rec.Done, rec.rec.Error = true, err.Error()
	if werr := writeRecord(rec.path, &rec.rec); werr != nil {
		os.Remove(rec.path)
	}
	return exitError
}
