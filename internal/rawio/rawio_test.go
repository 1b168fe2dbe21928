package rawio_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/rawio"
)

// TestPipe moves 1 MiB through a pipe, more than its buffer holds, so
// that writes wait for the reader in the poller; then the reader gets EOF
// and a write to a pipe nobody reads fails with EPIPE.
func TestPipe(t *testing.T) {
	r, w, err := os.Pipe() // non-blocking, in the poller
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rr, ww := rawio.File(r), rawio.File(w)
	if runtime.GOOS == "linux" {
		if _, ok := ww.(*os.File); ok {
			t.Fatal("File returned the *os.File of a non-blocking pipe")
		}
	}
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	done := make(chan error, 1)
	go func() {
		n, err := ww.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		w.Close()
		done <- err
	}()
	got, err := io.ReadAll(rr) // ends at io.EOF
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(want))
	}

	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	r2.Close()
	if _, err := rawio.File(w2).Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write to a pipe with no reader: %v, want EPIPE", err)
	}
}

// TestBlockingFileUnchanged: a descriptor in blocking mode is not the
// package's (its reads would fail with EAGAIN, or block the poller).
func TestBlockingFileUnchanged(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := rawio.File(f); got != io.ReadWriter(f) {
		t.Fatalf("File(%s) = %T, want the file itself", os.DevNull, got)
	}
}

// TestConn runs an echo over TCP on 127.0.0.1: data both ways, a read
// deadline that expires as net.Conn's do, EOF when the peer closes, and
// net.ErrClosed after Close.
func TestConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := rawio.Conn(raw)
	if runtime.GOOS == "linux" && c == raw {
		t.Fatal("Conn returned the *net.TCPConn itself")
	}
	defer c.Close()

	want := bytes.Repeat([]byte("x"), 4<<20) // past the socket buffers both ways
	go c.Write(want)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echo: %v", err)
	}

	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	c.SetReadDeadline(time.Time{})

	c.(interface{ CloseWrite() error }).CloseWrite() // the echo ends, and closes its side
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v, want io.EOF", n, err)
	}
	c.Close()
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
}
