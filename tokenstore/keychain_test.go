package tokenstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zalando/go-keyring"
)

// jwtSized returns a token-like value of about n bytes: a JSON object
// holding a base64url "JWT".
func jwtSized(n int) []byte {
	b := make([]byte, n*3/4)
	rand.Read(b)
	return []byte(`{"access_token":"eyJ` + base64.RawURLEncoding.EncodeToString(b)[:n-40] + `","token_type":"Bearer"}`)
}

// TestKeychainSplit: JWT-sized values do not fit one Windows item; they
// are split across items no bigger than the cap, read back whole,
// replaced, shrunk and deleted without leaving parts behind.
func TestKeychainSplit(t *testing.T) {
	mockKeyring(t, nil)
	r := &cappedRing{limit: DefaultItemLimit}
	k := &Keychain{ring: r}
	ctx := t.Context()

	for _, n := range []int{5 << 10, 2 * DefaultItemLimit, 12 << 10, DefaultItemLimit + 1, 7 << 10} {
		v := jwtSized(n)
		if err := k.Set(ctx, "tok", v); err != nil {
			t.Fatalf("Set(%d bytes) = %v", len(v), err)
		}
		got, err := k.Get(ctx, "tok")
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get after Set(%d bytes) = %d bytes, %v", len(v), len(got), err)
		}
		total := 0
		for _, a := range r.accounts() {
			total += r.items[a]
			if a != "tok" && !strings.HasPrefix(a, "tok#") {
				t.Errorf("unexpected item %q", a)
			}
		}
		want := (len(v) + DefaultItemLimit - 100) / (DefaultItemLimit - 100)
		if got := len(r.accounts()); got < want || got > want+1 {
			t.Errorf("%d bytes: %d items %v, want about %d", len(v), got, r.accounts(), want)
		}
		if total > len(v)+100 {
			t.Errorf("%d bytes take %d bytes of items", len(v), total)
		}
	}

	// A small value replaces a split one: the parts go.
	if err := k.Set(ctx, "tok", []byte("small")); err != nil {
		t.Fatal(err)
	}
	if got := r.accounts(); !slices.Equal(got, []string{"tok"}) {
		t.Errorf("items after a small value: %v, want [tok]", got)
	}
	if err := k.Set(ctx, "tok", jwtSized(6<<10)); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if got := r.accounts(); len(got) != 0 {
		t.Errorf("items after Delete: %v, want none", got)
	}
	if _, err := k.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
}

// TestKeychainTooBig: a keychain that refuses items smaller than
// ItemLimit (as macOS does near 3000 bytes once go-keyring has
// base64-encoded them) gets smaller items.
func TestKeychainTooBig(t *testing.T) {
	mockKeyring(t, nil)
	r := &cappedRing{limit: 1000}
	k := &Keychain{ring: r}
	ctx := t.Context()
	var v []byte
	for _, n := range []int{1500, 5 << 10} {
		v = jwtSized(n)
		if err := k.Set(ctx, "tok", v); err != nil {
			t.Fatalf("Set(%d bytes) = %v", len(v), err)
		}
		if got, err := k.Get(ctx, "tok"); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get = %d bytes, %v", len(got), err)
		}
	}
	// Nothing fits: the error says so.
	r.limit = 10
	err := k.Set(ctx, "tok", jwtSized(3000))
	if !errors.Is(err, keyring.ErrSetDataTooBig) {
		t.Errorf("Set into a 10-byte keychain = %v, want ErrSetDataTooBig", err)
	}
	r.limit = 1000
	// The failed write left the old value and no stray part.
	if got, err := k.Get(ctx, "tok"); err != nil || !bytes.Equal(got, v) {
		t.Errorf("Get after a failed Set = %d bytes, %v; want the old value", len(got), err)
	}
	for _, a := range r.accounts() {
		if h, _ := k.header(ctx, "tok"); !strings.HasPrefix(a, "tok#"+h.gen) && a != "tok" {
			t.Errorf("stray item %q", a)
		}
	}
}

