package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/audit"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestAuditLog runs the real binary with --audit-log against a protected
// server: the sign-in and each call get a line, with the issuer, the
// outcome and the trace id, and the file holds no argument, result, token
// or secret.
func TestAuditLog(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	env := append(homeEnv(t.TempDir()), "MCP_BRIDGE_TEST_AS_MAIN=1")
	h := startBridgeEnv(t, env, demo.URL, "--browser-command", approver(), "--audit-log", path)
	h.initialize("2025-11-25", `{}`)
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"argument-not-for-the-log"},"_meta":{"traceparent":"` + parent + `"}}}`)
	if m := h.recvMsg(); m.Error != nil {
		t.Fatalf("echo: %+v", m.Error)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"no_such_tool"}}`)
	h.recvMsg()
	if code := h.closeAndWait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(issuedSecrets(data)); n > 0 || bytes.Contains(data, []byte("argument-not-for-the-log")) {
		t.Errorf("the audit log holds %d secret(s) or an argument:\n%s", n, data)
	}
	var lines []audit.Line
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l audit.Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %s", sc.Text())
		}
		lines = append(lines, l)
	}
	var got []string
	for _, l := range lines {
		got = append(got, strings.Join(strings.Fields(l.Event+" "+l.Method+" "+l.Name+" "+l.Outcome+" "+string(l.RequestID)), " "))
		if l.URL != demo.URL || l.Time.IsZero() || l.Issuer != demo.AuthServer.Issuer() {
			t.Errorf("line %+v: want the server's URL, a time and the issuer %s", l, demo.AuthServer.Issuer())
		}
	}
	want := []string{"sign_in ok", "call tools/call echo ok 1", "call tools/call no_such_tool error 2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s\nfile:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), data)
	}
	if len(lines) > 2 && (lines[1].TraceID != "0af7651916cd43dd8448eb211c80319c" || len(lines[2].TraceID) != 32 || lines[2].Code != -32602) {
		t.Errorf("trace ids %q and %q (want the host's, then one the bridge started), code %d", lines[1].TraceID, lines[2].TraceID, lines[2].Code)
	}
}
