package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/install"
	"github.com/mcp-bridge/mcp-bridge/internal/credstore"
	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// These tests run the real binary as a new user would in the first hour:
// status, doctor, install, login and the subcommands' help.

// runBinary runs mcp-bridge (this test binary) with args, its user
// directories in home, stdin empty and no browser, and returns what it
// printed and its exit code.
func runBinary(t *testing.T, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), append(homeEnv(home), "MCP_BRIDGE_TEST_AS_MAIN=1", "DISPLAY=", "WAYLAND_DISPLAY=", "BROWSER=")...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("mcp-bridge %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestStatusRegisteredNotSignedIn: a sign-in that registered a client and
// then failed leaves a client but no token; status says there is none
// rather than "no expiry".
func TestStatusRegisteredNotSignedIn(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	home := t.TempDir()
	// --login paste with nothing pasted fails right after registering.
	if _, stderr, code := runBinary(t, home, "login", demo.URL, "--token-store", "file", "--login", "paste"); code != exitError {
		t.Fatalf("login with nothing pasted: exit %d, want %d\n%s", code, exitError, stderr)
	}
	stdout, stderr, code := runBinary(t, home, "status", "--token-store", "file")
	if code != exitOK {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	s := regexp.MustCompile(`dcr-[A-Z0-9]+`).ReplaceAllString(stdout, "CLIENT")
	s = regexp.MustCompile(`  +`).ReplaceAllString(normalize(s, nil), "  ")
	golden(t, "commands/status-registered.txt", s)
}

// TestTokenText: a row says "none" only when the index says there is no
// token; a line from before the index recorded it keeps the expiry text.
func TestTokenText(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		e    credstore.Entry
		want string
	}{
		{credstore.Entry{AccessToken: new(false)}, "none (not signed in)"},
		{credstore.Entry{AccessToken: new(true)}, "no expiry"},
		{credstore.Entry{AccessToken: new(true), Expiry: now.Add(time.Minute)}, "expires in 1m0s"},
		{credstore.Entry{}, "no expiry"},
	} {
		if got := tokenText(tt.e, now); got != tt.want {
			t.Errorf("tokenText(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

// TestPlainHTTPOneRule: every command that takes a server URL applies the
// bridge's rule for plain http, and each refusal names --allow-http.
// (Before, login probed such a URL, doctor marked it ok and install wrote
// it; only the bridge refused it.)
func TestPlainHTTPOneRule(t *testing.T) {
	const url = "http://mcp.example.com/mcp"
	for _, args := range [][]string{
		{url},
		{"run", url},
		{"login", url},
		{"logout", url},
		{"doctor", url},
		{"install", "--host", "cursor", "--dry-run", url},
	} {
		t.Run(args[0], func(t *testing.T) {
			stdout, stderr, code := runBinary(t, t.TempDir(), append(args, "--token-store", "memory")...)
			if code != exitUsage || !strings.Contains(stderr, "plain http is only allowed to loopback addresses") || !strings.Contains(stderr, "--allow-http") {
				t.Errorf("exit %d, want %d with the --allow-http hint; stderr:\n%s", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
}

// TestDoctorNotMCP: a plain web page (a static file server: 200 text/html
// to the ping, no 401 challenge) fails doctor at the endpoint check, which
// says the URL does not answer as an MCP server. Before, every step was
// "ok" but the sign-in.
func TestDoctorNotMCP(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>Example</title><p>Welcome</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer web.Close()
	stdout, stderr, code := runBinary(t, t.TempDir(), "doctor", web.URL+"/", "--token-store", "memory")
	if code != exitError {
		t.Errorf("doctor against a web page: exit %d, want %d; stderr:\n%s", code, exitError, stderr)
	}
	golden(t, "doctor/web-page.txt", normalize(stdout, nil))
}

// TestDoctorOpenMCP: an MCP server that needs no sign-in (the demo's, over
// Streamable HTTP with SSE or JSON answers, or its HTTP+SSE endpoint)
// passes the endpoint check, and doctor finds nothing wrong.
func TestDoctorOpenMCP(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   *demoserver.Options
		legacy bool
	}{
		{"sse", &demoserver.Options{}, false},
		{"json", &demoserver.Options{JSONResponse: true}, false},
		{"legacy-sse", &demoserver.Options{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := demo(t, tt.opts)
			url := srv.MCPURL()
			if tt.legacy {
				url = srv.SSEURL()
			}
			stdout, stderr, code := runBinary(t, t.TempDir(), "doctor", url, "--token-store", "memory")
			if code != exitOK {
				t.Errorf("doctor against an MCP server that needs no sign-in: exit %d, want 0", code)
			}
			golden(t, "doctor/open-mcp-"+tt.name+".txt", normalize(stdout, nil))
			if t.Failed() {
				t.Logf("stderr:\n%s", stderr)
			}
		})
	}
}

// TestOwnWriteIsNoReload: a bridge that signs in itself is told of its own
// write to the store; it does not log that the stored credentials changed
// (it did, at info level, in every single-process run).
func TestOwnWriteIsNoReload(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridge(t, demo.URL, "--browser-command", approver(), "--token-store", "file")
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if m := h.recvMsg(); m.Error != nil {
		t.Fatalf("tools/list after the sign-in: %s", m.Error.Message)
	}
	h.waitStderr("the stored credentials", 1) // changed (before), or were written (now)
	if strings.Contains(h.stderr.String(), "the stored credentials changed") {
		t.Errorf("the bridge logged its own write as a change:\n%s", h.stderr.String())
	}
}

// TestKeychainWarningOnce: where no keychain answers, migrating two
// entries (a store each) warns once, briefly, and points at doctor, which
// says what to do. Before, the 330-character warning came once per entry.
func TestKeychainWarningOnce(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only on Linux can the test make the keychain (Secret Service) unreachable")
	}
	a, b := migrateDemo(t), migrateDemo(t)
	home, env, ienv := migrateHome(t)
	env = append(env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(home, "no-bus"))
	dir := mcpRemoteDir(home)
	writeMCPRemoteFiles(t, dir, mcpRemoteKey(t, a.URL), "dyn-a")
	writeMCPRemoteFiles(t, dir, mcpRemoteKey(t, b.URL), "dyn-b")
	writeHostConfig(t, ienv, "cursor", `{"mcpServers": {
  "a": {"command": "npx", "args": ["-y", "mcp-remote", "`+a.URL+`"]},
  "b": {"command": "npx", "args": ["-y", "mcp-remote", "`+b.URL+`"]}
}}`)
	out, errOut, code := runMigrateBinary(t, env, "migrate")
	if code != 0 || strings.Count(out, "moved into the token store") != 2 {
		t.Fatalf("migrate: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var warnings []string
	for line := range strings.Lines(errOut) {
		if strings.Contains(line, "keychain") {
			warnings = append(warnings, line)
		}
	}
	// Short: the message itself, without the time and the directory.
	if msg, _, _ := strings.Cut(strings.Join(warnings, ""), " dir="); len(warnings) != 1 || !strings.Contains(msg, "`mcp-bridge doctor` explains") || len(msg) > 140 {
		t.Errorf("keychain warnings: %q, want one short one that points at doctor", warnings)
	}

	stdout, _, _ := runMigrateBinary(t, append(env, "MCP_BRIDGE_TEST_AS_MAIN=1"), "doctor", a.URL)
	if !strings.Contains(stdout, "no OS keychain reachable") || !strings.Contains(stdout, "--token-store file") {
		t.Errorf("doctor does not explain the missing keychain:\n%s", stdout)
	}
}

// loginHintRE finds the sign-in command in an error a host is shown.
var loginHintRE = regexp.MustCompile("run `mcp-bridge login ([^`]*)` in a terminal")

// TestLoginHintHasNoURL: where no browser opens, the host's error names
// the sign-in command with the server's name, not its URL (Claude Code
// shows `mcp-bridge login [redacted]` for a URL), and that command signs
// in: by the name install would give, found in the token store or in a
// host's config, or by the host entry's own name.
func TestLoginHintHasNoURL(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	for _, tt := range []struct {
		name  string
		entry bool // a host's config has an mcp-bridge entry "work" for the server
		login func(hint string) string
	}{
		{"hint, from the token store", false, func(hint string) string { return hint }},
		{"hint, from a host entry", true, func(hint string) string { return hint }},
		{"host entry name", true, func(string) string { return "work" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if tt.entry {
				// The entry says which store, so the login needs no flag.
				writeHostConfig(t, install.Env{GOOS: runtime.GOOS, Home: home, Getenv: envLookup(homeEnv(home))}, "cursor",
					`{"mcpServers": {"work": {"command": "`+os.Args[0]+`", "args": ["`+demo.URL+`", "--token-store", "file"]}}}`)
			}
			// With an entry, the bridge keeps nothing: the login can find
			// the server only in the host's config.
			store := map[bool]string{false: "file", true: "memory"}[tt.entry]
			h := startBridgeEnv(t, append(homeEnv(home), "DISPLAY=", "WAYLAND_DISPLAY=", "BROWSER="),
				demo.URL, "--token-store", store, "--login-timeout", "2s")
			h.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
			m := h.recvMsg()
			if m.Error == nil {
				t.Fatalf("initialize without a browser: %+v, want the sign-in error", m)
			}
			found := loginHintRE.FindStringSubmatch(m.Error.Message)
			if found == nil || strings.Contains(found[1], "://") || strings.Contains(found[1], "127.0.0.1") {
				t.Fatalf("the error's login command: %q, want one with no URL in\n%s", found, m.Error.Message)
			}
			args := []string{"login", tt.login(found[1]), "--browser-command", approver()}
			if !tt.entry {
				args = append(args, "--token-store", "file")
			}
			stdout, stderr, code := runBinary(t, home, args...)
			if code != exitOK || !strings.Contains(stdout, "Signed in to "+demo.URL) {
				t.Errorf("mcp-bridge %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
			}
		})
	}
}

// TestLoginFailureSaidOnce: a failed sign-in from `mcp-bridge login` is
// reported once, with its cause. It was logged twice: by the sign-in
// itself (oauthclient, for the bridge's background sign-ins) and by the
// login command that received the same error.
func TestLoginFailureSaidOnce(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	// --login paste with nothing pasted fails right after registering.
	_, stderr, code := runBinary(t, t.TempDir(), "login", demo.URL, "--token-store", "file", "--login", "paste")
	if code != exitError {
		t.Fatalf("login with nothing pasted: exit %d, want %d\n%s", code, exitError, stderr)
	}
	if n := strings.Count(stderr, "sign-in failed"); n != 1 {
		t.Errorf("stderr says %q %d times, want once:\n%s", "sign-in failed", n, stderr)
	}
	if !regexp.MustCompile(`sign-in failed.*err=.*\S`).MatchString(stderr) {
		t.Errorf("stderr does not give the cause with %q:\n%s", "sign-in failed", stderr)
	}
}
