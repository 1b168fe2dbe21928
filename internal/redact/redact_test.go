package redact

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"json member", `{"client_id":"abc","client_secret":"s3cr3t-value","x":1}`, nil, `{"client_id":"abc","client_secret":"[redacted]","x":1}`},
		{"form", `grant_type=authorization_code&code=abc123&code_verifier=vvvv&client_id=c`, nil, `grant_type=authorization_code&code=[redacted]&code_verifier=[redacted]&client_id=c`},
		{"header", "POST /token\nAuthorization: Basic Y2xpZW50OnNlY3JldA==\nAccept: */*", nil, "POST /token\nAuthorization: [redacted]\nAccept: */*"},
		{"bearer", "authorization: Bearer eyJabc.def", nil, "authorization: [redacted]"},
		{"known value anywhere", "token was tok-123456 in the body", []string{"tok-123456"}, "token was [redacted] in the body"},
		{"form-encoded value", "x=a%2Fb%2Bc+d", []string{"a/b+c d"}, "x=[redacted]"},
		{"short values stay", "id=abc", []string{"abc"}, "id=abc"},
		{"nothing to take", "invalid_request: missing redirect_uri", nil, "invalid_request: missing redirect_uri"},
		{"error code is not a secret", `{"error":"invalid_grant","error_description":"expired"}`, nil, `{"error":"invalid_grant","error_description":"expired"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringKeepsNoSecret(t *testing.T) {
	got := String(`{"access_token": "at-1", "refresh_token":"rt-2"}`)
	if strings.Contains(got, "at-1") || strings.Contains(got, "rt-2") {
		t.Errorf("String left a token: %s", got)
	}
}
