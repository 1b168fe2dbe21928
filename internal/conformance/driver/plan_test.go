package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMakePlan pins the mapping from each kind of scenario to the bridge's
// flags (the table in README.md).
func TestMakePlan(t *testing.T) {
	const browser = "/bin/fakebrowser"
	code := []string{"--token-store", "memory", "--browser-command", browser, "--login-timeout", "20s"}
	tests := []struct {
		scenario string
		context  string
		want     []string          // with S standing for the secret directory
		files    map[string]string // secret files written, by name
		protocol string
	}{
		{scenario: "initialize", protocol: protocolCurrent},
		{scenario: "sse-retry", protocol: protocolCurrent},
		{
			scenario: "auth/metadata-default",
			want:     slices.Concat(code, []string{"--client-metadata-url", cimdURL}),
			protocol: protocolCurrent,
		},
		{
			scenario: "auth/2025-03-26-oauth-endpoint-fallback",
			want:     slices.Concat(code, []string{"--client-metadata-url", cimdURL}),
			protocol: protocolLegacy,
		},
		{
			scenario: "auth/pre-registration",
			context:  `{"name":"auth/pre-registration","client_id":"pre-registered-client","client_secret":"pre-registered-secret"}`,
			want:     slices.Concat(code, []string{"--client-id", "pre-registered-client", "--client-secret-file", "S/client-secret"}),
			files:    map[string]string{"client-secret": "pre-registered-secret\n"},
			protocol: protocolCurrent,
		},
		{
			scenario: "auth/client-credentials-basic",
			context:  `{"name":"auth/client-credentials-basic","client_id":"conformance-test-client","client_secret":"conformance-test-secret"}`,
			want: []string{"--token-store", "memory", "--client-credentials",
				"--client-id", "conformance-test-client", "--client-secret-file", "S/client-secret"},
			files:    map[string]string{"client-secret": "conformance-test-secret\n"},
			protocol: protocolCurrent,
		},
		{
			scenario: "auth/client-credentials-jwt",
			context:  `{"name":"auth/client-credentials-jwt","client_id":"conformance-test-client","private_key_pem":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----","signing_algorithm":"ES256"}`,
			want: []string{"--token-store", "memory", "--client-credentials",
				"--private-key-file", "S/private-key.pem", "--client-id", "conformance-test-client"},
			files:    map[string]string{"private-key.pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
			protocol: protocolCurrent,
		},
		{
			scenario: "auth/cross-app-access-complete-flow",
			context: `{"name":"auth/cross-app-access-complete-flow","client_id":"conformance-test-xaa-client","client_secret":"conformance-test-xaa-secret",` +
				`"idp_client_id":"conformance-test-idp-client","idp_id_token":"eyJ.x.y","idp_issuer":"http://localhost:1","idp_token_endpoint":"http://localhost:1/token"}`,
			want: []string{"--token-store", "memory", "--id-token-file", "S/id-token", "--idp-issuer", "http://localhost:1",
				"--idp-client-id", "conformance-test-idp-client",
				"--client-id", "conformance-test-xaa-client", "--client-secret-file", "S/client-secret"},
			files:    map[string]string{"id-token": "eyJ.x.y\n", "client-secret": "conformance-test-xaa-secret\n"},
			protocol: protocolCurrent,
		},
		{
			scenario: "auth/wif-jwt-bearer",
			context:  `{"client_id":"conformance-wif-workload","valid_jwt":"eyJ.valid.sig","wrong_audience_jwt":"eyJ.wrong.sig","expired_jwt":"eyJ.expired.sig"}`,
			want:     []string{"--token-store", "memory", "--assertion-file", "S/workload-jwt"},
			files:    map[string]string{"workload-jwt": "eyJ.valid.sig\n"},
			protocol: protocolCurrent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			dir := t.TempDir()
			sc, err := parseContext(tt.context)
			if err != nil {
				t.Fatal(err)
			}
			p, err := makePlan(&planConfig{Scenario: tt.scenario, Context: sc, SecretDir: dir, Browser: browser})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range p.Args {
				got = append(got, strings.Replace(a, dir, "S", 1))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if p.ProtocolVersion != tt.protocol {
				t.Errorf("protocol = %s, want %s", p.ProtocolVersion, tt.protocol)
			}
			ents, _ := os.ReadDir(dir)
			gotFiles := map[string]string{}
			for _, e := range ents {
				path := filepath.Join(dir, e.Name())
				b, _ := os.ReadFile(path)
				gotFiles[e.Name()] = string(b)
				if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
				}
			}
			if len(tt.files) == 0 {
				tt.files = map[string]string{}
			}
			if diff := cmp.Diff(tt.files, gotFiles); diff != "" {
				t.Errorf("secret files (-want +got):\n%s", diff)
			}
			// No secret may be on the command line, where ps shows it.
			for _, secret := range []string{sc.ClientSecret, sc.PrivateKeyPEM, sc.IdPIDToken} {
				for _, a := range p.Args {
					if secret != "" && strings.Contains(a, secret) {
						t.Errorf("secret %q on the command line", secret)
					}
				}
			}
		})
	}
}

