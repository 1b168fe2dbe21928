//go:build unix

package main

import (
	"io"
	"os"
	"syscall"
)

// pollableStdin returns stdin switched to non-blocking mode when it is a
// pipe or a socket, as hosts give it. Reads then wait in the runtime's
// network poller instead of holding a thread in a blocking system call,
// which takes a hand-off between threads off every message's path.
// A terminal or a file is returned as it is: its mode may be shared with
// other processes.
func pollableStdin() io.Reader {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return os.Stdin
	}
	if err := syscall.SetNonblock(syscall.Stdin, true); err != nil {
		return os.Stdin
	}
	return os.NewFile(uintptr(syscall.Stdin), "/dev/stdin")
}
