package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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
// PREFIX/bin/mcp-bridge on PATH. install writes the link (install.StablePath);
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

// storeHolds reports whether the file token store under home holds s.
func storeHolds(t *testing.T, home, s string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(home, "config", "mcp-bridge", "credentials", "*"))
	for _, f := range files {
		if data, _ := os.ReadFile(f); strings.Contains(string(data), s) {
			return true
		}
	}
	return false
}

// TestMigrateKeepsFilesOthersUse: mcp-remote's files for a server are
// removed only when no mcp-remote entry left in any host's config can
// read them. Before, migrate looked only at the entries it rewrote: with
// --host cursor it removed the files Claude Desktop's entry for the same
// server still signed in with, and beside an entry it left alone for a
// flag of mcp-remote's it does not take (--keep-alive) it removed that
// entry's files too. Each of those entries had to sign in again.
func TestMigrateKeepsFilesOthersUse(t *testing.T) {
	demo := migrateDemo(t)
	entry := func(name string, args ...string) string {
		a, _ := json.Marshal(append([]string{"-y", "mcp-remote", demo.URL}, args...))
		return `"` + name + `": {"command": "npx", "args": ` + string(a) + `}`
	}
	tests := []struct {
		name    string
		configs map[string]string // host ID: its config
		args    []string
		user    string // what the report names as still using the files
	}{
		{"another host", map[string]string{
			"cursor":         `{"mcpServers": {` + entry("remote") + `}}`,
			"claude-desktop": `{"mcpServers": {` + entry("desktop") + `}}`,
		}, []string{"--host", "cursor"}, `Claude Desktop's "desktop"`},
		{"an entry left alone", map[string]string{
			"cursor": `{"mcpServers": {` + entry("remote") + `, ` + entry("kept", "--keep-alive") + `}}`,
		}, nil, `Cursor's "kept"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home, env, ienv := migrateHome(t)
			dir := mcpRemoteDir(home)
			key := mcpRemoteKey(t, demo.URL)
			writeMCPRemoteFiles(t, dir, key, "dyn-1")
			paths := map[string]string{}
			for id, text := range tt.configs {
				paths[id] = writeHostConfig(t, ienv, id, text)
			}
			dry, _, _ := runMigrateBinary(t, env, append([]string{"migrate", "--token-store", "file", "--dry-run"}, tt.args...)...)
			if !strings.Contains(dry, "would be kept") || !strings.Contains(dry, tt.user) {
				t.Errorf("the dry run does not say that the files would be kept for %s:\n%s", tt.user, dry)
			}
			out, errOut, _ := runMigrateBinary(t, env, append([]string{"migrate", "--token-store", "file"}, tt.args...)...)
			if !strings.Contains(out, "moved into the token store") || readEntries(t, "cursor", paths["cursor"])["remote"].Command == "npx" {
				t.Errorf("Cursor's entry was not migrated\nstdout:\n%s\nstderr:\n%s", out, errOut)
			}
			if !storeHolds(t, home, "at-"+key) {
				t.Error("the token store does not hold the tokens")
			}
			if left, _ := filepath.Glob(filepath.Join(dir, key+"_*")); len(left) != 2 {
				t.Errorf("mcp-remote's files: %q, want both kept: an entry still runs mcp-remote with them\n%s", left, out)
			}
			if !strings.Contains(out, tt.user) {
				t.Errorf("the report does not say that %s still uses the files:\n%s", tt.user, out)
			}
		})
	}
}

// TestMigrateSameServerTwoSignIns: two mcp-remote entries for one server
// with different --header values have files of their own (the headers
// enter mcp-remote's key) but one key in mcp-bridge's store (server,
// resource, client). Before, migrate imported both, the second over the
// first, said both were moved and removed both sets of files: the first
// sign-in was lost. Now the freshest usable tokens are moved, the report
// says so, and the files that were not imported stay.
func TestMigrateSameServerTwoSignIns(t *testing.T) {
	demo := migrateDemo(t)
	home, env, ienv := migrateHome(t)
	dir := mcpRemoteDir(home)
	older := mcpRemoteKey(t, demo.URL, "--header", "X-Tenant: a")
	newer := mcpRemoteKey(t, demo.URL, "--header", "X-Tenant: b")
	writeMCPRemoteFiles(t, dir, older, "dyn-a")
	writeMCPRemoteFiles(t, dir, newer, "dyn-b")
	then := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, older+"_tokens.json"), then, then)
	p := writeHostConfig(t, ienv, "cursor", `{"mcpServers": {
  "b": {"command": "npx", "args": ["-y", "mcp-remote", "`+demo.URL+`", "--header", "X-Tenant: b"]},
  "a": {"command": "npx", "args": ["-y", "mcp-remote", "`+demo.URL+`", "--header", "X-Tenant: a"]}
}}`)

	out, errOut, code := runMigrateBinary(t, env, "migrate", "--token-store", "file")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := strings.Count(out, "moved into the token store"); n != 1 {
		t.Errorf("%d entries report their credentials moved, want 1: one store key holds one sign-in\n%s", n, out)
	}
	if !strings.Contains(out, `newer sign-in of Cursor's "b"`) {
		t.Errorf("the report does not say which sign-in was kept:\n%s", out)
	}
	if !storeHolds(t, home, "at-"+newer) || storeHolds(t, home, "at-"+older) {
		t.Error("the token store does not hold the newer sign-in's tokens alone")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, older+"_*")); len(left) != 2 {
		t.Errorf("the older sign-in's files: %q, want both kept: they were not imported", left)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, newer+"_*")); len(left) != 0 {
		t.Errorf("the imported sign-in's files: %q, want them removed", left)
	}
	for name, e := range readEntries(t, "cursor", p) {
		if e.Command == "npx" {
			t.Errorf("entry %s still runs mcp-remote", name)
		}
	}
}

