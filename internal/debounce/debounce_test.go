package debounce

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

const delay = 50 * time.Millisecond

// TestFunc: a burst of changes makes one call, delay after its
// first change; a change during a call makes one more call.
func TestFunc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		release := make(chan struct{})
		d := New(delay, func() {
			if n.Add(1) == 2 {
				<-release
			}
		})
		defer d.Stop()
		want := func(w int32, when string) {
			t.Helper()
			synctest.Wait()
			if got := n.Load(); got != w {
				t.Fatalf("%s: %d calls, want %d", when, got, w)
			}
		}
		d.Trigger()
		d.Trigger()
		time.Sleep(delay / 2)
		d.Trigger()
		want(0, "during the delay")
		time.Sleep(delay / 2)
		want(1, "after the delay")
		time.Sleep(time.Second)
		want(1, "a second later")

		d.Trigger()
		time.Sleep(delay)
		want(2, "after the second burst")
		// Call 2 is blocked: a change now makes call 3 once it returns.
		d.Trigger()
		d.Trigger()
		time.Sleep(time.Second)
		want(2, "while call 2 runs")
		close(release)
		want(2, "right after call 2")
		time.Sleep(delay)
		want(3, "after call 2")
		time.Sleep(time.Second)
		want(3, "later")
	})
}
