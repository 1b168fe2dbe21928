// Package transportcache remembers, per server URL, which MCP transport the
// server answered on (Streamable HTTP or the legacy HTTP+SSE) and which
// protocol era it speaks, so that the next start of the bridge does not
// probe again, and what the bridge keeps of its last InitializeResult, to
// answer a host while a sign-in waits. It implements
// [bridge.TransportCache], [bridge.EraCache] and [bridge.InitializeCache]
// with a small JSON file.
package transportcache

import (
	"encoding/json"
	"os"
	"sync"

	"github.com/mcp-bridge/mcp-bridge/internal/atomicfile"
)

// A File is a transport cache kept in a JSON file. It is safe for
// concurrent use. Failures to read or write the file are not errors: the
// cache only saves a probe.
type File struct {
	path string

	mu sync.Mutex                 // guards m
	m  map[string]json.RawMessage // a transport name (a JSON string) or an era verdict, by key
}

// Open returns the cache stored at path, which need not exist yet.
func Open(path string) *File {
	f := &File{path: path, m: map[string]json.RawMessage{}}
	if data, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(data, &f.m) // a damaged cache is an empty one
	}
	return f
}

// Transport returns the transport remembered for url, or "".
func (f *File) Transport(url string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var t string
	_ = json.Unmarshal(f.m[url], &t)
	return t
}

// SetTransport remembers transport for url and saves the file.
func (f *File) SetTransport(url, transport string) {
	data, _ := json.Marshal(transport)
	f.set(url, data)
}

// Era returns the era verdict stored under key, or nil.
func (f *File) Era(key string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[key]
}

// SetEra stores an era verdict, a JSON value, under key (nil removes it)
// and saves the file.
func (f *File) SetEra(key string, verdict []byte) { f.set(key, verdict) }

func (f *File) set(key string, value json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if value == nil {
		delete(f.m, key)
	} else {
		f.m[key] = value
	}
	_ = f.save()
}

// save writes the file atomically (see [atomicfile.WriteFile]).
func (f *File) save() error {
	data, err := json.MarshalIndent(f.m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(f.path, data, 0o600)
}

// Initialize returns the initialize result stored under key, or nil.
func (f *File) Initialize(key string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[key]
}

// SetInitialize stores an initialize result, a JSON object, under key
// and saves the file. It holds what the bridge keeps of the server's
// InitializeResult, nothing secret: the file is plain.
func (f *File) SetInitialize(key string, result []byte) { f.set(key, result) }
