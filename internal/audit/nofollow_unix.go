//go:build unix

package audit

import "syscall"

// noFollow makes the open fail on a symbolic link, closing the race
// between the Lstat check and the open.
const noFollow = syscall.O_NOFOLLOW
