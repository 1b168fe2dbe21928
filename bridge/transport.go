package bridge

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/rawio"
)

// TCP keep-alive for connections to the server: a probe after 15 s without
// traffic, then every 5 s, and the connection is dropped after 3 go
// unanswered. A dead peer is found about 30 s after it last spoke.
var keepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// maxIdleConn bounds how long a connection waits in the pool.
const maxIdleConn = 90 * time.Second

// TuneTransport sets t up for a relay that runs for days over networks that
// come and go (laptops sleep, Wi-Fi drops, servers restart):
//
//   - TCP keep-alive probes after 15 s idle, every 5 s, 3 unanswered ones
//     dropping the connection (Go's default: 15 s, 15 s, 9). A POST waiting
//     for a long tool call has had its bytes acknowledged, so its
//     connection is idle as TCP sees it, and a server host that vanished
//     without a reset (power loss, a network that went away) fails the
//     request in about 30 s rather than when the host gives up. The probes
//     also keep NAT and load balancer entries of open streams alive.
//   - HTTP/2 health checks: a PING after 15 s without a frame, and the
//     connection closed if it gets no answer within 10 s. By default an
//     HTTP/2 connection has none, and a dead one stalls every stream on it.
//   - Pooled connections idle for at most 90 s. net/http measures the idle
//     time with the wall clock when it takes a connection from the pool, so
//     after a sleep longer than that the pool's connections, which the
//     network has likely forgotten, are dropped rather than tried.
//   - No ResponseHeaderTimeout, no overall timeout: a server may hold back
//     the headers of a JSON response until a tool call ends, hours later.
//     The host bounds its requests (notifications/cancelled ends the
//     exchange); the relay bounds its own.
//
// [New] applies TuneTransport to a copy of [Config.HTTPClient]'s transport
// when that is an *http.Transport. A caller that wraps its transport in
// another RoundTripper should call it where it builds the *http.Transport.
// TuneTransport keeps t's DialContext, wrapping it, and t's HTTP/2 setting.
func TuneTransport(t *http.Transport) {
	// A custom dialer turns off HTTP/2 unless it is forced: keep it on
	// where it was on.
	if t.TLSClientConfig == nil && t.DialContext == nil && t.DialTLSContext == nil {
		t.ForceAttemptHTTP2 = true
	}
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetKeepAliveConfig(keepAliveConfig) // best effort: not every OS takes every field
			return rawio.Conn(tc), nil
		}
		return c, err
	}
	if t.IdleConnTimeout <= 0 || t.IdleConnTimeout > maxIdleConn {
		t.IdleConnTimeout = maxIdleConn
	}
	var h2 http.HTTP2Config
	if t.HTTP2 != nil {
		h2 = *t.HTTP2
	}
	if h2.SendPingTimeout <= 0 {
		h2.SendPingTimeout = 15 * time.Second
	}
	if h2.PingTimeout <= 0 {
		h2.PingTimeout = 10 * time.Second
	}
	t.HTTP2 = &h2
}

// tuneClient returns c (nil means [http.DefaultClient]), or a copy of it
// whose transport is a tuned clone (see [TuneTransport]) if its transport
// is an *http.Transport that is not tuned yet.
func tuneClient(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok || t.HTTP2 != nil && t.HTTP2.SendPingTimeout > 0 {
		return c
	}
	t = t.Clone()
	TuneTransport(t)
	cc := *c
	cc.Transport = t
	return &cc
}
