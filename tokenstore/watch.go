package tokenstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mcp-bridge/mcp-bridge/internal/debounce"
)

// WatchDelay is how long [Store.Watch] waits after a change before it
// calls back, so that a burst of changes (a sign-in writes the tokens,
// then the index) makes one call.
const WatchDelay = 50 * time.Millisecond

// Watch calls fn when the value under key changes: set or deleted by any
// process using the same directory, this one included. It watches the
// directory DIR/changes with fsnotify, not the marker file itself, since
// the marker is replaced by a rename on every change (the fsnotify README
// advises watching the parent). fn runs on a goroutine of its own, at most
// one call at a time per Watch, WatchDelay after the first change of a
// burst; a change made while fn runs makes one more call.
//
// Watch stops when stop is called or ctx is done; stop waits for a call
// of fn in progress to return (so fn must not call stop). For the memory
// backend fn sees only this process's changes.
func (s *Store) Watch(ctx context.Context, key string, fn func()) (stop func(), err error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	d := debounce.New(WatchDelay, fn)
	if err := s.watch.add(s.dir, key, d, s.log); err != nil {
		d.Stop()
		return nil, err
	}
	done := make(chan struct{})
	stop = sync.OnceFunc(func() {
		close(done)
		s.watch.remove(d)
		d.Stop()
	})
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return stop, nil
}

// watchers are the Watch calls of a Store, sharing one fsnotify watcher
// on DIR/changes while there is any.
type watchers struct {
	mu   sync.Mutex                // guards w, subs
	w    *fsnotify.Watcher         // nil when there are no subs, or no dir
	subs map[*debounce.Func]string // to the key each watches
}

// add registers d for changes of key; dir == "" means this process only.
func (ws *watchers) add(dir, key string, d *debounce.Func, log *slog.Logger) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if dir != "" && ws.w == nil {
		changes := filepath.Join(dir, "changes")
		if err := os.MkdirAll(changes, 0o700); err != nil {
			return fmt.Errorf("watch %s: %w", changes, err)
		}
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("watch %s: %w", changes, err)
		}
		if err := w.Add(changes); err != nil {
			w.Close()
			return fmt.Errorf("watch %s: %w", changes, err)
		}
		ws.w = w
		go ws.run(w, log)
	}
	if ws.subs == nil {
		ws.subs = map[*debounce.Func]string{}
	}
	ws.subs[d] = key
	return nil
}

// remove unregisters d, and closes the fsnotify watcher after the last.
func (ws *watchers) remove(d *debounce.Func) {
	ws.mu.Lock()
	delete(ws.subs, d)
	var w *fsnotify.Watcher
	if len(ws.subs) == 0 {
		w, ws.w = ws.w, nil
	}
	ws.mu.Unlock()
	// Close waits for the watcher's reader, which may be waiting for run,
	// which may be waiting for ws.mu.
	if w != nil {
		w.Close()
	}
}

// notify tells the watchers of key that it changed.
func (ws *watchers) notify(key string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for d, k := range ws.subs {
		if k == key {
			d.Trigger()
		}
	}
}

// run passes w's events on until w is closed. The event's base name is
// the key: temporary files start with a dot and match no key.
func (ws *watchers) run(w *fsnotify.Watcher, log *slog.Logger) {
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			ws.notify(filepath.Base(ev.Name))
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflow loses events: tell everyone.
			log.Warn("watching for credentials changes", "err", err)
			ws.mu.Lock()
			for d := range ws.subs {
				d.Trigger()
			}
			ws.mu.Unlock()
		}
	}
}
