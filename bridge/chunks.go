package bridge

import (
	"errors"
	"io"
	"sync"
)

// chunkSize is the size of the pieces a chunkList collects.
const chunkSize = 256 << 10

// chunkPool recycles the pieces: a large message's are reused by the next.
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// A chunkList collects bytes of unknown length, a response body or a long
// line of a server-sent event, in pooled pieces, and returns them as one
// slice of exactly their length. Collecting 10 MB so allocates 10 MB; a
// slice that doubles as it grows allocates about 32, and holds up to 16 of
// it at once.
type chunkList struct {
	full []*[chunkSize]byte
	last *[chunkSize]byte
	n    int // bytes in last
}

// Len returns the number of bytes collected.
func (c *chunkList) Len() int { return len(c.full)*chunkSize + c.n }

// Write appends p. It never fails.
func (c *chunkList) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		k := copy(c.room(), p)
		c.n += k
		p = p[k:]
	}
	return written, nil
}

// room returns the free part of the last piece, taking a new piece when
// that one is full.
func (c *chunkList) room() []byte {
	if c.last == nil || c.n == chunkSize {
		if c.last != nil {
			c.full = append(c.full, c.last)
		}
		c.last, c.n = chunkPool.Get().(*[chunkSize]byte), 0
	}
	return c.last[c.n:]
}

// errOverLimit is readFrom's error when r yields more than its limit.
var errOverLimit = errors.New("over the limit")

// readFrom appends what r yields until its end, or fails with
// errOverLimit once more than limit bytes are collected.
func (c *chunkList) readFrom(r io.Reader, limit int) error {
	for {
		k, err := r.Read(c.room())
		c.n += k
		switch {
		case c.Len() > limit:
			return errOverLimit
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
}

// bytes returns the bytes collected, in a slice of their own with room for
// extra more, and empties c.
func (c *chunkList) bytes(extra int) []byte {
	out := make([]byte, 0, c.Len()+extra)
	for _, p := range c.full {
		out = append(out, p[:]...)
	}
	if c.last != nil {
		out = append(out, c.last[:c.n]...)
	}
	c.reset()
	return out
}

// reset empties c, returning its pieces to the pool.
func (c *chunkList) reset() {
	for _, p := range c.full {
		chunkPool.Put(p)
	}
	if c.last != nil {
		chunkPool.Put(c.last)
	}
	*c = chunkList{}
}
