// Package tokenstore keeps credentials at rest, as opaque values under
// string keys. It knows nothing of OAuth: the caller decides what a value
// holds.
//
// This version keeps each value in a file of its own, readable only by
// the user (mode 0600), written atomically (a temporary file, fsync,
// rename), in a directory only the user can enter.
package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotFound is returned for a key that holds nothing.
var ErrNotFound = errors.New("not found in the token store")

// A File stores values as files under Dir. It is safe for concurrent use
// by goroutines and processes: a reader sees a whole old value or a whole
// new one.
type File struct {
	// Dir is the directory of the files; it is created with mode 0700.
	Dir string
}

// validKey reports whether key is safe as a file name: 1 to 128 ASCII
// letters, digits, dots, dashes and underscores, and not "." or "..".
func validKey(key string) bool {
	if len(key) == 0 || len(key) > 128 || key == "." || key == ".." {
		return false
	}
	for _, c := range []byte(key) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (f *File) path(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("token store: invalid key %q", key)
	}
	return filepath.Join(f.Dir, key+".json"), nil
}

// Get returns the value stored under key, or ErrNotFound.
func (f *File) Get(_ context.Context, key string) ([]byte, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	return data, nil
}

// Set stores value under key.
func (f *File) Set(_ context.Context, key string, value []byte) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	tmp, err := os.CreateTemp(f.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("token store: %w", err)
	}
	if _, err := tmp.Write(value); err != nil {
		tmp.Close()
		return fmt.Errorf("token store: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("token store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	return nil
}

// Delete removes the value under key; a missing key is not an error.
func (f *File) Delete(_ context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token store: %w", err)
	}
	return nil
}
