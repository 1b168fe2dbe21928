package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcp-bridge/mcp-bridge/internal/demosession"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// runDemo plays a host session through this binary against the
// in-process demo server, protected by an in-process authorization server,
// printing each step; or, with --serve, keeps both up for a real host (see
// internal/demosession). `demo approve URL` is the browser of the bridges it
// starts.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "approve" {
		return demoApprove(ctx, args[1], stderr)
	}
	serve, opts := new(bool), &demosession.Options{Out: stdout}
	if _, code, ok := parseFlags("demo", demoFlags(serve, opts), args, stderr); !ok {
		return code
	}
	exe, err := os.Executable()
	if err == nil {
		opts.Bridge = exe
		if *serve {
			// Watched before the entry is printed, so that a Ctrl-C from
			// then on stops the demo cleanly: main starts watching beside
			// start-up, which can be later.
			sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = demosession.Serve(sctx, opts)
		} else {
			err = demosession.Play(ctx, opts)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge demo: %v\n", err)
		return exitError
	}
	return exitOK
}

// demoApprove is the browser of the demo's bridges: it opens the sign-in
// page, presses Approve, and follows the redirect to the bridge's loopback
// listener. Like the bridge, it only goes to loopback addresses.
func demoApprove(ctx context.Context, authURL string, stderr io.Writer) int {
	b := &oauthtest.Browser{LoopbackOnly: true}
	if err := b.Visit(ctx, authURL); err != nil {
		fmt.Fprintf(stderr, "mcp-bridge demo approve: %v\n", err)
		return exitError
	}
	return exitOK
}

// demoFlags are demo's flags.
func demoFlags(serve *bool, o *demosession.Options) *flag.FlagSet {
	fs := flag.NewFlagSet("mcp-bridge demo", flag.ContinueOnError)
	fs.BoolVar(serve, "serve", false, "keep the demo servers running and print the host config entry that uses them")
	fs.BoolVar(&o.AutoApprove, "auto-approve", false, "approve the sign-in without a browser, even where one could open")
	fs.StringVar(&o.AuditLog, "audit-log", "", "the demo's bridges append their audit log to `PATH` (see the bridge's --audit-log)")
	return fs
}
