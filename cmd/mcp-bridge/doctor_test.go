package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// ports replaces loopback ports, which change from run to run.
var ports = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// normalize makes command output comparable across runs.
func normalize(s string, names map[string]string) string {
	for from, to := range names {
		s = strings.ReplaceAll(s, from, to)
	}
	s = ports.ReplaceAllString(s, "127.0.0.1:PORT")
	return s
}

// TestDoctorGolden runs `mcp-bridge doctor` against a healthy protected
// server and against each hostile or broken one: each names the failing
// step and what to do.
func TestDoctorGolden(t *testing.T) {
	tests := []struct {
		name string
		as   *oauthtest.ASOptions
		res  *oauthtest.ResourceOptions
		args []string
		code int
	}{
		{name: "healthy-not-signed-in", code: exitError},
		{name: "issuer-mismatch", as: &oauthtest.ASOptions{MetadataIssuer: "https://other.example"}, code: exitError},
		{name: "resource-mismatch", res: &oauthtest.ResourceOptions{MetadataResource: "https://evil.example.com/mcp"}, code: exitError},
		{name: "no-pkce", as: &oauthtest.ASOptions{OmitCodeChallengeMethods: true}, code: exitError},
		{name: "plain-pkce", as: &oauthtest.ASOptions{CodeChallengeMethods: []string{"plain"}}, code: exitError},
		{name: "http-endpoints", as: &oauthtest.ASOptions{EndpointBase: "http://auth.example.com"}, code: exitError},
		{name: "javascript-endpoint", as: &oauthtest.ASOptions{EndpointBase: "javascript:alert(1)//"}, code: exitError},
		{name: "no-registration", as: &oauthtest.ASOptions{NoDCR: true}, code: exitError},
		{name: "no-metadata-at-all", as: &oauthtest.ASOptions{NoOAuthMetadata: true, NoOpenIDConfiguration: true}, code: exitError},
		// The issuer binding of a configured client (issue 11).
		{name: "client-pinned-elsewhere", args: []string{"--client-id", "app", "--issuer", "https://login.example.com"}, code: exitError},
		{name: "client-pinned", args: []string{"--client-id", "app", "--issuer", "ISSUER"}, code: exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: tt.as, Resource: tt.res})
			if err != nil {
				t.Fatal(err)
			}
			defer demo.Close()
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			args := append([]string{"doctor", demo.URL, "--token-store", "memory"}, tt.args...)
			for i, a := range args {
				if a == "ISSUER" {
					args[i] = demo.AuthServer.Issuer()
				}
			}
			code := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			golden(t, "doctor/"+tt.name+".txt", normalize(stdout.String(), nil))
		})
	}
}

// TestDoctorUnreachable covers the first step: nothing listens.
func TestDoctorUnreachable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"doctor", "http://127.0.0.1:1/mcp", "--token-store", "memory"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitError || !strings.Contains(stdout.String(), "FAIL  reach the server") || !strings.Contains(stdout.String(), "connection refused") {
		t.Errorf("exit %d, output:\n%s", code, stdout.String())
	}
}

// terminalWorld points the user's directories at a new home, for the
// commands run in this process and the browser commands they start (this
// binary, as `mcp-bridge demo approve`), and starts a protected demo
// server.
func terminalWorld(t *testing.T) (home string, demo *oauthtest.ProtectedDemo) {
	t.Helper()
	home = t.TempDir()
	for _, kv := range homeEnv(home) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("MCP_BRIDGE_TEST_AS_MAIN", "1") // the browser command is this binary
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	return home, demo
}

// TestLoginDoctorLogout goes through the terminal commands against a
// protected server: login (the browser is the demo's approving one),
// doctor once signed in, logout (revoked at the server), logout again.
func TestLoginDoctorLogout(t *testing.T) {
	home, demo := terminalWorld(t)
	browser := `"` + os.Args[0] + `" demo approve`
	step := func(args ...string) (string, int) {
		// stderr is shared with the browser command's output, which
		// os/exec copies from another goroutine.
		var stdout bytes.Buffer
		var stderr lockedBuffer
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		// The file store: the output must not depend on whether this
		// machine has a keychain.
		code := run(ctx, append(args, demo.URL, "--browser-command", browser, "--token-store", "file"), strings.NewReader(""), &stdout, &stderr)
		if t.Failed() {
			t.Logf("stderr: %s", stderr.String())
		}
		return stdout.String(), code
	}
	expires := regexp.MustCompile(`expires  .*\n`)
	clientID := regexp.MustCompile(`dcr-[A-Z0-9]+`)
	clean := func(s string) string {
		s = expires.ReplaceAllString(s, "expires  TIME\n")
		s = clientID.ReplaceAllString(s, "CLIENT")
		s = regexp.MustCompile(`expires in [0-9hms.]+`).ReplaceAllString(s, "expires in DURATION")
		s = regexp.MustCompile(`[0-9a-f]{32}`).ReplaceAllString(s, "KEY")
		return normalize(s, map[string]string{home: "HOME"})
	}

	out, code := step("login")
	if code != exitOK {
		t.Fatalf("login: exit %d\n%s", code, out)
	}
	golden(t, "commands/login.txt", clean(out))

	status := func(args ...string) string {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), append([]string{"status", "--token-store", "file"}, args...), strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Errorf("status: exit %d: %s", code, stderr.String())
		}
		s := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`).ReplaceAllString(stdout.String(), "DATE TIME")
		s = regexp.MustCompile(`"(expiry|last_refresh)": "[^"]+"`).ReplaceAllString(s, `"$1": "TIME"`)
		s = strings.ReplaceAll(s, home, "HOME")
		s = regexp.MustCompile(`[0-9a-f]{32}`).ReplaceAllString(s, "KEY")
		// Column widths follow the real values, which vary.
		s = regexp.MustCompile(`  +`).ReplaceAllString(clean(s), "  ")
		return s
	}
	golden(t, "commands/status.txt", status())
	golden(t, "commands/status.json", status("--json"))

	out, code = step("doctor")
	if code != exitOK {
		t.Errorf("doctor after login: exit %d", code)
	}
	golden(t, "commands/doctor-signed-in.txt", clean(out))

	out, code = step("logout")
	if code != exitOK || demo.AuthServer.Stats().Revocations == 0 {
		t.Errorf("logout: exit %d, %d revocations", code, demo.AuthServer.Stats().Revocations)
	}
	golden(t, "commands/logout.txt", clean(out))

	out, _ = step("logout")
	golden(t, "commands/logout-again.txt", clean(out))
	golden(t, "commands/status-none.txt", status())

	// logout --all signs out of every server.
	if _, code := step("login"); code != exitOK {
		t.Fatal("second login failed")
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"logout", "--all", "--token-store", "file"}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
		t.Errorf("logout --all: exit %d: %s", code, stderr.String())
	}
	golden(t, "commands/logout-all.txt", clean(stdout.String()))
	golden(t, "commands/status-none.txt", status())
}
