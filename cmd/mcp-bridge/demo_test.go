package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/audit"
)

// demoCommand returns the test binary set up to act as mcp-bridge.
func demoCommand(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	home := t.TempDir()
	// No DISPLAY: the demo approves the sign-in itself, as on CI.
	cmd.Env = append(os.Environ(), "MCP_BRIDGE_TEST_AS_MAIN=1", "HOME="+home, "XDG_CACHE_HOME="+home, "DISPLAY=", "WAYLAND_DISPLAY=")
	return cmd
}

// TestDemo runs `mcp-bridge demo` as a new user would and checks that every
// step of the session happened.
func TestDemo(t *testing.T) {
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := demoCommand(t, "demo", "--audit-log", auditLog)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"no browser can open here: the demo approves the consent page itself",
		"→ initialize", "protocol 2025-11-25",
		"INF authorization required", "auth   │ registered client", "INF registered a client (RFC 7591)",
		"auth   │ user approved client", "valid 3s, with refresh token", "INF signed in",
		"→ tools/list", "11 tools: add, big, confirm, count, echo",
		"→ tools/call add", "    42 ",
		"← progress 1/3", "← progress 3/3", "counted to 3",
		`← elicitation/create "Deploy to staging?"`, "action=accept confirmed=true",
		"← sampling/createMessage", "Hello from the host's model.",
		"→ resources/read demo://readme",
		"→ prompts/get greet", "Please greet Ada.",
		"notifications/resources/updated demo://notice, on the GET stream",
		"waiting 3s for the access token to expire", "auth   │ refreshed access token", "INF token refreshed", "rotated=true",
		"exited with status 0",
		"a second start of the bridge", "0 sign-ins: the bridge used the credentials it kept",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", out)
	}
	checkDemoAudit(t, auditLog)
}

// checkDemoAudit reads the audit log of the demo's bridges (the lines the
// README shows): the sign-in, each call with its outcome, the refresh,
// each with the issuer, and a trace id on every call.
func checkDemoAudit(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, text := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l audit.Line
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			t.Fatalf("audit line %q: %v", text, err)
		}
		key := l.Event + " " + l.Method + " " + l.Name + " " + l.Outcome
		seen[key]++
		if l.Issuer == "" || (l.Event == audit.EventCall && len(l.TraceID) != 32) {
			t.Errorf("audit line %s: want the issuer, and a trace id on a call", text)
		}
	}
	for _, want := range []string{"sign_in   ok", "call tools/call add ok", "call resources/read demo://readme ok", "call prompts/get greet ok", "refresh   ok"} {
		if seen[want] == 0 {
			t.Errorf("no audit line %q in:\n%s", want, data)
		}
	}
}

// TestDemoServe checks that `demo --serve` prints a host config entry whose
// server answers, protected, and stops cleanly on SIGINT.
func TestDemoServe(t *testing.T) {
	cmd := demoCommand(t, "demo", "--serve")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	// Read up to the end of the JSON entry.
	var text strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		text.WriteString(sc.Text() + "\n")
		if sc.Text() == "  }" {
			break
		}
	}
	out := text.String()
	var entry struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &entry); err != nil {
		t.Fatalf("the config entry is not JSON: %v\n%s", err, out)
	}
	e, ok := entry.MCPServers["bridge-demo"]
	if !ok || e.Command == "" || len(e.Args) != 1 {
		t.Fatalf("entry = %+v", entry)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.Args[0], strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("the demo server does not answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "resource_metadata=") {
		t.Errorf("initialize without a token: %s %q, want 401 with a resource_metadata challenge", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}

	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("demo --serve after SIGINT: %v", err)
	}
}