// TestMigrateRedactsLiterals: a --header value written into the entry (an
// API key) and a client secret written into --static-oauth-client-info
// are secrets; migrate printed them in its report and in the dry run's
// diff. They are now shown as [redacted], a ${VAR} reference as it is,
// and the rewritten entry still holds them.
func TestMigrateRedactsLiterals(t *testing.T) {
	const apiKey, secret = "sk-live-0123456789abcdef", "inline-secret-9876"
	_, env, ienv := migrateHome(t)
	p := writeHostConfig(t, ienv, "cursor", `{"mcpServers": {"r": {"command": "npx", "args": ["-y", "mcp-remote", "https://never.example/mcp",
  "--header", "X-Api-Key: `+apiKey+`", "--header", "X-Team: ${TEAM}",
  "--static-oauth-client-info", "{\"client_id\":\"c\",\"client_secret\":\"`+secret+`\"}"], "env": {"TEAM": "blue"}}}}`)
	for _, args := range [][]string{{"--dry-run"}, nil} {
		out, errOut, code := runMigrateBinary(t, env, append([]string{"migrate", "--token-store", "file"}, args...)...)
		if code != 0 {
			t.Fatalf("migrate %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
		}
		for _, s := range []string{apiKey, secret} {
			if strings.Contains(out+errOut, s) {
				t.Errorf("migrate %q shows %s:\n%s%s", args, s, out, errOut)
			}
		}
		if !strings.Contains(out, "X-Api-Key: [redacted]") || !strings.Contains(out, "X-Team: ${TEAM}") {
			t.Errorf("migrate %q: want the key redacted and the reference shown:\n%s", args, out)
		}
	}
	got := readEntries(t, "cursor", p)["r"]
	if args := strings.Join(got.Args, " "); !strings.Contains(args, apiKey) || !strings.Contains(args, secret) {
		t.Errorf("the rewritten entry lost what the report hides: %q", got.Args)
	}
}

// hangingServer listens on 127.0.0.1 and never answers: an authorization
// server (or MCP server) that hangs. It returns the server's URL.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, unread, until the test ends
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/mcp"
}

