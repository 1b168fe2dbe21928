package oauthtest

import (
	"crypto/rand"
	"sync"
)

// issued holds every secret value the authorization servers of this
// process have issued.
var issued sync.Map

// newSecret returns a new random secret value (26 characters of
// [rand.Text]'s base32 alphabet) and records it for [Issued].
func newSecret() string {
	s := rand.Text()
	issued.Store(s, struct{}{})
	return s
}

// Issued reports whether s is a secret value that an authorization server
// of this package issued in this process: an access or refresh token, an
// authorization code, a client secret from registration or a device code.
// Tests use it to check that no output of a whole test suite holds one,
// whichever server issued it. Each is 26 characters of A–Z and 2–7.
func Issued(s string) bool {
	_, ok := issued.Load(s)
	return ok
}
