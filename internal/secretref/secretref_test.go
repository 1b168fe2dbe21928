package secretref

import (
	"errors"
	"strings"
	"testing"
)

func TestIsReference(t *testing.T) {
	for s, want := range map[string]bool{
		"${VAR}":                true,
		"${_V2}":                true,
		"${keychain:api.key-1}": true,
		"${2V}":                 false,
		"${keychain:}":          false,
		"${keychain:a b}":       false,
		"${A}${B}":              false,
		"x${A}":                 false,
		"${A}}":                 false,
		"s3cret":                false,
		"":                      false,
	} {
		if got := IsReference(s); got != want {
			t.Errorf("IsReference(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{"api.key-1_x": true, "": false, "a/b": false, "a}": false, "a:b": false} {
		if got := ValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestExpand(t *testing.T) {
	l := Lookups{
		Env: func(n string) (string, bool) {
			v, ok := map[string]string{"TOKEN": "t0k", "EMPTY": ""}[n]
			return v, ok
		},
		Secret: func(n string) (string, error) {
			if n == "api" {
				return "k3y", nil
			}
			return "", errors.New("no secret " + n)
		},
	}
	tests := []struct {
		in, want, err string
	}{
		{in: "Bearer ${TOKEN}", want: "Bearer t0k"},
		{in: "[${EMPTY}]", want: "[]"},
		{in: "${keychain:api}/${TOKEN}", want: "k3y/t0k"},
		{in: "$TOKEN ${not a ref} ${", want: "$TOKEN ${not a ref} ${"},
		{in: "${UNSET}", err: "environment variable UNSET is not set"},
		{in: "${keychain:other} ${UNSET}", err: "no secret other\nenvironment variable UNSET is not set"},
	}
	for _, tt := range tests {
		got, err := l.Expand(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Expand(%q): error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := (Lookups{Env: l.Env}).Expand("${keychain:api}"); err == nil || !strings.Contains(err.Error(), "no secret store") {
		t.Errorf("without a secret store: %v", err)
	}
}
