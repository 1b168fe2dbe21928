package demoserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A Server is a demo server listening on a loopback port. It serves one
// [mcp.Server] (see [NewServer]) over Streamable HTTP at /mcp and over
// HTTP+SSE at /sse, so [Server.NotifyAll] reaches the sessions of both.
//
// Its methods are safe for concurrent use.
type Server struct {
	mcp    *mcp.Server
	mcpH   http.Handler // the Streamable HTTP endpoint
	demo   *demo
	http   *http.Server
	url    string
	logger *slog.Logger
	cancel context.CancelFunc
	served chan struct{} // closed when http.Serve has returned

	mu       sync.Mutex     // guards closing
	closing  bool           // set by Close; no handler starts after it
	handlers sync.WaitGroup // running HTTP handlers

	closeOnce sync.Once
	closeErr  error
}

// Start starts a demo server on 127.0.0.1 at a free port. It never listens on
// other interfaces. ctx is used only while starting: cancelling it later does
// not stop the server; call [Server.Close]. A nil opts means the zero
// [Options].
func Start(ctx context.Context, opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	// base is the parent of every request and handler context; Close cancels it.
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{
		demo:   &demo{ctx: base},
		url:    "http://" + ln.Addr().String(),
		logger: logger(opts),
		cancel: cancel,
		served: make(chan struct{}),
	}
	s.mcp = newServer(opts, s.demo)

	mux := http.NewServeMux()
	s.mcpH = newStreamableHandler(s.mcp, opts)
	mux.Handle("/mcp", s.mcpH)
	// The SSE handler announces "/sse?sessionid=..." as the POST endpoint,
	// so this one pattern serves both the GET stream and the POSTs.
	mux.Handle("/sse", newSSEHandler(s.mcp))
	s.http = &http.Server{
		Handler:           s.track(observe(opts, mux)),
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("demo server stopped", "err", err)
		}
	}()
	return s, nil
}

// URL returns the server's base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// MCPURL returns the URL of the Streamable HTTP endpoint.
func (s *Server) MCPURL() string { return s.url + "/mcp" }

// SSEURL returns the URL of the HTTP+SSE (MCP 2024-11-05) endpoint.
func (s *Server) SSEURL() string { return s.url + "/sse" }

// Handler returns the server's Streamable HTTP endpoint, the one at
// [Server.MCPURL], to serve elsewhere too: behind an authorization layer,
// say. Sessions made through it are the server's own, so [Server.NotifyAll]
// reaches them. Requests that arrive after Close are refused.
func (s *Server) Handler() http.Handler { return s.track(s.mcpH) }

// MCPServer returns the underlying [mcp.Server], for example to list its
// sessions, close them (their next request then gets 404), or add middleware
// that observes requests.
func (s *Server) MCPServer() *mcp.Server { return s.mcp }

// NotifyAll sends server-initiated notifications to every connected session,
// outside any request. It stores text as the content of [NoticeURI] and
// re-registers that resource, so that:
//
//   - every session receives notifications/resources/list_changed. The SDK
//     debounces these: it sends one 10ms after the last change, from a
//     goroutine, so NotifyAll returns before it is sent.
//   - sessions that subscribed to [NoticeURI] also receive
//     notifications/resources/updated, sent before NotifyAll returns.
//
// Logging notifications are not used because the SDK drops them for
// sessions that have not sent logging/setLevel; see the `notify` tool for
// those. On Streamable HTTP, both notifications travel on the session's
// standalone GET stream, and are lost if that stream is not open yet
// (unless [Options.EventStore] is set).
func (s *Server) NotifyAll(ctx context.Context, text string) error {
	setNotice(s.mcp, text)
	if err := s.mcp.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: NoticeURI}); err != nil {
		return fmt.Errorf("notify %s subscribers: %w", NoticeURI, err)
	}
	return nil
}

// Close stops the server: it cancels running tool calls and pending `notify`
// notifications, closes every session, the listener and all connections, and
// waits for its handlers and goroutines to finish; Options.Observe is not
// called after Close returns. Clients see their streams end. Close is
// idempotent; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.closeSessions()
		// Not http.Server.Shutdown: it waits up to 5s for connections that
		// were accepted but have not sent a request yet (Go issue 22682),
		// which clients keep around. Every handler has been cancelled, so
		// closing the connections loses nothing.
		if err := s.http.Close(); err != nil {
			s.closeErr = fmt.Errorf("close demo server: %w", err)
		}
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.handlers.Wait()
		// A session may have been created while the listener was still open.
		s.closeSessions()
		s.demo.notifiers.Wait()
		<-s.served
	})
	return s.closeErr
}

// track counts the running handlers, so that Close can wait for them, and
// turns requests away once Close has started.
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return
		}
		s.handlers.Add(1)
		s.mu.Unlock()
		defer s.handlers.Done()
		h.ServeHTTP(w, r)
	})
}

// closeSessions closes every session of the server. Each Close waits for
// the session's running handlers, which s.cancel has cancelled.
func (s *Server) closeSessions() {
	for ss := range s.mcp.Sessions() {
		if err := ss.Close(); err != nil {
			s.logger.Debug("close session", "session", ss.ID(), "err", err)
		}
	}
}
