package oauthclient

import (
	"net/url"
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

// maxURL bounds a URL a server chose, quoted in a message: room for any
// endpoint a person would recognise, too little to carry a document.
const maxURL = 200

// quoteURL returns raw, a URL a server chose (an issuer, an endpoint or
// a resource identifier from a metadata document, a challenge's
// resource_metadata, a redirect's target), for a message: quoted as
// [safetext.Quote] does, one printable line of at most [maxURL] runes.
// Such messages become the bridge's own errors, which the user reads and
// the host hands to its model; a metadata document may name a 100 KB
// endpoint, or one with bidi controls (issue 11). It is the one way
// oauthclient shows such a URL.
func quoteURL(raw string) string {
	return safetext.Quote(raw, maxURL)
}

// maxURLError bounds the text of the error a [*url.Error] wraps: room for
// the two quoted URLs of a refused redirect and the words between them.
const maxURLError = 3 * maxURL

// A urlError is a [*url.Error] shown with its URL quoted by [quoteURL]
// and the error it wraps clipped to [maxURLError] runes: net/url and
// net/http put the whole URL they were given in their errors, quoted by
// strconv but not bounded, and net/http puts what a server sent in the
// error of a response it cannot parse (a malformed header line, all of
// it: a 10 KB Location header came back whole, issue 11).
type urlError struct{ err *url.Error }

func (e *urlError) Error() string {
	return e.err.Op + " " + quoteURL(e.err.URL) + ": " + safetext.Clip(e.err.Err.Error(), maxURLError)
}

func (e *urlError) Unwrap() error { return e.err }

// boundURL returns err with the URL of a [*url.Error] in it, from
// url.Parse, http.NewRequest or http.Client.Do, shown as [quoteURL] does;
// err itself if it holds none. errors.Is and errors.As see through it.
func boundURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return &urlError{ue}
	}
	return err
}
