// Package demoserver is the in-process MCP server shared by the tests and
// `mcp-bridge demo`.
//
// It is a real server built with the Go SDK (github.com/modelcontextprotocol/go-sdk),
// not a fake: [NewServer] builds the [mcp.Server], [Handler] and
// [LegacySSEHandler] serve it over Streamable HTTP (MCP 2025-03-26 and later)
// and HTTP+SSE (MCP 2024-11-05), and [Start] runs both on a loopback port.
// Its tools exercise every message flow a relay must carry: progress,
// server-to-client requests (elicitation, sampling, roots, ping),
// notifications sent while no request is in flight, cancellation, tool errors
// and large results.
//
// See https://modelcontextprotocol.io/specification/2025-11-25/basic/transports.
package demoserver

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// Name is the server name reported in the initialize result.
	Name = "mcp-bridge-demo"
	// Version is the server version reported in the initialize result.
	Version = "1.0.0"
)

// eventStoreMaxBytes bounds the memory event store. The SDK default (10 MiB)
// would drop a 10 MB `big` result as soon as it is stored, making it
// impossible to resume a stream that carries one.
const eventStoreMaxBytes = 64 << 20

// Options configures the demo server. The zero value is ready to use, and a
// nil *Options means the zero value.
type Options struct {
	// Logger receives the SDK's and the demo server's logs.
	// If nil, logs are discarded.
	Logger *slog.Logger

	// JSONResponse makes the Streamable HTTP endpoint answer POSTs with a
	// single application/json body instead of a text/event-stream. Messages
	// the server sends while handling such a request (progress, elicitation,
	// sampling, ...) then travel on the standalone GET stream instead.
	JSONResponse bool

	// Stateless makes the Streamable HTTP endpoint stateless: no
	// Mcp-Session-Id, GET and DELETE answer 405, and the server cannot send
	// requests to the client, so `ping_host` fails. The SDK client then speaks
	// protocol 2026-07-28, where `confirm`, `sample` and `roots` still work
	// through multi round-trip results (SEP-2322).
	Stateless bool

	// EventStore attaches an in-memory [mcp.EventStore] (bounded to 64 MiB)
	// to the Streamable HTTP endpoint. SSE events then carry IDs, and a client
	// can resume a broken stream with a GET carrying Last-Event-ID. It also
	// keeps messages sent on the standalone stream before the client's GET
	// arrives; without it they are dropped.
	EventStore bool

	// SessionTimeout, if positive, closes Streamable HTTP sessions that
	// receive no HTTP request for this long. Later requests for the session
	// get 404, which is how a client learns that it must initialize again.
	SessionTimeout time.Duration

	// Observe, if non-nil, is called with every incoming HTTP request before
	// it is handled, so that tests can check methods, paths and headers such
	// as Mcp-Session-Id and MCP-Protocol-Version. It receives a clone of the
	// request whose Body is empty. It is called from many goroutines at once,
	// so it must be safe for concurrent use.
	Observe func(*http.Request)

	// ProtocolVersions, if not empty, are the only protocol revisions the
	// server accepts (the SDK's ServerOptions.SupportedProtocolVersions):
	// {"2026-07-28"} makes a modern-only server, {"2025-11-25"} one that
	// predates the modern era.
	ProtocolVersions []string
}

// NewServer returns the demo [mcp.Server], named [Name] at [Version]. A nil
// opts means the zero [Options]; only Options.Logger is used.
//
// Tools (arguments in parentheses; all results are text content):
//
//   - echo (text): returns text.
//   - add (a, b numbers): returns the sum, also as structured {"sum": a+b}.
//   - count (n, delay_ms): waits delay_ms before each of n steps and, if the
//     call has a progress token, sends a progress notification per step
//     (progress i, total n); returns "counted to n".
//   - big (bytes): returns [BigText](bytes), exactly that many bytes.
//   - confirm (message): asks the user message (default "Proceed?") through
//     elicitation with a form holding one boolean "confirmed"; returns
//     "action=<accept|decline|cancel> confirmed=<bool>", also structured.
//   - sample (prompt, max_tokens): sends prompt to the host's model through
//     sampling/createMessage; returns the reply's text.
//   - roots: lists the client's roots; returns their URIs, one per line,
//     also structured {"uris": [...]}.
//   - notify (text, delay_ms): returns "will notify" at once; delay_ms later,
//     with no request in flight, sends the calling session a
//     notifications/message with level "notice" and data text. The SDK
//     drops it unless the client has sent logging/setLevel.
//   - ping_host: sends ping to the client; returns "pong received".
//   - slow (delay_ms): sends progress 0 "started" if the call has a progress
//     token, then sleeps; returns "done", or the tool error
//     "cancelled: context canceled" after notifications/cancelled.
//   - fail (message): returns a tool error (isError: true) with message,
//     default "failure requested".
//
// confirm, sample and roots reach the client as elicitation/create,
// sampling/createMessage and roots/list requests on sessions before protocol
// 2026-07-28 (see the comment in tools.go).
//
// Resources: [ReadmeURI], [NoticeURI] and the template [EchoURITemplate],
// all text/plain; clients may subscribe to any demo:// URI. Prompt: greet,
// with the required argument name.
func NewServer(opts *Options) *mcp.Server {
	return newServer(opts, &demo{ctx: context.Background()})
}