// protectedBy serves an MCP server on 127.0.0.1 whose protected resource
// metadata names the authorization server at as, and returns its URL.
func protectedBy(t *testing.T, as string) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/oauth-protected-resource/mcp" {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"resource": srv.URL + "/mcp", "authorization_servers": []string{as}})
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+srv.URL+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// TestMigrateSaysWhatItWaitsFor: importing credentials asks the server
// and its authorization server for their metadata. Before, an
// authorization server that hung cost a minute per entry, in silence.
// Now migrate says what it waits for and for how long (--timeout), says
// which server did not answer, asks a server that timed out only once,
// and leaves the entries and mcp-remote's files as they were.
func TestMigrateSaysWhatItWaitsFor(t *testing.T) {
	home, env, ienv := migrateHome(t)
	server := protectedBy(t, strings.TrimSuffix(hangingServer(t), "/mcp"))
	dir := mcpRemoteDir(home)
	key := mcpRemoteKey(t, server)
	writeMCPRemoteFiles(t, dir, key, "dyn-1")
	orig := `{"mcpServers": {"a": {"command": "npx", "args": ["-y", "mcp-remote", "` + server + `"]},
  "b": {"command": "npx", "args": ["-y", "mcp-remote", "` + server + `", "--static-oauth-client-info", "{\"client_id\":\"static\"}"]}}}`
	p := writeHostConfig(t, ienv, "cursor", orig)

	start := time.Now()
	out, errOut, code := runMigrateBinary(t, env, "migrate", "--token-store", "file", "--timeout", "1s")
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("migrate took %v with --timeout 1s", elapsed)
	}
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if n := strings.Count(errOut, "waiting for "+server); n != 1 {
		t.Errorf("stderr says %d times that it waits for %s, want once (the second entry is not asked again):\n%s", n, server, errOut)
	}
	if !strings.Contains(errOut, "at most 1s") {
		t.Errorf("stderr does not say how long it waits:\n%s", errOut)
	}
	if n := strings.Count(out, "did not answer within 1s"); n != 2 || !strings.Contains(out, "discover the authorization server") {
		t.Errorf("%d entries say the authorization server did not answer, want 2:\n%s", n, out)
	}
	if got, _ := os.ReadFile(p); string(got) != orig {
		t.Errorf("the entries changed:\n%s", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, key+"_*")); len(left) != 2 {
		t.Errorf("mcp-remote's files: %q, want both kept", left)
	}
}

// TestMigrateClaudeCodeLocalScope: `claude mcp add` without --scope keeps
// an entry in ~/.claude.json under the project's directory. migrate did
// not see those: with a user-scope entry for the same server in Cursor,
// it moved the credentials, removed mcp-remote's files, and left the
// project's entry running mcp-remote without them. Now it rewrites the
// project's entry in place too, and says which project it is in.
func TestMigrateClaudeCodeLocalScope(t *testing.T) {
	demo := migrateDemo(t)
	home, env, ienv := migrateHome(t)
	dir := mcpRemoteDir(home)
	key := mcpRemoteKey(t, demo.URL)
	writeMCPRemoteFiles(t, dir, key, "dyn-1")
	project := filepath.Join(home, "src", "app")
	quoted, _ := json.Marshal(project)
	cursor := writeHostConfig(t, ienv, "cursor", `{"mcpServers": {"remote": {"command": "npx", "args": ["-y", "mcp-remote", "`+demo.URL+`"]}}}`)
	claude := writeHostConfig(t, ienv, "claude-code", `{
  "numStartups": 3,
  "projects": {
    `+string(quoted)+`: {
      "allowedTools": [],
      "mcpServers": {
        "remote": {"type": "stdio", "command": "npx", "args": ["-y", "mcp-remote", "`+demo.URL+`"], "env": {"A": "1"}}
      }
    }
  }
}
`)
	out, errOut, code := runMigrateBinary(t, env, "migrate", "--token-store", "file")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	self, _ := install.Executable()
	h, _ := install.LookupHost("claude-code")
	data, _ := os.ReadFile(claude)
	list, err := h.Entries(data)
	if err != nil || len(list) != 1 || list[0].Project != project || list[0].Command != self {
		t.Errorf("Claude Code's entries after migrate: %+v, %v; want the project's entry to run %s", list, err, self)
	}
	if env, _ := h.EntryEnv(data, list[0]); env["A"] != "1" {
		t.Errorf("the project's entry lost its env: %v", env)
	}
	if !strings.Contains(string(data), `"numStartups": 3,`) || !strings.Contains(string(data), `"allowedTools": [],`) {
		t.Errorf("the rest of ~/.claude.json changed:\n%s", data)
	}
	if readEntries(t, "cursor", cursor)["remote"].Command != self {
		t.Error("Cursor's entry was not migrated")
	}
	if !strings.Contains(out, "(project "+project+")") {
		t.Errorf("the report does not name the project:\n%s", out)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, key+"_*")); len(left) != 0 {
		t.Errorf("mcp-remote's files: %q, want them removed: no entry runs mcp-remote now", left)
	}
}
