package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/config"
	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// writeConfig replaces the configuration file as editors do: a new file
// renamed over the old one.
func writeConfig(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// toolNames lists the tools of the host's next tools/list.
func (h *testHost) toolNames(id string) []string {
	h.t.Helper()
	h.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/list"}`)
	m := h.recvMsg()
	var res struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if m.Error != nil || json.Unmarshal(m.Result, &res) != nil {
		h.t.Fatalf("tools/list: %+v", m)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// TestConfigFile runs a named server of the configuration file, with a
// header from the environment, one from the keychain (here the file
// store) and a tool filter, then edits the file under the running bridge:
// a new header and filter apply to the next call (the host is told to
// list its tools again), an invalid edit leaves
// the bridge serving as before, and a new URL waits for a restart.
func TestConfigFile(t *testing.T) {
	var log requestLog
	srv := demo(t, &demoserver.Options{Observe: log.observe})
	home := t.TempDir()
	env := append(homeEnv(home), "MCP_BRIDGE_TEST_AS_MAIN=1", "TEAM=blue")

	set := exec.Command(os.Args[0], "secret", "set", "api-key", "--token-store", "file")
	set.Env = append(os.Environ(), env...)
	set.Stdin = strings.NewReader("key-from-the-store\n")
	if out, err := set.CombinedOutput(); err != nil || !strings.Contains(string(out), "${keychain:api-key}") {
		t.Fatalf("secret set: %v: %s", err, out)
	}

	path := filepath.Join(home, "config", "mcp-bridge", "config.json")
	configText := func(team, deny string) string {
		return `{
  "version": 1,
  "servers": {
    "demo": {
      "url": "` + srv.MCPURL() + `",
      "headers": {"X-Team": "` + team + `", "X-Api-Key": "${keychain:api-key}"},
      "tools": {"deny": ["` + deny + `"]},
      "auth": {"token_store": "file"}
    }
  }
}`
	}
	writeConfig(t, path, configText("${TEAM}", "count"))
	h := startBridgeEnv(t, env, "run", "demo")
	h.initialize("2025-11-25", `{}`)

	lastHeader := func(name string) string {
		reqs := log.all()
		return reqs[len(reqs)-1].Header.Get(name)
	}
	names := h.toolNames("1")
	if slices.Contains(names, "count") || !slices.Contains(names, "echo") {
		t.Errorf("tools = %v, want echo but not count", names)
	}
	if got := lastHeader("X-Team"); got != "blue" {
		t.Errorf("X-Team = %q, want blue, from the environment", got)
	}
	if got := lastHeader("X-Api-Key"); got != "key-from-the-store" {
		t.Errorf("X-Api-Key = %q, want the stored secret", got)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"count","arguments":{"n":1}}}`)
	if m := h.recvMsg(); m.Error == nil || !strings.Contains(m.Error.Message, "count") {
		t.Errorf("a call to a hidden tool: %+v, want an error naming it", m)
	}

	// A new header and filter apply to the next call.
	writeConfig(t, path, configText("green", "echo"))
	h.waitStderr("reloaded the configuration file", 1)
	if m := h.recvMsg(); m.Method != "notifications/tools/list_changed" {
		t.Errorf("after a filter edit, the host got %+v, want notifications/tools/list_changed", m)
	}
	names = h.toolNames("3")
	if !slices.Contains(names, "count") || slices.Contains(names, "echo") {
		t.Errorf("after the edit, tools = %v, want count but not echo", names)
	}
	if got := lastHeader("X-Team"); got != "green" {
		t.Errorf("after the edit, X-Team = %q, want green", got)
	}

	// An invalid edit: the bridge says why and serves as before.
	writeConfig(t, path, strings.Replace(configText("red", "add"), `"tools"`, `"toolz"`, 1))
	h.waitStderr("keeping the last good one", 1)
	if !strings.Contains(h.stderr.String(), "servers.demo.toolz: unknown field") {
		t.Errorf("the error does not name the field:\n%s", h.stderr.String())
	}
	if names = h.toolNames("4"); slices.Contains(names, "echo") || !slices.Contains(names, "add") {
		t.Errorf("after an invalid edit, tools = %v, want the last good filter", names)
	}
	if got := lastHeader("X-Team"); got != "green" {
		t.Errorf("after an invalid edit, X-Team = %q, want green still", got)
	}

	// A new URL applies at the next start; the bridge keeps its server.
	writeConfig(t, path, strings.Replace(configText("green", "echo"), srv.MCPURL(), "https://elsewhere.example.com/mcp", 1))
	h.waitStderr("apply at the next start", 1)
	if !strings.Contains(h.stderr.String(), "fields=url") {
		t.Errorf("the warning does not name the url:\n%s", h.stderr.String())
	}
	if names = h.toolNames("5"); len(names) == 0 {
		t.Error("after a URL change, the bridge stopped serving")
	}
	h.closeAndWait()
	for _, secret := range []string{"key-from-the-store"} {
		if strings.Contains(h.stderr.String(), secret) {
			t.Errorf("the log shows a secret")
		}
	}
}

// TestConfigErrors: a named server needs a file that has it, and the
// errors say which file and what it has.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	writeConfig(t, path, `{"version": 1, "servers": {"one": {"url": "https://one.example.com/mcp"}, "two": {"url": "https://two.example.com/mcp"}}}`)
	bad := filepath.Join(dir, "bad.json")
	writeConfig(t, bad, "{\"version\": 1,\n \"servers\": {\"one\": {\"url\": \"https://one.example.com/mcp\", \"scopes\": []}}}")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "three", "--config", path}, `no server "three" in ` + path + "; it has: one, two"},
		{[]string{"run", "one", "--config", filepath.Join(dir, "none.json")}, `"one" is not a URL, and there is no configuration file`},
		{[]string{"run", "one", "--config", bad}, bad + ":2: servers.one.scopes: unknown field"},
		{[]string{"login", "one", "--config", bad}, "servers.one.scopes: unknown field"},
		{[]string{"run", "one", "--config", path, "--client-secret", "hunter2"}, "--client-secret takes a reference"},
		{[]string{"run", "one", "--config", path, "--preset", "google"}, "--preset google: preset google: a registered client is needed"},
		{[]string{"run", "one", "--config", path, "--preset", "gogle"}, `unknown preset "gogle"`},
	}
	for _, tt := range tests {
		var stdout, stderr lockedBuffer
		code := run(t.Context(), tt.args, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), exitUsage, tt.want)
		}
		if strings.Contains(stderr.String(), "hunter2") {
			t.Errorf("%v: the error shows the secret", tt.args)
		}
	}
}

// TestConfigCoversFlags: every flag of the bridge has a configuration
// field, and every field gives a flag the bridge has.
func TestConfigCoversFlags(t *testing.T) {
	var s config.Server
	fill(reflect.ValueOf(&s).Elem())
	fromConfig := map[string]bool{}
	for _, a := range s.Args()[1:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			fromConfig[name] = true
		}
	}
	bridgeFlags(&bridgeOptions{}).VisitAll(func(f *flag.Flag) {
		if !fromConfig[f.Name] && f.Name != "config" {
			t.Errorf("--%s has no configuration field", f.Name)
		}
		delete(fromConfig, f.Name)
	})
	for name := range fromConfig {
		t.Errorf("a configuration field gives --%s, which is not a flag", name)
	}
}

// fill sets every field of v to a value that is not zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(1)
	case reflect.Slice:
		v.Set(reflect.ValueOf([]string{"x"}))
	case reflect.Map:
		v.Set(reflect.ValueOf(map[string]string{"k": "v"}))
	}
}

// TestKeepAliveFlag: with --keepalive an idle bridge pings the server,
// and the host sees nothing of it.
func TestKeepAliveFlag(t *testing.T) {
	var log requestLog
	srv := demo(t, &demoserver.Options{Observe: log.observe})
	h := startBridge(t, srv.MCPURL(), "--keepalive", "50ms")
	h.initialize("2025-11-25", `{}`)
	posts := func() int {
		n := 0
		for _, r := range log.all() {
			if r.Method == http.MethodPost {
				n++
			}
		}
		return n
	}
	after := posts()
	deadline := time.After(recvTimeout)
	for posts() < after+2 {
		select {
		case line := <-h.lines:
			t.Fatalf("the host got %s while idle", line)
		case <-deadline:
			t.Fatalf("no pings within %v: %v", recvTimeout, methods(log.all()))
		case <-time.After(10 * time.Millisecond):
		}
	}
	h.send(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	if m := h.recvMsg(); string(m.ID) != "1" || m.Error != nil {
		t.Errorf("the host's own ping: %+v", m)
	}
}
