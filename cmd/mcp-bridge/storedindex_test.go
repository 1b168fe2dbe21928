package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestForgedIndexGetsNoToken: whoever can write the plain index file
// cannot redirect the refresh token. After a sign-in, index.json is made
// to name another token and revocation endpoint; logout (which sends the
// refresh token to be revoked) sends it to the authorization server it
// came from, and the forged endpoint hears nothing.
func TestForgedIndexGetsNoToken(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	var stolen atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
	}))
	defer thief.Close()

	home := t.TempDir()
	env := headlessEnv(t, append(homeEnv(home), "BROWSER="+os.Args[0]+" demo approve %s")...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	bridge := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, os.Args[0], append(args, "--token-store", "file")...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	bridge("login", demo.URL, "--login-timeout", "20s")

	path := filepath.Join(home, "config", "mcp-bridge", "credentials", "index.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Version int                       `json:"version"`
		Entries map[string]map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatalf("index.json: %v\n%s", err, data)
	}
	forged := 0
	for _, entry := range index.Entries {
		if reg, ok := entry["registered"].(map[string]any); ok {
			reg["token_endpoint"], reg["revocation_endpoint"] = thief.URL+"/token", thief.URL+"/revoke"
			forged++
		}
	}
	if forged != 1 {
		t.Fatalf("index.json has %d registrations, want 1:\n%s", forged, data)
	}
	data, _ = json.Marshal(index)
	if !bytes.Contains(data, []byte(thief.URL)) {
		t.Fatal("the forged index does not name the other server")
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	bridge("logout", demo.URL)
	if n := stolen.Load(); n != 0 {
		t.Errorf("the endpoint the forged index named got %d requests", n)
	}
	if n := demo.AuthServer.Stats().Revocations; n == 0 {
		t.Error("logout revoked nothing at the authorization server the tokens came from")
	}
}

// TestPlainFilesChecked: a log file that is a symbolic link, and a
// credentials directory other users can write, are refused with a message
// that says what to do; nothing is written through the link.
func TestPlainFilesChecked(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	home := t.TempDir()
	env := headlessEnv(t, homeEnv(home)...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	bridge := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, os.Args[0], append(args, "--token-store", "file")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	victim := filepath.Join(home, "victim")
	os.WriteFile(victim, []byte("keep\n"), 0o600)
	link := filepath.Join(home, "bridge.log")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if out, err := bridge("login", demo.URL, "--login=device", "--login-timeout", "5s", "--log-file", link); err == nil || !strings.Contains(out, "symbolic link") {
		t.Errorf("--log-file through a symbolic link: %v\n%s\nwant a refusal", err, out)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep\n" {
		t.Errorf("the link's target was written: %q", data)
	}

	if runtime.GOOS == "windows" {
		return
	}
	creds := filepath.Join(home, "config", "mcp-bridge", "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(creds, 0o777)
	out, err := bridge("status")
	if err == nil || !strings.Contains(out, "chmod go-w "+creds) {
		t.Errorf("status with a world-writable credentials directory: %v\n%s\nwant a refusal with the fix", err, out)
	}
}

// TestOtherUsersFilesRefused pins issue 11, "nothing trusted from plain
// files", for files another user owns, through the real binary (as root,
// which can give a file away): a log file another user created is
// refused, not appended to; so is a credentials directory of another
// user's; a cache directory of another user's is not read.
func TestOtherUsersFilesRefused(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	const nobody = 65534
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	home := t.TempDir()

	logFile := filepath.Join(home, "planted.log")
	os.WriteFile(logFile, nil, 0o600)
	if err := os.Chown(logFile, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runBinary(t, home, "login", demo.URL, "--token-store", "file", "--login=device", "--login-timeout", "5s", "--log-file", logFile)
	if code == exitOK || !strings.Contains(stderr, "another user") {
		t.Errorf("--log-file of another user's: exit %d\n%s\nwant a refusal", code, stderr)
	}
	if data, _ := os.ReadFile(logFile); len(data) != 0 {
		t.Errorf("another user's log file was written: %q", data)
	}

	cache := filepath.Join(home, "cache", "mcp-bridge")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(cache, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	h := startBridgeEnv(t, homeEnv(home), demo.URL, "--token-store", "memory", "--log-level", "info")
	h.closeAndWait()
	if s := h.stderr.String(); !strings.Contains(s, "not using the cache") || !strings.Contains(s, "another user") {
		t.Errorf("a bridge with another user's cache directory:\n%s\nwant it not used", s)
	}

	creds := filepath.Join(home, "config", "mcp-bridge", "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(creds, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runBinary(t, home, "status", "--token-store", "file"); code == exitOK || !strings.Contains(stderr, "another user") {
		t.Errorf("status with another user's credentials directory: exit %d\n%s\nwant a refusal", code, stderr)
	}
}
