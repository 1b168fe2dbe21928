package bridge

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestChunkList(t *testing.T) {
	for _, n := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 7} {
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		var w chunkList
		for p := want; len(p) > 0; p = p[min(len(p), 1000):] {
			w.Write(p[:min(len(p), 1000)])
		}
		if got := w.bytes(1); !bytes.Equal(got, want) || cap(got) != n+1 {
			t.Errorf("Write %d bytes: got %d bytes (cap %d), equal %v", n, len(got), cap(got), bytes.Equal(got, want))
		}
		var r chunkList
		if err := r.readFrom(iotest.HalfReader(bytes.NewReader(want)), n); err != nil {
			t.Errorf("readFrom %d bytes: %v", n, err)
		}
		if got := r.bytes(0); !bytes.Equal(got, want) || cap(got) != n {
			t.Errorf("readFrom %d bytes: got %d bytes (cap %d)", n, len(got), cap(got))
		}
		if n > 0 {
			var over chunkList
			if err := over.readFrom(bytes.NewReader(want), n-1); !errors.Is(err, errOverLimit) {
				t.Errorf("readFrom %d bytes with a limit of %d: %v, want errOverLimit", n, n-1, err)
			}
			over.reset()
		}
	}
}

// TestChunkListAllocation: collecting a 10 MB body allocates about its
// size once (twice were the pool emptied meanwhile), not the 32 MB a
// doubling buffer takes.
func TestChunkListAllocation(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 10_000_000)
	var c chunkList
	c.readFrom(bytes.NewReader(body), len(body)) // fill the pool
	c.reset()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c.readFrom(bytes.NewReader(body), len(body))
	got := c.bytes(0)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > uint64(len(body))*5/2 || len(got) != len(body) {
		t.Errorf("collecting %d bytes allocated %d", len(body), n)
	}
}
