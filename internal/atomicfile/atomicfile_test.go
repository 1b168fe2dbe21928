package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "f.json")
	for _, content := range []string{"first", "second, longer than the first"} {
		if err := WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != content {
			t.Errorf("read %q, %v; want %q", got, err, content)
		}
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the file alone (no temporary file left)", len(entries))
	}
}

func TestReplaceIfCheckFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := errors.New("changed meanwhile")
	checked := false
	err := ReplaceIf(path, []byte("new"), 0o644, func() error {
		checked = true
		// The new content is on disk, beside the file, when check runs.
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			t.Errorf("during check the directory holds %d entries, want the file and the new content", len(entries))
		}
		return changed
	})
	if !errors.Is(err, changed) || !checked {
		t.Fatalf("ReplaceIf = %v (checked: %v), want the check's error", err, checked)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("after a failed check the file holds %q, want %q", got, "old")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the file alone", len(entries))
	}
	if err := ReplaceIf(path, []byte("new"), 0o644, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Errorf("after a passing check the file holds %q", got)
	}
}
