package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// These tests run several real bridge processes against one protected
// server, sharing one user's token store, as hosts do when they start two
// or three instances of the same config entry.

// approver is the --browser-command that approves the consent page: this
// test binary acting as `mcp-bridge demo approve`.
func approver() string { return `"` + os.Args[0] + `" demo approve` }

// signedInCall initializes and makes one tools/call through h.
func signedInCall(t *testing.T, h *testHost, text string) {
	t.Helper()
	h.initialize("2025-11-25", `{}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + text + `"}}}`)
	if m := h.recvMsg(); m.Error != nil || !strings.Contains(string(m.Result), text) {
		t.Errorf("tools/call: %+v", m)
	}
}

// TestThreeBridgesSignInOnce starts three bridges at once for the same
// server: one authorization request reaches the server, one client is
// registered, and all three serve calls.
func TestThreeBridgesSignInOnce(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	env := append(homeEnv(t.TempDir()), "MCP_BRIDGE_TEST_AS_MAIN=1")
	var hosts []*testHost
	for range 3 {
		hosts = append(hosts, startBridgeEnv(t, env, demo.URL, "--browser-command", approver()))
	}
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() { signedInCall(t, h, fmt.Sprint("bridge ", i)) })
	}
	wg.Wait()
	st := demo.AuthServer.Stats()
	if st.AuthorizationRequests != 1 || st.Registrations != 1 {
		t.Errorf("%d authorization requests and %d registrations for three bridges, want 1 and 1", st.AuthorizationRequests, st.Registrations)
	}
}

// TestSecondStartNeedsNoBrowser: after one bridge signed in, the next
// start uses the kept credentials; its browser command would fail the
// test.
func TestSecondStartNeedsNoBrowser(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	env := append(homeEnv(t.TempDir()), "MCP_BRIDGE_TEST_AS_MAIN=1")
	first := startBridgeEnv(t, env, demo.URL, "--browser-command", approver())
	signedInCall(t, first, "first")
	first.closeAndWait()

	// A browser command that fails: if the bridge tried to sign in, the
	// call would get an error instead of an answer.
	second := startBridgeEnv(t, env, demo.URL, "--browser-command", "false", "--login-timeout", "5s")
	signedInCall(t, second, "second")
	if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 1 {
		t.Errorf("%d authorization requests, want 1", st.AuthorizationRequests)
	}
}

// TestKilledDuringRefresh kills a bridge with SIGKILL at several points of
// a refresh that rotates the refresh token, and checks that the next start
// needs no new sign-in. The authorization server keeps a rotated refresh
// token usable for a grace period, as Auth0, Okta and others do: killed
// after the server rotated the token but before it could save the new
// one, the bridge has no other way to keep the user signed in.
func TestKilledDuringRefresh(t *testing.T) {
	for _, point := range []string{"before the answer", "after the answer", "idle"} {
		t.Run(point, func(t *testing.T) {
			clock := oauthtest.NewClock()
			refreshing := make(chan struct{}, 1)
			release := make(chan struct{})
			issued := make(chan struct{}, 1)
			var held atomic.Bool // only the killed bridge's refresh is held
			demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
				Now:             clock.Now,
				AccessTokenTTL:  time.Hour,
				RefreshTokenTTL: 30 * 24 * time.Hour,
				RefreshGrace:    time.Minute,
				BeforeTokenResponse: func(grant string) {
					if grant == "refresh_token" && point == "before the answer" {
						if held.CompareAndSwap(false, true) {
							refreshing <- struct{}{}
							<-release
						}
					}
				},
				OnEvent: func(e oauthtest.Event) {
					if e.Kind == oauthtest.EventTokenIssued && e.GrantType == "refresh_token" {
						select {
						case issued <- struct{}{}:
						default:
						}
					}
				},
			}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(demo.Close)
			defer close(release)
			env := append(homeEnv(t.TempDir()), "MCP_BRIDGE_TEST_AS_MAIN=1")
			h := startBridgeEnv(t, env, demo.URL, "--browser-command", approver())
			signedInCall(t, h, "before")

			// The server's clock moves past the access token's hour: the
			// next call is refused, and the bridge refreshes.
			clock.Advance(61 * time.Minute)
			switch point {
			case "before the answer":
				h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
				<-refreshing // the server has rotated the token and not answered
			case "after the answer":
				h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
				<-issued // the answer is on its way; the bridge may not have saved it
			}
			h.cmd.Process.Signal(syscall.SIGKILL)
			<-h.exited

			before := demo.AuthServer.Stats().AuthorizationRequests
			next := startBridgeEnv(t, env, demo.URL, "--browser-command", "false", "--login-timeout", "5s")
			signedInCall(t, next, "after")
			if n := demo.AuthServer.Stats().AuthorizationRequests; n != before {
				t.Errorf("the next start signed in again (%d authorization requests, was %d)", n, before)
			}
		})
	}
}

