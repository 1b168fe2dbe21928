package httpclient

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
)

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
			got, err := ParseHeaders(tt.values, tt.file, secretref.Lookups{Env: getenv, Secret: secrets}.Expand)
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
