package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The host side of the relay speaks the stdio transport (basic/transports,
// "stdio"): one JSON-RPC message per line, no embedded newlines, and nothing
// on stdout that is not a message.

// errLineTooLong is returned for a line over the size limit.
var errLineTooLong = errors.New("message too large")

// lineReader reads newline-delimited messages from the host.
type lineReader struct {
	r   *bufio.Reader
	max int
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next non-empty line, without its terminator, in a slice
// the caller owns. For a line longer than the limit it discards the line,
// holding at most one buffer of it in memory, and returns errLineTooLong.
func (lr *lineReader) next() ([]byte, error) {
	for {
		line, err := lr.readLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
	}
}

func (lr *lineReader) readLine() ([]byte, error) {
	chunk, err := lr.r.ReadSlice('\n')
	if err == nil || (errors.Is(err, io.EOF) && len(chunk) > 0) {
		// The common case: the whole line was in the buffer.
		if line := trimEOL(chunk); len(line) <= lr.max {
			return bytes.Clone(line), nil
		}
		return nil, fmt.Errorf("%w: more than %d bytes", errLineTooLong, lr.max)
	}
	var long chunkList
	for errors.Is(err, bufio.ErrBufferFull) {
		long.Write(chunk)
		if long.Len() > lr.max+1 { // one more for the CR of a CRLF
			long.reset()
			// Skip to the end of the line without keeping it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = lr.r.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: more than %d bytes", errLineTooLong, lr.max)
		}
		chunk, err = lr.r.ReadSlice('\n')
	}
	long.Write(chunk)
	line := long.bytes(0)
	if err != nil && (!errors.Is(err, io.EOF) || len(line) == 0) {
		return nil, err
	}
	if line = trimEOL(line); len(line) > lr.max {
		return nil, fmt.Errorf("%w: more than %d bytes", errLineTooLong, lr.max)
	}
	return line, nil
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// hostWriter writes messages to the host, one per line. It is safe for
// concurrent use; after the first write error every write fails.
type hostWriter struct {
	mu  sync.Mutex // serializes writes; guards buf and err
	w   io.Writer
	buf []byte
	err error
}

// largeMessage is the size from which a message is written in place, with
// its newline as a second write, rather than copied into the line buffer.
const largeMessage = 64 << 10

func (hw *hostWriter) write(m *Message) error {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	if hw.err != nil {
		return hw.err
	}
	if len(m.Raw) < largeMessage {
		hw.buf = append(append(hw.buf[:0], m.Raw...), '\n')
		_, hw.err = hw.w.Write(hw.buf)
	} else if _, hw.err = hw.w.Write(m.Raw); hw.err == nil {
		_, hw.err = hw.w.Write([]byte{'\n'})
	}
	return hw.err
}
