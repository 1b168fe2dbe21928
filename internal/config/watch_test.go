package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatch: writing the file and replacing it by a rename, as editors
// do, each call back.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	calls := make(chan struct{}, 10)
	stop, err := Watch(path, func() { calls <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	want := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("no call after %s", what)
		}
	}
	if err := os.WriteFile(path, []byte(`{"version": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	want("a write")
	tmp := filepath.Join(dir, ".config.json.swp")
	if err := os.WriteFile(tmp, []byte(`{"version": 1, "servers": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	want("a replacing rename")
}
