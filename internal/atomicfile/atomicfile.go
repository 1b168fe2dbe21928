// Package atomicfile replaces files so that a reader, in this process or
// another, sees the old content or the new one, never a part: the new
// content goes to a temporary file beside the old, is synced, and is
// renamed over it (rename(2) replaces atomically on POSIX file systems;
// on Windows, os.Rename uses MoveFileEx with MOVEFILE_REPLACE_EXISTING).
// It is the one way mcp-bridge writes a file that something else may be
// reading: the token files, the index and change markers, the transport
// cache, and host configs.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile replaces the file at path with data, with permissions perm,
// and makes the rename durable by syncing the directory. The directory is
// created with mode 0700 if it is missing. The temporary file's name
// starts with a dot, so that a watcher that filters on names can tell it
// from the file.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return ReplaceIf(path, data, perm, nil)
}

// ReplaceIf is [WriteFile] that calls check once the new content is on
// disk, just before the rename: if check fails, path is left as it was
// and check's error is returned. A nil check always passes. (A caller that
// edits a file the user may edit too checks that it still holds what the
// edit started from.)
func ReplaceIf(path string, data []byte, perm fs.FileMode, check func() error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := writeSynced(tmp, data, perm); err != nil {
		return err
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// writeSynced writes data to f, sets its permissions, syncs and closes it.
func writeSynced(f *os.File, data []byte, perm fs.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a rename in dir durable. Windows cannot open a directory
// for syncing; NTFS journals renames.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
