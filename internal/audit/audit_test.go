package audit

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

func readLines(t *testing.T, path string) []Line {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []Line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("a line that is not JSON: %q", sc.Text())
		}
		lines = append(lines, l)
	}
	return lines
}

func TestLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(path, []byte(`{"event":"call","url":"u","outcome":"ok","duration_ms":1}`+"\n"), 0o600)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Write(&Line{Event: EventCall, URL: "https://mcp.example/mcp", Method: "tools/call", Name: "t", Outcome: "ok", RequestID: json.RawMessage(`7`)})
	l.Write(&Line{Event: EventSignIn, URL: "https://mcp.example/mcp", Outcome: "ok", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 3 || lines[0].URL != "u" || lines[1].Name != "t" || string(lines[1].RequestID) != "7" || lines[1].Time.IsZero() {
		t.Fatalf("lines = %+v, want the old line kept and two appended", lines)
	}
	if got := lines[2].Time.Format(time.RFC3339); got != "2026-01-02T02:04:05Z" {
		t.Errorf("time %s, want it in UTC", got)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open("-"); err == nil {
		t.Error(`Open("-") succeeded: stdout carries the protocol`)
	}
	if _, err := Open(dir); err == nil {
		t.Error("Open of a directory succeeded")
	}
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if _, err := Open(link); err == nil {
		t.Error("Open through a symbolic link succeeded")
	}
}

// TestDropsWhenFull: a writer that cannot keep up loses lines, never
// blocks the caller, and says how many it lost.
func TestDropsWhenFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock() // the disk is stuck
	start := time.Now()
	for range queueSize + batchLines + 50 { // the queue, and a batch waiting for the disk
		l.Write(&Line{Event: EventCall, Outcome: "ok"})
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("writing to a full queue took %v", d)
	}
	l.mu.Unlock()
	for len(l.queue) > 0 {
		runtime.Gosched()
	}
	l.Write(&Line{Event: EventCall, Outcome: "last"}) // says how many were dropped
	l.Close()
	lines := readLines(t, path)
	var reported int64
	for _, line := range lines {
		reported += line.Dropped
	}
	if reported < 49 || int64(len(lines))+reported != queueSize+batchLines+51 || lines[len(lines)-1].Outcome != "last" {
		t.Errorf("%d lines written, %d reported dropped, of %d", len(lines), reported, queueSize+batchLines+51)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Write(&Line{Event: EventCall, Outcome: "before"})
	for fi, _ := os.Stat(path); fi == nil || fi.Size() == 0; fi, _ = os.Stat(path) {
		runtime.Gosched() // until the line is on disk
	}
	os.Rename(path, path+".1") // logrotate
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write(&Line{Event: EventCall, Outcome: "after"})
	l.Close()
	if lines := readLines(t, path); len(lines) != 1 || lines[0].Outcome != "after" {
		t.Errorf("the new file holds %+v, want the line after the rotation", lines)
	}
}

func TestTokenClaims(t *testing.T) {
	enc := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	jwt := func(header, claims string) string { return enc(header) + "." + enc(claims) + ".sig" }
	for _, tt := range []struct {
		token, sub string
		scopes     []string
	}{
		{jwt(`{"alg":"RS256"}`, `{"sub":"ada","scope":"read write"}`), "ada", []string{"read", "write"}},
		{jwt(`{"alg":"ES256"}`, `{"sub":"bob","scp":["mcp.read"]}`), "bob", []string{"mcp.read"}},
		{jwt(`{"alg":"ES256"}`, `{"sub":"cy","scp":"a b"}`), "cy", []string{"a", "b"}},
		{jwt(`{"typ":"x"}`, `{"sub":"no alg"}`), "", nil},
		{"opaque-token-abc", "", nil},
		{"a.b.c", "", nil},
	} {
		sub, scopes := TokenClaims(tt.token)
		if sub != tt.sub || !slices.Equal(scopes, tt.scopes) {
			t.Errorf("TokenClaims(%q) = %q, %q, want %q, %q", tt.token, sub, scopes, tt.sub, tt.scopes)
		}
	}
}
