//go:build !linux

package tokenstore

import "testing"

// realAccounts would list the keychain's items independently of
// go-keyring; only the Secret Service (Linux) is listed so far.
func realAccounts(*testing.T) ([]string, bool) { return nil, false }
