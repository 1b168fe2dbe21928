package tokenstore

import (
	"context"
	"testing"
	"time"
)

// calls returns a callback and a channel that receives from each call.
func calls() (func(), <-chan struct{}) {
	ch := make(chan struct{}, 100)
	return func() { ch <- struct{}{} }, ch
}

func wantCall(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no call after %s", what)
	}
}

func wantNoCall(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("a call after %s", what)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestWatch: a Store sees the changes another Store on the same directory
// makes (as it would another process's), whatever the backend of either,
// and only those of its key.
func TestWatch(t *testing.T) {
	for _, tt := range []struct{ watcher, writer string }{
		{KindFile, KindFile},
		{KindKeychain, KindKeychain},
		{KindFile, KindKeychain},
	} {
		t.Run(tt.watcher+"-"+tt.writer, func(t *testing.T) {
			dir := t.TempDir()
			s1, _, err := openMock(t, tt.watcher, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			s2, _, err := openMock(t, tt.writer, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			fn, ch := calls()
			stop, err := s1.Watch(ctx, "k", fn)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			if err := s2.Set(ctx, "k", []byte("v1")); err != nil {
				t.Fatal(err)
			}
			wantCall(t, ch, "Set")
			if err := s2.Set(ctx, "other", []byte("v1")); err != nil {
				t.Fatal(err)
			}
			wantNoCall(t, ch, "a Set of another key")
			if err := s2.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			wantCall(t, ch, "Delete")
			if err := s1.Set(ctx, "k", []byte("v2")); err != nil {
				t.Fatal(err)
			}
			wantCall(t, ch, "a Set by the watching store")
			stop()
			if err := s2.Set(ctx, "k", []byte("v3")); err != nil {
				t.Fatal(err)
			}
			wantNoCall(t, ch, "stop")
		})
	}
}

// TestWatchMany: several watches of one Store share a watcher; each sees
// its key; a watch ends with its context.
func TestWatchMany(t *testing.T) {
	dir := t.TempDir()
	s, _, err := openMock(t, KindFile, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fa, cha := calls()
	fb, chb := calls()
	ctx, cancel := context.WithCancel(t.Context())
	if _, err := s.Watch(ctx, "a", fa); err != nil {
		t.Fatal(err)
	}
	stopB, err := s.Watch(t.Context(), "b", fb)
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()
	if err := s.Set(t.Context(), "a", nil); err != nil {
		t.Fatal(err)
	}
	wantCall(t, cha, "Set a")
	wantNoCall(t, chb, "Set a")
	cancel()
	time.Sleep(50 * time.Millisecond)
	if err := s.Set(t.Context(), "a", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(t.Context(), "b", nil); err != nil {
		t.Fatal(err)
	}
	wantCall(t, chb, "Set b")
	wantNoCall(t, cha, "the context of the watch of a ended")
}

func TestWatchMemory(t *testing.T) {
	s, _, err := openMock(t, KindMemory, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	fn, ch := calls()
	stop, err := s.Watch(t.Context(), "k", fn)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := s.Set(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	wantCall(t, ch, "Set")
	if err := s.Set(t.Context(), "other", []byte("v")); err != nil {
		t.Fatal(err)
	}
	wantNoCall(t, ch, "a Set of another key")
}
