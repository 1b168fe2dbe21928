//go:build linux && race

package rawio

import (
	"errors"
	"syscall"
)

// With the race detector, reads and writes go through package syscall,
// which tells the detector that a write happens before the read of what
// it wrote (and what the kernel writes into b). RawSyscall does not, and
// every exchange between two goroutines over a socket or a pipe would be
// reported as a race.

func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), b)
	return max(n, 0), errno(err)
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), b)
	return max(n, 0), errno(err)
}

func errno(err error) syscall.Errno {
	var e syscall.Errno
	if err != nil && !errors.As(err, &e) {
		return syscall.EIO
	}
	return e
}
