package transportcache

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestFile: transports and era verdicts survive a reopen, a file written
// before eras were kept still reads, and a removed verdict is gone.
func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "transports.json")
	if err := os.WriteFile(path, []byte(`{"https://old.example/mcp":"sse"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := Open(path)
	if got := f.Transport("https://old.example/mcp"); got != "sse" {
		t.Errorf("old file: Transport = %q", got)
	}
	f.SetTransport("https://a.example/mcp", "streamable")
	f.SetEra("era https://a.example/mcp ", []byte(`{"era":"2026-07-28"}`))
	f.SetEra("era https://b.example/mcp ", []byte(`{"era":"legacy"}`))
	f.SetEra("era https://b.example/mcp ", nil)

	g := Open(path)
	if got := g.Transport("https://a.example/mcp"); got != "streamable" {
		t.Errorf("Transport = %q", got)
	}
	var got bytes.Buffer
	if err := json.Compact(&got, g.Era("era https://a.example/mcp ")); err != nil || got.String() != `{"era":"2026-07-28"}` {
		t.Errorf("Era = %s (%v)", got.String(), err)
	}
	if got := g.Era("era https://b.example/mcp "); got != nil {
		t.Errorf("removed Era = %s", got)
	}
	if got := g.Transport("era https://a.example/mcp "); got != "" {
		t.Errorf("an era verdict read as a transport: %q", got)
	}
}

// TestFileInitialize: an initialize result survives a reopen beside the
// transports, and does not read as a transport.
func TestFileInitialize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "transports.json")
	f := Open(path)
	f.SetTransport("https://a.example/mcp", "streamable")
	const key, result = "initialize https://a.example/mcp ", `{"capabilities":{"tools":{}},"protocolVersion":"2025-11-25"}`
	f.SetInitialize(key, []byte(result))

	g := Open(path)
	var got bytes.Buffer
	if err := json.Compact(&got, g.Initialize(key)); err != nil || got.String() != result {
		t.Errorf("Initialize = %s (%v), want %s", got.String(), err, result)
	}
	if got := g.Initialize("initialize https://b.example/mcp "); got != nil {
		t.Errorf("Initialize of another server = %s", got)
	}
	if got := g.Transport("https://a.example/mcp"); got != "streamable" {
		t.Errorf("Transport = %q", got)
	}
	if got := g.Transport(key); got != "" {
		t.Errorf("the initialize result read as a transport: %q", got)
	}
}
