package tokenstore

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("not found in the token store")

// ErrUnavailable is wrapped by the errors that say the OS keychain cannot
// be reached (no Secret Service, no D-Bus session bus, a keychain that
// does not answer in time).
var ErrUnavailable = errors.New("no OS keychain reachable")

// ErrLocked is wrapped, beside [ErrUnavailable], by the errors that say the
// OS keychain is there but locked, and nothing unlocked it in time (a
// Secret Service whose unlock prompt has no display to show on, or that
// the user did not answer).
var ErrLocked = errors.New("the OS keychain is locked")

// lockedError is the keychain's failure err while it was locked.
type lockedError struct{ err error }

func (e *lockedError) Error() string {
	return fmt.Sprintf("%v, and nothing unlocked it (%s: %v)", ErrLocked, keychainName(), e.err)
}
func (e *lockedError) Unwrap() error { return e.err }
func (e *lockedError) Is(target error) bool {
	return target == ErrLocked || target == ErrUnavailable
}

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
