package main

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFromMCPRemote rewrites mcp-remote command lines, as its README
// writes them, into ours.
func TestFromMCPRemote(t *testing.T) {
	env := map[string]string{"SECRET": "s3cr3t", "ID": "env-client"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	info := filepath.Join(t.TempDir(), "info.json")
	os.WriteFile(info, []byte(`{"client_id":"file-client","client_secret":"from-file"}`), 0o600)
	const u = "https://remote.mcp.server/sse"
	port := strconv.Itoa(mcpRemotePort(mcpRemoteHash(u, "", nil)))
	tests := []struct {
		name   string
		args   []string
		want   []string
		remote *mcpRemote // nil: no mcp-remote flag
		warn   string
	}{
		{"ours unchanged", []string{u, "--transport", "sse", "--header", "A: b"}, []string{u, "--transport", "sse", "--header", "A: b"}, nil, ""},
		{"npx launcher", []string{"-y", "mcp-remote@latest", u}, []string{u}, nil, ""},
		{"port", []string{"mcp-remote", u, "9696"}, []string{u, "--callback-port", "9696"}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"flags first", []string{"--transport", "sse-only", u}, []string{u, "--transport", "sse"}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"transports", []string{u, "--transport", "http-only"}, []string{u, "--transport", "streamable"}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"sse-first", []string{u, "--transport", "sse-first"}, []string{u, "--transport", "auto"}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"host, timeout, debug off", []string{u, "--host", "127.0.0.1", "--auth-timeout", "60", "--silent"}, []string{u, "--login-timeout", "60s", "--log-level", "error"}, &mcpRemote{callbackHost: "127.0.0.1", callbackPath: "/oauth/callback"}, ""},
		{"bad timeout ignored", []string{u, "--auth-timeout", "soon"}, []string{u}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, "ignoring --auth-timeout"},
		{"ignore-tool", []string{u, "--ignore-tool", "delete*", "--ignore-tool", "a?b"}, []string{u, "--deny-tool", "[dD][eE][lL][eE][tT][eE]*", "--deny-tool", `[aA]\?[bB]`}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"resource off", []string{u, "--resource", "https://t1.example/", "--disable-resource-parameter"}, []string{u, "--no-resource"}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, "overrides --resource"},
		{"empty resource", []string{u, "--resource", "", "--device-code"}, []string{u, "--login", "device", "--no-resource"}, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"static client, env secret", []string{u, "--client-credentials", "--static-oauth-client-info", `{"client_id":"${ID}","client_secret":"${SECRET}"}`},
			[]string{u, "--client-id", "env-client", "--callback-port", port, "--client-credentials"},
			&mcpRemote{clientSecret: "s3cr3t", callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"static client, inline secret", []string{u, "--static-oauth-client-info", `{"client_id":"c","client_secret":"inline"}`, "7777"},
			[]string{u, "--client-id", "c", "--callback-port", "7777"},
			&mcpRemote{clientSecret: "inline", callbackHost: "localhost", callbackPath: "/oauth/callback"}, "visible to every process"},
		{"static client from file", []string{u, "--static-oauth-client-info", "@" + info},
			[]string{u, "--client-id", "file-client", "--callback-port", port},
			&mcpRemote{clientSecret: "from-file", callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"metadata", []string{u, "--static-oauth-client-metadata", `{"scope":"openid mcp"}`},
			[]string{u, "--scope", "openid mcp"},
			&mcpRemote{registration: json.RawMessage(`{"scope":"openid mcp"}`), callbackHost: "localhost", callbackPath: "/oauth/callback"}, ""},
		{"our flags win", []string{u, "9696", "--callback-port", "1234", "--debug", "--log-level", "warn"}, nil, &mcpRemote{callbackHost: "localhost", callbackPath: "/oauth/callback"}, "--debug: logging to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			t.Setenv("HOME", t.TempDir())
			var stderr strings.Builder
			got, r, err := fromMCPRemote(tt.args, getenv, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil {
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("args (-want +got):\n%s", d)
				}
			} else if got[len(got)-1] != "warn" || !strings.Contains(strings.Join(got, " "), "--callback-port 1234") || strings.Contains(strings.Join(got, " "), "9696") {
				t.Errorf("args %q: want ours last, and no second port", got)
			}
			if d := cmp.Diff(tt.remote, r, cmp.AllowUnexported(mcpRemote{})); d != "" {
				t.Errorf("extras (-want +got):\n%s", d)
			}
			if tt.warn == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tt.warn) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.warn)
			}
			if strings.Contains(stderr.String(), "inline") || strings.Contains(stderr.String(), "s3cr3t") {
				t.Error("stderr holds the secret")
			}
		})
	}
	for _, bad := range [][]string{
		{u, "--static-oauth-client-info", `{"client_secret":"x"}`},
		{u, "--static-oauth-client-info", `not json`},
		{u, "--static-oauth-client-info", `{"client_id":"${UNSET}"}`},
		{u, "--static-oauth-client-metadata", `[1]`},
		{u, "--callback-path", "oauth"},
		{"9696", "--host"},
	} {
		if _, _, err := fromMCPRemote(bad, getenv, &strings.Builder{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestCaselessGlob checks that a rewritten --ignore-tool pattern matches
// what mcp-remote's does: * anything, case ignored, nothing else special.
func TestCaselessGlob(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"delete*", "deleteTask", true},
		{"delete*", "DeleteUser", true},
		{"*account", "getAccount", true},
		{"exactTool", "exacttool", true},
		{"exactTool", "exactTools", false},
		{"a?c", "abc", false},
		{"a?c", "a?c", true},
		{"[x]", "[X]", true},
		{"[x]", "x", false},
	} {
		got, err := path.Match(caselessGlob(tt.pattern), tt.name)
		if err != nil || got != tt.want {
			t.Errorf("%q vs %q: %v %v, want %v", tt.pattern, tt.name, got, err, tt.want)
		}
	}
}

// TestMCPRemoteHash pins mcp-remote's file key: md5 of the URL, the
// resource and the headers as sorted JSON, joined by "|".
func TestMCPRemoteHash(t *testing.T) {
	// Computed with node: crypto.createHash('md5').update(parts.join('|')).digest('hex'),
	// the headers part being JSON.stringify(headers, Object.keys(headers).sort()).
	if got, want := mcpRemoteHash("https://remote.mcp.server/sse", "", nil), "2499d8b26827bb8c0b6efe76f75fcbe2"; got != want {
		t.Errorf("hash %q, want %q", got, want)
	}
	if got, want := mcpRemoteHash("https://x/mcp", "https://t1/", []string{"B: 2", "A:1 <x>"}), "af4bee8e47dbbbfc99e6446c87c5cee4"; got != want {
		t.Errorf("hash with resource and headers %q, want %q", got, want)
	}
	a := mcpRemoteHash("https://x/mcp", "https://t1/", []string{"B: 2", "A:1"})
	b := mcpRemoteHash("https://x/mcp", "https://t1/", []string{"A:1", "B:   2"})
	if a != b {
		t.Error("the hash depends on header order or blanks after the colon")
	}
	if a == mcpRemoteHash("https://x/mcp", "", []string{"A:1", "B: 2"}) {
		t.Error("the hash ignores the resource")
	}
	if p := mcpRemotePort("ffff0000"); p != 3335+0xffff%45816 {
		t.Errorf("port %d", p)
	}
}
