package config

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mcp-bridge/mcp-bridge/internal/debounce"
)

// WatchDelay is how long [Watch] waits after a change before it calls
// back: an editor's save is several events.
const WatchDelay = 100 * time.Millisecond

// Watch calls fn, on a goroutine of its own, WatchDelay after each burst
// of changes to the file at path: written, replaced, created or removed.
// It watches the parent directory, since editors replace the file rather
// than write to it. stop ends the watch and waits for a call in progress.
func Watch(path string, fn func()) (stop func(), err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	dir, name := filepath.Split(filepath.Clean(path))
	if err := w.Add(filepath.Clean(dir)); err != nil {
		w.Close()
		return nil, err
	}
	d := debounce.New(WatchDelay, fn)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Base(ev.Name) == name && !ev.Has(fsnotify.Chmod) {
					d.Trigger()
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
			}
		}
	}()
	return sync.OnceFunc(func() {
		w.Close()
		<-done
		d.Stop()
	}), nil
}
