package bridge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// lineResult is one result of lineReader.next.
type lineResult struct {
	Line string
	Err  error
}

// collectLines calls next until it returns an error other than
// errLineTooLong, at most n+1 times.
func collectLines(t *testing.T, lr *lineReader, n int) []lineResult {
	t.Helper()
	var got []lineResult
	for range n + 2 {
		line, err := lr.next()
		if err != nil {
			if line != nil {
				t.Errorf("next() = %q with error %v", line, err)
			}
			got = append(got, lineResult{Err: err})
			if !errors.Is(err, errLineTooLong) {
				return got
			}
			continue
		}
		got = append(got, lineResult{Line: string(line)})
	}
	t.Fatalf("next returned %d results from %d bytes", len(got), n)
	return nil
}

func okLine(s string) lineResult { return lineResult{Line: s} }

var (
	tooLong = lineResult{Err: errLineTooLong}
	atEOF   = lineResult{Err: io.EOF}
)

func TestLineReader(t *testing.T) {
	const bufSize = 64 << 10 // newLineReader's bufio buffer
	long := strings.Repeat("x", bufSize+100)
	longer := strings.Repeat("y", 3*bufSize)
	for _, tt := range []struct {
		name string
		in   string
		max  int
		want []lineResult
	}{
		{"empty", "", 10, []lineResult{atEOF}},
		{"LF", "a\nbc\n", 10, []lineResult{okLine("a"), okLine("bc"), atEOF}},
		{"CRLF", "a\r\nbc\r\n", 10, []lineResult{okLine("a"), okLine("bc"), atEOF}},
		{"final line without newline", "a\nbc", 10, []lineResult{okLine("a"), okLine("bc"), atEOF}},
		{"only a line without newline", `{"a":1}`, 10, []lineResult{okLine(`{"a":1}`), atEOF}},
		{"blank lines skipped", "\n\na\n\r\n \t \nb\n\n", 10, []lineResult{okLine("a"), okLine("b"), atEOF}},
		{"only blank lines", "\n\r\n  \n", 10, []lineResult{atEOF}},
		{"spaces kept", " a \n", 10, []lineResult{okLine(" a "), atEOF}},
		{"lone CR is not a line end", "a\rb\n", 10, []lineResult{okLine("a\rb"), atEOF}},
		{"one CR removed", "a\r\r\n", 10, []lineResult{okLine("a\r"), atEOF}},
		{"at the limit", "0123456789\nok\n", 10, []lineResult{okLine("0123456789"), okLine("ok"), atEOF}},
		{"at the limit without newline", "0123456789", 10, []lineResult{okLine("0123456789"), atEOF}},
		{"over the limit", "0123456789a\nok\n", 10, []lineResult{tooLong, okLine("ok"), atEOF}},
		{"far over the limit", strings.Repeat("z", 1000) + "\nok", 10, []lineResult{tooLong, okLine("ok"), atEOF}},
		{"over the limit at the end", "ok\n" + strings.Repeat("z", 1000), 10, []lineResult{okLine("ok"), tooLong, atEOF}},
		{"two over the limit", "0123456789a\n0123456789ab\nok\n", 10, []lineResult{tooLong, tooLong, okLine("ok"), atEOF}},
		{"longer than the buffer", long + "\n" + longer + "\nok\n", 1 << 20, []lineResult{okLine(long), okLine(longer), okLine("ok"), atEOF}},
		{"longer than the buffer with CRLF", long + "\r\n" + longer + "\r\n", 1 << 20, []lineResult{okLine(long), okLine(longer), atEOF}},
		{"longer than the buffer without newline", "ok\n" + longer, 1 << 20, []lineResult{okLine("ok"), okLine(longer), atEOF}},
		{"longer than the buffer and the limit", long + "\nok\n", bufSize + 99, []lineResult{tooLong, okLine("ok"), atEOF}},
		{"longer than the buffer, at the limit", long + "\nok\n", bufSize + 100, []lineResult{okLine(long), okLine("ok"), atEOF}},
		{"longer than the buffer and the limit, without newline", "ok\n" + long, bufSize + 50, []lineResult{okLine("ok"), tooLong, atEOF}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := collectLines(t, newLineReader(strings.NewReader(tt.in), tt.max), len(tt.in))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("lines mismatch (-want +got):\n%s", shorten(diff))
			}
		})
	}
}

