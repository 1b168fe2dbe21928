package bridge

import "time"

// workers runs functions on goroutines that outlive them. The relay sends
// each request from a goroutine of its own; reusing goroutines spares each
// request a fresh stack that the HTTP client's deep call chain then grows
// by copying, which was a seventh of the bridge's CPU time per call.
type workers struct {
	jobs chan func() // unbuffered: a send succeeds only if a worker is idle
}

// workerIdle is how long an idle worker waits for a job before it exits.
const workerIdle = 30 * time.Second

func newWorkers() *workers { return &workers{jobs: make(chan func())} }

// do runs f on an idle worker, or on a new one if none is idle.
func (w *workers) do(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		f()
		t.Reset(workerIdle)
		select {
		case f = <-w.jobs:
		case <-t.C:
			return
		}
	}
}
