package install

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var fixedNow = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInstallFile(t *testing.T) {
	h := mustHost(t, "cursor")
	dir := t.TempDir()
	path := filepath.Join(dir, ".cursor", "mcp.json")
	o := Options{Now: fixedNow}

	// From nothing: the directory and the file appear, no backup.
	res, err := h.Install(path, bridge, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != Added || !res.Created || res.Backup != "" || res.Path != path {
		t.Errorf("first install: %+v", res)
	}
	created := readFile(t, path)
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v, want 0600", fi.Mode().Perm())
	}

	// Again: nothing written.
	res, err = h.Install(path, bridge, o)
	if err != nil || res.Action != Unchanged || res.Backup != "" {
		t.Fatalf("second install: %+v, %v", res, err)
	}
	if matches, _ := filepath.Glob(path + ".bak-*"); len(matches) != 0 {
		t.Errorf("backups after an install that changed nothing: %v", matches)
	}

	// Another command line: a backup of the file as it was, its mode kept.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	changed := bridge
	changed.Args = []string{"https://other.example/mcp"}
	res, err = h.Install(path, changed, o)
	if err != nil || res.Action != Updated {
		t.Fatalf("update: %+v, %v", res, err)
	}
	wantBackup := path + ".bak-20260102-030405"
	if res.Backup != wantBackup {
		t.Errorf("backup = %q, want %q", res.Backup, wantBackup)
	}
	if got := readFile(t, wantBackup); got != created {
		t.Errorf("the backup holds %q, want the file before the update", got)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("mode after update %v, want 0644 kept", fi.Mode().Perm())
	}

	// A dry run writes nothing but says what it would do.
	before := readFile(t, path)
	res, err = h.Uninstall(path, bridge.Name, Options{Now: fixedNow, DryRun: true})
	if err != nil || res.Action != Removed || res.Backup != "" || string(res.Old) != before || string(res.New) == before {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	if readFile(t, path) != before {
		t.Errorf("a dry run changed the file")
	}

	// Uninstall in the same second: the backup gets another name.
	res, err = h.Uninstall(path, bridge.Name, o)
	if err != nil || res.Action != Removed || res.Backup != wantBackup+"-2" {
		t.Fatalf("uninstall: %+v, %v", res, err)
	}
	if got := readFile(t, path); got != "{\n  \"mcpServers\": {}\n}\n" {
		t.Errorf("after uninstall: %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestUninstallMissingFile(t *testing.T) {
	h := mustHost(t, "codex")
	path := filepath.Join(t.TempDir(), "config.toml")
	res, err := h.Uninstall(path, "x", Options{})
	if err != nil || res.Action != NotFound {
		t.Fatalf("%+v, %v", res, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("uninstall created the file")
	}
}

func TestInstallThroughSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	h := mustHost(t, "zed")
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "zed.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("{\n  // mine\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "settings.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	res, err := h.Install(link, bridge, Options{Now: fixedNow})
	if err != nil || res.Action != Added {
		t.Fatalf("%+v, %v", res, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file")
	}
	if got := readFile(t, real); !strings.Contains(got, "// mine") || !strings.Contains(got, `"/b/mcp-bridge"`) {
		t.Errorf("the link's target = %q", got)
	}
	if res.Backup != real+".bak-20260102-030405" {
		t.Errorf("backup %q, want beside the target", res.Backup)
	}
}

// TestReplaceNoticesChange: when another program writes the file between
// the read and the rename, the rename does not happen and nothing is left
// behind.
func TestReplaceNoticesChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcp.json")
	if err := os.WriteFile(path, []byte("{\"theirs\": 2}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := replace(path, []byte("{\"theirs\": 1}"), []byte("{}"), fixedNow())
	if !errors.Is(err, errChanged) {
		t.Fatalf("err = %v, want errChanged", err)
	}
	if got := readFile(t, path); got != "{\"theirs\": 2}" {
		t.Errorf("file = %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\n"
	new := "a\nb\nc\nd\nE1\nE2\nf\ng\nh\n"
	want := "--- old\n+++ new\n@@ -2,7 +2,8 @@\n b\n c\n d\n-e\n+E1\n+E2\n f\n g\n h\n"
	if diff := cmp.Diff(want, Diff("old", "new", []byte(old), []byte(new))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Pure insertion at the end of a file without a final newline.
	want = "--- old\n+++ new\n@@ -1 +1,2 @@\n-x\n\\ No newline at end of file\n+x\n+y\n"
	if diff := cmp.Diff(want, Diff("old", "new", []byte("x"), []byte("x\ny\n"))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// From nothing.
	want = "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+{\n+}\n"
	if diff := cmp.Diff(want, Diff("old", "new", nil, []byte("{\n}\n"))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if Diff("a", "b", []byte("same"), []byte("same")) != "" {
		t.Errorf("equal inputs gave a diff")
	}
}
