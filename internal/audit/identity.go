package audit

import (
	"encoding/json"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/internal/jwtclaims"
)

// TokenClaims returns the subject and scopes an access token states, if
// it is a JWT (RFC 7519: three base64url parts, the first a JOSE header
// naming an alg); other tokens are opaque and give nothing. The signature
// is not checked: the claims only label the audit line, and the server
// checks the token.
func TokenClaims(token string) (subject string, scopes []string) {
	var claims struct {
		Sub   string          `json:"sub"`
		Scope string          `json:"scope"` // RFC 8693 and RFC 9068: space-separated
		Scp   json.RawMessage `json:"scp"`   // Entra ID and others: a string or a list
	}
	if !jwtclaims.Decode(token, &claims) {
		return "", nil
	}
	scopes = strings.Fields(claims.Scope)
	if len(scopes) == 0 && len(claims.Scp) > 0 {
		var list []string
		var s string
		if json.Unmarshal(claims.Scp, &list) == nil {
			scopes = list
		} else if json.Unmarshal(claims.Scp, &s) == nil {
			scopes = strings.Fields(s)
		}
	}
	return claims.Sub, scopes
}
