package jwtclaims

import (
	"encoding/base64"
	"slices"
	"testing"
)

func jwt(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + ".sig"
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name, token string
		ok          bool
		aud         Audience
	}{
		{"string audience", jwt(`{"alg":"RS256"}`, `{"aud":"https://mcp.example.com"}`), true, Audience{"https://mcp.example.com"}},
		{"list audience", jwt(`{"alg":"RS256"}`, `{"aud":["a","b"]}`), true, Audience{"a", "b"}},
		{"empty list (Hydra)", jwt(`{"alg":"RS256"}`, `{"aud":[]}`), true, Audience{}},
		{"no audience", jwt(`{"alg":"RS256"}`, `{"sub":"ada"}`), true, nil},
		{"no alg", jwt(`{"typ":"JWT"}`, `{"aud":"a"}`), false, nil},
		{"opaque", "dGhpcyBpcyBvcGFxdWU", false, nil},
		{"bad claims", jwt(`{"alg":"RS256"}`, `{"aud":3}`), false, nil},
	} {
		var claims struct {
			Aud Audience `json:"aud"`
		}
		ok := Decode(tt.token, &claims)
		if ok != tt.ok || (ok && !slices.Equal(claims.Aud, tt.aud)) {
			t.Errorf("%s: Decode = %v, aud %q; want %v, %q", tt.name, ok, claims.Aud, tt.ok, tt.aud)
		}
	}
}