// Handler returns a Streamable HTTP handler serving a new demo server
// ([NewServer]). Sessions are stateful unless opts.Stateless is set.
func Handler(opts *Options) http.Handler {
	return observe(opts, newStreamableHandler(NewServer(opts), opts))
}

// LegacySSEHandler returns an HTTP+SSE (MCP 2024-11-05) handler serving a new
// demo server ([NewServer]). A GET opens a session: the first SSE event,
// "endpoint", names the URL for the client's POSTs, which is the handler's
// own path with a ?sessionid= query. So the same handler must serve both the
// GET and the POSTs; mount it on a single path.
func LegacySSEHandler(opts *Options) http.Handler {
	return observe(opts, newSSEHandler(NewServer(opts)))
}

// demo holds what the tool handlers share beyond the mcp.Server.
type demo struct {
	logger *slog.Logger
	// ctx is cancelled when the owning [Server] closes; handlers and the
	// goroutines started by `notify` stop then.
	ctx context.Context
	// notifiers tracks the goroutines started by `notify`.
	notifiers sync.WaitGroup
}

func newServer(opts *Options, d *demo) *mcp.Server {
	if opts == nil {
		opts = &Options{}
	}
	d.logger = logger(opts)
	s := mcp.NewServer(&mcp.Implementation{Name: Name, Version: Version}, &mcp.ServerOptions{
		Logger: d.logger,
		// The SDK records subscriptions itself; the handlers only decide
		// whether to accept them.
		SubscribeHandler: func(_ context.Context, req *mcp.SubscribeRequest) error {
			if !isDemoURI(req.Params.URI) {
				return mcp.ResourceNotFoundError(req.Params.URI)
			}
			return nil
		},
		UnsubscribeHandler:        func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
		SupportedProtocolVersions: opts.ProtocolVersions,
	})
	d.addTools(s)
	addResources(s)
	addPrompts(s)
	s.AddReceivingMiddleware(d.stopOnClose)
	return s
}

// stopOnClose cancels every handler's context when d.ctx is cancelled, so
// that Server.Close does not wait for a `slow` call or for a client that
// never answers an elicitation.
func (d *demo) stopOnClose(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(d.ctx, cancel)
		defer stop()
		return next(ctx, method, req)
	}
}

func newStreamableHandler(s *mcp.Server, opts *Options) http.Handler {
	if opts == nil {
		opts = &Options{}
	}
	hopts := &mcp.StreamableHTTPOptions{
		Stateless:      opts.Stateless,
		JSONResponse:   opts.JSONResponse,
		SessionTimeout: opts.SessionTimeout,
		Logger:         logger(opts),
	}
	if opts.EventStore {
		store := mcp.NewMemoryEventStore(nil)
		store.SetMaxBytes(eventStoreMaxBytes)
		hopts.EventStore = store
	}
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, hopts)
}

func newSSEHandler(s *mcp.Server) http.Handler {
	return mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

// observe calls opts.Observe, if set, before h handles each request.
func observe(opts *Options, h http.Handler) http.Handler {
	if opts == nil || opts.Observe == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clone := r.Clone(r.Context())
		clone.Body = http.NoBody
		opts.Observe(clone)
		h.ServeHTTP(w, r)
	})
}

func logger(opts *Options) *slog.Logger {
	if opts == nil || opts.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return opts.Logger
}
