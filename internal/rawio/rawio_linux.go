//go:build linux

package rawio

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// File returns f with reads and writes that do not enter the scheduler's
// system-call state, if f is in the runtime's poller (a non-blocking pipe
// or socket); otherwise f.
func File(f *os.File) io.ReadWriter {
	rc, err := f.SyscallConn()
	if err != nil {
		return f
	}
	// Non-blocking is when os.NewFile puts a descriptor in the poller.
	nonblock := false
	rc.Control(func(fd uintptr) {
		flags, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		nonblock = e == 0 && flags&syscall.O_NONBLOCK != 0
	})
	if !nonblock {
		return f
	}
	return &file{name: f.Name(), rc: rc, keep: f}
}

type file struct {
	name string
	rc   syscall.RawConn
	keep *os.File // keeps the descriptor open
}

func (f *file) Read(b []byte) (int, error) {
	n, err := read(f.rc, b)
	if err != nil && err != io.EOF {
		err = &os.PathError{Op: "read", Path: f.name, Err: unwrapRaw(err)}
	}
	return n, err
}

func (f *file) Write(b []byte) (int, error) {
	n, err := write(f.rc, b)
	if err != nil {
		err = &os.PathError{Op: "write", Path: f.name, Err: unwrapRaw(err)}
	}
	return n, err
}

// Conn returns c with reads and writes that do not enter the scheduler's
// system-call state, if c is a *net.TCPConn; otherwise c. Everything
// else, deadlines among it, is c's.
func Conn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &conn{TCPConn: tc, rc: rc}
}

type conn struct {
	*net.TCPConn
	rc syscall.RawConn
}

func (c *conn) Read(b []byte) (int, error) {
	n, err := read(c.rc, b)
	if err != nil && err != io.EOF {
		err = c.opError("read", err)
	}
	return n, err
}

func (c *conn) Write(b []byte) (int, error) {
	n, err := write(c.rc, b)
	if err != nil {
		err = c.opError("write", err)
	}
	return n, err
}

func (c *conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: unwrapRaw(err)}
}

// unwrapRaw returns the cause of an error of a RawConn's Read or Write,
// which net wraps in an OpError of op "raw-read" or "raw-write".
func unwrapRaw(err error) error {
	if oe, ok := errors.AsType[*net.OpError](err); ok {
		return oe.Err
	}
	return err
}

// read reads into b once the descriptor is readable: 0 and io.EOF at its
// end.
func read(rc syscall.RawConn, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := rc.Read(func(fd uintptr) bool {
		for {
			r, e := sysRead(fd, b)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller
			}
			n, errno = r, e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// write writes all of b, waiting in the poller whenever the descriptor's
// buffer is full.
func write(rc syscall.RawConn, b []byte) (int, error) {
	n := 0
	var errno syscall.Errno
	err := rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			r, e := sysWrite(fd, b[n:])
			switch e {
			case 0:
				n += r
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("write", errno)
	}
	return n, err
}
