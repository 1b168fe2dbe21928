package tokenstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mcp-bridge/mcp-bridge/internal/privfile"
)

// indexFile is the content of DIR/index.json.
type indexFile struct {
	Version int                        `json:"version"`
	Entries map[string]json.RawMessage `json:"entries"`
}

const indexVersion = 1

// errIndexVersion says that DIR/index.json was written by another
// version of the bridge: SetIndex leaves it alone.
var errIndexVersion = fmt.Errorf("unknown index version (want %d)", indexVersion)

// SetIndex records meta, a JSON value, as the index entry of key; a nil
// meta removes the entry. The index is not secret: it lets a status
// command list what is stored even when the backend (the keychain) cannot
// list its items, so meta must hold no secret. The caller decides what it
// holds (a server's URL, issuer, client id, expiry …).
//
// The index is the file DIR/index.json (mode 0600, replaced atomically);
// SetIndex holds the lock DIR/locks/index.lock while it reads, changes and
// writes it, so processes that update different entries at once lose
// none. For the memory backend the index is kept in memory.
func (s *Store) SetIndex(ctx context.Context, key string, meta []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if meta != nil {
		var b bytes.Buffer
		if err := json.Compact(&b, meta); err != nil {
			return fmt.Errorf("index entry %q: not JSON: %w", key, err)
		}
		meta = b.Bytes()
	}
	if s.dir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if meta == nil {
			delete(s.index, key)
		} else {
			s.index[key] = meta
		}
		return nil
	}
	unlock, err := s.lock(ctx, reservedKey)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.readIndex()
	if errors.Is(err, errIndexVersion) {
		return err
	}
	if err != nil {
		// A damaged index holds no secret and is rebuilt as servers are
		// used: start a new one rather than fail every sign-in.
		s.log.Warn("replacing the damaged credentials index", "file", s.indexPath(), "err", err)
		idx = map[string][]byte{}
	}
	if meta == nil {
		if _, ok := idx[key]; !ok {
			return nil
		}
		delete(idx, key)
	} else {
		idx[key] = meta
	}
	f := indexFile{Version: indexVersion, Entries: map[string]json.RawMessage{}}
	for k, v := range idx {
		f.Entries[k] = v
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := writeFileAtomic(s.indexPath(), append(data, '\n')); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// Index returns every index entry, by key: what [Store.SetIndex] recorded,
// as compact JSON. With no index yet it returns an empty map.
func (s *Store) Index() (map[string][]byte, error) {
	if s.dir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		idx := make(map[string][]byte, len(s.index))
		for k, v := range s.index {
			idx[k] = bytes.Clone(v)
		}
		return idx, nil
	}
	return s.readIndex()
}

func (s *Store) indexPath() string { return filepath.Join(s.dir, reservedKey+".json") }

func (s *Store) readIndex() (map[string][]byte, error) {
	if err := privfile.CheckFile(s.indexPath(), "the credentials index"); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	var f indexFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("index %s: %w", s.indexPath(), err)
	}
	if f.Version != indexVersion {
		return nil, fmt.Errorf("index %s: version %d: %w", s.indexPath(), f.Version, errIndexVersion)
	}
	idx := make(map[string][]byte, len(f.Entries))
	for k, v := range f.Entries {
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return nil, fmt.Errorf("index %s: entry %q: %w", s.indexPath(), k, err)
		}
		idx[k] = b.Bytes()
	}
	return idx, nil
}
