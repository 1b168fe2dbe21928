package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakCalls is how many calls BenchmarkSoak makes through one bridge.
const soakCalls = 100_000

// soakInflight is how many calls BenchmarkSoak keeps in flight, as a host
// running a few tool calls at once does.
const soakInflight = 8

// BenchmarkSoak makes 100 000 tool calls through one bridge process (the
// real binary) against the demo server in a process of its own, 8 in flight, and reports the bridge's resident
// memory (VmRSS) after the handshake, after 10% of the calls and at the
// end, with the calls per second. "demo" is the plain demo server;
// "protected" is the demo server behind the test authorization server, so
// that every call also takes the bearer token through the OAuth handler.
// One call in 100 is `count` (10 progress notifications before the
// result), one in 100 a call of an unknown tool (a JSON-RPC error), the
// rest `echo`.
//
// The calls are made once whatever b.N is, so run it with:
//
//	go test -run '^$' -bench '^BenchmarkSoak$' -benchtime 1x -timeout 20m ./cmd/mcp-bridge/
//
// It fails if the end RSS exceeds the start's by more than 8 MiB, or the
// RSS after 10% by more than 4 MiB. The start is a bridge that has only
// shaken hands: the first calls grow it by what stays allocated under load
// (buffers, worker goroutines, the HTTP connection pool) and by the
// garbage the Go collector lets accumulate before it runs (GOGC=100: up to
// the live heap again), a few MiB; 8 MiB bounds that warm-up with room,
// and is what the bridge's idle target (BenchmarkIdleRSS, 12 MiB) allows
// to come on top. After 10% of the calls the bridge is warm: the 90 000
// calls after it may add at most 4 MiB, 46 bytes a call, less than any
// per-call leak costs (a goroutine's stack is 8 KiB, a pending-request
// entry with its context and cancel function a few hundred bytes).
func BenchmarkSoak(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	for _, server := range []string{"demo", "protected"} {
		b.Run(server, func(b *testing.B) {
			url := startServer(b, server)
			for b.Loop() {
				soak(b, url, server == "protected")
			}
		})
	}
}

// soak runs the calls through one new bridge and reports its RSS.
func soak(b *testing.B, url string, signIn bool) {
	var env, args []string
	bin := bridgeBinary(b)
	if signIn {
		env = homeEnv(b.TempDir())
		login := exec.Command(bin, "login", url, "--browser-command", `"`+bin+`" demo approve`, "--token-store", "file")
		login.Env = append(os.Environ(), env...)
		if out, err := login.CombinedOutput(); err != nil {
			b.Fatalf("login: %v\n%s", err, out)
		}
		// A browser command that fails: the calls must need no sign-in.
		args = []string{"--browser-command", "false", "--token-store", "file"}
	}
	br := startSoakBridge(b, url, env, args...)
	start := br.rss(b)

	var next, done atomic.Int64
	var at10 float64
	var at10Err error
	var once sync.Once
	errs := make(chan error, soakInflight)
	began := time.Now()
	var wg sync.WaitGroup
	for range soakInflight {
		wg.Go(func() {
			for {
				id := int(next.Add(1))
				if id > soakCalls {
					return
				}
				tool, args := "echo", `{"text":"soak `+strconv.Itoa(id)+`"}`
				switch id % 100 {
				case 1:
					tool, args = "count", `{"n":10}`
				case 2:
					tool, args = "no-such-tool", `{}`
				}
				line, _, err := br.call(id, callBody(id, tool, args))
				if err != nil {
					errs <- fmt.Errorf("call %d (%s): %w", id, tool, err)
					return
				}
				if tool != "no-such-tool" && !strings.Contains(string(line), `"result"`) {
					errs <- fmt.Errorf("call %d (%s): %s", id, tool, clip(line))
					return
				}
				if done.Add(1) == soakCalls/10 {
					once.Do(func() { at10, at10Err = procStatus(br.cmd.Process.Pid, "VmRSS:") })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	if at10Err != nil {
		b.Fatal(at10Err)
	}
	end := br.rss(b)
	b.ReportMetric(start, "MiB-RSS-start")
	b.ReportMetric(at10, "MiB-RSS-10%")
	b.ReportMetric(end, "MiB-RSS-end")
	b.ReportMetric(br.status(b, "VmHWM:"), "MiB-RSS-peak")
	b.ReportMetric(float64(soakCalls)/elapsed.Seconds(), "calls/s")
	b.Logf("%d calls in %v: RSS %.1f MiB after the handshake, %.1f MiB after %d calls, %.1f MiB at the end",
		soakCalls, elapsed.Round(time.Millisecond), start, at10, soakCalls/10, end)
	if end > start+8 {
		b.Errorf("RSS grew from %.1f MiB to %.1f MiB over %d calls: more than 8 MiB", start, end, soakCalls)
	}
	if end > at10+4 {
		b.Errorf("RSS grew from %.1f MiB after %d calls to %.1f MiB after %d: more than 4 MiB once warm", at10, soakCalls/10, end, soakCalls)
	}
}

// A soakBridge is a bridge process driven with many calls in flight.
type soakBridge struct {
	*muxStdio
	cmd *exec.Cmd
}

// startSoakBridge starts the real binary on url with args, runs the
// handshake, and reads its stdout, handing each response to its caller.
func startSoakBridge(b *testing.B, url string, env []string, args ...string) *soakBridge {
	cmd := exec.Command(bridgeBinary(b), append([]string{url, "--log-level", "warn"}, args...)...)
	cmd.Env = append(append(os.Environ(), "XDG_CACHE_HOME="+b.TempDir()), env...)
	in, stdout := startPiped(b, cmd)
	out := bufio.NewReaderSize(stdout, 64<<10)
	io.WriteString(in, benchInit+"\n")
	if line, err := readLine(out); err != nil || !strings.Contains(string(line), `"result"`) {
		b.Fatalf("initialize: %s %v", line, err)
	}
	io.WriteString(in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	return &soakBridge{muxStdio: newMux(in, out), cmd: cmd}
}

// rss returns the bridge's resident memory in MiB.
func (s *soakBridge) rss(b *testing.B) float64 { return s.status(b, "VmRSS:") }

// status returns a memory field of the bridge's /proc/PID/status, in MiB.
func (s *soakBridge) status(b *testing.B, field string) float64 {
	v, err := procStatus(s.cmd.Process.Pid, field)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// procStatus returns a memory field of /proc/PID/status, in MiB.
func procStatus(pid int, field string) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
