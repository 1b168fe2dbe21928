package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// These tests run the real binary as hosts do when they lose patience
// with a sign-in (issue 12, "Hosts give up long before a person signs
// in"): the host kills the bridge, or must be answered before the user
// has signed in.

// agentEnv is the environment of a host's bridges that share one user's
// directories under home, with the sign-in process allowed.
func agentEnv(home string) []string {
	return append(homeEnv(home), "MCP_BRIDGE_TEST_AS_MAIN=1", noAgentEnv+"=")
}

// waitRecord waits until a sign-in process has written a record with the
// authorization URL under home, and returns it with its path.
func waitRecord(t *testing.T, home string) (*signInRecord, string) {
	t.Helper()
	deadline := time.Now().Add(recvTimeout)
	for {
		if path := findRecord(home); path != "" {
			if rec, err := readRecord(path); err == nil && rec != nil && rec.URL != "" {
				return rec, path
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sign-in process recorded an authorization URL under %s within %v", home, recvTimeout)
		}
		time.Sleep(20 * time.Millisecond) // polling the file system: the record is the event
	}
}

// findRecord returns the path of a sign-in record under home, or "".
func findRecord(home string) string {
	var path string
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".signin.json") && filepath.Base(filepath.Dir(p)) == "locks" {
			path = p
		}
		return nil
	})
	return path
}

// waitGone waits until the file at path is removed.
func waitGone(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(recvTimeout); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sign-in record %s is still there after %v", path, recvTimeout)
		}
	}
}

// TestSignInOutlivesKilledBridge: a host that gives up on initialize kills
// the bridge while the sign-in waits for the user; the sign-in process it
// started keeps the listener, so the URL first shown still completes the
// sign-in, and the host's next start waits for that sign-in instead of
// opening another tab. Before the sign-in process, the listener died with
// the bridge and the next start opened a new tab.
func TestSignInOutlivesKilledBridge(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	home := t.TempDir()
	env := agentEnv(home)

	// The first bridge's browser "opens" the page and leaves it to the
	// user, who comes to it only after the host has given up.
	first := startBridgeEnv(t, env, demo.URL, "--token-store", "file", "--browser-command", "true")
	first.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test-host","version":"1.0"}}}`)
	rec, path := waitRecord(t, home)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	if !processAlive(rec.PID) {
		t.Fatalf("the sign-in process %d ended with the bridge that started it", rec.PID)
	}

	// The host starts the bridge again. Its browser would approve at once:
	// a second sign-in would show as a second authorization request.
	second := startBridgeEnv(t, env, demo.URL, "--token-store", "file", "--browser-command", approver())
	second.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test-host","version":"1.0"}}}`)
	second.waitStderr("another mcp-bridge process is signing in to this server; waiting for it", 1)

	// The user opens the URL the first start showed.
	var browser oauthtest.Browser
	if err := browser.Visit(t.Context(), rec.URL); err != nil {
		t.Fatalf("the URL first shown, opened after the bridge was killed: %v", err)
	}
	if m := second.recvMsg(); string(m.ID) != "0" || m.Error != nil {
		t.Fatalf("initialize after the sign-in: %+v", m)
	}
	second.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	second.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"after the kill"}}}`)
	if m := second.recvMsg(); m.Error != nil || !strings.Contains(string(m.Result), "after the kill") {
		t.Errorf("tools/call: %+v", m)
	}
	waitGone(t, path)
	st := demo.AuthServer.Stats()
	if st.AuthorizationRequests != 1 || st.Consents != 1 || st.TokenRequests["authorization_code"] != 1 {
		t.Errorf("%d authorization requests, %d consents and %d code exchanges, want one sign-in", st.AuthorizationRequests, st.Consents, st.TokenRequests["authorization_code"])
	}
	if strings.Contains(second.stderr.String(), "started a sign-in process") {
		t.Errorf("the second start started a sign-in process of its own:\n%s", second.stderr.String())
	}
}

// cachedSignedOut runs one session of a host against a new protected
// demo server, so that the bridge has the server's InitializeResult in
// its cache (checked to hold no secret), then signs out. It returns the
// server, the user's home and the bridges' environment.
func cachedSignedOut(t *testing.T) (*oauthtest.ProtectedDemo, string, []string) {
	t.Helper()
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	home := t.TempDir()
	env := agentEnv(home)

	first := startBridgeEnv(t, env, demo.URL, "--token-store", "file", "--browser-command", approver())
	signedInCall(t, first, "first session")
	first.closeAndWait()
	cacheFile := filepath.Join(home, "cache", "mcp-bridge", "transports.json")
	data, err := os.ReadFile(cacheFile)
	if err != nil || !strings.Contains(string(data), `"initialize `+demo.URL) {
		t.Fatalf("after a session the cache %s holds no initialize result (%v):\n%s", cacheFile, err, data)
	}
	if n := len(issuedSecrets(data)); n > 0 {
		t.Errorf("the cache holds %d secret(s) issued by the authorization server", n)
	}
	logout := exec.Command(os.Args[0], "logout", demo.URL, "--token-store", "file")
	logout.Env = append(os.Environ(), env...)
	if out, err := logout.CombinedOutput(); err != nil {
		t.Fatalf("logout: %v\n%s", err, out)
	}
	return demo, home, env
}

