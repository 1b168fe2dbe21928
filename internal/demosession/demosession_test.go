package demosession

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The whole session, through the real binary, is cmd/mcp-bridge's
// TestDemo. These cover what needs no binary.

// TestPlayWithoutBridge: a bridge that cannot start ends the session at
// its first step, said in the narration.
func TestPlayWithoutBridge(t *testing.T) {
	var out bytes.Buffer
	missing := filepath.Join(t.TempDir(), "no-such-bridge")
	err := Play(t.Context(), &Options{Bridge: missing, AutoApprove: true, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "initialize") {
		t.Fatalf("Play = %v, want the initialize step's error", err)
	}
	for _, want := range []string{"--auto-approve: the demo approves the consent page itself", "→ initialize", "demo failed: initialize"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the narration lacks %q:\n%s", want, out.String())
		}
	}
}

// TestServeEntry: Serve prints a host config entry that runs the bridge
// against the demo server, and returns when ctx ends.
func TestServeEntry(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out bytes.Buffer
	if err := Serve(ctx, &Options{Bridge: "/opt/mcp-bridge", Out: &out}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	var entry struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	start, end := strings.Index(text, "{"), strings.LastIndex(text, "}")
	if start < 0 || end < start || json.Unmarshal([]byte(text[start:end+1]), &entry) != nil {
		t.Fatalf("no JSON entry in:\n%s", text)
	}
	e := entry.MCPServers["bridge-demo"]
	if e.Command != "/opt/mcp-bridge" || len(e.Args) != 1 || !strings.HasPrefix(e.Args[0], "http://127.0.0.1:") {
		t.Errorf("entry = %+v", e)
	}
}
