package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// These tests run `mcp-bridge login` as the real binary in the settings
// where users sign in without a desktop: a dev container or VS Code Remote
// ($BROWSER set, no DISPLAY), and SSH (no browser at all).

// headlessEnv is the environment of a machine with no graphical session
// and no $BROWSER, plus extra.
func headlessEnv(t *testing.T, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "WSL_DISTRO_NAME", "WSL_INTEROP":
		default:
			env = append(env, kv)
		}
	}
	env = append(env, homeEnv(t.TempDir())...)
	return append(append(env, "MCP_BRIDGE_TEST_AS_MAIN=1"), extra...)
}

// TestLoginWithBrowserVariable: with no DISPLAY, the bridge opens the
// sign-in with the command $BROWSER names, as VS Code Remote and dev
// containers set it, and the sign-in completes.
func TestLoginWithBrowserVariable(t *testing.T) {
	if strings.ContainsAny(os.Args[0], " \t") {
		t.Fatalf("the test binary's path %q has a space, which $BROWSER cannot hold with %%s", os.Args[0])
	}
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "login", demo.URL, "--token-store", "file", "--login-timeout", "20s")
	cmd.Env = headlessEnv(t, "BROWSER="+os.Args[0]+" demo approve %s")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("login with $BROWSER and no DISPLAY: %v\n%s", err, out)
	}
	if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 1 {
		t.Errorf("%d authorization requests, want 1", st.AuthorizationRequests)
	}
}

// TestLoginNoBrowserPrintsURL: where no browser can open, login prints the
// sign-in URL at once; opened by hand (here by the approving browser),
// it completes the sign-in.
func TestLoginNoBrowserPrintsURL(t *testing.T) {
	loginByHand(t)
}

// TestLoginBrowserCommandFails: a --browser-command that exits with an
// error has opened nothing: login says so and prints the sign-in URL at
// once, as with no browser at all; opened by hand, it completes the
// sign-in. Before, the command counted as opened once started, and login
// printed no URL and waited for the login timeout.
func TestLoginBrowserCommandFails(t *testing.T) {
	seen, took := loginByHand(t, "--browser-command", "false")
	if took > time.Second {
		t.Errorf("login printed the sign-in URL %v after it ran the browser command, want within a second", took)
	}
	if !slices.ContainsFunc(seen, func(l string) bool {
		return strings.HasPrefix(l, "No browser could be opened here") && strings.Contains(l, "false")
	}) {
		t.Errorf("login does not say the browser command failed:\n%s", strings.Join(seen, "\n"))
	}
}

// loginByHand runs login with args on a machine with no graphical session
// and no $BROWSER, waits for it to print the sign-in URL, opens that with
// the approving browser and checks that login completes. It returns the
// lines login wrote until the URL, and how long after it set out to open
// the browser the URL came.
func loginByHand(t *testing.T, args ...string) (seen []string, took time.Duration) {
	t.Helper()
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	env := headlessEnv(t)
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"login", demo.URL, "--token-store", "file", "--login-timeout", "20s"}, args...)...)
	cmd.Env = env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var url string
	var opening time.Time // when login set out to open the browser
	sc := bufio.NewScanner(stderr)
	for url == "" && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		seen = append(seen, line)
		switch {
		case strings.Contains(line, "opening the browser to sign in"):
			opening = time.Now()
		case strings.HasPrefix(line, "http") && strings.Contains(line, "code_challenge="):
			url = line
		}
	}
	if url == "" || opening.IsZero() {
		cmd.Wait()
		t.Fatalf("login never printed the sign-in URL:\n%s", strings.Join(seen, "\n"))
	}
	took = time.Since(opening)
	t.Logf("login printed the sign-in URL %v after it set out to open the browser", took.Round(time.Millisecond))
	go func() {
		for sc.Scan() {
		}
	}()
	approve := exec.CommandContext(ctx, os.Args[0], "demo", "approve", url)
	approve.Env = env
	if out, err := approve.CombinedOutput(); err != nil {
		t.Fatalf("opening the printed URL: %v\n%s", err, out)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("login after the URL was opened by hand: %v", err)
	}
	return seen, took
}

// The sign-in's notice is one a host can be shown as a URL elicitation.
var _ bridge.PendingSignIn = (*oauthclient.LoginRequiredError)(nil)
