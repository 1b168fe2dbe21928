package tokenstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

// keyringMocked is set once a test has replaced go-keyring's provider with
// its mock: it stays replaced for the rest of the test binary.
var keyringMocked bool

// mockKeyring makes go-keyring use its in-memory mock, or a mock that
// fails every call with err. go-keyring's provider is global state: tests
// that call this must not run in parallel.
func mockKeyring(t *testing.T, err error) {
	t.Helper()
	keyringMocked = true
	if err != nil {
		keyring.MockInitWithError(err)
	} else {
		keyring.MockInit()
	}
}

// mockKeychain returns a Keychain on go-keyring's mock.
func mockKeychain(t *testing.T) *Keychain {
	mockKeyring(t, nil)
	return &Keychain{ring: goKeyring{}}
}

// cappedRing refuses items over limit bytes as Windows does, and counts
// the items it holds; it passes the rest to go-keyring (its mock).
type cappedRing struct {
	limit int

	mu    sync.Mutex // guards items
	items map[string]int
}

func (r *cappedRing) Get(service, user string) (string, error) {
	return keyring.Get(service, user)
}

func (r *cappedRing) Set(service, user, password string) error {
	if len(password) > r.limit {
		return keyring.ErrSetDataTooBig
	}
	if err := keyring.Set(service, user, password); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.items == nil {
		r.items = map[string]int{}
	}
	r.items[user] = len(password)
	return nil
}

func (r *cappedRing) Delete(service, user string) error {
	r.mu.Lock()
	delete(r.items, user)
	r.mu.Unlock()
	return keyring.Delete(service, user)
}

// accounts returns the accounts the ring holds.
func (r *cappedRing) accounts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var a []string
	for k := range r.items {
		a = append(a, k)
	}
	return a
}

// testBackend checks the contract of a Backend.
func testBackend(t *testing.T, b Backend) {
	ctx := t.Context()
	if _, err := b.Get(ctx, "absent"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(absent) = %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx, "absent"); err != nil {
		t.Fatalf("Delete(absent) = %v, want nil", err)
	}
	values := [][]byte{
		[]byte(`{"access_token":"a"}`),
		[]byte(`{"access_token":"b","refresh_token":"r"}`),
		{},
		{0, 1, 2, 0xff, '\n', 0xfe},
		[]byte(chunkMagic + "1 00000000 1 00\nlooks like a header"),
	}
	for _, v := range values {
		if err := b.Set(ctx, "k1", v); err != nil {
			t.Fatalf("Set(%q) = %v", v, err)
		}
		got, err := b.Get(ctx, "k1")
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get after Set(%q) = %q, %v", v, got, err)
		}
	}
	// Values are copied in and out.
	v := []byte("value")
	if err := b.Set(ctx, "k2", v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X'
	got, _ := b.Get(ctx, "k2")
	got[1] = 'Y'
	if got, _ := b.Get(ctx, "k2"); string(got) != "value" {
		t.Errorf("Get(k2) = %q after changing the slices given and taken, want value", got)
	}
	if err := b.Delete(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if got, _ := b.Get(ctx, "k2"); string(got) != "value" {
		t.Errorf("Delete(k1) touched k2: %q", got)
	}
	if loc := b.Location("k2"); !strings.Contains(loc, "k2") {
		t.Errorf("Location(k2) = %q, want it to name the key", loc)
	}
}

func TestMemory(t *testing.T) {
	testBackend(t, &Memory{})
}

func TestFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "creds")
	f := &File{Dir: dir}
	testBackend(t, f)
	if got, want := f.Location("k2"), "file "+filepath.Join(dir, "k2.json"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{dir, filepath.Join(dir, "k2.json")} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			want := os.FileMode(0o600)
			if fi.IsDir() {
				want = 0o700
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
			}
		}
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if err := f.Set(t.Context(), "../evil", []byte("x")); err == nil {
		t.Error("Set(../evil) succeeded")
	}
}

func TestKeychainMock(t *testing.T) {
	testBackend(t, mockKeychain(t))
}

// TestKeychainMockErrors: go-keyring's errors come back wrapped, its
// ErrNotFound as ours.
func TestKeychainMockErrors(t *testing.T) {
	boom := errors.New("boom")
	mockKeyring(t, boom)
	k := &Keychain{ring: goKeyring{}}
	ctx := context.Background()
	if _, err := k.Get(ctx, "k"); !errors.Is(err, boom) {
		t.Errorf("Get = %v, want boom", err)
	}
	if err := k.Set(ctx, "k", []byte("v")); !errors.Is(err, boom) {
		t.Errorf("Set = %v, want boom", err)
	}
	if err := k.Probe(ctx); !errors.Is(err, ErrUnavailable) || !errors.Is(err, boom) {
		t.Errorf("Probe = %v, want ErrUnavailable and boom", err)
	}
	mockKeyring(t, keyring.ErrNotFound)
	if _, err := k.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get = %v, want ErrNotFound", err)
	}
	if err := k.Probe(ctx); err != nil {
		t.Errorf("Probe = %v, want nil (ErrNotFound means the keychain answers)", err)
	}
}
