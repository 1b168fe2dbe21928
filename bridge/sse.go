package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// An event is one server-sent event.
type event struct {
	name string // the "event" field; "" means "message"
	data []byte // the "data" fields joined with "\n"; owned by the receiver
}

// eventReader parses a text/event-stream body as the WHATWG HTML standard
// describes ("Server-sent events", section "Event stream interpretation"):
// lines end in CRLF, LF or CR; a blank line dispatches the event; an event
// cut off by the end of the stream is discarded.
type eventReader struct {
	r   *bufio.Reader
	max int // largest event accepted, in bytes

	// lastID is the id of the stream as of the last dispatched event, for
	// the Last-Event-ID header when resuming. retry is the reconnection
	// delay the server asked for, or 0.
	lastID string
	retry  time.Duration

	idBuf  string
	line   []byte    // reused buffer for the current line
	long   chunkList // the current line, once longer than longLine
	skipLF bool      // the last line ended in CR: skip an LF that follows
	first  bool      // no line read yet: strip a leading byte order mark
}

// errEventTooLarge is returned when an event exceeds the size limit.
var errEventTooLarge = errors.New("server-sent event too large")

// readers recycles the buffers of event readers: a relay reads one stream
// per request.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func newEventReader(r io.Reader, max int) *eventReader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return &eventReader{r: br, max: max, first: true}
}

// release returns the reader's buffer for reuse; er must not be used after.
// It may be called more than once.
func (er *eventReader) release() {
	er.long.reset()
	if er.r != nil {
		er.r.Reset(nil)
		readers.Put(er.r)
		er.r = nil
	}
}

// reset continues with r, the body of a resumed stream, keeping the last
// event id and the retry delay.
func (er *eventReader) reset(r io.Reader) {
	er.r.Reset(r)
	er.long.reset()
	er.line, er.skipLF, er.first = er.line[:0], false, true
	// An id read for an event that was cut off never took effect.
	er.idBuf = er.lastID
}

// next returns the next event that carries data. It returns io.EOF when the
// stream ends.
func (er *eventReader) next() (event, error) {
	var ev event
	var data []byte
	hasData := false
	size := 0
	for {
		line, err := er.readLine(er.max - size)
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				// The stream ended inside a line: the event is incomplete.
				return event{}, io.EOF
			}
			return event{}, err
		}
		size += len(line)
		if len(line) == 0 {
			er.lastID = er.idBuf
			if !hasData {
				ev.name = ""
				size = 0 // the limit is per event
				continue
			}
			ev.data = data
			return ev, nil
		}
		if line[0] == ':' {
			continue // a comment
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "event":
			ev.name = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			switch {
			case data == nil && len(er.line) > 0 && len(value) > 0 && &line[len(line)-1] == &er.line[len(er.line)-1]:
				// A long line assembled in er.line: take it over
				// rather than copy it (this is the 10 MB result path).
				data, er.line = value, nil
			case data == nil:
				data = append(make([]byte, 0, len(value)), value...)
			default:
				data = append(data, value...)
			}
			hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				er.idBuf = string(value)
			}
		case "retry":
			if n, err := strconv.ParseUint(string(value), 10, 31); err == nil && isDigits(value) {
				er.retry = time.Duration(n) * time.Millisecond
			}
		}
	}
}

// readLine returns the next line without its terminator. At the end of the
// stream it returns the partial line, if any, with io.EOF. The returned slice
// is valid until the next call.
//
// It waits for input only when none is buffered, so that a line ended by a
// lone CR is returned without waiting for the byte after it.
func (er *eventReader) readLine(budget int) ([]byte, error) {
	if cap(er.line) > longLine {
		er.line = nil // a long line's own slice, not a buffer to keep
	}
	er.line = er.line[:0]
	for {
		buf, err := er.r.Peek(max(er.r.Buffered(), 1))
		if len(buf) == 0 {
			return er.endLine(), err
		}
		if er.first {
			er.first = false
			if buf[0] == 0xEF {
				if bom, _ := er.r.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
					er.r.Discard(3)
				}
			}
			continue
		}
		if er.skipLF {
			er.skipLF = false
			if buf[0] == '\n' {
				er.r.Discard(1)
				continue
			}
		}
		// Two IndexByte scans, not IndexAny: they run at memory speed on
		// the 10 MB line of a large result.
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			i = len(buf)
		}
		if j := bytes.IndexByte(buf[:i], '\r'); j >= 0 {
			i = j
		}
		if len(er.line)+er.long.Len()+i > budget {
			er.long.reset()
			return nil, fmt.Errorf("%w: more than %d bytes", errEventTooLarge, er.max)
		}
		switch {
		case er.long.Len() > 0:
			er.long.Write(buf[:i])
		case len(er.line)+i > longLine:
			er.long.Write(er.line)
			er.long.Write(buf[:i])
			er.line = er.line[:0]
		default:
			er.line = append(er.line, buf[:i]...)
		}
		if i == len(buf) {
			er.r.Discard(i)
			continue
		}
		er.skipLF = buf[i] == '\r'
		er.r.Discard(i + 1)
		return er.endLine(), nil
	}
}

// longLine is the length past which readLine collects a line in pieces
// (chunkList) and returns it in a slice of its exact length, rather than
// grow its buffer for it.
const longLine = 64 << 10

// endLine returns the line read.
func (er *eventReader) endLine() []byte {
	if er.long.Len() > 0 {
		er.line = er.long.bytes(0)
	}
	return er.line
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
