package interop

import (
	"context"
	"encoding/json"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestSignInShownByHost: a 2026-07-28 host of the official SDK, which the
// bridge may send no request, is shown a sign-in through the bridge. The
// server is the SDK's 2026-only server behind the test authorization
// server. Signed in with `mcp-bridge login`, a first session calls add;
// then the tokens and the refresh token expire (the authorization
// server's clock moves on) and, with no browser that opens, the next
// session's call is answered with input_required holding the sign-in page
// as a URL-mode elicitation. The SDK client shows it to its handler, which
// opens it as a user would, accepts and retries, and gets the sum.
func TestSignInShownByHost(t *testing.T) {
	node := installSDKs(t)
	dir := t.TempDir()
	bridge := filepath.Join(dir, "mcp-bridge")
	if out, err := exec.Command("go", "build", "-o", bridge, "../../cmd/mcp-bridge").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	logs := filepath.Join("out", "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(startServer(ctx, t, node, filepath.Join(logs, "signin.server.log"), "server-2026.mjs", "--reject"))
	if err != nil {
		t.Fatal(err)
	}
	target.Path = "" // the demo's path is the server's: /mcp
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}

	clock := oauthtest.NewClock()
	demo, err := oauthtest.StartProtectedDemo(ctx, &oauthtest.DemoOptions{
		AuthServer: &oauthtest.ASOptions{Now: clock.Now, AccessTokenTTL: time.Hour, RefreshTokenTTL: 2 * time.Hour},
		Handler:    proxy,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()

	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_STATE_HOME="+filepath.Join(home, "state"),
		"DISPLAY=", "WAYLAND_DISPLAY=", "BROWSER=", "WSL_DISTRO_NAME=", "WSL_INTEROP=") // no browser opens
	login := exec.CommandContext(ctx, bridge, "login", demo.URL, "--token-store", "file", "--browser-command", bridge+" demo approve")
	login.Env = env
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}

	session := func(name string) (report struct {
		Asked []struct{ Mode, URL, Message string }
		Text  string
		Error string
	}) {
		host := exec.CommandContext(ctx, node, "host-signin.mjs", "--open", bridge,
			"--stdio", bridge, demo.URL, "--token-store", "file", "--log-level", "debug")
		host.Env = env
		host.Stderr = logFile(t, filepath.Join(logs, "signin."+name+".host.log"))
		host.WaitDelay = 5 * time.Second
		out, err := host.Output()
		if err != nil || json.Unmarshal(out, &report) != nil {
			t.Fatalf("%s: the host failed: %v, %q", name, err, out)
		}
		return report
	}
	if r := session("signed-in"); r.Text != "5" || len(r.Asked) != 0 {
		t.Fatalf("signed in: %+v, want the sum with nothing asked", r)
	}
	clock.Advance(3 * time.Hour)
	r := session("expired")
	if len(r.Asked) != 1 || r.Asked[0].Mode != "url" || !strings.HasPrefix(r.Asked[0].URL, demo.AuthServer.Issuer()) {
		t.Fatalf("with the tokens expired the host was asked %+v, want one URL elicitation of the authorization server's page", r.Asked)
	}
	if r.Text != "5" || r.Error != "" {
		t.Errorf("after the sign-in at the host: %+v, want the sum", r)
	}
	if st := demo.AuthServer.Stats(); st.Consents != 2 {
		t.Errorf("%d consents, want 2 sign-ins", st.Consents)
	}
}
