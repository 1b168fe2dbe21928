package tokenstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// Lock blocks until this process holds the lock for key, or ctx is done.
// The returned function releases it; calling it again does nothing.
//
// The lock is an OS file lock (flock on Unix, LockFileEx on Windows) on
// DIR/locks/KEY.lock, so it excludes other processes as well as other
// goroutines, and the OS releases it when the process dies, however it
// dies: a bridge whose lock holder is killed takes over. For the memory
// backend the lock only excludes this process's goroutines.
//
// Lock satisfies oauthclient.Locker.
func (s *Store) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return s.lock(ctx, key)
}

func (s *Store) lock(ctx context.Context, key string) (func(), error) {
	// Goroutines of this process queue on a channel, so that only one of
	// them polls the file lock.
	s.mu.Lock()
	held, ok := s.locks[key]
	if !ok {
		held = make(chan struct{}, 1)
		s.locks[key] = held
	}
	s.mu.Unlock()
	select {
	case held <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.dir == "" {
		return sync.OnceFunc(func() { <-held }), nil
	}
	fl, err := lockFile(ctx, filepath.Join(s.dir, "locks", key+".lock"))
	if err != nil {
		<-held
		return nil, err
	}
	return sync.OnceFunc(func() {
		if err := fl.Unlock(); err != nil {
			s.log.Warn("releasing the credentials lock failed; it is released when this process exits", "key", key, "err", err)
		}
		<-held
	}), nil
}

// Polling delays of lockFile: gofrs/flock has no blocking lock that a
// context can cancel, so lockFile tries, then waits, doubling the wait up
// to lockPollMax.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 200 * time.Millisecond
)

// lockFile takes an exclusive OS lock on the file at path, created with
// mode 0600 (in a directory of mode 0700) if missing.
func lockFile(ctx context.Context, path string) (*flock.Flock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	delay := lockPollMin
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return fl, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, lockPollMax)
	}
}
