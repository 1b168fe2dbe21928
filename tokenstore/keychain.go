package tokenstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the service name under which every item of the OS keychain
// is kept; the key is the item's account (user) name.
const Service = "mcp-bridge"

// DefaultTimeout bounds each call into the OS keychain when
// [Keychain.Timeout] is zero. A Secret Service that hangs (a locked
// collection waiting for a password prompt nobody sees, a wedged daemon)
// must not hang the bridge; cli/cli's internal/keyring uses the same bound.
const DefaultTimeout = 3 * time.Second

// DefaultItemLimit is the largest keychain item, in bytes, that
// [Keychain] writes when [Keychain.ItemLimit] is zero: Windows Credential
// Manager's cap on a credential blob (go-keyring returns
// keyring.ErrSetDataTooBig above it). macOS allows about 3000 bytes once
// go-keyring has base64-encoded the value, and the Secret Service has no
// hard cap. The same limit on every OS splits values the same way
// everywhere.
const DefaultItemLimit = 2560

// minItemLimit is the smallest useful item: a chunk header and some data.
const minItemLimit = 256

// ring is the part of go-keyring that Keychain uses.
type ring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// goKeyring calls go-keyring's package functions: the OS keychain, or
// go-keyring's mock after keyring.MockInit.
type goKeyring struct {
	// checkBus makes each call first check that a D-Bus session bus is
	// known, where the keychain is the Secret Service.
	checkBus bool
	// direct makes Get read through the Secret Service API itself where
	// it can ([secretServiceGet]); not with go-keyring's mock.
	direct bool
}

func (r goKeyring) Get(service, user string) (string, error) {
	if err := r.bus(); err != nil {
		return "", err
	}
	if r.direct {
		if v, ok, err := secretServiceGet(service, user); ok {
			return v, err
		}
	}
	return keyring.Get(service, user)
}

func (r goKeyring) Set(service, user, password string) error {
	if err := r.bus(); err != nil {
		return err
	}
	return keyring.Set(service, user, password)
}

func (r goKeyring) Delete(service, user string) error {
	if err := r.bus(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}

func (r goKeyring) bus() error {
	if !r.checkBus {
		return nil
	}
	return sessionBusKnown()
}

// sessionBusKnown reports whether a D-Bus session bus is known, on the
// systems where go-keyring talks to the Secret Service. Without one,
// go-keyring's D-Bus library would run dbus-launch, which starts a bus
// daemon that outlives the bridge and sets DBUS_SESSION_BUS_ADDRESS for
// the whole process; on a headless machine that bus has no unlocked
// keyring anyway. The checks are those of github.com/godbus/dbus/v5
// before it falls back to dbus-launch.
func sessionBusKnown() error {
	switch runtime.GOOS {
	case "darwin", "windows", "ios", "android", "plan9", "js", "wasip1":
		return nil
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	run := filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, name)); err == nil {
			return nil
		}
	}
	return errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and " + run + "/bus does not exist)")
}

