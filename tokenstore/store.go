package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/privfile"
)

// Store kinds, for [Open] and [Store.Kind].
const (
	KindAuto     = "auto"
	KindKeychain = "keychain"
	KindFile     = "file"
	KindMemory   = "memory"
)

// A Store keeps values in one [Backend] and shares them between
// processes: [Store.Lock] locks a key across processes, [Store.Watch]
// reports changes that any process makes, and [Store.SetIndex] keeps
// non-secret metadata that can be listed even when the backend cannot
// list its items. Its methods are safe for concurrent use.
type Store struct {
	kind string
	b    Backend
	dir  string // "" for memory: nothing on disk
	log  *slog.Logger

	mu    sync.Mutex               // guards locks, index
	locks map[string]chan struct{} // per key: held by this process
	index map[string][]byte        // memory kind only

	watch watchers

	// For "auto": the keychain to try, the choice made at first use, and
	// why it fell back to files, if it did.
	kc       *Keychain
	decideMu sync.Mutex  // guards the decision: kind, b and fallback
	decided  atomic.Bool // set once kind and b are final
	fallback error
}

// fallbackWarning is the warning that credentials go to files where no
// keychain answers: said once per process, however many Stores fall back
// (migrate opens one per host entry) and however often they write.
var fallbackWarning sync.Once

// Open returns a Store of the given kind:
//
//   - "keychain": the OS keychain ([Keychain]); it fails, wrapping
//     [ErrUnavailable], if the keychain does not answer.
//   - "file": files under dir ([File]).
//   - "memory": this process's memory ([Memory]); dir is not used, and
//     locks, changes and the index stay in this process too.
//   - "auto": the keychain if it answers (the first read, within
//     [DefaultTimeout]), otherwise files under dir, with one short warning
//     on log, at the first write of the process, that names dir
//     ([Store.FellBack] says why, [Store.Advice] what to do).
//
// Except for "memory", dir is also where the lock files, change markers
// and the index go (see the package documentation); it is created with
// mode 0700 when first needed. A nil log discards.
func Open(kind, dir string, log *slog.Logger) (*Store, error) {
	return open(context.Background(), kind, dir, log, &Keychain{})
}

// open is Open with the keychain to use.
func open(ctx context.Context, kind, dir string, log *slog.Logger, kc *Keychain) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if kind != KindMemory && dir == "" {
		return nil, fmt.Errorf("token store %q: no directory", kind)
	}
	if kind != KindMemory {
		// The directory holds the index, the locks and (for file) the
		// tokens: whoever else can write it could redirect them.
		if err := privfile.CheckDir(dir, "the credentials directory"); err != nil {
			return nil, err
		}
	}
	s := &Store{kind: kind, dir: dir, log: log, locks: map[string]chan struct{}{}}
	switch kind {
	case KindMemory:
		s.b, s.dir = &Memory{}, ""
		s.index = map[string][]byte{}
	case KindFile:
		s.b = &File{Dir: dir}
	case KindKeychain:
		if err := kc.Probe(ctx); err != nil {
			return nil, fmt.Errorf("%w: %s", err, KeychainAdvice())
		}
		s.b = kc
	case KindAuto:
		// Decided at the first use, whose keychain read doubles as the
		// probe: a start with a stored token costs one keychain round
		// trip fewer.
		s.kc = kc
	default:
		return nil, fmt.Errorf("token store %q: want auto, keychain, file or memory", kind)
	}
	return s, nil
}

// Advice says what to do about the OS keychain that "auto" did not use
// ([Store.FellBack]): unlock it, or set one up.
func (s *Store) Advice() string {
	if errors.Is(s.FellBack(), ErrLocked) {
		return "unlock the login keyring (log in to the desktop session, or run gnome-keyring-daemon --unlock), or use --token-store file"
	}
	return KeychainAdvice()
}

// KeychainAdvice says what to do when the OS keychain cannot be reached.
func KeychainAdvice() string {
	switch keychainName() {
	case "Secret Service":
		return "no Secret Service on this machine: install (and unlock) gnome-keyring or another Secret Service, or use --token-store file"
	default:
		return "use --token-store file"
	}
}

