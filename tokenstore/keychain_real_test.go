package tokenstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// realKeychainEnv enables TestKeychainReal. .ci/run sets it in a section
// of its own, inside a D-Bus session with an unlocked gnome-keyring, and
// fails unless the test passed there; elsewhere the test skips.
const realKeychainEnv = "MCP_BRIDGE_REAL_KEYCHAIN"

// TestKeychainReal stores, reads, overwrites and deletes items in the
// real OS keychain (the Secret Service on Linux), split ones too, and
// checks through the Secret Service's own D-Bus API, not go-keyring, that
// the items are there and then gone.
func TestKeychainReal(t *testing.T) {
	if os.Getenv(realKeychainEnv) != "1" {
		t.Skip("set " + realKeychainEnv + "=1 to use the OS keychain (.ci/run does, in its Secret Service section)")
	}
	if keyringMocked {
		t.Fatal("a test before this one replaced the OS keychain with go-keyring's mock: run this test alone, -run '^TestKeychainReal$'")
	}
	ctx := t.Context()
	k := &Keychain{}
	start := time.Now()
	if err := k.Probe(ctx); err != nil {
		t.Fatalf("Probe = %v", err)
	}
	t.Logf("probe: %v", time.Since(start))

	key := "test-" + newGen() + newGen()
	t.Cleanup(func() { k.Delete(context.Background(), key) })
	// accounts lists our items as the keychain itself sees them.
	accounts := func() []string {
		t.Helper()
		all, ok := realAccounts(t)
		if !ok {
			return nil
		}
		var a []string
		for _, acc := range all {
			if acc == key || strings.HasPrefix(acc, key+"#") {
				a = append(a, acc)
			}
		}
		slices.Sort(a)
		return a
	}
	_, checked := realAccounts(t)
	set := func(v []byte) {
		t.Helper()
		if err := k.Set(ctx, key, v); err != nil {
			t.Fatalf("Set(%d bytes) = %v", len(v), err)
		}
		start := time.Now()
		got, err := k.Get(ctx, key)
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get after Set(%d bytes) = %d bytes, %v", len(v), len(got), err)
		}
		t.Logf("read %d bytes: %v", len(v), time.Since(start))
		checkDirect(t, key)
	}

	if _, err := k.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a new key = %v, want ErrNotFound", err)
	}
	checkDirect(t, key)
	set([]byte(`{"client_id":"abc"}`))
	if got := accounts(); checked && !slices.Equal(got, []string{key}) {
		t.Errorf("items = %v, want [%s]", got, key)
	}
	set([]byte(`{"client_id":"def","access_token":"xyz"}`)) // overwrite
	set([]byte{0, 1, 2, 0x80, 0xff, '\n', ' '})             // not text
	set([]byte(strings.Repeat("x", DefaultItemLimit)))      // fits exactly

	big := jwtSized(5 << 10) // JWT-sized: over Windows' 2560-byte cap
	set(big)
	parts := accounts()
	if checked && len(parts) != 3 {
		t.Errorf("a %d-byte value took items %v, want 3", len(big), parts)
	}
	set(jwtSized(9 << 10)) // a split value over a split value
	if got := accounts(); checked {
		if len(got) != 4 {
			t.Errorf("a 9 KiB value took items %v, want 4", got)
		}
		for _, a := range parts[1:] {
			if slices.Contains(got, a) {
				t.Errorf("old part %s is left behind", a)
			}
		}
	}
	set([]byte("small again")) // the parts go
	if got := accounts(); checked && !slices.Equal(got, []string{key}) {
		t.Errorf("items = %v, want [%s]", got, key)
	}
	set(big)
	if err := k.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if got := accounts(); checked && len(got) != 0 {
		t.Errorf("items after Delete = %v, want none", got)
	}
	if !checked {
		t.Log("this OS's keychain was not listed independently")
	}

	// Open finds the keychain, as "auto" and as "keychain".
	for _, kind := range []string{KindAuto, KindKeychain} {
		log, logs := logBuffer()
		s, err := Open(kind, t.TempDir(), log)
		if err != nil {
			t.Fatalf("Open(%q) = %v", kind, err)
		}
		if s.Kind() != KindKeychain || logs.Len() != 0 {
			t.Errorf("Open(%q): kind %q, logged %q; want keychain, nothing", kind, s.Kind(), logs)
		}
		if err := s.Set(ctx, key, big); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, key); err != nil || !bytes.Equal(got, big) {
			t.Errorf("Store.Get = %d bytes, %v", len(got), err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", s.Location(key))
	}
}

// TestKeychainRealLocked runs after TestKeychainReal, in its session, and
// locks the login keyring: with no display for the unlock prompt, "auto"
// keeps values in files and says that the keychain is locked, with advice
// to unlock it rather than to install one.
func TestKeychainRealLocked(t *testing.T) {
	if os.Getenv(realKeychainEnv) != "1" {
		t.Skip("set " + realKeychainEnv + "=1 to use the OS keychain (.ci/run does, in its Secret Service section)")
	}
	if !lockLogin(t) {
		t.Skip("this OS's keychain is not locked from a test")
	}
	s, err := Open(KindAuto, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := s.Get(t.Context(), "locked-probe"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get with the keychain locked = %v, want ErrNotFound from the files", err)
	}
	t.Logf("the locked keychain's read: %v", time.Since(start))
	if s.Kind() != KindFile || !errors.Is(s.FellBack(), ErrLocked) || !errors.Is(s.FellBack(), ErrUnavailable) {
		t.Errorf("kind %q, FellBack %v; want files, because the keychain is locked", s.Kind(), s.FellBack())
	}
	if a := s.Advice(); !strings.Contains(a, "unlock the login keyring") {
		t.Errorf("Advice = %q, want how to unlock it", a)
	}
	t.Logf("%v; %s", s.FellBack(), s.Advice())
}