// TestKeychainTorn: a reader that finds the parts of a split value
// replaced under it reads again; parts that never match are an error,
// not a wrong value.
func TestKeychainTorn(t *testing.T) {
	mockKeyring(t, nil)
	k := &Keychain{ring: goKeyring{}, ItemLimit: 300}
	ctx := t.Context()
	v := jwtSized(1000)
	if err := k.Set(ctx, "tok", v); err != nil {
		t.Fatal(err)
	}
	h, err := k.header(ctx, "tok")
	if err != nil || h.n < 3 {
		t.Fatalf("header = %+v, %v; want a split value", h, err)
	}
	// A part damaged for good.
	if err := keyring.Set(Service, partName("tok", h.gen, 1), "garbage"); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, "tok"); !errors.Is(err, errTorn) {
		t.Errorf("Get with a damaged part = %d bytes, %v; want errTorn", len(got), err)
	}
	// A part missing: the head was replaced after we read it.
	if err := keyring.Delete(Service, partName("tok", h.gen, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, "tok"); !errors.Is(err, errTorn) {
		t.Errorf("Get with a missing part = %v; want errTorn", err)
	}
	// A damaged header.
	if err := keyring.Set(Service, "tok", chunkMagic+"1 zz 2 00\nx"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, "tok"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get with a damaged header = %v; want an error", err)
	}
	// Set and Delete still work over it.
	if err := k.Set(ctx, "tok", v); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, "tok"); err != nil || !bytes.Equal(got, v) {
		t.Errorf("Get = %d bytes, %v", len(got), err)
	}
}

// hungRing never answers until released, like a Secret Service waiting
// for a password prompt nobody sees.
type hungRing struct{ release chan struct{} }

func (r hungRing) Get(string, string) (string, error) { <-r.release; return "", keyring.ErrNotFound }
func (r hungRing) Set(string, string, string) error   { <-r.release; return nil }
func (r hungRing) Delete(string, string) error        { <-r.release; return nil }

// TestKeychainTimeout: every keychain call gives up after the timeout, and
// Open("auto") falls back to files.
func TestKeychainTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := hungRing{release: make(chan struct{})}
		defer close(r.release)
		k := &Keychain{ring: r}
		ctx := context.Background()
		start := time.Now()
		_, err := k.Get(ctx, "k")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Get = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d != DefaultTimeout {
			t.Errorf("Get gave up after %v, want %v", d, DefaultTimeout)
		}
		k.Timeout = time.Second
		if err := k.Set(ctx, "k", []byte("v")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Set = %v, want DeadlineExceeded", err)
		}
		if err := k.Delete(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Delete = %v, want DeadlineExceeded", err)
		}
		if err := k.Probe(ctx); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Probe = %v, want ErrUnavailable", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(10*time.Millisecond, cancel)
		if _, err := k.Get(cctx, "k"); !errors.Is(err, context.Canceled) {
			t.Errorf("Get with a cancelled context = %v, want Canceled", err)
		}
	})
}

func TestKeychainLocation(t *testing.T) {
	loc := (&Keychain{}).Location("abc")
	for _, want := range []string{"abc", keychainName()} {
		if !strings.Contains(loc, want) {
			t.Errorf("Location = %q, want it to contain %q", loc, want)
		}
	}
}

func TestParseHeader(t *testing.T) {
	h := header{gen: "0a1b2c3d", n: 3, sum: checksum([]byte("x"))}
	got, rest, err := parseHeader(h.String() + "data")
	if err != nil || got != h || rest != "data" {
		t.Errorf("parseHeader(%q) = %+v, %q, %v", h.String(), got, rest, err)
	}
	for _, bad := range []string{
		chunkMagic + "1 0a 3 00",        // no newline
		chunkMagic + "2 0a 3 00\n",      // unknown version
		chunkMagic + "1 0a 0 00\n",      // no parts
		chunkMagic + "1 0a 100000 00\n", // too many
		chunkMagic + "1 xy 3 00\n",      // not hex
		chunkMagic + "1 0a 3\n",         // too few fields
	} {
		if _, _, err := parseHeader(bad); err == nil {
			t.Errorf("parseHeader(%q) succeeded", bad)
		}
	}
}

// slowHeadRing holds the write of a split value's head until released,
// then makes it: a keychain that answers after the timeout.
type slowHeadRing struct {
	goKeyring
	release chan struct{}
}

func (r slowHeadRing) Set(service, user, password string) error {
	if !strings.Contains(user, "#") && strings.HasPrefix(password, chunkMagic) {
		<-r.release
	}
	return keyring.Set(service, user, password)
}

// TestKeychainSlowHead: a head write that times out may still land, so
// the parts it names stay.
func TestKeychainSlowHead(t *testing.T) {
	mockKeyring(t, nil)
	synctest.Test(t, func(t *testing.T) {
		r := slowHeadRing{release: make(chan struct{})}
		k := &Keychain{ring: r, ItemLimit: 300}
		ctx := context.Background()
		v := jwtSized(1000)
		if err := k.Set(ctx, "tok", v); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Set = %v, want DeadlineExceeded", err)
		}
		close(r.release)
		if got, err := k.Get(ctx, "tok"); err != nil || !bytes.Equal(got, v) {
			t.Errorf("Get once the head landed = %d bytes, %v; want the value", len(got), err)
		}
	})
}
