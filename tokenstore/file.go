package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mcp-bridge/mcp-bridge/internal/atomicfile"
)

// A File stores values as files under Dir, one file DIR/KEY.json per key,
// readable only by the user (mode 0600). It is safe for concurrent use by
// goroutines and processes: a write goes to a temporary file that is
// synced and then renamed over the old one, so a reader sees a whole old
// value or a whole new one, and a crash at any point leaves one of them.
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

// Get returns the value stored under key, or [ErrNotFound].
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
	if err := writeFileAtomic(p, value); err != nil {
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

// Location says where the value under key is kept: "file DIR/KEY.json".
func (f *File) Location(key string) string {
	p, err := f.path(key)
	if err != nil {
		return fmt.Sprintf("file in %s (invalid key %q)", f.Dir, key)
	}
	return "file " + p
}

// writeFileAtomic replaces the file at path with data, readable only by
// the user (see [atomicfile.WriteFile]).
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o600)
}