// TestLineReaderLimitOffByOne pins a bug: readLine compares the length of
// the line with its terminator against max+1, the length of a line of max
// bytes ended by "\n". A line ended by "\r\n" may then hold only max-1
// bytes, and a final line with no terminator may hold max+1.
func TestLineReaderLimitOffByOne(t *testing.T) {
	const bufSize = 64 << 10
	for _, tt := range []struct {
		name string
		max  int
	}{
		{"line in the buffer", 10},
		{"line longer than the buffer", bufSize + 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			atMax := strings.Repeat("a", tt.max)
			for _, c := range []struct {
				name string
				in   string
				want []lineResult
			}{
				{"max bytes and CRLF", atMax + "\r\nok\n", []lineResult{okLine(atMax), okLine("ok"), atEOF}},
				{"max+1 bytes at the end", "ok\n" + atMax + "b", []lineResult{okLine("ok"), tooLong, atEOF}},
			} {
				got := collectLines(t, newLineReader(strings.NewReader(c.in), tt.max), len(c.in))
				if diff := cmp.Diff(c.want, got, cmpopts.EquateErrors()); diff != "" {
					t.Errorf("%s: lines mismatch (-want +got):\n%s", c.name, shorten(diff))
				}
			}
		})
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestLineReaderSkipsLongLine(t *testing.T) {
	const (
		max     = 256 << 10
		bufSize = 64 << 10
	)
	long := bytes.Repeat([]byte("x"), 10*max)
	const next = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	for _, tt := range []struct {
		name string
		in   []byte
		want []lineResult
	}{
		{"line then a message", slicesConcat(long, []byte("\n"+next+"\n")), []lineResult{tooLong, okLine(next), atEOF}},
		{"line with CRLF", slicesConcat(long, []byte("\r\n"+next+"\r\n")), []lineResult{tooLong, okLine(next), atEOF}},
		{"line at the end", slicesConcat([]byte(next+"\n"), long), []lineResult{okLine(next), tooLong, atEOF}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cr := &countingReader{r: bytes.NewReader(tt.in)}
			lr := newLineReader(cr, max)
			var got []lineResult
			for range len(tt.want) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				l, err := lr.next()
				runtime.ReadMemStats(&after)
				got = append(got, lineResult{string(l), err})
				if !errors.Is(err, errLineTooLong) {
					continue
				}
				// The line is skipped, not collected: next allocates
				// far less than the line's size.
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(long)/2) {
					t.Errorf("skipping a %d byte line allocated %d bytes", len(long), alloc)
				}
				// All of it was read, and at most one buffer beyond.
				if end := bytes.Index(tt.in, long) + len(long); cr.n < end || cr.n > end+bufSize {
					t.Errorf("after skipping the line that ends at %d, %d bytes were read", end, cr.n)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("lines mismatch (-want +got):\n%s", diff)
			}
			if cr.n != len(tt.in) {
				t.Errorf("read %d bytes of %d", cr.n, len(tt.in))
			}
		})
	}
}

func slicesConcat(a, b []byte) []byte {
	return append(bytes.Clone(a), b...)
}

// TestLineReaderOwnership checks that lines stay intact while the reader
// reuses its buffer.
func TestLineReaderOwnership(t *testing.T) {
	var in strings.Builder
	var want []string
	for i := range 20000 {
		l := fmt.Sprintf(`{"jsonrpc":"2.0","method":"m","params":{"i":%d}}`, i)
		want = append(want, l)
		in.WriteString(l + "\n")
	}
	lr := newLineReader(strings.NewReader(in.String()), 1<<20)
	var lines [][]byte
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	var got []string
	for _, l := range lines {
		got = append(got, string(l))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines changed after they were returned (-want +got):\n%s", diff)
	}
}