func TestMakePlanLogLevel(t *testing.T) {
	p, err := makePlan(&planConfig{Scenario: "initialize", Context: &scenarioContext{}, LogLevel: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"--log-level", "debug"}, p.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}

// TestBridgeEnv checks that the bridge sees neither the suite's variables nor
// the driver's, and gets a home of its own.
func TestBridgeEnv(t *testing.T) {
	env := bridgeEnv([]string{
		"PATH=/usr/bin",
		"MCP_CONFORMANCE_SCENARIO=auth/basic-cimd",
		`MCP_CONFORMANCE_CONTEXT={"client_secret":"s"}`,
		"MCP_BRIDGE_BIN=/x/mcp-bridge",
		"HOME=/root",
		"XDG_CONFIG_HOME=/root/.config",
	}, "/tmp/d")
	want := []string{
		"PATH=/usr/bin",
		"HOME=/tmp/d/home",
		"XDG_CACHE_HOME=/tmp/d/home/.cache",
		"XDG_CONFIG_HOME=/tmp/d/home/.config",
		"XDG_DATA_HOME=/tmp/d/home/.local/share",
		"XDG_STATE_HOME=/tmp/d/home/.local/state",
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestArgumentsFor(t *testing.T) {
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"a":     map[string]any{"type": "number"},
			"mode":  map[string]any{"type": "string", "enum": []any{"fast", "slow"}},
			"label": map[string]any{"type": "string", "default": "x"},
			"skip":  map[string]any{"type": "boolean"},
		},
		"required": []any{"a", "mode"},
	}
	got := argumentsFor(schema)
	if got["mode"] != "fast" || got["label"] != "x" {
		t.Errorf("argumentsFor = %v", got)
	}
	if _, ok := got["a"].(int); !ok {
		t.Errorf("a = %#v, want a number", got["a"])
	}
	if _, ok := got["skip"]; ok {
		t.Errorf("optional property without default was set: %v", got)
	}
	if got := argumentsFor(nil); len(got) != 0 {
		t.Errorf("argumentsFor(nil) = %v, want {}", got)
	}
}

// TestAnswerElicitation: the SEP-1034 scenario wants every default back.
func TestAnswerElicitation(t *testing.T) {
	res := answerElicitation(&mcp.ElicitParams{
		Message: "defaults",
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"name":     map[string]any{"type": "string", "default": "John Doe"},
				"age":      map[string]any{"type": "integer", "default": float64(30)},
				"score":    map[string]any{"type": "number", "default": 95.5},
				"status":   map[string]any{"type": "string", "enum": []any{"active", "inactive"}, "default": "active"},
				"verified": map[string]any{"type": "boolean", "default": true},
			},
		},
	})
	want := &mcp.ElicitResult{Action: "accept", Content: map[string]any{
		"name": "John Doe", "age": float64(30), "score": 95.5, "status": "active", "verified": true,
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if got := answerElicitation(&mcp.ElicitParams{Mode: "url", URL: "https://example.com"}); got.Action != "decline" {
		t.Errorf("URL elicitation: action %q, want decline", got.Action)
	}
}

// TestPlannedCalls: the suite's own calls when it names some
// (http-custom-headers), the echo of the other tool's schema for the
// json-schema-2020-12-preservation scenario, else one call per tool.
func TestPlannedCalls(t *testing.T) {
	focal := map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
		"$defs": map[string]any{"address": map[string]any{"$anchor": "addr"}}, "additionalProperties": false}
	tools := []*mcp.Tool{
		{Name: "json_schema_2020_12_tool", InputSchema: focal},
		{Name: schemaEchoTool, InputSchema: map[string]any{"type": "object",
			"properties": map[string]any{"schema": map[string]any{"type": "object"}}, "required": []any{"schema"}}},
	}
	got := plannedCalls(tools, nil)
	want := []toolCall{
		{Name: "json_schema_2020_12_tool", Arguments: map[string]any{}},
		{Name: schemaEchoTool, Arguments: map[string]any{"schema": focal}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	sc, err := parseContext(`{"name":"http-custom-headers","toolCalls":[{"name":"test_custom_headers","arguments":{"region":"us-west1","non_ascii_val":"Hello, 世界","verbose":null}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := makePlan(&planConfig{Scenario: "http-custom-headers", Context: sc})
	if err != nil {
		t.Fatal(err)
	}
	got = plannedCalls(tools, p.ToolCalls)
	want = []toolCall{{Name: "test_custom_headers", Arguments: map[string]any{"region": "us-west1", "non_ascii_val": "Hello, 世界", "verbose": nil}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls from the context (-want +got):\n%s", diff)
	}
}
