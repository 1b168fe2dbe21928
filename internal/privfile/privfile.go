// Package privfile opens and checks the files and directories whose
// content only the user may change: the credential store's directory
// and index, the cache, log files. Another user who could write there
// could redirect a refresh token (a forged index), steer the transport
// (a forged cache) or plant a symbolic link that turns a log write into
// a write elsewhere (issue: "nothing trusted from plain files").
//
// On Unix, "the user" is the effective uid, and "writable by others" is
// the group or other write bit. Elsewhere, where permissions are ACLs,
// only the file type is checked.
package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// OpenAppend opens path for appending, creating it with mode 0600. It
// refuses a symbolic link, anything but a regular file, and a file another
// user owns. what names the file in errors ("the audit log").
func OpenAppend(path, what string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s %s is a symbolic link; give the file itself", what, path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s %s is not a regular file", what, path)
	}
	if err == nil {
		err = checkOwner(fi, what, path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CheckDir returns an error, saying how to fix it, if dir is not a
// directory of the user's that only the user can write. A directory that
// does not exist yet passes: it will be created 0700.
func CheckDir(dir, what string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case !fi.IsDir():
		return fmt.Errorf("%s %s is not a directory", what, dir)
	}
	return checkPrivate(fi, what, dir)
}

// CheckFile is [CheckDir] for a file that is read, not written: it must
// be the user's, and only the user may write it. A missing file passes.
func CheckFile(path, what string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s %s is not a regular file", what, path)
	}
	return checkPrivate(fi, what, path)
}

// checkPrivate checks that fi, the file at path, is the user's and not
// writable by group or others.
func checkPrivate(fi fs.FileInfo, what, path string) error {
	if err := checkOwner(fi, what, path); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); writableByOthers && perm&0o022 != 0 {
		return fmt.Errorf("%s %s can be changed by other users (mode %04o): run chmod go-w %s", what, path, perm, path)
	}
	return nil
}
