// Package redact takes secrets out of text that came from a server before
// it reaches a log or an error: debug pages, proxies and web application
// firewalls echo the request they refused, Authorization header and form
// included, and a decoder's error may quote the answer it could not read.
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Mark replaces what was taken out.
const Mark = "[redacted]"

// secretField matches a credential-bearing JSON member, form field or
// header and its value: "client_secret": "x", refresh_token=x,
// Authorization: Bearer x, DPoP: x (a proof), Cookie: x. Compiled at
// first use: errors are rare, and starts are timed.
var secretField = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)("?\b(?:client_secret|access_token|refresh_token|id_token|code|code_verifier|device_code|client_assertion|assertion|subject_token|registration_access_token|password|dpop_key)"?\s*[:=]\s*"?)[^"&\s,;}]+` +
		`|(\b(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|dpop)\s*:\s*)[^\r\n"]+`)
})

// String returns s with every secret in secrets (exact values, in any
// case of appearance, and their form-encoded forms) and every value of a
// credential-bearing field replaced by [Mark].
func String(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) < 4 { // too short to be a secret, too common to take out
			continue
		}
		s = strings.ReplaceAll(s, v, Mark)
		if e := url.QueryEscape(v); e != v {
			s = strings.ReplaceAll(s, e, Mark)
		}
	}
	re := secretField()
	return re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatch(m)
		if sub[1] != "" {
			return sub[1] + Mark
		}
		return sub[2] + Mark
	})
}
