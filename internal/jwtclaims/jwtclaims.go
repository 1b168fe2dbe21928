// Package jwtclaims reads the claims of a token that is a JWT (RFC 7519:
// three base64url parts, the first a JOSE header naming an alg), without
// checking its signature: for labels and advice only (the audit line's
// subject, doctor's audience check), never for a decision the server
// makes. Other tokens are opaque and give nothing.
package jwtclaims

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Decode unmarshals token's claims into v and reports whether token is a
// JWT whose claims v could hold.
func Decode(token string, v any) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	var header struct {
		Alg string `json:"alg"`
	}
	return decodePart(parts[0], &header) && header.Alg != "" && decodePart(parts[1], v)
}

func decodePart(part string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
	return err == nil && json.Unmarshal(b, v) == nil
}

// Audience is a JWT's aud claim: one string or a list of them (RFC 7519
// section 4.1.3).
type Audience []string

// UnmarshalJSON reads a string or a list.
func (a *Audience) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*a = Audience{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*a = list
	return nil
}