func TestLineReaderReadError(t *testing.T) {
	errBroken := errors.New("broken pipe")
	for _, tt := range []struct {
		name string
		in   string
		want []lineResult
	}{
		{"after a line", "a\n", []lineResult{okLine("a"), {Err: errBroken}}},
		{"inside a line", "a\nb", []lineResult{okLine("a"), {Err: errBroken}}},
		{"inside a long line", "a\n" + strings.Repeat("b", 100<<10), []lineResult{okLine("a"), {Err: errBroken}}},
		{"inside a line over the limit", "a\n" + strings.Repeat("b", 200<<10), []lineResult{okLine("a"), {Err: errBroken}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(io.MultiReader(strings.NewReader(tt.in), &failing{errBroken}), 150<<10)
			got := collectLines(t, lr, len(tt.in))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("lines mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// refLines splits in as the stdio transport says: lines end in "\n", with
// an optional "\r" before it; blank lines are skipped, and lines over max
// bytes are refused.
func refLines(in []byte, max int) []lineResult {
	var want []lineResult
	for len(in) > 0 {
		l, rest, _ := bytes.Cut(in, []byte("\n"))
		in = rest
		l = bytes.TrimSuffix(l, []byte("\r"))
		switch {
		case len(l) > max:
			want = append(want, tooLong)
		case len(bytes.TrimSpace(l)) > 0:
			want = append(want, okLine(string(l)))
		}
	}
	return append(want, atEOF)
}

func FuzzLineReader(f *testing.F) {
	for _, s := range []string{
		"a\nb\n",
		"a\r\nb",
		"\n\n \r\n",
		"0123456789\n0123456789a\nok",
		"0123456789012345678901234567890123456789\r\nx\n",
		"a\rb\r\r\n",
	} {
		f.Add([]byte(s), uint16(10), uint8(0))
		f.Add([]byte(s), uint16(40), uint8(5))
	}
	f.Fuzz(func(t *testing.T, in []byte, max uint16, chunk uint8) {
		src := &chunked{data: bytes.Clone(in), n: int(chunk) + 1}
		lr := newLineReader(src, int(max))
		// The smallest bufio buffer, so that short lines are long ones.
		lr.r = bufio.NewReaderSize(src, 16)
		got := collectLines(t, lr, len(in))
		if diff := cmp.Diff(refLines(in, int(max)), got, cmpopts.EquateErrors()); diff != "" {
			t.Errorf("lines of %q, limit %d, mismatch (-want +got):\n%s", in, max, diff)
		}
	})
}

func TestHostWriter(t *testing.T) {
	for _, size := range []int{2, 100, largeMessage - 1, largeMessage, largeMessage + 1, 3 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			m := &Message{Raw: bytes.Repeat([]byte("m"), size)}
			var out bytes.Buffer
			hw := &hostWriter{w: &out}
			for range 2 {
				if err := hw.write(m); err != nil {
					t.Fatal(err)
				}
			}
			want := slicesConcat(m.Raw, []byte("\n"))
			want = append(want, want...)
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("wrote %d bytes; want the message and a newline, twice (%d bytes)", out.Len(), len(want))
			}
		})
	}
}

// yieldingWriter collects writes, giving other goroutines a chance to run
// in the middle of each. It is not safe for concurrent use: the race
// detector reports writes that hostWriter does not serialize.
type yieldingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (w *yieldingWriter) Write(p []byte) (int, error) {
	w.writes++
	n, _ := w.buf.Write(p[:len(p)/2])
	runtime.Gosched()
	m, _ := w.buf.Write(p[len(p)/2:])
	return n + m, nil
}

func TestHostWriterConcurrent(t *testing.T) {
	const goroutines, each = 16, 20
	w := &yieldingWriter{}
	hw := &hostWriter{w: w}
	want := map[string]int{}
	msgs := make([][]*Message, goroutines)
	for g := range goroutines {
		for i := range each {
			pad := 10
			if i%4 == 0 {
				pad = largeMessage + g // written in two parts
			}
			raw := fmt.Sprintf(`{"jsonrpc":"2.0","method":"m","params":{"g":%d,"i":%d,"pad":%q}}`, g, i, strings.Repeat("p", pad))
			msgs[g] = append(msgs[g], &Message{Raw: []byte(raw)})
			want[raw]++
		}
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for _, m := range msgs[g] {
				if err := hw.write(m); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	out := w.buf.String()
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline")
	}
	got := map[string]int{}
	for l := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		got[l]++
	}
	bad := 0
	for l, n := range got {
		if want[l] != n {
			bad++
		}
	}
	if bad > 0 || len(got) != len(want) {
		t.Errorf("%d distinct lines, %d not as written; want the %d messages, each on a line of its own", len(got), bad, len(want))
	}
}

// failingWriter fails from its nth write on.
type failingWriter struct {
	out    bytes.Buffer
	n      int
	writes int
	err    error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes >= w.n {
		return 0, w.err
	}
	return w.out.Write(p)
}

func TestHostWriterError(t *testing.T) {
	errClosed := errors.New("stdout closed")
	small := &Message{Raw: []byte(`{"jsonrpc":"2.0","method":"m"}`)}
	large := &Message{Raw: bytes.Repeat([]byte("l"), largeMessage)}
	for _, tt := range []struct {
		name    string
		failAt  int // the underlying write that fails
		msgs    []*Message
		wantOut string
		wantOK  int // writes that succeed
	}{
		{"first write", 1, []*Message{small, small, small}, "", 0},
		{"second write", 2, []*Message{small, small, small}, string(small.Raw) + "\n", 1},
		{"large message", 2, []*Message{small, large, small}, string(small.Raw) + "\n", 1},
		{"newline of a large message", 2, []*Message{large, small, small}, string(large.Raw), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &failingWriter{n: tt.failAt, err: errClosed}
			hw := &hostWriter{w: w}
			for i, m := range tt.msgs {
				err := hw.write(m)
				if i < tt.wantOK {
					if err != nil {
						t.Errorf("write %d: %v", i, err)
					}
				} else if !errors.Is(err, errClosed) {
					t.Errorf("write %d = %v; want %v", i, err, errClosed)
				}
			}
			if w.writes != tt.failAt {
				t.Errorf("%d writes reached the writer; want %d, none after the failure", w.writes, tt.failAt)
			}
			if w.out.String() != tt.wantOut {
				t.Errorf("output = %.40q (%d bytes); want %.40q (%d bytes)", w.out.String(), w.out.Len(), tt.wantOut, len(tt.wantOut))
			}
		})
	}

	t.Run("concurrent", func(t *testing.T) {
		w := &failingWriter{n: 10, err: errClosed}
		hw := &hostWriter{w: w}
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed := 0
		for range 8 {
			wg.Go(func() {
				for range 10 {
					if err := hw.write(small); err != nil {
						if !errors.Is(err, errClosed) {
							t.Errorf("write = %v; want %v", err, errClosed)
						}
						mu.Lock()
						failed++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if w.writes != 10 || failed != 80-9 {
			t.Errorf("%d writes reached the writer and %d failed; want 10 and %d", w.writes, failed, 80-9)
		}
	})
}
