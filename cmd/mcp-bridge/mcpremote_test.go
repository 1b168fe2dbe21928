package main

import (
	"io"
	"strings"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// TestFromMCPRemoteGivesOurFlags: every flag internal/mcpremote's table
// writes for mcp-remote's is one of ours (with a value our parser takes),
// so that the drop-in and our flag set cannot drift apart; and what no
// flag says reaches the OAuth configuration.
func TestFromMCPRemoteGivesOurFlags(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	env := map[string]string{"SECRET": "s3cr3t"}
	args := []string{"-y", "mcp-remote@latest", "https://remote.mcp.server/sse", "9696",
		"--transport", "sse-only", "--host", "127.0.0.1", "--callback-path", "/cb", "--auth-timeout", "60",
		"--ignore-tool", "delete*", "--resource", "https://api.example.com/", "--device-code", "--enable-proxy", "--debug",
		"--static-oauth-client-info", `{"client_id":"c","client_secret":"${SECRET}"}`,
		"--static-oauth-client-metadata", `{"scope":"read"}`, "--header", "X-Team: blue"}
	ours, remote, err := fromMCPRemote(args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var msgs strings.Builder
	o, _ := parseBridgeArgs("mcp-bridge", ours, nil, &msgs)
	if o == nil {
		t.Fatalf("our parser refuses the rewritten command line %q: %s", ours, msgs.String())
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"url", o.url, "https://remote.mcp.server/sse"},
		{"transport", o.transport, "sse"},
		{"callback port", o.auth.callbackPort, 9696},
		{"login timeout", o.auth.loginTimeout.String(), "1m0s"},
		{"deny-tool", strings.Join(o.denyTools, " "), "[dD][eE][lL][eE][tT][eE]*"},
		{"resource", o.auth.resource, "https://api.example.com/"},
		{"login", o.auth.login, "device"},
		{"log level", o.logLevel, "debug"},
		{"client id", o.auth.clientID, "c"},
		{"scope", o.auth.scope, "read"},
		{"header", strings.Join(o.headers, " "), "X-Team: blue"},
		{"log file", strings.HasSuffix(o.logFile, "_debug.log"), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	cfg := remote.configure(&oauthclient.Config{})
	if cfg.ClientSecret != "s3cr3t" || cfg.CallbackHost != "127.0.0.1" || cfg.CallbackPath != "/cb" || string(cfg.RegistrationMetadata) != `{"scope":"read"}` {
		t.Errorf("OAuth configuration %+v", cfg)
	}
	if (*mcpRemote)(nil).configure(&oauthclient.Config{ClientSecret: "x"}).ClientSecret != "x" {
		t.Error("a nil *mcpRemote changed the configuration")
	}
}
