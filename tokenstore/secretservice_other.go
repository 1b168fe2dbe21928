//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package tokenstore

// secretServiceGet is for the systems where go-keyring uses the Secret
// Service; here ok is always false.
func secretServiceGet(service, user string) (secret string, ok bool, err error) {
	return "", false, nil
}

// keychainLocked reports whether the OS keychain is locked; here it is
// never known to be.
func keychainLocked() bool { return false }
