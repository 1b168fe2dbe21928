package privfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestOpenAppend(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	f, err := OpenAppend(path, "the log")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("one\n")
	f.Close()
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("created %v, %v; want mode 0600", fi.Mode(), err)
	}
	f, err = OpenAppend(path, "the log")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("two\n")
	f.Close()
	if data, _ := os.ReadFile(path); string(data) != "one\ntwo\n" {
		t.Errorf("content %q, want both lines appended", data)
	}

	target := filepath.Join(dir, "elsewhere")
	os.WriteFile(target, nil, 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAppend(link, "the log"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("OpenAppend of a symbolic link: %v, want a refusal", err)
	}
	if _, err := OpenAppend(dir, "the log"); err == nil {
		t.Error("OpenAppend of a directory succeeded")
	}
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	if err := CheckDir(filepath.Join(dir, "missing"), "the cache"); err != nil {
		t.Errorf("a missing directory: %v", err)
	}
	os.Chmod(dir, 0o700)
	if err := CheckDir(dir, "the cache"); err != nil {
		t.Errorf("a 0700 directory: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	os.Chmod(dir, 0o777)
	defer os.Chmod(dir, 0o700)
	err := CheckDir(dir, "the cache")
	if err == nil || !strings.Contains(err.Error(), "chmod go-w "+dir) {
		t.Errorf("a 0777 directory: %v, want a refusal saying how to fix it", err)
	}
	file := filepath.Join(t.TempDir(), "index.json")
	os.WriteFile(file, nil, 0o666)
	os.Chmod(file, 0o666)
	if err := CheckFile(file, "the index"); err == nil {
		t.Error("a 0666 file passed")
	}
	os.Chmod(file, 0o644)
	if err := CheckFile(file, "the index"); err != nil {
		t.Errorf("a 0644 file: %v", err)
	}
}

// TestOtherUsersFile: a file or directory of another user's is refused.
// Making one needs root (CI runs as root; elsewhere the test says so).
func TestOtherUsersFile(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	os.WriteFile(path, nil, 0o600)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if f, err := OpenAppend(path, "the log"); err == nil || !strings.Contains(err.Error(), "another user") {
		f.Close()
		t.Errorf("OpenAppend of another user's file: %v, want a refusal", err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(dir, "the cache"); err == nil || !strings.Contains(err.Error(), "another user") {
		t.Errorf("CheckDir of another user's directory: %v, want a refusal", err)
	}
}