// Keychain keeps values in the OS keychain through
// github.com/zalando/go-keyring: the macOS Keychain, the Windows
// Credential Manager, or a Secret Service (GNOME Keyring, KWallet,
// KeePassXC) over D-Bus on Linux and the BSDs. Each value is an item of
// service [Service] whose account is the key.
//
// A value longer than the item limit ([Keychain.ItemLimit]) is split
// transparently across several items. The item under the key then holds a
// header line,
//
//	mcp-bridge-chunked/1 GEN N SUM
//
// followed by the first part of the value; parts 1 to N-1 are items whose
// account is "KEY#GEN.1" … "KEY#GEN.N-1"; SUM is the hex SHA-256 (first 16
// bytes) of the whole value, and GEN is random and new for each write.
// Set writes the new parts under a new GEN first, then the item under the
// key, then removes the old parts, so a crash or a concurrent reader never
// mixes parts of two values: a reader that finds a part missing or a sum
// wrong reads again. A value that itself starts with "mcp-bridge-chunked/"
// is always stored in this form, so it cannot be mistaken for a header.
//
// Every call into the keychain is bounded by [Keychain.Timeout]; the calls
// of one Keychain run one at a time. A Keychain is safe for concurrent
// use; its zero value uses the OS keychain with the defaults.
type Keychain struct {
	// Timeout bounds each call into the keychain. If zero, DefaultTimeout.
	Timeout time.Duration

	// ItemLimit is the largest item, in bytes, that Set writes; longer
	// values are split. If zero, DefaultItemLimit; at least 256 is used.
	// If the keychain refuses an item as too big
	// (keyring.ErrSetDataTooBig), Set splits it into items half as big.
	ItemLimit int

	once sync.Once
	turn chan struct{} // buffered 1: held by the call into ring under way

	// ring is the keychain; nil means the OS keychain through go-keyring.
	ring ring
}

// Get returns the value stored under key, or [ErrNotFound].
func (k *Keychain) Get(ctx context.Context, key string) ([]byte, error) {
	var lastErr error
	for range 3 {
		head, err := k.get(ctx, key)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(head, chunkMagic) {
			return []byte(head), nil
		}
		h, first, err := parseHeader(head)
		if err != nil {
			return nil, fmt.Errorf("keychain item %q: %w", key, err)
		}
		value, err := k.getParts(ctx, key, h, first)
		if err == nil {
			return value, nil
		}
		if !errors.Is(err, errTorn) {
			return nil, err
		}
		// A writer replaced the value while we read it: read again.
		lastErr = err
	}
	return nil, fmt.Errorf("keychain item %q: %w", key, lastErr)
}

// errTorn says that the parts of a split value do not add up: a writer
// replaced them during the read, or they are damaged.
var errTorn = errors.New("the parts of a split value do not match its header (replaced while read, or damaged)")

// getParts reads the parts of a split value after the first, whose
// header h names them, up to partReads at a time: a start with large
// tokens waits for about one read of them, not one after another.
func (k *Keychain) getParts(ctx context.Context, key string, h header, first string) ([]byte, error) {
	parts := make([]string, h.n)
	errs := make([]error, h.n)
	var wg sync.WaitGroup
	turns := make(chan struct{}, partReads)
	for i := 1; i < h.n; i++ {
		turns <- struct{}{}
		wg.Go(func() {
			defer func() { <-turns }()
			parts[i], errs[i] = k.get(ctx, partName(key, h.gen, i))
		})
	}
	wg.Wait()
	var b bytes.Buffer
	b.WriteString(first)
	for i := 1; i < h.n; i++ {
		if errors.Is(errs[i], ErrNotFound) {
			return nil, errTorn
		}
		if errs[i] != nil {
			return nil, errs[i]
		}
		b.WriteString(parts[i])
	}
	if checksum(b.Bytes()) != h.sum {
		return nil, errTorn
	}
	return b.Bytes(), nil
}

// Set stores value under key, split across several items if it is longer
// than the item limit.
func (k *Keychain) Set(ctx context.Context, key string, value []byte) error {
	old, err := k.header(ctx, key)
	if err != nil {
		return err
	}
	limit := k.itemLimit()
	if len(value) <= limit && !bytes.HasPrefix(value, []byte(chunkMagic)) {
		err := k.set(ctx, key, string(value))
		if err == nil {
			k.deleteParts(ctx, key, old)
			return nil
		}
		if !errors.Is(err, keyring.ErrSetDataTooBig) {
			return err
		}
		limit = max(len(value)/2, minItemLimit)
	}
	for {
		err := k.setSplit(ctx, key, value, limit, old)
		if !errors.Is(err, keyring.ErrSetDataTooBig) || limit <= minItemLimit {
			return err
		}
		limit = max(limit/2, minItemLimit)
	}
}

