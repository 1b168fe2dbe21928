package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lmittmann/tint"

	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
)

// runLogin signs in to a server from a terminal: in the browser, with a
// device code, or by pasting the redirected URL. It prints who is signed
// in and until when, never a token.
func runLogin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o bridgeOptions
	fs := bridgeFlags(&o)
	fs.Init("mcp-bridge login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: mcp-bridge login [flags] URL (see mcp-bridge help)") }
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "mcp-bridge login: want exactly one server URL")
		return exitUsage
	}
	log, closeLog, err := newLogger(stderr, o.logLevel, o.logFile)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge login: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	client, err := httpclient.New(httpclient.Options{CAFile: o.caFile})
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge login: %v\n", err)
		return exitUsage
	}
	h, err := o.auth.handler(pos[0], client, log, stderr, stderr, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge login: %v\n", err)
		return exitUsage
	}
	if err := h.Login(ctx); err != nil {
		log.Error("sign-in failed", tint.Err(err))
		return exitError
	}
	c := h.Credentials(ctx)
	fmt.Fprintf(stdout, "Signed in to %s\n", pos[0])
	fmt.Fprintf(stdout, "  authorization server  %s\n", c.Issuer)
	fmt.Fprintf(stdout, "  client                %s (%s)\n", c.Client.ID, c.Client.Kind)
	if len(c.Scopes) > 0 {
		fmt.Fprintf(stdout, "  scopes                %s\n", strings.Join(c.Scopes, " "))
	}
	if !c.Expiry.IsZero() {
		fmt.Fprintf(stdout, "  access token expires  %s (in %s)\n", c.Expiry.Local().Format(time.DateTime), time.Until(c.Expiry).Round(time.Second))
	}
	fmt.Fprintf(stdout, "  refresh token         %s\n", map[bool]string{true: "yes", false: "no"}[c.RefreshToken != ""])
	return exitOK
}
