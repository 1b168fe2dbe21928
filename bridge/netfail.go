package bridge

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// A netError is a failure to exchange with the server below HTTP: the
// connection could not be made, or broke. Its message says first, in
// plain words, what happened, for the JSON-RPC error the host shows.
type netError struct {
	what string
	err  error
}

func (e *netError) Error() string { return e.what + ": " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// describe wraps an error from the HTTP client in a [netError] that names
// its cause, if it is one of the usual network failures; it returns other
// errors (TLS, a cancelled request, a failed sign-in) as they are.
func describe(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var dnsErr *net.DNSError
	var ne net.Error
	what := ""
	switch {
	case errors.As(err, &dnsErr):
		what = "cannot resolve the server's host name"
	case errors.Is(err, syscall.ECONNREFUSED):
		what = "the server refused the connection (is it running?)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		what = "the connection to the server was reset"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETDOWN):
		what = "the server's network is unreachable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), serverClosedIdle(err):
		what = "the server closed the connection before it answered"
	case errors.As(err, &ne) && ne.Timeout():
		what = "the connection to the server timed out"
	default:
		return err
	}
	return &netError{what, err}
}

// serverClosedIdle reports whether err is net/http's unexported
// errServerClosedIdle: the server closed a pooled connection just as a
// request went out on it (see [staleConnection]).
func serverClosedIdle(err error) bool {
	return strings.Contains(err.Error(), "server closed idle connection")
}

// staleConnection reports whether err, returned by the HTTP client instead
// of a response, is how a connection breaks that the server, a proxy or a
// NAT dropped while it sat in the pool (a laptop slept, a load balancer
// timed it out): reset, closed, or a broken pipe, before any byte of a
// response. Failures to connect, resolve or shake hands are not: the
// server is down or refuses, and sending again would fail again.
//
// net/http itself sends a request again on a new connection when nothing
// of it was written to the broken one (its nothingWrittenError, for any
// method, since the relay's bodies can be rewound), and for idempotent
// methods when the first response byte never came. It does not for a POST
// that was written: the server may have received it. The relay adds one
// more attempt only for messages that are safe to receive twice (see
// [safeToRepeat]); a tools/call is not, and its failure goes to the host.
func staleConnection(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		serverClosedIdle(err) || strings.Contains(err.Error(), "transport connection broken")
}

// safeToRepeat reports whether the server may receive m twice without
// harm: requests that only read or that set a state idempotently, by the
// specification's meaning of their method. Tool calls, sampling answers
// and unknown methods are not. A second initialize may leave a session
// the server times out; the relay's own initialize is the message most
// likely to meet a stale connection, after a long idle.
func safeToRepeat(m *Message) bool {
	if m.Batch != nil {
		for _, b := range m.Batch {
			if !safeToRepeat(b) {
				return false
			}
		}
		return true
	}
	if !m.IsRequest() {
		return m.Method == "notifications/cancelled" || m.Method == "notifications/roots/list_changed"
	}
	switch m.Method {
	case "initialize", "ping",
		"tools/list", "prompts/list", "prompts/get",
		"resources/list", "resources/templates/list", "resources/read",
		"resources/subscribe", "resources/unsubscribe",
		"completion/complete", "logging/setLevel",
		"tasks/get", "tasks/list", "tasks/result":
		return true
	}
	return false
}