// setSplit stores value in parts of at most limit bytes under a new
// generation, then the head item under key, then removes the parts of old.
func (k *Keychain) setSplit(ctx context.Context, key string, value []byte, limit int, old header) error {
	gen := newGen()
	for gen == old.gen {
		gen = newGen()
	}
	// The head holds the header and the first part; the header's length
	// depends on the number of parts, which depends on the room the header
	// leaves: count with the longest header for this many parts.
	n := 1
	for {
		room := limit - len(header{gen: gen, n: n, sum: checksum(value)}.String())
		if room <= 0 {
			return fmt.Errorf("keychain item %q: item limit %d too small: %w", key, limit, keyring.ErrSetDataTooBig)
		}
		need := 1
		if rest := len(value) - room; rest > 0 {
			need += (rest + limit - 1) / limit
		}
		if need <= n {
			break
		}
		n = need
	}
	h := header{gen: gen, n: n, sum: checksum(value)}
	room := min(limit-len(h.String()), len(value))
	first, rest := value[:room], value[room:]
	written := 0
	for i := 1; i < n; i++ {
		part := rest[:min(limit, len(rest))]
		rest = rest[len(part):]
		if err := k.set(ctx, partName(key, gen, i), string(part)); err != nil {
			k.deleteParts(ctx, key, header{gen: gen, n: written + 1})
			return err
		}
		written++
	}
	if err := k.set(ctx, key, h.String()+string(first)); err != nil {
		// A write that timed out may still land: then the head needs
		// these parts, and a part left behind is only a leftover.
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			k.deleteParts(ctx, key, header{gen: gen, n: n})
		}
		return err
	}
	k.deleteParts(ctx, key, old)
	return nil
}

// Delete removes the value under key, and all its parts; a missing key is
// not an error.
func (k *Keychain) Delete(ctx context.Context, key string) error {
	old, err := k.header(ctx, key)
	if err != nil {
		return err
	}
	if err := k.delete(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	k.deleteParts(ctx, key, old)
	return nil
}

// Location says where the value under key is kept, in the words of the
// OS's own tools.
func (k *Keychain) Location(key string) string {
	var where string
	switch runtime.GOOS {
	case "darwin":
		where = fmt.Sprintf("macOS Keychain (login keychain), generic password, service %q, account %q", Service, key)
	case "windows":
		where = fmt.Sprintf("Windows Credential Manager, generic credential %q", Service+":"+key)
	default:
		where = fmt.Sprintf("Secret Service (login or default collection), attributes service=%q username=%q", Service, key)
	}
	return where + fmt.Sprintf("; values over %d bytes continue in items %q", k.itemLimit(), key+"#GEN.N")
}

// Probe reports whether the keychain answers, by reading an item that
// does not exist. The error wraps [ErrUnavailable] and says why.
func (k *Keychain) Probe(ctx context.Context) error {
	err := k.call(ctx, "", func(r ring) error {
		_, err := r.Get(Service, probeAccount)
		return err
	})
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return fmt.Errorf("%w (%s: %w)", ErrUnavailable, keychainName(), err)
}

// probeAccount is the account Probe reads; it is never written.
const probeAccount = "probe-never-written"

// keychainName names the OS keychain go-keyring uses here.
func keychainName() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS Keychain"
	case "windows":
		return "Windows Credential Manager"
	default:
		return "Secret Service"
	}
}

// header reads the head item under key and returns its header if the
// value is split, or a zero header.
func (k *Keychain) header(ctx context.Context, key string) (header, error) {
	head, err := k.get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return header{}, nil
	}
	if err != nil {
		return header{}, err
	}
	if !strings.HasPrefix(head, chunkMagic) {
		return header{}, nil
	}
	h, _, err := parseHeader(head)
	if err != nil {
		// A damaged header: its parts cannot be found to remove.
		return header{}, nil
	}
	return h, nil
}

