// Package transportcache remembers, per server URL, which MCP transport the
// server answered on (Streamable HTTP or the legacy HTTP+SSE), so that the
// next start of the bridge does not probe again. It implements
// [bridge.TransportCache] with a small JSON file.
package transportcache

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// A File is a transport cache kept in a JSON file. It is safe for
// concurrent use. Failures to read or write the file are not errors: the
// cache only saves a probe.
type File struct {
	path string

	mu sync.Mutex // guards m
	m  map[string]string
}

// Open returns the cache stored at path, which need not exist yet.
func Open(path string) *File {
	f := &File{path: path, m: map[string]string{}}
	if data, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(data, &f.m) // a damaged cache is an empty one
	}
	return f
}

// Transport returns the transport remembered for url, or "".
func (f *File) Transport(url string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[url]
}

// SetTransport remembers transport for url and saves the file.
func (f *File) SetTransport(url, transport string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[url] = transport
	_ = f.save()
}

// save writes the file atomically: a temporary file renamed over it.
func (f *File) save() error {
	data, err := json.MarshalIndent(f.m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".transports-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.path)
}
