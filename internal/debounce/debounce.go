// Package debounce turns a burst of triggers into one call: file-change
// notifications come several per edit (an editor writes a temporary file,
// renames it, changes its mode), and each edit should be read once.
package debounce

import "time"

// Func calls a function once after each burst of triggers.
type Func struct {
	delay time.Duration
	fn    func()
	kick  chan struct{} // buffered 1: a trigger is pending
	done  chan struct{} // closed by Stop
	exit  chan struct{} // closed when run returns
}

// New returns a Func that calls fn, on a goroutine of its own and at most
// one call at a time, delay after the first trigger of a burst. A trigger
// during a call makes one more call.
func New(delay time.Duration, fn func()) *Func {
	d := &Func{
		delay: delay,
		fn:    fn,
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		exit:  make(chan struct{}),
	}
	go d.run()
	return d
}

// Trigger asks for a call; it never blocks.
func (d *Func) Trigger() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Stop ends d and waits for a call in progress to return; fn must not
// call Stop.
func (d *Func) Stop() {
	close(d.done)
	<-d.exit
}

func (d *Func) run() {
	defer close(d.exit)
	for {
		select {
		case <-d.done:
			return
		case <-d.kick:
		}
		t := time.NewTimer(d.delay)
		select {
		case <-d.done:
			t.Stop()
			return
		case <-t.C:
		}
		// Triggers during the delay are answered by this call.
		select {
		case <-d.kick:
		default:
		}
		d.fn()
	}
}
