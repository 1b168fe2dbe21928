package tokenstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// logBuffer returns a logger whose records go to the returned buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// openMock opens a Store whose keychain is go-keyring's mock, failing
// every call with keychainErr if it is not nil.
func openMock(t *testing.T, kind, dir string, keychainErr error) (*Store, *bytes.Buffer, error) {
	t.Helper()
	mockKeyring(t, keychainErr)
	log, buf := logBuffer()
	s, err := open(t.Context(), kind, dir, log, &Keychain{ring: goKeyring{}})
	return s, buf, err
}

func TestOpen(t *testing.T) {
	for _, tt := range []struct {
		kind, want string
	}{
		{KindMemory, KindMemory},
		{KindFile, KindFile},
		{KindKeychain, KindKeychain},
		{KindAuto, KindKeychain},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			dir := t.TempDir()
			s, logs, err := openMock(t, tt.kind, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind() != tt.want {
				t.Errorf("Kind = %q, want %q", s.Kind(), tt.want)
			}
			if logs.Len() != 0 {
				t.Errorf("logged %q, want nothing", logs)
			}
			testBackend(t, s.b)
			ctx := t.Context()
			if err := s.Set(ctx, "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, "k"); err != nil || string(got) != "v" {
				t.Errorf("Get = %q, %v", got, err)
			}
			// Set leaves a change marker, except in memory.
			_, err = os.Stat(filepath.Join(dir, "changes", "k"))
			if tt.kind == KindMemory {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("memory store wrote a change marker: %v", err)
				}
				ents, _ := os.ReadDir(dir)
				if len(ents) != 0 {
					t.Errorf("memory store wrote into its directory: %v", ents)
				}
			} else if err != nil {
				t.Errorf("no change marker after Set: %v", err)
			}
			if err := s.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, _, err := openMock(t, "vault", t.TempDir(), nil); err == nil {
		t.Error(`Open("vault") succeeded`)
	}
	for _, kind := range []string{KindAuto, KindKeychain, KindFile} {
		if _, _, err := openMock(t, kind, "", nil); err == nil {
			t.Errorf("Open(%q) with no directory succeeded", kind)
		}
	}
	if s, _, err := openMock(t, KindMemory, "", nil); err != nil || s.Dir() != "" {
		t.Errorf(`Open("memory", "") = %v, %v`, s, err)
	}
}

// TestOpenAuto: with no keychain, "auto" keeps credentials in files and
// says so once per process, briefly, when it first writes one, naming the
// directory (FellBack gives the reason); "keychain" fails and says what
// to do.
func TestOpenAuto(t *testing.T) {
	fallbackWarning = sync.Once{} // as in a new process
	dir := t.TempDir()
	noBus := errors.New("dbus: couldn't determine address of session bus")
	s, logs, err := openMock(t, KindAuto, dir, noBus)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind() != KindFile {
		t.Errorf("Kind = %q, want file", s.Kind())
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get before any write = %v, want ErrNotFound", err)
	}
	if logs.Len() != 0 {
		t.Errorf("logged %q before anything was written", logs)
	}
	for range 2 {
		if err := s.Set(t.Context(), "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("logged %q, want one warning", logs)
	}
	for _, want := range []string{dir, "plaintext", "0600", keychainName(), "`mcp-bridge doctor` explains"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("warning %q does not say %q", logs, want)
		}
	}
	if !errors.Is(s.FellBack(), noBus) {
		t.Errorf("FellBack = %v, want the reason, %v", s.FellBack(), noBus)
	}
	// Another store of the process (migrate opens one per entry) does not
	// say it again.
	other, otherLogs, err := openMock(t, KindAuto, t.TempDir(), noBus)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Set(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if otherLogs.Len() != 0 {
		t.Errorf("a second store logged %q, want nothing", otherLogs)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.json")); err != nil {
		t.Errorf("value not in a file: %v", err)
	}
	if got, want := s.Location("k"), "file "+filepath.Join(dir, "k.json"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	_, logs, err = openMock(t, KindKeychain, dir, noBus)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, noBus) || !strings.Contains(err.Error(), "--token-store file") {
		t.Errorf(`Open("keychain") = %v, want ErrUnavailable, the reason and what to do`, err)
	}
	if logs.Len() != 0 {
		t.Errorf("logged %q, want nothing", logs)
	}
}

func TestStoreKeys(t *testing.T) {
	s, _, err := openMock(t, KindFile, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, key := range []string{"", ".", "..", ".hidden", "a/b", `a\b`, "index", strings.Repeat("k", 129), "a b"} {
		if err := s.Set(ctx, key, []byte("v")); err == nil {
			t.Errorf("Set(%q) succeeded", key)
		}
		if _, err := s.Get(ctx, key); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want an invalid key", key, err)
		}
		if err := s.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) succeeded", key)
		}
		if _, err := s.Lock(ctx, key); err == nil {
			t.Errorf("Lock(%q) succeeded", key)
		}
		if _, err := s.Watch(ctx, key, func() {}); err == nil {
			t.Errorf("Watch(%q) succeeded", key)
		}
		if err := s.SetIndex(ctx, key, []byte("{}")); err == nil {
			t.Errorf("SetIndex(%q) succeeded", key)
		}
	}
	for _, key := range []string{"0123abcdef", "abc.client", "abc.tokens", "A-b_c.9", strings.Repeat("k", 128)} {
		if err := s.Set(ctx, key, []byte("v")); err != nil {
			t.Errorf("Set(%q) = %v", key, err)
		}
	}
}

func TestStoreLocation(t *testing.T) {
	s, _, err := openMock(t, KindKeychain, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if loc := s.Location("abc"); !strings.Contains(loc, keychainName()) || !strings.Contains(loc, `"abc"`) || !strings.Contains(loc, Service) {
		t.Errorf("Location = %q, want the keychain, the service and the account", loc)
	}
	s, _, _ = openMock(t, KindMemory, "", nil)
	if loc := s.Location("abc"); !strings.Contains(loc, "memory") {
		t.Errorf("Location = %q, want memory", loc)
	}
}

func TestStoreUnwritableMarker(t *testing.T) {
	dir := t.TempDir()
	log, logs := logBuffer()
	s, err := open(context.Background(), KindFile, dir, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A file where the changes directory should be.
	if err := os.WriteFile(filepath.Join(dir, "changes"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(t.Context(), "k", []byte("v")); err != nil {
		t.Errorf("Set = %v; a marker that cannot be written must not fail it", err)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("logged %q, want a warning", logs)
	}
	if got, _ := s.Get(t.Context(), "k"); string(got) != "v" {
		t.Errorf("Get = %q", got)
	}
}
