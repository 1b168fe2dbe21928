// Command mcp-bridge lets a desktop MCP host that launches stdio servers use
// a remote MCP server over Streamable HTTP (or the legacy HTTP+SSE
// transport). Run `mcp-bridge help` for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// With SIGPIPE delivered to a channel, a write to a closed stdout fails
	// with EPIPE instead of killing the process, so the bridge can still end
	// the session upstream.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	code := run(ctx, os.Args[1:], pollableStdin(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
