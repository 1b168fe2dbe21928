package oauthclient

import (
	"strings"

	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
)

// maxCode bounds an OAuth error code quoted in a message: RFC 6749 codes
// are short ASCII words.
const maxCode = 64

// asSaid marks s, which an authorization server wrote, as its words, one
// printable line bounded to [safetext.MaxQuote] runes and quoted: the
// text becomes the bridge's own JSON-RPC error, which the host hands to
// its model, and must read as a quotation, not as the bridge's word or
// the user's (issue 11). s must be redacted already.
func asSaid(s string) string {
	return "the authorization server said: " + safetext.Quote(s, safetext.MaxQuote)
}

// serverSaid marks s, which the MCP server wrote, as asSaid does.
func serverSaid(s string) string {
	return "the server said: " + safetext.Quote(s, safetext.MaxQuote)
}

// errorCode returns an OAuth error code a server sent: as it is if it is
// one (RFC 6749 section 5.2: printable ASCII but '"' and '\\', at most
// [maxCode] of them), else quoted as [safetext.Quote] does, a server's
// words rather than a code.
func errorCode(code string) string {
	if code == "" || len(code) > maxCode || strings.ContainsFunc(code, func(r rune) bool {
		return r < 0x20 || r > 0x7e || r == '"' || r == '\\'
	}) {
		return safetext.Quote(code, maxCode)
	}
	return code
}
