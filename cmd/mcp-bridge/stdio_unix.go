//go:build unix

package main

import (
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/mcp-bridge/mcp-bridge/internal/rawio"
)

// pollableStdio returns stdin and stdout switched to non-blocking mode
// where they are pipes or sockets, as hosts give them, and a function
// that sets them back. Reads and writes then wait in the runtime's network
// poller instead of holding a thread in a blocking system call, which
// takes a hand-off between threads off every message's path, and on Linux
// they wake no other thread either (see package rawio). A terminal or a
// file is left as it is. The mode belongs to the pipe, which the processes
// that share it after the bridge (a shell's pipeline) expect blocking.
func pollableStdio() (in io.Reader, out io.Writer, restore func()) {
	in, inSet := pollable(os.Stdin, syscall.Stdin)
	out, outSet := pollable(os.Stdout, syscall.Stdout)
	return in, out, func() {
		if inSet {
			syscall.SetNonblock(syscall.Stdin, false)
		}
		if outSet {
			syscall.SetNonblock(syscall.Stdout, false)
		}
		// Until here: the second *os.File of each descriptor closes it
		// when it is collected.
		runtime.KeepAlive(in)
		runtime.KeepAlive(out)
	}
}

// pollable returns f, whose descriptor is fd, in non-blocking mode where
// it is a pipe or a socket, and whether it set that mode.
func pollable(f *os.File, fd int) (io.ReadWriter, bool) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return f, false
	}
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || flags&unix.O_NONBLOCK != 0 {
		// Non-blocking from the start: os put it in the poller then.
		return rawio.File(f), false
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return f, false
	}
	return rawio.File(os.NewFile(uintptr(fd), f.Name())), true
}
