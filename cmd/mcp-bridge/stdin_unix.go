//go:build unix

package main

import (
	"io"
	"os"
	"syscall"

	"github.com/mcp-bridge/mcp-bridge/internal/rawio"
)

// pollableStdin returns stdin switched to non-blocking mode when it is a
// pipe or a socket, as hosts give it. Reads then wait in the runtime's
// network poller instead of holding a thread in a blocking system call,
// which takes a hand-off between threads off every message's path, and
// on Linux they wake no other thread either (see package rawio).
// A terminal or a file is returned as it is: its mode may be shared with
// other processes.
func pollableStdin() io.Reader { return pollable(os.Stdin, syscall.Stdin) }

// pollableStdout is pollableStdin for stdout, where each response goes.
func pollableStdout() io.Writer { return pollable(os.Stdout, syscall.Stdout) }

func pollable(f *os.File, fd int) io.ReadWriter {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return f
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return f
	}
	return rawio.File(os.NewFile(uintptr(fd), f.Name()))
}
