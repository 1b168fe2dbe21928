//go:build !linux

package tokenstore

import "testing"

// realAccounts would list the keychain's items independently of
// go-keyring; only the Secret Service (Linux) is listed so far.
func realAccounts(*testing.T) ([]string, bool) { return nil, false }

// checkDirect checks the Secret Service's direct read, used on Linux only.
func checkDirect(*testing.T, string) {}

// lockLogin would lock the keychain; only the Secret Service's is.
func lockLogin(*testing.T) bool { return false }