// deleteParts removes parts 1..h.n-1 of a split value, ignoring errors:
// a part left behind is only a leftover, never read.
func (k *Keychain) deleteParts(ctx context.Context, key string, h header) {
	for i := 1; i < h.n; i++ {
		_ = k.delete(ctx, partName(key, h.gen, i))
	}
}

func (k *Keychain) get(ctx context.Context, account string) (string, error) {
	var v string
	err := k.call(ctx, fmt.Sprintf("keychain read %q: ", account), func(r ring) (err error) {
		v, err = r.Get(Service, account)
		return err
	})
	return v, err
}

func (k *Keychain) set(ctx context.Context, account, value string) error {
	return k.call(ctx, fmt.Sprintf("keychain write %q: ", account), func(r ring) error {
		return r.Set(Service, account, value)
	})
}

func (k *Keychain) delete(ctx context.Context, account string) error {
	return k.call(ctx, fmt.Sprintf("keychain delete %q: ", account), func(r ring) error {
		return r.Delete(Service, account)
	})
}

// call runs fn on the keychain, one call at a time, and gives up after
// the timeout or when ctx is done. A call that gives up leaves fn running
// in its goroutine until the keychain answers; go-keyring has no way to
// cancel it. Errors start with what.
func (k *Keychain) call(ctx context.Context, what string, fn func(ring) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := k.ring
	if r == nil {
		r = goKeyring{checkBus: true, direct: true}
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	k.once.Do(func() { k.turn = make(chan struct{}, 1) })
	done := make(chan error, 1)
	go func() {
		// go-keyring's mock is a plain map: calls to an injected ring go
		// one at a time. The OS keychains take concurrent calls.
		if k.ring != nil {
			k.turn <- struct{}{}
			defer func() { <-k.turn }()
		}
		done <- fn(r)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case errors.Is(err, keyring.ErrNotFound):
			return ErrNotFound
		}
		return fmt.Errorf("%s%w", what, err)
	case <-t.C:
		return fmt.Errorf("%sno answer within %v: %w", what, timeout, context.DeadlineExceeded)
	case <-ctx.Done():
		return fmt.Errorf("%s%w", what, ctx.Err())
	}
}

func (k *Keychain) itemLimit() int {
	if k.ItemLimit == 0 {
		return DefaultItemLimit
	}
	return max(k.ItemLimit, minItemLimit)
}

// chunkMagic starts the head item of a split value.
const chunkMagic = "mcp-bridge-chunked/"

// header is the first line of the head item of a split value. The zero
// header stands for a value that is not split.
type header struct {
	gen string // random, new for each write: names the parts
	n   int    // number of parts, the head's included
	sum string // checksum of the whole value
}

func (h header) String() string {
	return fmt.Sprintf("%s1 %s %d %s\n", chunkMagic, h.gen, h.n, h.sum)
}

// maxParts bounds the parts a header may claim (a 2.5 MB value).
const maxParts = 1000

// partReads bounds the parts of a value read at the same time.
const partReads = 8

func parseHeader(head string) (header, string, error) {
	line, rest, ok := strings.Cut(head, "\n")
	f := strings.Fields(strings.TrimPrefix(line, chunkMagic))
	if !ok || len(f) != 4 || f[0] != "1" {
		return header{}, "", fmt.Errorf("unknown split-value header %q", line)
	}
	n, err := strconv.Atoi(f[2])
	if err != nil || n < 1 || n > maxParts || !isHex(f[1]) || !isHex(f[3]) {
		return header{}, "", fmt.Errorf("bad split-value header %q", line)
	}
	return header{gen: f[1], n: n, sum: f[3]}, rest, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && s != ""
}

func partName(key, gen string, i int) string {
	return key + "#" + gen + "." + strconv.Itoa(i)
}

func newGen() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func checksum(v []byte) string {
	s := sha256.Sum256(v)
	return hex.EncodeToString(s[:16])
}
