package tokenstore

import (
	"context"
	"errors"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("not found in the token store")

// ErrUnavailable is wrapped by the errors that say the OS keychain cannot
// be reached (no Secret Service, no D-Bus session bus, a keychain that
// does not answer in time).
var ErrUnavailable = errors.New("no OS keychain reachable")

// A Backend keeps values under keys. [Keychain], [File] and [Memory] are
// the backends; a [Store] adds locking, change notification and an index
// around one. Implementations are safe for concurrent use.
type Backend interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key.
	Set(ctx context.Context, key string, value []byte) error
	// Delete removes the value under key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Location says where the value under key is kept, for people.
	Location(key string) string
}
