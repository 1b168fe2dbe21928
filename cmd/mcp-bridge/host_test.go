package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestMain lets the test binary act as mcp-bridge itself: the end-to-end
// tests start it as a child process and talk to it over stdio, as a host
// does (the pattern of go-sdk's mcp/cmd_test.go). The benchmarks also start
// it as the demo server, in a process of its own.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("MCP_BRIDGE_TEST_AS_MAIN") == "1":
		main()
		return
	case os.Getenv("MCP_BRIDGE_TEST_SERVER") != "":
		serveBenchServer(os.Getenv("MCP_BRIDGE_TEST_SERVER"))
		return
	}
	code := m.Run()
	removeBenchBinary()
	os.Exit(code)
}

// recvTimeout bounds every wait for a line from the bridge; reaching it
// fails the test.
const recvTimeout = 20 * time.Second

// A testHost drives a real mcp-bridge process over its stdin and stdout.
type testHost struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte // lines from the bridge's stdout
	stderr *lockedBuffer
	exited chan struct{}
	exit   int // valid after exited is closed
}

// startBridge starts mcp-bridge with args, with the user's directories
// pointed at a temporary one, at --log-level debug unless args set a level.
// When the test ends, it checks that stdout carried nothing but JSON-RPC
// messages, and that no output held a secret the test authorization
// servers issued: whatever a test does, nothing leaks.
func startBridge(t *testing.T, args ...string) *testHost {
	t.Helper()
	return startBridgeEnv(t, nil, args...)
}

// homeEnv points the user's directories at home.
func homeEnv(home string) []string {
	return []string{
		"HOME=" + home, "XDG_CACHE_HOME=" + home + "/cache", "XDG_CONFIG_HOME=" + home + "/config",
		"LOCALAPPDATA=" + home, "APPDATA=" + home,
	}
}

// startBridgeEnv is startBridge with extra environment variables, which
// take precedence.
func startBridgeEnv(t *testing.T, env []string, args ...string) *testHost {
	t.Helper()
	if !slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "--log-level") || a == "--silent" || a == "--debug"
	}) {
		args = append(slices.Clone(args), "--log-level", "debug")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(append(os.Environ(), "MCP_BRIDGE_TEST_AS_MAIN=1"), homeEnv(t.TempDir())...), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &testHost{
		t: t, cmd: cmd, stdin: stdin,
		lines:  make(chan []byte, 1024),
		stderr: &lockedBuffer{},
		exited: make(chan struct{}),
	}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var bad []string
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(h.lines)
		r := bufio.NewReaderSize(stdout, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				if !bytes.HasSuffix(line, []byte("\n")) {
					bad = append(bad, "unterminated line: "+clip(line))
				}
				line = bytes.TrimSuffix(line, []byte("\n"))
				if _, perr := bridge.ParseMessage(line); perr != nil || !json.Valid(line) {
					bad = append(bad, fmt.Sprintf("not a JSON-RPC message (%v): %s", perr, clip(line)))
				}
				if n := len(issuedSecrets(line)); n > 0 {
					bad = append(bad, fmt.Sprintf("%d secret(s) issued by the authorization server: %s", n, clip(line)))
				}
				h.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		<-readDone
		err := cmd.Wait()
		h.exit = cmd.ProcessState.ExitCode()
		if err != nil && h.exit == 0 {
			h.exit = -1
		}
		close(h.exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-h.exited:
		case <-time.After(recvTimeout):
			cmd.Process.Kill()
			<-h.exited
			t.Errorf("the bridge did not exit after stdin closed")
		}
		killAgents(t, h.stderr.String())
		for _, b := range bad {
			t.Errorf("stdout: %s", b)
		}
		if n := len(issuedSecrets([]byte(h.stderr.String()))); n > 0 {
			t.Errorf("stderr holds %d secret(s) issued by the authorization server", n)
		}
		if t.Failed() {
			t.Logf("bridge stderr:\n%s", h.stderr.String())
		}
	})
	return h
}

// agentStarted matches the bridge's log line for a sign-in process it
// started (agent.go), with its pid.
var agentStarted = regexp.MustCompile(`started a sign-in process.* pid=(\d+)`)

// killAgents ends the sign-in processes that a bridge whose log is stderr
// started, and waits until they are gone: they are detached, and would
// otherwise outlive the test until their login timeout.
func killAgents(t *testing.T, stderr string) {
	for _, m := range agentStarted.FindAllStringSubmatch(stderr, -1) {
		pid, _ := strconv.Atoi(m[1])
		killAgent(t, pid)
	}
}

// killAgent ends the sign-in process pid, if it still runs.
func killAgent(t *testing.T, pid int) {
	if pid <= 0 || !processAlive(pid) {
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
	for deadline := time.Now().Add(5 * time.Second); processAlive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the sign-in process %d did not end", pid)
			return
		}
	}
}

// tokenLike matches runs of the alphabet of the secrets the test
// authorization servers issue (see [oauthtest.Issued]).
var tokenLike = regexp.MustCompile(`[A-Z2-7]{26,}`)

// issuedSecrets returns the secrets issued by the test authorization
// servers of this process that data holds.
func issuedSecrets(data []byte) []string {
	const n = 26 // the length of an issued secret
	var found []string
	for _, run := range tokenLike.FindAll(data, -1) {
		for i := 0; i+n <= len(run); i++ {
			if s := string(run[i : i+n]); oauthtest.Issued(s) {
				found = append(found, s)
			}
		}
	}
	return found
}

// send writes one line to the bridge's stdin.
func (h *testHost) send(line string) {
	h.t.Helper()
	if _, err := io.WriteString(h.stdin, line+"\n"); err != nil {
		h.t.Fatalf("write to the bridge: %v", err)
	}
}

// recv returns the next line from the bridge's stdout.
func (h *testHost) recv() []byte {
	h.t.Helper()
	select {
	case line, ok := <-h.lines:
		if !ok {
			h.t.Fatalf("the bridge closed stdout; stderr:\n%s", h.stderr.String())
		}
		return line
	case <-time.After(recvTimeout):
		h.t.Fatalf("no message from the bridge within %v; stderr:\n%s", recvTimeout, h.stderr.String())
		return nil
	}
}

// msg is a decoded JSON-RPC message, for assertions.
type msg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data,omitempty"`
	} `json:"error,omitempty"`
}

// recvMsg returns the next message, decoded.
func (h *testHost) recvMsg() msg {
	h.t.Helper()
	line := h.recv()
	var m msg
	if err := json.Unmarshal(line, &m); err != nil {
		h.t.Fatalf("decode %s: %v", clip(line), err)
	}
	return m
}

// initialize runs the initialize handshake with the given capabilities and
// returns the result.
func (h *testHost) initialize(version string, capabilities string) json.RawMessage {
	h.t.Helper()
	h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version +
		`","capabilities":` + capabilities + `,"clientInfo":{"name":"test-host","version":"1.0"}}}`)
	m := h.recvMsg()
	if string(m.ID) != "0" || m.Error != nil {
		h.t.Fatalf("initialize: got %+v", m)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return m.Result
}

// closeAndWait closes stdin and returns the exit code.
func (h *testHost) closeAndWait() int {
	h.t.Helper()
	h.stdin.Close()
	select {
	case <-h.exited:
		return h.exit
	case <-time.After(recvTimeout):
		h.t.Fatalf("the bridge did not exit after stdin closed")
		return -1
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clip shortens a line for error messages.
func clip(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return strings.TrimSpace(s)
}
