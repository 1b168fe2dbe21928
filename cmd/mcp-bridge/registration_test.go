package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestHydraSignIn pins issue 11, "real authorization servers sign in",
// through the real binary: an authorization server that answers dynamic
// registration as Ory Hydra v2 does ("jwks": {}, "contacts": null and
// Hydra's own members) signs the bridge in, and the host's calls work.
// Before, the Go SDK's registration type, whose jwks is a string, failed
// to parse the answer and every sign-in failed.
func TestHydraSignIn(t *testing.T) {
	w := newLeakWorld(t, &oauthtest.ASOptions{NoCIMD: true, HydraRegistrationAnswers: true}, nil)
	h := w.bridge("bridge", nil, "--browser-command", approver())
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"hydra"}`)
	if st := w.as.Stats(); st.Registrations != 1 {
		t.Errorf("%d registrations, want 1", st.Registrations)
	}
}

// TestFailedSignInKeepsRegistrationBinary pins issue 11, "every failed
// sign-in leaves an orphaned registration", through the real binary: the
// user denies the first sign-in; the next bridge signs in with the client
// the first one registered, so the authorization server holds one
// registration for two sign-ins.
func TestFailedSignInKeepsRegistrationBinary(t *testing.T) {
	w := newLeakWorld(t, &oauthtest.ASOptions{NoCIMD: true}, nil)
	h := w.deniedSignIn(t, "denied")
	h.finish()

	h = w.bridge("approved", nil, "--browser-command", approver())
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize after the denial: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"x"}`)
	if st := w.as.Stats(); st.Registrations != 1 || st.AuthorizationRequests != 2 || st.Denials != 1 {
		t.Errorf("%d registrations, %d authorization requests, %d denials; want 1, 2, 1",
			st.Registrations, st.AuthorizationRequests, st.Denials)
	}
}

// TestBrowserGetsReencodedURL pins issue 11, "the browser opener receives
// the raw authorization URL", through the real binary: the authorization
// server's authorization_endpoint carries a query of quotes, ;, |, ^,
// parentheses, angle brackets, ! and a space, the syntax of the shells
// and of cmd.exe that a --browser-command may hand it to. The command
// receives the URL re-serialised, every such character percent-encoded
// (only the & and = between parameters left), and the sign-in works.
func TestBrowserGetsReencodedURL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the recording browser is a shell script (TestWindowsStartCommand in oauthclient covers cmd.exe)")
	}
	w := newLeakWorld(t, &oauthtest.ASOptions{EditMetadata: func(m map[string]any) {
		m["authorization_endpoint"] = m["authorization_endpoint"].(string) + `?tenant=a"b';c|d^e f&x=(g)<h>!`
	}}, nil)
	got := filepath.Join(w.home, "opened")
	script := filepath.Join(w.home, "browser.sh")
	// Records the URL, then approves the sign-in as the demo's browser.
	body := "#!/bin/sh\nprintf '%s' \"$1\" > '" + got + "'\nexec " + approver() + " \"$1\"\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	h := w.bridge("bridge", nil, "--browser-command", "/bin/sh "+script)
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	opened, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	u := string(opened)
	if i := strings.IndexFunc(u, func(r rune) bool { return !strings.ContainsRune(urlChars, r) }); i >= 0 {
		t.Errorf("the browser command got %q raw in %s", u[i], u)
	}
	if !strings.Contains(u, "tenant=a%22b%27%3Bc%7Cd%5Ee%20f&x=%28g%29%3Ch%3E%21") {
		t.Errorf("the browser command got %s, want the server's parameters percent-encoded", u)
	}
}

// urlChars are the characters a re-serialised authorization URL is made
// of.
const urlChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%/:?&=[]"

