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
