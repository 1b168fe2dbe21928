//go:build unix

package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStdioModeRestored: the bridge runs with its stdin and stdout pipes
// in non-blocking mode (for the poller, stdio_unix.go) and sets them back
// when it ends: the mode belongs to the pipe, and what shares the pipe
// after the bridge, a shell's next command, expects it blocking.
func TestStdioModeRestored(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(minimalServer))
	t.Cleanup(srv.Close)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*os.File{inR, inW, outR, outW} {
		t.Cleanup(func() { f.Close() })
	}
	cmd := exec.Command(os.Args[0], srv.URL+"/mcp", "--log-level", "warn")
	cmd.Env = append(append(os.Environ(), "MCP_BRIDGE_TEST_AS_MAIN=1"), homeEnv(t.TempDir())...)
	cmd.Stdin, cmd.Stdout = inR, outW // blocking: exec hands over the descriptors so
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	nonblock := func(f *os.File) bool {
		rc, err := f.SyscallConn() // not Fd, which sets the mode
		if err != nil {
			t.Fatal(err)
		}
		var flags int
		rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		if err != nil {
			t.Fatal(err)
		}
		return flags&unix.O_NONBLOCK != 0
	}
	inW.WriteString(benchInit + "\n")
	if line, err := bufio.NewReader(outR).ReadString('\n'); err != nil || !strings.Contains(line, `"result"`) {
		t.Fatalf("initialize: %q, %v", line, err)
	}
	if !nonblock(inR) || !nonblock(outW) {
		t.Fatalf("while the bridge runs: stdin non-blocking %v, stdout %v; want both", nonblock(inR), nonblock(outW))
	}
	inW.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the bridge: %v", err)
	}
	if nonblock(inR) || nonblock(outW) {
		t.Errorf("after the bridge ended: stdin non-blocking %v, stdout %v; want both blocking again", nonblock(inR), nonblock(outW))
	}
}
