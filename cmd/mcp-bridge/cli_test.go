package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		wantHdrs []string
		wantLog  string
	}{
		{"flags first", []string{"--header", "A: 1", "--log-level", "debug", "https://x/mcp"}, []string{"https://x/mcp"}, []string{"A: 1"}, "debug"},
		{"URL first, as mcp-remote configs have it", []string{"https://x/mcp", "--header", "A: 1", "--log-level=warn"}, []string{"https://x/mcp"}, []string{"A: 1"}, "warn"},
		{"mixed", []string{"--header", "A: 1", "https://x/mcp", "--header", "B: 2"}, []string{"https://x/mcp"}, []string{"A: 1", "B: 2"}, "info"},
		{"after --", []string{"--", "--not-a-flag"}, []string{"--not-a-flag"}, nil, "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o bridgeOptions
			fs := bridgeFlags(&o)
			pos, err := parseInterspersed(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPos, pos); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHdrs, []string(o.headers)); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if o.logLevel != tt.wantLog {
				t.Errorf("log level = %q, want %q", o.logLevel, tt.wantLog)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	env := map[string]string{"TOKEN": "s3cret", "EMPTY": ""}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	secrets := func(name string) (string, error) {
		if name == "api-key" {
			return "k3y", nil
		}
		return "", fmt.Errorf("no secret %s", name)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "headers")
	if err := os.WriteFile(file, []byte("# secrets\nX-From-File: ${TOKEN}\n\nX-Plain: a:b\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		values  []string
		file    string
		want    http.Header
		wantErr string
	}{
		{name: "plain", values: []string{"X-Api-Key: abc"}, want: http.Header{"X-Api-Key": {"abc"}}},
		{name: "expanded", values: []string{"Authorization: Bearer ${TOKEN}"}, want: http.Header{"Authorization": {"Bearer s3cret"}}},
		{name: "empty variable", values: []string{"X-E: [${EMPTY}]"}, want: http.Header{"X-E": {"[]"}}},
		{name: "dollar without braces stays", values: []string{"X-D: $TOKEN and $$"}, want: http.Header{"X-D": {"$TOKEN and $$"}}},
		{name: "repeated", values: []string{"X-A: 1", "X-A: 2"}, want: http.Header{"X-A": {"1", "2"}}},
		{name: "file", file: file, want: http.Header{"X-From-File": {"s3cret"}, "X-Plain": {"a:b"}}},
		{name: "keychain", values: []string{"X-Api-Key: ${keychain:api-key}", "X-Both: ${TOKEN}/${keychain:api-key}"}, want: http.Header{"X-Api-Key": {"k3y"}, "X-Both": {"s3cret/k3y"}}},
		{name: "missing secret is named", values: []string{"X-K: ${keychain:nope}"}, wantErr: "no secret nope"},
		{name: "unset variable is named", values: []string{"X-K: ${NOPE_NOT_SET}"}, wantErr: "NOPE_NOT_SET is not set"},
		{name: "no colon", values: []string{"X-K"}, wantErr: "want 'Name: value'"},
		{name: "bad name", values: []string{"X K: v"}, wantErr: "not a valid header name"},
		{name: "reserved", values: []string{"mcp-session-id: x"}, wantErr: "sets Mcp-Session-Id itself"},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: "--header-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHeaders(tt.values, tt.file, secretref.Lookups{Env: getenv, Secret: secrets})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"version", []string{"version"}, exitOK, "mcp-bridge ", ""},
		{"help has examples", []string{"help"}, exitOK, "Examples:", ""},
		{"help lists flags", []string{"--help"}, exitOK, "-header-file", ""},
		{"no URL", nil, exitUsage, "", "want exactly one server URL"},
		{"two URLs", []string{"https://a/mcp", "https://b/mcp"}, exitUsage, "", "want exactly one server URL"},
		{"unknown flag", []string{"--nope", "https://a/mcp"}, exitUsage, "", "flag provided but not defined"},
		{"plain http refused", []string{"http://example.com/mcp"}, exitUsage, "", "plain http is only allowed to loopback"},
		{"credentials in URL refused", []string{"https://u:p@example.com/mcp"}, exitUsage, "", "credentials in the URL"},
		{"bad transport", []string{"--transport", "ws", "https://example.com/mcp"}, exitUsage, "", `transport "ws"`},
		{"bad log level", []string{"--log-level", "loud", "https://example.com/mcp"}, exitUsage, "", "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantCode != exitOK && stdout.Len() > 0 {
				t.Errorf("a failing command wrote to stdout: %q", stdout.String())
			}
		})
	}
}