// TestInitializeFromCacheWhileSigningIn: the host started a session once,
// so the bridge has the server's InitializeResult in its cache; signed out
// and started again, it answers initialize from that cache within the
// patience of every host measured (gemini's 5 s) while the sign-in waits
// for the user, with listChanged declared. The host's tools/list waits;
// once the user signs in (the fake browser opens the URL the sign-in
// process recorded) it succeeds and the host is told to list again.
// Before, initialize was held until the sign-in and the host killed the
// bridge.
func TestInitializeFromCacheWhileSigningIn(t *testing.T) {
	demo, home, env := cachedSignedOut(t)
	h := startBridgeEnv(t, env, demo.URL, "--token-store", "file", "--browser-command", "true")
	start := time.Now()
	h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test-host","version":"1.0"}}}`)
	m := h.recvMsg()
	took := time.Since(start)
	if string(m.ID) != "0" || m.Error != nil {
		t.Fatalf("initialize while signing in: %+v", m)
	}
	t.Logf("initialize answered from the cache after %v", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("initialize answered after %v, past the 5 s the least patient host waits", took)
	}
	var res struct {
		Capabilities map[string]struct {
			ListChanged bool `json:"listChanged"`
		} `json:"capabilities"`
	}
	json.Unmarshal(m.Result, &res)
	var declared []string
	for _, name := range []string{"tools", "prompts", "resources"} {
		if c, ok := res.Capabilities[name]; ok {
			if !c.ListChanged {
				t.Errorf("the cached answer declares %s without listChanged: %s", name, m.Result)
			}
			declared = append(declared, "notifications/"+name+"/list_changed")
		}
	}
	if len(declared) == 0 || declared[0] != "notifications/tools/list_changed" {
		t.Fatalf("the cached answer declares no tools: %s", m.Result)
	}
	if st := demo.AuthServer.Stats(); st.Consents != 1 {
		t.Fatalf("initialize answered after %d consents, want it answered before the sign-in", st.Consents)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)

	rec, _ := waitRecord(t, home)
	var browser oauthtest.Browser
	if err := browser.Visit(t.Context(), rec.URL); err != nil {
		t.Fatalf("signing in at %s: %v", rec.URL, err)
	}
	var notes []string
	listed := false
	for !listed || len(notes) < len(declared) {
		m := h.recvMsg()
		switch {
		case m.Method != "":
			notes = append(notes, m.Method)
		case string(m.ID) == "1":
			if m.Error != nil || !strings.Contains(string(m.Result), `"echo"`) {
				t.Fatalf("tools/list after the sign-in: %+v", m)
			}
			listed = true
		default:
			t.Fatalf("the host got %+v, want list_changed notifications and the answer to tools/list", m)
		}
	}
	if diff := cmp.Diff(declared, notes); diff != "" {
		t.Errorf("notifications after the sign-in (-want +got):\n%s", diff)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"signed in"}}}`)
	if m := h.recvMsg(); m.Error != nil || !strings.Contains(string(m.Result), "signed in") {
		t.Errorf("tools/call after the sign-in: %+v", m)
	}
	if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 2 || st.Consents != 2 {
		t.Errorf("%d authorization requests and %d consents, want 2 sign-ins", st.AuthorizationRequests, st.Consents)
	}
}

// TestAgentSignIn: a bridge that needs a browser sign-in hands it to a
// sign-in process of its own, which opens the browser, saves the tokens,
// removes its record and exits; the bridge takes up the tokens and answers
// the host's initialize. With MCP_BRIDGE_NO_SIGNIN_AGENT=1 the bridge
// signs in itself.
func TestAgentSignIn(t *testing.T) {
	for _, agent := range []bool{true, false} {
		t.Run(map[bool]string{true: "sign-in process", false: "in the bridge"}[agent], func(t *testing.T) {
			demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(demo.Close)
			home := t.TempDir()
			env := agentEnv(home)
			if !agent {
				env = append(env, noAgentEnv+"=1")
			}
			h := startBridgeEnv(t, env, demo.URL, "--token-store", "file", "--browser-command", approver())
			signedInCall(t, h, "signed in")
			stderr := h.stderr.String()
			started := agentStarted.FindStringSubmatch(stderr)
			if agent != (started != nil) || agent != strings.Contains(stderr, "signed in by the sign-in process") {
				t.Fatalf("sign-in process wanted: %v; the bridge's log:\n%s", agent, stderr)
			}
			if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 1 || st.Consents != 1 {
				t.Errorf("%d authorization requests and %d consents, want 1 and 1", st.AuthorizationRequests, st.Consents)
			}
			if !agent {
				return
			}
			logs, _ := filepath.Glob(filepath.Join(home, "cache", "mcp-bridge", "signin-*.log"))
			if len(logs) != 1 {
				t.Fatalf("sign-in process logs %q, want one", logs)
			}
			data, _ := os.ReadFile(logs[0])
			if !strings.Contains(string(data), "signed in; the bridges waiting for it go on") {
				t.Errorf("the sign-in process's log does not say it signed in:\n%s", data)
			}
			if n := len(issuedSecrets(data)); n > 0 {
				t.Errorf("the sign-in process's log holds %d secret(s) issued by the authorization server", n)
			}
			if path := findRecord(home); path != "" {
				t.Errorf("the sign-in record %s is left behind", path)
			}
			pid, _ := strconv.Atoi(started[1])
			for deadline := time.Now().Add(recvTimeout); processAlive(pid); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the sign-in process %d still runs after its sign-in", pid)
				}
			}
		})
	}
}

// TestInitializeFromCacheNoBrowser: signed out, with the server's
// InitializeResult cached and no browser that opens, the real binary
// answers initialize from the cache, and the host's next request at once
// with the sign-in URL the sign-in process keeps and a login command with
// no URL in it (hosts redact those); the URL opened by hand signs in, and
// the host is told to list again.
func TestInitializeFromCacheNoBrowser(t *testing.T) {
	demo, home, env := cachedSignedOut(t)
	// No graphical session and no $BROWSER: no browser opens (as with a
	// --browser-command that fails, TestLoginBrowserCommandFails).
	h := startBridgeEnv(t, append(env, "DISPLAY=", "WAYLAND_DISPLAY=", "BROWSER="), demo.URL, "--token-store", "file")
	h.initialize("2025-11-25", `{}`)
	start := time.Now()
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	m := h.recvMsg()
	took := time.Since(start)
	t.Logf("tools/list answered with the sign-in error after %v", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("tools/list answered after %v; with no browser the host should learn the URL at once", took)
	}
	rec, _ := waitRecord(t, home)
	if string(m.ID) != "1" || m.Error == nil || !strings.Contains(m.Error.Message, rec.URL) {
		t.Fatalf("tools/list with no browser: %+v, want an error with the URL %s", m, rec.URL)
	}
	if found := loginHintRE.FindStringSubmatch(m.Error.Message); found == nil || strings.Contains(found[1], "://") {
		t.Errorf("the error's login command: %q, want one with no URL in\n%s", found, m.Error.Message)
	}
	var browser oauthtest.Browser
	if err := browser.Visit(t.Context(), rec.URL); err != nil {
		t.Fatalf("signing in at %s by hand: %v", rec.URL, err)
	}
	if m := h.recvMsg(); m.Method != "notifications/tools/list_changed" {
		t.Fatalf("after the sign-in the host got %+v, want notifications/tools/list_changed", m)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	for {
		m := h.recvMsg()
		if m.Method != "" {
			continue // the other list_changed notifications
		}
		if string(m.ID) != "2" || m.Error != nil || !strings.Contains(string(m.Result), `"echo"`) {
			t.Errorf("tools/list after the sign-in: %+v", m)
		}
		break
	}
}