// resolve decides, for "auto", between the keychain and files, once: a
// read of key (or of a probe item) that the keychain answers, found or
// not, chooses the keychain; any other outcome chooses files. Callers
// that race each make the read, and the first decision stands. It returns
// the read's outcome when the keychain answered it, with ok set.
func (s *Store) resolve(ctx context.Context, key string) (value []byte, err error, ok bool) {
	if s.kc == nil || s.decided.Load() {
		return nil, nil, false
	}
	probe := key
	if probe == "" {
		probe = probeAccount
	}
	value, err = s.kc.Get(ctx, probe)
	reachable := err == nil || errors.Is(err, ErrNotFound)
	locked := !reachable && !s.decided.Load() && keychainLocked() // a D-Bus call: not under decideMu
	s.decideMu.Lock()
	if !s.decided.Load() {
		if reachable {
			s.kind, s.b = KindKeychain, s.kc
		} else {
			s.fallback = fmt.Errorf("%w (%s: %w)", ErrUnavailable, keychainName(), err)
			if locked {
				s.fallback = &lockedError{err}
			}
			s.kind, s.b = KindFile, &File{Dir: s.dir}
		}
		s.decided.Store(true)
	}
	keychain := s.kind == KindKeychain
	s.decideMu.Unlock()
	return value, err, keychain && reachable && key != ""
}

// Kind reports the backend in use: "keychain", "file" or "memory" (never
// "auto").
func (s *Store) Kind() string {
	s.resolve(context.Background(), "")
	return s.kind
}

// FellBack reports why "auto" keeps values in files, or nil if it does
// not (or was not asked to choose).
func (s *Store) FellBack() error {
	s.resolve(context.Background(), "")
	return s.fallback
}

// Dir returns the directory of the lock files, change markers and index
// (and of the values, for the file backend); "" for the memory backend.
func (s *Store) Dir() string { return s.dir }

// Location says where the value under key lives, for status and doctor
// output: "macOS Keychain …", "Secret Service …", "file DIR/KEY.json" ….
func (s *Store) Location(key string) string {
	s.resolve(context.Background(), "")
	return s.b.Location(key)
}

// Get returns the value stored under key, or [ErrNotFound].
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if v, err, ok := s.resolve(ctx, key); ok {
		return v, err
	}
	return s.b.Get(ctx, key)
}

// Set stores value under key, then tells watchers of key (in every
// process) that it changed.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.resolve(ctx, "")
	if s.fallback != nil {
		fallbackWarning.Do(func() {
			what := "no OS keychain (" + keychainName() + ")"
			if errors.Is(s.fallback, ErrLocked) {
				what = "the OS keychain (" + keychainName() + ") is locked"
			}
			s.log.Warn(what+": credentials go to plaintext files (mode 0600); `mcp-bridge doctor` explains", "dir", s.dir)
		})
	}
	if err := s.b.Set(ctx, key, value); err != nil {
		return err
	}
	s.changed(key)
	return nil
}

// Delete removes the value under key (a missing key is not an error),
// then tells watchers of key (in every process) that it changed.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.resolve(ctx, "")
	if err := s.b.Delete(ctx, key); err != nil {
		return err
	}
	s.changed(key)
	return nil
}

// changed rewrites the change marker of key, or, for the memory backend,
// tells this process's watchers directly. A marker that cannot be written
// is logged, not returned: the value itself is stored, and other
// processes will see it when they next read.
func (s *Store) changed(key string) {
	if s.dir == "" {
		s.watch.notify(key)
		return
	}
	stamp := strconv.Itoa(os.Getpid()) + " " + strconv.FormatInt(time.Now().UnixNano(), 10) + "\n"
	if err := writeFileAtomic(filepath.Join(s.dir, "changes", key), []byte(stamp)); err != nil {
		s.log.Warn("other processes may not notice a credentials change", "key", key, "err", err)
	}
}

// reservedKey names the index file, DIR/index.json.
const reservedKey = "index"

// checkKey accepts what a Store accepts as a key: a file name on every OS
// ([validKey]) that starts with a letter or digit (the Store's own
// temporary files start with a dot), other than "index".
func checkKey(key string) error {
	if !validKey(key) || !isAlnum(key[0]) || key == reservedKey {
		return fmt.Errorf("token store: invalid key %q", key)
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
