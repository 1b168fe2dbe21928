package mcpremote

import (
	"encoding/json"
	"flag"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ourFlags stands for mcp-bridge's flag set: the flags the cases use.
func ourFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("mcp-bridge", flag.ContinueOnError)
	for _, name := range []string{"transport", "header", "header-file", "client-id", "client-metadata-url", "callback-port", "scope",
		"log-level", "log-file", "resource", "authorize-param", "login", "login-timeout", "deny-tool", "token-store"} {
		fs.String(name, "", "")
	}
	fs.Bool("client-credentials", false, "")
	fs.Bool("allow-http", false, "")
	fs.Bool("no-resource", false, "")
	return fs
}

// TestTranslate rewrites mcp-remote command lines, as its README writes
// them, into ours.
func TestTranslate(t *testing.T) {
	env := map[string]string{"SECRET": "s3cr3t", "ID": "env-client"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	info := filepath.Join(t.TempDir(), "info.json")
	os.WriteFile(info, []byte(`{"client_id":"file-client","client_secret":"from-file"}`), 0o600)
	const u = "https://remote.mcp.server/sse"
	port := strconv.Itoa(Port("2499d8b26827bb8c0b6efe76f75fcbe2")) // mcp-remote's key for u: TestFileKeys
	defaults := func(x Extras) *Extras {
		if x.CallbackHost == "" {
			x.CallbackHost = "localhost"
		}
		x.CallbackPath = "/oauth/callback"
		return &x
	}
	tests := []struct {
		name   string
		args   []string
		want   []string
		extras *Extras // nil: no mcp-remote flag
		warn   string
	}{
		{"ours unchanged", []string{u, "--transport", "sse", "--header", "A: b"}, []string{u, "--transport", "sse", "--header", "A: b"}, nil, ""},
		{"npx launcher", []string{"-y", "mcp-remote@latest", u}, []string{u}, nil, ""},
		{"port", []string{"mcp-remote", u, "9696"}, []string{u, "--callback-port", "9696"}, defaults(Extras{}), ""},
		{"flags first", []string{"--transport", "sse-only", u}, []string{u, "--transport", "sse"}, defaults(Extras{}), ""},
		{"transports", []string{u, "--transport", "http-only"}, []string{u, "--transport", "streamable"}, defaults(Extras{}), ""},
		{"sse-first", []string{u, "--transport", "sse-first"}, []string{u, "--transport", "auto"}, defaults(Extras{}), ""},
		{"host, timeout, debug off", []string{u, "--host", "127.0.0.1", "--auth-timeout", "60", "--silent"}, []string{u, "--login-timeout", "60s", "--log-level", "error"}, defaults(Extras{CallbackHost: "127.0.0.1"}), ""},
		{"callback path", []string{u, "--callback-path", "/cb", "--enable-proxy"}, []string{u}, &Extras{CallbackHost: "localhost", CallbackPath: "/cb"}, ""},
		{"bad timeout ignored", []string{u, "--auth-timeout", "soon"}, []string{u}, defaults(Extras{}), "ignoring --auth-timeout"},
		{"ignore-tool", []string{u, "--ignore-tool", "delete*", "--ignore-tool", "a?b"}, []string{u, "--deny-tool", "[dD][eE][lL][eE][tT][eE]*", "--deny-tool", `[aA]\?[bB]`}, defaults(Extras{}), ""},
		{"resource off", []string{u, "--resource", "https://t1.example/", "--disable-resource-parameter"}, []string{u, "--no-resource"}, defaults(Extras{}), "overrides --resource"},
		{"resource", []string{u, "--resource", " https://t1.example/ ", "--silent"}, []string{u, "--resource", "https://t1.example/", "--log-level", "error"}, defaults(Extras{}), ""},
		{"empty resource", []string{u, "--resource", "", "--device-code"}, []string{u, "--login", "device", "--no-resource"}, defaults(Extras{}), ""},
		{"static client, env secret", []string{u, "--client-credentials", "--static-oauth-client-info", `{"client_id":"${ID}","client_secret":"${SECRET}"}`},
			[]string{u, "--client-id", "env-client", "--callback-port", port, "--client-credentials"},
			defaults(Extras{ClientSecret: "s3cr3t"}), ""},
		{"static client, inline secret", []string{u, "--static-oauth-client-info", `{"client_id":"c","client_secret":"inline"}`, "7777"},
			[]string{u, "--client-id", "c", "--callback-port", "7777"},
			defaults(Extras{ClientSecret: "inline"}), "visible to every process"},
		{"static client from file", []string{u, "--static-oauth-client-info", "@" + info},
			[]string{u, "--client-id", "file-client", "--callback-port", port},
			defaults(Extras{ClientSecret: "from-file"}), ""},
		{"metadata document: the port of mcp-remote's key, which takes the document's URL",
			[]string{u, "--client-metadata-url", "https://client.example.com/meta.json", "--host", "127.0.0.1"},
			[]string{u, "--callback-port", strconv.Itoa(Port(mustKey(t, u, "--client-metadata-url", "https://client.example.com/meta.json"))), "--client-metadata-url", "https://client.example.com/meta.json"},
			defaults(Extras{CallbackHost: "127.0.0.1"}), ""},
		{"metadata", []string{u, "--static-oauth-client-metadata", `{"scope":"openid mcp"}`},
			[]string{u, "--scope", "openid mcp"},
			defaults(Extras{Registration: json.RawMessage(`{"scope":"openid mcp"}`)}), ""},
		{"our scope wins over the metadata's", []string{u, "--static-oauth-client-metadata", `{"scope":"openid mcp"}`, "--ignore-tool", "x", "--scope", "read"},
			[]string{u, "--deny-tool", "[xX]", "--scope", "read"},
			defaults(Extras{Registration: json.RawMessage(`{"scope":"openid mcp"}`)}), ""},
		{"our flags win", []string{u, "9696", "--callback-port", "1234", "--debug", "--log-level", "warn"}, nil, defaults(Extras{}), "--debug: logging to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			got, x, err := Translate(tt.args, Options{Ours: ourFlags(), Getenv: getenv, Warn: &stderr, LogDir: t.TempDir()})
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
			if d := cmp.Diff(tt.extras, x); d != "" {
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
}

// TestTranslateRefused: command lines that mcp-remote, or the
// translation, refuses.
func TestTranslateRefused(t *testing.T) {
	getenv := func(string) (string, bool) { return "", false }
	const u = "https://remote.mcp.server/sse"
	for _, bad := range [][]string{
		{u, "--static-oauth-client-info", `{"client_secret":"x"}`},
		{u, "--static-oauth-client-info", `not json`},
		{u, "--static-oauth-client-info", `{"client_id":"${UNSET}"}`},
		{u, "--static-oauth-client-metadata", `[1]`},
		{u, "--callback-path", "oauth"},
		{"9696", "--host"},
		{"--debug"},
		{u, "--host", "127.0.0.1", "--client-id", "c", "--authorize-param", "state=x"}, // mcp-remote refuses it: no key, so no port
	} {
		if _, _, err := Translate(bad, Options{Ours: ourFlags(), Getenv: getenv}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestTranslateDebugLog: --debug logs to KEY_debug.log in LogDir, the
// key being mcp-remote's, as mcp-remote names its log.
func TestTranslateDebugLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache", "mcp-bridge")
	const u = "https://remote.mcp.server/sse"
	got, _, err := Translate([]string{u, "--debug"}, Options{Ours: ourFlags(), LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{u, "--log-level", "debug", "--log-file", filepath.Join(dir, "2499d8b26827bb8c0b6efe76f75fcbe2_debug.log")}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("args (-want +got):\n%s", d)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the log directory: %v %v, want it made, 0700", fi, err)
	}
}

func mustKey(t *testing.T, args ...string) string {
	t.Helper()
	k, err := FileKeys(args, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	return k.Current
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

func TestInlineSecret(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"u", "--static-oauth-client-info", `{"client_id":"c","client_secret":"s3cr3t"}`}, "s3cr3t"},
		{[]string{"u", "--static-oauth-client-info", `{"client_id":"c","client_secret":"${S}"}`}, ""},
		{[]string{"u", "--static-oauth-client-info", "@/etc/info.json"}, ""},
		{[]string{"u"}, ""},
	} {
		if got := InlineSecret(tt.args); got != tt.want {
			t.Errorf("InlineSecret(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"u", "--header", "X-Api-Key: sk-1234", "--header=Authorization: Bearer abc.def"}, []string{"sk-1234", "Bearer abc.def"}},
		{[]string{"u", "--header", "Authorization: Bearer ${TOKEN}", "--header", "X-Empty:", "--header", "no colon"}, nil},
		{[]string{"u", "--static-oauth-client-info", `{"client_id":"c","client_secret":"s3cr3t"}`, "--header"}, []string{"s3cr3t"}},
		{[]string{"u", "--header-file", "/etc/h.txt"}, nil},
	} {
		if got := Secrets(tt.args); !slices.Equal(got, tt.want) {
			t.Errorf("Secrets(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
