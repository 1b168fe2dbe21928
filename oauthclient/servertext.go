package oauthclient

import (
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

// errorCode returns an OAuth error code a server sent, as one short
// printable line.
func errorCode(code string) string {
	return safetext.Clip(code, maxCode)
}