// TestPicksUpOtherProcessesCredentials: a running bridge uses the tokens
// `mcp-bridge login` saved in a terminal without drawing a 401 first, and
// stops sending the tokens `mcp-bridge logout` removed.
func TestPicksUpOtherProcessesCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string // "METHOD bearer|bare" of every MCP request
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{Server: &demoserver.Options{
		Observe: func(r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			auth := "bare"
			if r.Header.Get("Authorization") != "" {
				auth = "bearer"
			}
			seen = append(seen, r.Method+" "+auth)
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	home := t.TempDir()
	env := append(homeEnv(home), "MCP_BRIDGE_TEST_AS_MAIN=1")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
	terminal := func(args ...string) {
		var stdout, stderr lockedBuffer
		if code := run(t.Context(), append(args, demo.URL, "--browser-command", approver()), strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
	}

	// The bridge starts signed out, with no browser, and is idle.
	h := startBridgeEnv(t, env, demo.URL, "--browser-command", "false", "--login-timeout", "2s")
	terminal("login")
	// The bridge's notice of the write of the tokens: "reloaded", or, when
	// its start-up read of the store already found them, "those in use".
	// The login writes the registration first, which may have a notice of
	// its own (signed_in=false).
	h.waitStderr("signed_in=true", 1)
	h.initialize("2025-11-25", `{}`)
	if got := requests(); len(got) == 0 || got[0] != "POST bearer" {
		t.Errorf("after a login in a terminal, the bridge's first request was %q, want it to carry the token", got)
	}

	// A round trip: the bridge has sent notifications/initialized.
	h.send(`{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	h.recvMsg()

	reloads := strings.Count(h.stderr.String(), "reloaded")
	terminal("logout")
	h.waitStderr("reloaded", reloads+1)
	refreshes := demo.AuthServer.Stats().TokenRequests["refresh_token"]
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	h.recvMsg() // an error: signed out, and no browser
	// Had the bridge kept the revoked tokens, the server's 401 would have
	// made it try the revoked refresh token.
	if n := demo.AuthServer.Stats().TokenRequests["refresh_token"]; n != refreshes {
		t.Errorf("after logout the bridge tried a refresh token it no longer has (%d refresh requests, was %d)", n, refreshes)
	}
	if !strings.Contains(h.stderr.String(), "started a sign-in process") {
		t.Errorf("after logout the bridge did not ask for a new sign-in:\n%s", h.stderr.String())
	}
}

// waitStderr waits until the bridge has logged s n times.
func (h *testHost) waitStderr(s string, n int) {
	h.t.Helper()
	deadline := time.After(recvTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for strings.Count(h.stderr.String(), s) < n {
		select {
		case <-tick.C:
		case <-deadline:
			h.t.Fatalf("the bridge did not log %q within %v:\n%s", s, recvTimeout, h.stderr.String())
		}
	}
}
