package tokenstore

import (
	"bytes"
	"context"
	"sync"
)

// Memory keeps values in memory, for tests and for users who want nothing
// written anywhere. The zero value is ready to use; it is safe for
// concurrent use. Values are copied in and out.
type Memory struct {
	mu sync.Mutex // guards m
	m  map[string][]byte
}

// Get returns a copy of the value stored under key, or [ErrNotFound].
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(v), nil
}

// Set stores a copy of value under key.
func (m *Memory) Set(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string][]byte{}
	}
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	m.m[key] = v
	return nil
}

// Delete removes the value under key; a missing key is not an error.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

// Location says where the value under key is kept: in this process's
// memory only.
func (m *Memory) Location(key string) string {
	return "memory of this process (not kept), key " + key
}
