package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sample = `{
  "version": 1,
  "servers": {
    "work": {
      "url": "https://mcp.example.com/mcp",
      "transport": "streamable",
      "headers": {"X-Team": "${TEAM}", "X-Api-Key": "${keychain:work-key}"},
      "tools": {"allow": ["read_*"], "deny": ["read_secret*"]},
      "log_level": "debug",
      "auth": {
        "client_id": "abc",
        "client_secret": "${keychain:work-secret}",
        "scopes": ["files:read", "files:write"],
        "authorize_params": {"prompt": "consent"},
        "login_timeout": "2m",
        "callback_port": 8765
      }
    },
    "local": {"url": "http://127.0.0.1:8080/mcp"}
  }
}`

func TestParse(t *testing.T) {
	f, err := Parse("config.json", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://mcp.example.com/mcp", "--transport", "streamable",
		"--header", "X-Api-Key: ${keychain:work-key}", "--header", "X-Team: ${TEAM}",
		"--allow-tool", "read_*", "--deny-tool", "read_secret*", "--log-level", "debug",
		"--client-id", "abc", "--client-secret", "${keychain:work-secret}",
		"--scope", "files:read files:write", "--authorize-param", "prompt=consent",
		"--login-timeout", "2m", "--callback-port", "8765"}
	if diff := cmp.Diff(want, f.Servers["work"].Args()); diff != "" {
		t.Errorf("Args (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"http://127.0.0.1:8080/mcp"}, f.Servers["local"].Args()); diff != "" {
		t.Errorf("Args (-want +got):\n%s", diff)
	}
}

// TestParseErrors checks that each mistake names the field and its line.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, edit, want string
	}{
		{"unknown field", `"transport": "streamable",`, `config.json:6: servers.work.transportt: unknown field`},
		{"unknown auth field", `"client_id": "abc",`, `config.json:11: servers.work.auth.client_idd: unknown field`},
		{"bad transport", `"transport": "streamable",`, `config.json:6: servers.work.transport: want auto, streamable or sse, got "ws"`},
		{"bad login", `"login_timeout": "2m",`, `config.json:15: servers.work.auth.login_timeout: "2 minutes" is not a duration`},
		{"plain secret", `"client_secret": "${keychain:work-secret}",`, `config.json:12: servers.work.auth.client_secret: write a reference`},
		{"wrong type", `"callback_port": 8765`, `config.json:16: servers.work.auth.callback_port: want int, not a JSON string`},
		{"syntax", `"log_level": "debug",`, `config.json:9: invalid character`},
	}
	replace := map[string]string{
		"unknown field":      `"transportt": "streamable",`,
		"unknown auth field": `"client_idd": "abc",`,
		"bad transport":      `"transport": "ws",`,
		"bad login":          `"login_timeout": "2 minutes",`,
		"plain secret":       `"client_secret": "hunter2",`,
		"wrong type":         `"callback_port": "8765"`,
		"syntax":             `"log_level": "debug",,`,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(sample, tt.edit, replace[tt.name], 1)
			_, err := Parse("config.json", []byte(doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	_, err := Parse("c.json", []byte(`{"version": 2, "servers": {}}`))
	if err == nil || !strings.Contains(err.Error(), "c.json:1: version: want 1, got 2") {
		t.Errorf("err = %v", err)
	}
}

func TestDiff(t *testing.T) {
	f, err := Parse("config.json", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Servers["work"]
	b := *a
	b.Auth.Scopes = []string{"files:read"}
	b.URL = "https://other.example.com/mcp"
	b.Tools.Deny = nil
	if diff := cmp.Diff([]string{"url", "tools.deny", "auth.scopes"}, Diff(a, &b)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("Diff(a, a) = %v", d)
	}
}

// TestExample loads configs/examples/config.json and checks that it shows
// every field of a server somewhere.
func TestExample(t *testing.T) {
	path := filepath.Join("..", "..", "configs", "examples", "config.json")
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for p := range positions(data) {
		parts := strings.Split(p, ".")
		if len(parts) > 2 && parts[0] == "servers" {
			parts[1] = "*"
			shown[strings.Join(parts, ".")] = true
		}
	}
	for _, level := range []string{"servers.*", "servers.*.tools", "servers.*.auth"} {
		for _, name := range known[level] {
			if !shown[level+"."+name] {
				t.Errorf("the example does not show %s", level+"."+name)
			}
		}
	}
}

// TestWorkloadAuth: the workload's assertion source becomes its flag,
// and only one source may be given.
func TestWorkloadAuth(t *testing.T) {
	f, err := Parse("config.json", []byte(`{"version": 1, "servers": {
  "pod": {"url": "https://mcp.example.com/mcp", "auth": {"assertion_file": "/var/run/secrets/mcp-bridge/token"}},
  "ci": {"url": "https://mcp.example.com/mcp", "auth": {"assertion_command": "printenv MCP_ID_TOKEN"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"pod": {"https://mcp.example.com/mcp", "--assertion-file", "/var/run/secrets/mcp-bridge/token"},
		"ci":  {"https://mcp.example.com/mcp", "--assertion-command", "printenv MCP_ID_TOKEN"},
	} {
		if diff := cmp.Diff(want, f.Servers[name].Args()); diff != "" {
			t.Errorf("%s: Args (-want +got):\n%s", name, diff)
		}
	}
	_, err = Parse("config.json", []byte(`{"version": 1, "servers": {"both": {"url": "https://mcp.example.com/mcp",
  "auth": {"assertion_file": "/t", "assertion_command": "printenv T"}}}}`))
	if err == nil || !strings.Contains(err.Error(), "servers.both.auth.assertion_command: give assertion_file or assertion_command, not both") {
		t.Errorf("both sources: %v", err)
	}
}

// TestDPoPAuth: the dpop field becomes --dpop; only off, on and auto
// are taken.
func TestDPoPAuth(t *testing.T) {
	f, err := Parse("config.json", []byte(`{"version": 1, "servers": {
  "bound": {"url": "https://mcp.example.com/mcp", "auth": {"dpop": "auto"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://mcp.example.com/mcp", "--dpop", "auto"}, f.Servers["bound"].Args()); diff != "" {
		t.Errorf("Args (-want +got):\n%s", diff)
	}
	_, err = Parse("config.json", []byte(`{"version": 1, "servers": {"bad": {"url": "https://mcp.example.com/mcp", "auth": {"dpop": "yes"}}}}`))
	if err == nil || !strings.Contains(err.Error(), "servers.bad.auth.dpop: want off, on or auto") {
		t.Errorf("dpop yes: %v", err)
	}
}
