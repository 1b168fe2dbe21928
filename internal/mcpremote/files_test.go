package mcpremote

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	os.MkdirAll(dir, 0o700)
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFind reads the files mcp-remote 0.15.1 writes (tokens.json with
// expires_at, client_info.json) and those of older releases
// (token_state.json, or expires_in alone), and names the client the
// tokens belong to.
func TestFind(t *testing.T) {
	base := t.TempDir()
	v1 := filepath.Join(base, "mcp-remote-v1")
	old := filepath.Join(base, "mcp-remote-0.1.29")
	k := Keys{Current: "aaaa", Legacy: []string{"bbbb"}}
	expires := time.UnixMilli(1893456000000)
	writeFiles(t, v1, map[string]string{
		"aaaa_tokens.json":      `{"access_token":"at","token_type":"Bearer","expires_in":3600,"expires_at":1893456000000,"refresh_token":"rt","scope":"read write"}`,
		"aaaa_client_info.json": `{"client_id":"dyn","client_secret":"cs","token_endpoint_auth_method":"none","redirect_uris":["http://localhost:1234/oauth/callback"]}`,
		"bbbb_tokens.json":      `{"access_token":"not mine"}`, // another command line's, in v1
	})
	s, err := Find(Dirs(base), k, Client{})
	if err != nil {
		t.Fatal(err)
	}
	want := oauthclient.Credentials{
		Client:      oauthclient.Client{ID: "dyn", Secret: "cs", Kind: oauthclient.KindDynamic, AuthMethod: "client_secret_basic", RedirectURI: "http://localhost:1234/oauth/callback"},
		AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", Scopes: []string{"read", "write"}, Expiry: expires,
	}
	s.Credentials.Obtained = time.Time{}
	if d := cmp.Diff(want, s.Credentials); d != "" {
		t.Errorf("credentials (-want +got):\n%s", d)
	}
	if s.Key != "aaaa" || s.Dir != v1 {
		t.Errorf("found %s in %s", s.Key, s.Dir)
	}

	// Only a legacy key's files, in an old release's directory.
	os.RemoveAll(v1)
	writeFiles(t, old, map[string]string{
		"bbbb_tokens.json":      `{"access_token":"at2","expires_in":60}`,
		"bbbb_token_state.json": `{"expiresAt":1893456000000}`,
	})
	if _, err := Find(Dirs(base), k, Client{}); err == nil {
		t.Error("tokens without a registration beside them were taken")
	}
	s, err = Find(Dirs(base), k, Client{ID: "static", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Key != "bbbb" || s.Credentials.Client != (oauthclient.Client{ID: "static", Secret: "s", Kind: oauthclient.KindPreregistered}) || !s.Credentials.Expiry.Equal(expires) {
		t.Errorf("found %s: %+v", s.Key, s.Credentials)
	}

	if _, err := Find(Dirs(t.TempDir()), k, Client{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("nothing there: %v, want ErrNotFound", err)
	}
}

func TestUnusable(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		c    oauthclient.Credentials
		want bool
	}{
		{oauthclient.Credentials{AccessToken: "a", Expiry: now.Add(-time.Second)}, true},
		{oauthclient.Credentials{AccessToken: "a", Expiry: now.Add(time.Hour)}, false},
		{oauthclient.Credentials{AccessToken: "a"}, false},
		{oauthclient.Credentials{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-time.Hour)}, false},
	} {
		if got := (&Saved{Credentials: tt.c}).Unusable(now); got != tt.want {
			t.Errorf("%+v: unusable %v, want %v", tt.c, got, tt.want)
		}
	}
}

// TestRemove deletes what holds secrets or flow state, and nothing of
// another key's or the debug log.
func TestRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mcp-remote-v1")
	writeFiles(t, dir, map[string]string{
		"aaaa_tokens.json": "{}", "aaaa_client_info.json": "{}", "aaaa_code_verifier_s1.txt": "v",
		"aaaa_discovery_state_s1.json": "{}", "aaaa_refresh_in_progress.json": "{}", "aaaa_debug.log": "log",
		"bbbb_tokens.json": "{}",
	})
	s := &Saved{Dir: dir, Key: "aaaa"}
	names, err := s.Remove()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	want := []string{"aaaa_client_info.json", "aaaa_code_verifier_s1.txt", "aaaa_discovery_state_s1.json", "aaaa_refresh_in_progress.json", "aaaa_tokens.json"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("removed (-want +got):\n%s", d)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if d := cmp.Diff([]string{filepath.Join(dir, "aaaa_debug.log"), filepath.Join(dir, "bbbb_tokens.json")}, left); d != "" {
		t.Errorf("left (-want +got):\n%s", d)
	}
}

func TestBaseDir(t *testing.T) {
	got, err := BaseDir(func(k string) (string, bool) { return "/custom", k == "MCP_REMOTE_CONFIG_DIR" })
	if err != nil || got != "/custom" {
		t.Errorf("with MCP_REMOTE_CONFIG_DIR: %q %v", got, err)
	}
	home, _ := os.UserHomeDir()
	if got, _ := BaseDir(func(string) (string, bool) { return "", false }); got != filepath.Join(home, ".mcp-auth") {
		t.Errorf("by default: %q, want ~/.mcp-auth", got)
	}
}
