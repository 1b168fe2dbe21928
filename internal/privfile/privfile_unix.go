//go:build unix

package privfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// noFollow makes the open fail on a symbolic link, closing the race
// between the Lstat check and the open.
const noFollow = syscall.O_NOFOLLOW

// writableByOthers says that the mode's group and other bits mean what
// they say.
const writableByOthers = true

func checkOwner(fi fs.FileInfo, what, path string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("%s %s belongs to another user (uid %d, you are %d); remove it or give it to yourself", what, path, st.Uid, uid)
	}
	return nil
}
