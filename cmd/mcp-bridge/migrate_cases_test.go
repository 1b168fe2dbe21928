package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/install"
)

// readEntries returns the entries of the host's config file at path.
func readEntries(t *testing.T, hostID, path string) map[string]install.Entry {
	t.Helper()
	h, err := install.LookupHost(hostID)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	list, err := h.Entries(data)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]install.Entry{}
	for _, e := range list {
		out[e.Name] = e
	}
	return out
}

// linkOrCopy puts the file at src at dst too: a hard link, or a copy
// where the two are on different file systems.
func linkOrCopy(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Link(src, dst) == nil {
		return
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateWritesStablePath: installed by Homebrew, the binary lives in
// PREFIX/Cellar/mcp-bridge/VERSION/bin and is reached through the link
// PREFIX/bin/mcp-bridge on PATH. install writes the link (stablePath);
// migrate wrote the Cellar path, which the next `brew upgrade` removes,
// and every migrated entry broke with it.
func TestMigrateWritesStablePath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Homebrew's layout: symbolic links into a Cellar")
	}
	_, env, ienv := migrateHome(t)
	prefix := t.TempDir()
	cellar := filepath.Join(prefix, "Cellar", "mcp-bridge", "1.2.3", "bin", "mcp-bridge")
	linkOrCopy(t, os.Args[0], cellar)
	link := filepath.Join(prefix, "bin", "mcp-bridge")
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(filepath.Join("..", "Cellar", "mcp-bridge", "1.2.3", "bin", "mcp-bridge"), link); err != nil {
		t.Fatal(err)
	}
	p := writeHostConfig(t, ienv, "cursor", `{"mcpServers": {"r": {"command": "npx", "args": ["-y", "mcp-remote", "https://never.example/mcp"]}}}`)
	env = append(env, "PATH="+filepath.Dir(link)+string(os.PathListSeparator)+os.Getenv("PATH"))

	out, errOut, code := runMigrateAt(t, link, env, "migrate", "--host", "cursor", "--token-store", "file")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got := readEntries(t, "cursor", p)["r"].Command; got != link {
		t.Errorf("the entry runs %s, want %s: the Cellar path goes with the next upgrade", got, link)
	}
	if strings.Contains(out, "Cellar") {
		t.Errorf("the report names the Cellar path:\n%s", out)
	}
}
