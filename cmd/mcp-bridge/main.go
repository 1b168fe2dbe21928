// Command mcp-bridge lets a desktop MCP host that launches stdio servers use
// a remote MCP server over Streamable HTTP (or the legacy HTTP+SSE
// transport). Run `mcp-bridge help` for usage.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the Go heap, stacks and runtime the bridge lets grow
// before its collector works harder (runtime/debug.SetMemoryLimit), unless
// GOMEMLIMIT says otherwise: a few megabytes idle, and a large result held
// about twice (the pieces it arrives in, then the message) stay under it,
// where the default pacing alone doubles the peak. Over it, the runtime
// caps the collector at half the CPU, so a larger message costs time, not
// failure.
const memoryLimit = 24 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	// One thread runs Go code, unless GOMAXPROCS says otherwise: a relay
	// mostly waits, and a message handed between goroutines on one thread
	// takes no wake-up of another. BenchmarkLatency's minimal server, added
	// p50: 17-37 µs with one, 85-101 µs with two (this 2-core machine);
	// throughput and large results unchanged.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := context.WithCancelCause(context.Background())
	go watchSignals(stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

// watchSignals ends the bridge's context with the first SIGINT or SIGTERM.
// It runs beside start-up, not before it: each signal's registration waits
// for the runtime's signal thread, up to a millisecond of a start that
// takes five (BenchmarkColdStart). With SIGPIPE delivered to a channel, a
// write to a closed stdout fails with EPIPE instead of killing the
// process, so the bridge can still end the session upstream.
func watchSignals(stop context.CancelCauseFunc) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	stop(fmt.Errorf("%v signal received", <-c))
}