// TestMCPRemoteLocalhostBothLoopbacks pins issue 11, "mcp-remote mode
// advertises localhost while the listener binds 127.0.0.1", through the
// real binary: in mcp-remote mode the redirect URI names localhost, which
// a browser may resolve to [::1] first, so the bridge serves the redirect
// on [::1] too. The browser here comes back on [::1] and the sign-in
// completes.
func TestMCPRemoteLocalhostBothLoopbacks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the recording browser is a shell script")
	}
	if probe, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback here")
	} else {
		probe.Close()
	}
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	// The browser only records the URL: the test plays the user.
	dir := t.TempDir()
	script := filepath.Join(dir, "browser")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > '"+dir+"/url.tmp' && mv '"+dir+"/url.tmp' '"+dir+"/url'\n"), 0o700)
	h := startBridge(t, "-y", "mcp-remote@latest", demo.URL, freePort(t), "--browser-command", script, "--token-store", "memory")
	h.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	var authURL string
	for deadline := time.Now().Add(recvTimeout); authURL == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(dir, "url"))
		authURL = strings.TrimSpace(string(b))
	}
	if authURL == "" {
		t.Fatalf("the browser was not opened; stderr:\n%s", h.stderr.String())
	}
	redirect, err := demo.AuthServer.Consent(t.Context(), authURL, true)
	if err != nil {
		t.Fatal(err)
	}
	if redirect.Hostname() != "localhost" {
		t.Fatalf("the redirect goes to %s, want localhost (mcp-remote's redirect URI)", redirect)
	}
	redirect.Host = net.JoinHostPort("::1", redirect.Port())
	resp, err := http.Get(redirect.String())
	if err != nil {
		t.Fatalf("the redirect on [::1]: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the redirect on [::1] answered %s", resp.Status)
	}
	if m := h.recvMsg(); m.Error != nil {
		t.Fatalf("initialize after the sign-in on [::1]: %+v", m.Error)
	}
	h.closeAndWait()
}

// TestDoctorSaysTokenHasNoAudience pins the other half of issue 11's Ory
// Hydra finding, through the real binary: Hydra ignores RFC 8707's
// resource and issues JWT access tokens with "aud": [] unless its consent
// app grants an audience. Here the token endpoint's access tokens are
// such JWTs (wrapping the real token, which the server checks); doctor
// says the token names no audience and what to ask the operator for.
func TestDoctorSaysTokenHasNoAudience(t *testing.T) {
	// unwrap returns the real token a wrapped one carries.
	unwrap := func(token string) string {
		var claims struct {
			Token string `json:"tok"`
		}
		if parts := strings.Split(token, "."); len(parts) == 3 {
			if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(b, &claims) == nil {
				return claims.Token
			}
		}
		return token
	}
	var as atomic.Pointer[oauthtest.AuthServer]
	w := newLeakWorld(t, &oauthtest.ASOptions{NoCIMD: true}, &oauthtest.ResourceOptions{
		Verifier: func(ctx context.Context, token string, r *http.Request) (*auth.TokenInfo, error) {
			return as.Load().Verify(ctx, unwrap(token), r)
		},
	})
	as.Store(w.as)
	w.editAS("/token", func(b []byte) []byte {
		var m map[string]any
		if json.Unmarshal(b, &m) != nil || m["access_token"] == nil {
			return b
		}
		payload, _ := json.Marshal(map[string]any{"aud": []string{}, "iss": w.as.Issuer(), "tok": m["access_token"]})
		m["access_token"] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." +
			base64.RawURLEncoding.EncodeToString(payload) + ".c2lnbmF0dXJl"
		b, _ = json.Marshal(m)
		return b
	})
	h := w.bridge("bridge", nil, "--browser-command", approver())
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"hydra"}`)
	h.finish()
	out, _ := w.command("doctor", "", "doctor")
	if !strings.Contains(out, "the access token names no audience") || !strings.Contains(out, "grant the audience \""+w.url+"\"") {
		t.Errorf("doctor does not say the token names no audience:\n%s", out)
	}
}
