//go:build !linux

package rawio

import (
	"io"
	"net"
	"os"
)

// File returns f.
func File(f *os.File) io.ReadWriter { return f }

// Conn returns c.
func Conn(c net.Conn) net.Conn { return c }
