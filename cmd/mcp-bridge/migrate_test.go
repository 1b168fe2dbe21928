package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/install"
	"github.com/mcp-bridge/mcp-bridge/internal/mcpremote"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// mcpRemoteSignIn does what mcp-remote does when it signs in to the
// demo's server, and leaves what it leaves: a dynamic registration for
// http://localhost:PORT/oauth/callback, the authorization code grant with
// PKCE and the resource, and the two files, <hash>_client_info.json (the
// registration response) and <hash>_tokens.json (the token response),
// in dir. It returns the tokens, for checks that they leak nowhere.
func mcpRemoteSignIn(t *testing.T, demo *oauthtest.ProtectedDemo, dir, hash string) (access, refresh string) {
	t.Helper()
	ctx := t.Context()
	hc := demo.AuthServer.Client()
	getJSON := func(do func() (*http.Response, error), v any) []byte {
		t.Helper()
		resp, err := do()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: %s", resp.Status, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatal(err)
		}
		return body
	}
	var meta struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Registration  string `json:"registration_endpoint"`
	}
	getJSON(func() (*http.Response, error) { return hc.Get(demo.AuthServer.MetadataURL()) }, &meta)
	redirect := "http://localhost:" + freePort(t) + "/oauth/callback"
	reg, _ := json.Marshal(map[string]any{"redirect_uris": []string{redirect}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}, "client_name": "MCP CLI Client"})
	var client struct {
		ID string `json:"client_id"`
	}
	info := getJSON(func() (*http.Response, error) {
		return hc.Post(meta.Registration, "application/json", bytes.NewReader(reg))
	}, &client)

	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {client.ID}, "redirect_uri": {redirect}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {demo.URL}}
	loc, err := demo.AuthServer.Consent(ctx, meta.Authorization+"?"+q.Encode(), true)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {client.ID}, "code_verifier": {verifier}, "resource": {demo.URL}}
	var tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	tokens := getJSON(func() (*http.Response, error) { return hc.PostForm(meta.Token, form) }, &tok)
	if tok.Access == "" || tok.Refresh == "" {
		t.Fatal("the fake mcp-remote sign-in got no access or refresh token")
	}
	os.MkdirAll(dir, 0o700)
	for name, data := range map[string][]byte{"client_info.json": info, "tokens.json": tokens, "code_verifier_s.txt": []byte(verifier)} {
		if err := os.WriteFile(filepath.Join(dir, hash+"_"+name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return tok.Access, tok.Refresh
}

// runMigrateBinary runs the real binary to its end with env and args.
func runMigrateBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runMigrateAt(t, os.Args[0], env, args...)
}

// runMigrateAt runs the real binary, at exe, to its end with env and args.
func runMigrateAt(t *testing.T, exe string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), "MCP_BRIDGE_TEST_AS_MAIN=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// envLookup turns KEY=VALUE lines into a Getenv.
func envLookup(env []string) func(string) string {
	return func(k string) string {
		v := ""
		for _, kv := range env {
			if name, val, _ := strings.Cut(kv, "="); name == k {
				v = val
			}
		}
		return v
	}
}

// TestMigrate: mcp-remote entries in Claude Desktop (JSON), Cursor (JSON)
// and Codex (TOML): two sign-ins of mcp-remote's to one server (one
// without a header, used by two hosts; a newer one with a header), one
// server it never signed in to. A dry run changes nothing; the migration
// rewrites the entries (env kept, other entries byte for byte), backs
// each file up, moves the newer sign-in into the token store (one server,
// one key: the older one's entries use it), removes its files and keeps
// the older one's; and the bridge started from each rewritten entry
// reaches the protected server with no browser.
func TestMigrate(t *testing.T) {
	testMigrate(t, tokenstore.KindFile)
}

// TestKeychainRealMigrate is TestMigrate into a real OS keychain. It runs
// only with MCP_BRIDGE_REAL_KEYCHAIN=1 (in .ci/run's Secret Service
// section, when that section runs this package).
func TestKeychainRealMigrate(t *testing.T) {
	if os.Getenv("MCP_BRIDGE_REAL_KEYCHAIN") != "1" {
		t.Skip("set MCP_BRIDGE_REAL_KEYCHAIN=1 to use the OS keychain")
	}
	testMigrate(t, tokenstore.KindKeychain)
}

func testMigrate(t *testing.T, kind string) {
	demo := migrateDemo(t)
	home, env, ienv := migrateHome(t)

	// mcp-remote's files: sign-in A without a header, sign-in B with one
	// whose value comes from the entry's env (the hash takes it
	// unexpanded).
	authDir := mcpRemoteDir(home)
	header := "X-Tenant: ${TENANT}"
	hashA := mcpRemoteKey(t, demo.URL)
	hashB := mcpRemoteKey(t, demo.URL, "--header", header)
	accessA, refreshA := mcpRemoteSignIn(t, demo, authDir, hashA)
	accessB, refreshB := mcpRemoteSignIn(t, demo, authDir, hashB)
	then := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(authDir, hashA+"_tokens.json"), then, then) // B's sign-in is the newer
	secrets := []string{accessA, refreshA, accessB, refreshB}
	unrelated := filepath.Join(authDir, "0123456789abcdef0123456789abcdef_tokens.json")
	os.WriteFile(unrelated, []byte(`{"access_token":"other"}`), 0o600)

	// The hosts' files, with entries that must stay as they are.
	const desktopOther = `    "files": {
      "command": "node",
      "args": ["/srv/files.js"]
    },`
	const cursorOther = `"local": {"command": "uvx", "args": ["local-mcp"]}`
	const codexOther = "# file tools\n[mcp_servers.files]\ncommand = \"node\"\nargs = [\"/srv/files.js\"]\n"
	files := map[string]string{
		"claude-desktop": `{
  "mcpServers": {
` + desktopOther + `
    "remote": {
      "command": "npx",
      "args": ["-y", "mcp-remote@latest", "` + demo.URL + `"],
      "env": {"NODE_OPTIONS": "--no-warnings"}
    }
  },
  "globalShortcut": "Ctrl+Space"
}
`,
		"cursor": `{"mcpServers": {` + cursorOther + `, "remote": {"command": "mcp-remote", "args": ["` + demo.URL + `"]},
  "never": {"command": "cmd", "args": ["/c", "npx", "-y", "mcp-remote", "https://never.example/mcp"]}}}
`,
		"codex": "model = \"o3\"\n\n" + codexOther + "\n[mcp_servers.tenant]\ncommand = \"npx\"\nargs = [\"mcp-remote\", \"" + demo.URL +
			"\", \"--header\", \"" + header + "\"]\n\n[mcp_servers.tenant.env]\nTENANT = \"t1\"\n",
	}
	paths := map[string]string{}
	for id, text := range files {
		paths[id] = writeHostConfig(t, ienv, id, text)
	}
	unchanged := func(when string) {
		t.Helper()
		for id, p := range paths {
			if got, _ := os.ReadFile(p); string(got) != files[id] {
				t.Errorf("%s: %s changed %s:\n%s", when, id, p, got)
			}
			if b, _ := filepath.Glob(p + ".bak-*"); len(b) != 0 {
				t.Errorf("%s: backups %q", when, b)
			}
		}
		for _, h := range []string{hashA, hashB} {
			if _, err := os.Stat(filepath.Join(authDir, h+"_tokens.json")); err != nil {
				t.Errorf("%s: mcp-remote's tokens are gone: %v", when, err)
			}
		}
	}
	noSecrets := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s shows a token:\n%s", what, s)
			}
		}
	}

	// The dry run.
	out, errOut, code := runMigrateBinary(t, env, "migrate", "--dry-run", "--token-store", kind)
	if code != 0 || !strings.Contains(out, "+      \"command\": ") || !strings.Contains(out, "would move") || !strings.Contains(out, "dry run") {
		t.Errorf("dry run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	noSecrets("the dry run", out+errOut)
	unchanged("after the dry run")
	if signedIn := demo.AuthServer.Stats().AuthorizationRequests; signedIn != 2 {
		t.Fatalf("%d authorization requests, want the 2 of the fixture", signedIn)
	}

	// --host limits the migration to one host: here, one not used.
	out, errOut, code = runMigrateBinary(t, env, "migrate", "--host", "zed", "--token-store", kind)
	if code != 0 || !strings.Contains(out, "nothing to migrate") {
		t.Errorf("--host zed: exit %d\n%s%s", code, out, errOut)
	}
	unchanged("after --host zed")

	// The migration.
	out, errOut, code = runMigrateBinary(t, env, "migrate", "--token-store", kind)
	t.Logf("migrate:\n%s", out)
	if code != 0 {
		t.Fatalf("migrate: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	noSecrets("migrate", out+errOut)
	if n := strings.Count(out, "moved into the token store"); n != 1 {
		t.Errorf("%d entries report credentials moved, want 1: the newer sign-in", n)
	}
	if n := strings.Count(out, `the newer sign-in of Codex's "tenant"`); n != 2 {
		t.Errorf("%d entries report the newer sign-in used instead of theirs, want 2", n)
	}
	if !strings.Contains(out, "kept none for this server") {
		t.Errorf("the entry mcp-remote never signed in with is not reported as such")
	}

	self, _ := filepath.EvalSymlinks(os.Args[0])
	self, _ = filepath.Abs(self)
	want := map[string][]string{
		"claude-desktop/remote": {demo.URL},
		"cursor/remote":         {demo.URL},
		"cursor/never":          {"https://never.example/mcp"},
		"codex/tenant":          {demo.URL, "--header", header},
	}
	wantEnv := map[string]map[string]string{"claude-desktop/remote": {"NODE_OPTIONS": "--no-warnings"}, "codex/tenant": {"TENANT": "t1"}}
	others := map[string]string{"claude-desktop": desktopOther, "cursor": cursorOther, "codex": codexOther}
	for id, p := range paths {
		h, _ := install.LookupHost(id)
		data, _ := os.ReadFile(p)
		if !strings.Contains(string(data), others[id]) {
			t.Errorf("%s: the other entry is no longer byte for byte what it was:\n%s", id, data)
		}
		backups, _ := filepath.Glob(p + ".bak-*")
		if len(backups) != 1 {
			t.Errorf("%s: backups %q, want one", id, backups)
		} else if b, _ := os.ReadFile(backups[0]); string(b) != files[id] {
			t.Errorf("%s: the backup holds %s", id, b)
		}
		entries, err := h.Entries(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			args, ok := want[id+"/"+e.Name]
			if !ok {
				continue
			}
			args = append(slices.Clone(args), "--token-store", kind)
			if e.Command != self || !slices.Equal(e.Args, args) {
				t.Errorf("%s %s: %s %q, want %s %q", id, e.Name, e.Command, e.Args, self, args)
			}
			if got, _ := h.EntryEnv(data, e); !cmp.Equal(got, wantEnv[id+"/"+e.Name]) {
				t.Errorf("%s %s: env %v, want %v", id, e.Name, got, wantEnv[id+"/"+e.Name])
			}
			delete(want, id+"/"+e.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("entries not found after migrate: %v", want)
	}

	// No plaintext left for the sign-in moved; the other one's and
	// another server's stay.
	left, _ := filepath.Glob(filepath.Join(authDir, "*"))
	keptA, _ := filepath.Glob(filepath.Join(authDir, hashA+"_*"))
	wantLeft := append([]string{unrelated}, keptA...)
	slices.Sort(wantLeft)
	if len(keptA) != 3 || !slices.Equal(left, wantLeft) {
		t.Errorf("left in %s: %q, want %s and the older sign-in's 3 files", authDir, left, filepath.Base(unrelated))
	}
	if kind == tokenstore.KindFile {
		filepath.WalkDir(filepath.Join(home, "config", "mcp-bridge", "credentials"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, _ := d.Info(); fi.Mode().Perm()&0o077 != 0 {
					t.Errorf("%s: mode %v", p, fi.Mode().Perm())
				}
			}
			return nil
		})
	}

	// The credentials are usable: the bridge, started as the hosts now
	// start it, reaches the protected server, and a sign-in would fail.
	run := map[string][]string{
		"remote": {demo.URL},
		"tenant": {demo.URL, "--header", header},
	}
	for name, args := range run {
		args = append(args, "--token-store", kind, "--browser-command", "false", "--login-timeout", "5s")
		h := startBridgeEnv(t, append(slices.Clone(env), "TENANT=t1"), args...)
		signedInCall(t, h, "migrated "+name)
		h.closeAndWait()
		noSecrets("the bridge", h.stderr.String())
	}
	if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 2 || st.Registrations != 2 {
		t.Errorf("%d authorization requests and %d registrations, want the fixture's 2 and 2: the bridge signed in again",
			st.AuthorizationRequests, st.Registrations)
	}

	// Run again: the entries run mcp-bridge now, so nothing is left to do.
	out, _, code = runMigrateBinary(t, env, "migrate", "--token-store", kind)
	if code != 0 || !strings.Contains(out, "nothing to migrate") {
		t.Errorf("second migrate: exit %d\n%s", code, out)
	}
}

// TestMigrateKeepsPlaintextOnFailure: with the server unreachable, the
// credentials cannot be imported (Import discovers the authorization
// server): the entry and mcp-remote's files stay as they were, and the
// exit code says it failed.
func TestMigrateKeepsPlaintextOnFailure(t *testing.T) {
	home := t.TempDir()
	env := append(homeEnv(home), "USERPROFILE="+home, "MCP_REMOTE_CONFIG_DIR="+filepath.Join(home, "auth"))
	server := "http://127.0.0.1:" + freePort(t) + "/mcp" // nothing listens
	dir := filepath.Join(home, "auth", "mcp-remote-v1")
	os.MkdirAll(dir, 0o700)
	hash := mcpRemoteKey(t, server)
	os.WriteFile(filepath.Join(dir, hash+"_tokens.json"), []byte(`{"access_token":"a-secret","refresh_token":"r-secret","expires_in":3600,"token_type":"Bearer"}`), 0o600)
	os.WriteFile(filepath.Join(dir, hash+"_client_info.json"), []byte(`{"client_id":"c1","redirect_uris":["http://localhost:3999/oauth/callback"]}`), 0o600)
	p := filepath.Join(home, ".cursor", "mcp.json")
	os.MkdirAll(filepath.Dir(p), 0o700)
	orig := `{"mcpServers": {"r": {"command": "npx", "args": ["-y", "mcp-remote", "` + server + `"]}}}`
	os.WriteFile(p, []byte(orig), 0o600)

	out, errOut, code := runMigrateBinary(t, env, "migrate", "--host", "cursor", "--token-store", "file")
	if code != exitError || !strings.Contains(out, "not moved") || !strings.Contains(out, "left as it is") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "a-secret") || strings.Contains(out+errOut, "r-secret") {
		t.Errorf("output shows a token:\n%s%s", out, errOut)
	}
	if got, _ := os.ReadFile(p); string(got) != orig {
		t.Errorf("the entry changed:\n%s", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, hash+"_*")); len(left) != 2 {
		t.Errorf("mcp-remote's files: %q, want both kept", left)
	}
}

// mcpRemoteKey is mcp-remote's key for the files of the server args
// (mcp-remote's arguments) reach.
func mcpRemoteKey(t *testing.T, args ...string) string {
	t.Helper()
	k, err := mcpremote.FileKeys(args, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	return k.Current
}

// writeMCPRemoteFiles leaves what mcp-remote leaves after a sign-in, in
// dir under key: tokens (access token "at-KEY", refresh token "rt-KEY")
// and the client registration for clientID.
func writeMCPRemoteFiles(t *testing.T, dir, key, clientID string) {
	t.Helper()
	os.MkdirAll(dir, 0o700)
	files := map[string]string{
		"tokens.json":      `{"access_token":"at-` + key + `","refresh_token":"rt-` + key + `","expires_in":3600,"token_type":"Bearer"}`,
		"client_info.json": `{"client_id":"` + clientID + `","redirect_uris":["http://localhost:3999/oauth/callback"],"token_endpoint_auth_method":"none"}`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, key+"_"+name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// writeHostConfig writes a host's config file under home and returns
// its path.
func writeHostConfig(t *testing.T, ienv install.Env, hostID, text string) string {
	t.Helper()
	h, err := install.LookupHost(hostID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.ConfigPath(ienv)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// migrateDemo starts the protected demo server (and its authorization
// server) on 127.0.0.1 for the test.
func migrateDemo(t *testing.T) *oauthtest.ProtectedDemo {
	t.Helper()
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	return demo
}

// mcpRemoteDir is where mcp-remote 0.15.1 keeps its files under home.
func mcpRemoteDir(home string) string { return filepath.Join(home, ".mcp-auth", "mcp-remote-v1") }

// migrateHome is a home directory for migrate, with the environment
// that points every host's config and mcp-remote's files into it.
func migrateHome(t *testing.T) (home string, env []string, ienv install.Env) {
	home = t.TempDir()
	env = append(homeEnv(home), "USERPROFILE="+home, "CODEX_HOME="+filepath.Join(home, ".codex"),
		"CLAUDE_CONFIG_DIR=", "VSCODE_PORTABLE=", "VSCODE_APPDATA=", "MCP_REMOTE_CONFIG_DIR=")
	return home, env, install.Env{GOOS: runtime.GOOS, Home: home, Getenv: envLookup(env)}
}

// TestMigrateFileKeyFlags: mcp-remote 0.15.1 keys a server's files by
// --authorize-param, --header-file and --client-metadata-url too. Before,
// migrate computed the key without them: it said mcp-remote kept nothing,
// rewrote the entry, and left the live tokens on disk, unmigrated.
func TestMigrateFileKeyFlags(t *testing.T) {
	const docURL = "https://client.example.com/mcp-client.json"
	demo := migrateDemo(t)
	for _, tc := range []struct {
		name     string
		args     []string
		clientID string
	}{
		{"authorize-param", []string{"--authorize-param", "prompt=consent"}, "dyn-1"},
		{"header-file", []string{"--header-file", "HEADERS"}, "dyn-2"},
		{"client-metadata-url", []string{"--client-metadata-url", docURL}, docURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home, env, ienv := migrateHome(t)
			headers := filepath.Join(home, "headers.txt")
			os.WriteFile(headers, []byte("X-Team: blue\n"), 0o600)
			args := append([]string{demo.URL}, tc.args...)
			for i, a := range args {
				if a == "HEADERS" {
					args[i] = headers
				}
			}
			keys, err := mcpremote.FileKeys(args, os.ReadFile)
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := mcpremote.FileKeys([]string{demo.URL}, os.ReadFile)
			if keys.Current == plain.Current {
				t.Fatalf("%s does not enter the key", tc.name)
			}
			dir := mcpRemoteDir(home)
			writeMCPRemoteFiles(t, dir, keys.Current, tc.clientID)
			quoted, _ := json.Marshal(append([]string{"-y", "mcp-remote"}, args...))
			writeHostConfig(t, ienv, "cursor", `{"mcpServers": {"r": {"command": "npx", "args": `+string(quoted)+`}}}`)

			out, errOut, code := runMigrateBinary(t, env, "migrate", "--host", "cursor", "--token-store", "file")
			if code != 0 || !strings.Contains(out, "moved into the token store") {
				t.Errorf("exit %d, want the credentials moved\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, keys.Current+"_*")); len(left) != 0 {
				t.Errorf("mcp-remote's files are still there: %q", left)
			}
		})
	}
}
