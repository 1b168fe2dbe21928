package main

import (
	"os/exec"
	"testing"
)

// BenchmarkLatencyDPoP reports what DPoP (RFC 9449) adds to a call's round
// trip (target: 150 µs or less at the p50): two bridges signed in to the
// same protected server, one with Bearer tokens and one with --dpop on,
// called in turns. The DPoP bridge signs a proof for every request and the
// server verifies it, so the figure holds both ends' signature work.
func BenchmarkLatencyDPoP(b *testing.B) {
	url := startServer(b, "protected-dpop")
	interleaved(b,
		contender{"bearer", signedInBridge(b, url, "--dpop", "off"), echoCall},
		contender{"dpop", signedInBridge(b, url, "--dpop", "on"), echoCall})
}

// signedInBridge signs in to url with args, in a home of its own with its
// credentials in files (two of them must not share a keychain), and
// starts a bridge on those credentials.
func signedInBridge(b *testing.B, url string, args ...string) *seqStdio {
	args = append(args, "--token-store", "file")
	env := signIn(b, url, args...)
	// A browser command that fails: the bridge must need no sign-in.
	cmd := exec.Command(bridgeBinary(b), append([]string{url, "--log-level", "warn", "--browser-command", "false"}, args...)...)
	cmd.Env = env
	in, out := startInitialized(b, cmd)
	return &seqStdio{cmd, in, out}
}
