// Package bridge relays MCP JSON-RPC messages between a host that speaks the
// stdio transport and a remote server that speaks Streamable HTTP (MCP
// revisions 2025-03-26, 2025-06-18 and 2025-11-25) or, as a fallback, the
// HTTP+SSE transport of revision 2024-11-05. See the specification's
// basic/transports section.
//
// The relay works at the transport level: it forwards each message's bytes
// and reads only its envelope (id, method), so that unknown methods, unknown
// fields and later protocol additions pass through unchanged. It keeps the
// book of the host's pending requests so that each one gets an answer, even
// when the server fails or the bridge shuts down.
//
// Authorization is not this package's concern: it calls the
// [auth.OAuthHandler] it is given, as the SDK's transports do.
package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
)

// Transport names, for [Config.Transport].
const (
	// TransportAuto tries Streamable HTTP and falls back to HTTP+SSE when
	// the server answers the initialize POST with 400, 404 or 405.
	TransportAuto = "auto"
	// TransportStreamable is the Streamable HTTP transport.
	TransportStreamable = "streamable"
	// TransportSSE is the HTTP+SSE transport of revision 2024-11-05.
	TransportSSE = "sse"
)

// DefaultMaxMessageSize is the default for [Config.MaxMessageSize].
const DefaultMaxMessageSize = 64 << 20

// JSON-RPC error codes the relay answers with.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	// CodeBridgeError is the code of errors the bridge itself reports to the
	// host: the server is unreachable, answered with an HTTP error, or the
	// bridge is shutting down. It is in the range JSON-RPC reserves for
	// implementation-defined server errors.
	CodeBridgeError = -32000
)

// Config configures a [Relay].
type Config struct {
	// URL is the server's MCP endpoint. It must be https, or http on a
	// loopback address, unless AllowHTTP is set.
	URL string

	// Transport is one of [TransportAuto] (the default if empty),
	// [TransportStreamable] and [TransportSSE].
	Transport string

	// HTTPClient sends the requests. If nil, [http.DefaultClient] is used.
	// The relay uses a copy whose redirect policy never carries the
	// Authorization header to another origin. Static headers (an API key)
	// belong in its transport, which must confine them to the server's
	// origin as mcp-bridge's does.
	HTTPClient *http.Client

	// OAuthHandler, if not nil, authorizes requests (see [auth.OAuthHandler]).
	OAuthHandler auth.OAuthHandler

	// TransportCache, if not nil, remembers which transport the server
	// answered on when Transport is auto, so that the next start does not
	// probe again.
	TransportCache TransportCache

	// AllowHTTP permits plain http to hosts that are not loopback.
	AllowHTTP bool

	// MaxMessageSize bounds one message in either direction, in bytes.
	// Zero means [DefaultMaxMessageSize].
	MaxMessageSize int

	// DrainTimeout bounds how long, after the host closes stdin, the relay
	// waits for pending requests before it cancels them. Zero means 5s.
	DrainTimeout time.Duration

	// UserAgent is sent as the User-Agent header, if not empty.
	UserAgent string

	// KeepAlive, if positive, is how often the relay pings the server
	// (a JSON-RPC ping the host does not see) when no message from the host
	// went upstream in that time. It keeps sessions alive on servers that
	// end idle ones, and finds a lost session or a dead connection before
	// the host's next request does. Zero means no pings.
	KeepAlive time.Duration

	// EraCache, if not nil, remembers the server's protocol era (see
	// [EraCache]), so that the next start does not probe it again. If nil
	// and TransportCache also implements EraCache, that is used.
	EraCache EraCache

	// InitializeCache, if not nil, remembers the server's InitializeResult,
	// so that a host's initialize that waits on a sign-in is answered from
	// the last session's (see [InitializeCache]). If nil and
	// TransportCache also implements InitializeCache, that is used.
	InitializeCache InitializeCache

	// SignInGrace is how long the host's initialize waits on a sign-in
	// that waits for the user before it is answered from InitializeCache.
	// Zero means 2s.
	SignInGrace time.Duration

	// SignInWait bounds how long a host's request, after initialize was
	// answered from InitializeCache, waits for the server's session that a
	// sign-in holds up; then it is answered with an error that tells how
	// to finish signing in. Zero means 20s, within the patience of hosts
	// that wait 30s.
	SignInWait time.Duration

	// AuthContext names the principal the bridge acts for (for example the
	// key of its stored credentials): what the server tells one principal,
	// its DiscoverResult among it, is not remembered for another.
	AuthContext string

	// Stages see every message on its way, in order from the host to the
	// server and in reverse order back (tool filtering is one).
	Stages []Stage

	// Audit, if not nil, is told of each of the host's tools/call,
	// prompts/get and resources/read requests once it is answered,
	// refused or cancelled. It is called on the relay's way and must not
	// block.
	Audit func(*CallRecord)

	// Logger receives one line per session event at Info, and per message
	// at Debug. If nil, nothing is logged.
	Logger *slog.Logger
}

// A Stage is a step of the relay's message path: it may pass a message
// on, replace it, drop it, or answer the host itself. The transports do
// not know of stages. Stages are called from several goroutines at once.
type Stage interface {
	// ToServer is called with each message from the host. It returns the
	// message to forward (m, a replacement, or nil for none) and a message
	// to answer the host with at once (or nil).
	ToServer(m *Message) (forward, answer *Message)

	// ToHost is called with each message from the server; method is the
	// method of the request a response answers, or "". It returns the
	// message to deliver (m, a replacement, or nil to drop it).
	ToHost(m *Message, method string) *Message
}

// A TransportCache remembers which transport a server answered on.
// Implementations must be safe for concurrent use.
type TransportCache interface {
	// Transport returns the transport remembered for url, or "".
	Transport(url string) string
	// SetTransport remembers transport for url.
	SetTransport(url, transport string)
}

// A Relay moves messages between a host on stdio and one remote server.
// A Relay runs once.
type Relay struct {
	cfg    Config
	log    *slog.Logger
	remote *switchRemote
	host   *hostWriter

	mu      sync.Mutex         // guards pending, idle, closing and ordered
	pending map[string]*call   // host requests awaiting a response, by idKey
	idle    chan struct{}      // closed when pending empties, if not nil
	closing bool               // shutting down: no new requests
	ordered context.CancelFunc // aborts the notification or response being sent

	calls    sync.WaitGroup  // messages on their way to the server
	workers  *workers        // the goroutines that send requests
	baseCtx  context.Context // the parent of each message's context
	hostGone chan struct{}   // closed when a write to the host fails
	goneOnce sync.Once

	era        *eraStage                 // translation between protocol eras; the last stage
	urls       urlAsks                   // sign-in pages the host was asked to show
	signIns    parkedSignIns             // sign-in pages a 2026 host was shown
	initCache  InitializeCache           // may be nil
	initKey    string                    // of this server in initCache
	early      atomic.Pointer[earlyInit] // the host's session, while it runs ahead of the server's
	sess       keeper                    // what it takes to start a new session for the host
	life       context.Context           // the relay's own requests; cancelled at shutdown
	stop       context.CancelFunc        // cancels life
	background sync.WaitGroup            // new sessions being started, the keep-alive loop
	idPrefix   string                    // of the relay's own request ids
	readOn     func()                    // goes on reading the host's lines (readHost)
	nextID     atomic.Uint64
	active     atomic.Bool // a host message went upstream since the last new session
	traffic    atomic.Bool // a host message went upstream since the last keep-alive tick
}

// A call is a request awaiting its response: the host's, or the relay's
// own if reply is set.
type call struct {
	id     []byte // the id exactly as the host sent it
	method string
	req    *Message           // the request
	cancel context.CancelFunc // aborts the request's HTTP exchange
	reply  chan<- *Message    // the relay's own request: where its response goes
	start  time.Time          // when the host sent it, for Config.Audit
	shared bool               // one of a batch, whose requests share cancel
}

// New checks cfg and returns a Relay.
func New(cfg *Config) (*Relay, error) {
	c := *cfg
	u, err := parseServerURL(c.URL, c.AllowHTTP)
	if err != nil {
		return nil, err
	}
	switch c.Transport {
	case "":
		c.Transport = TransportAuto
	case TransportAuto, TransportStreamable, TransportSSE:
	default:
		return nil, fmt.Errorf("transport %q: want auto, streamable or sse", c.Transport)
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 5 * time.Second
	}
	if c.SignInGrace <= 0 {
		c.SignInGrace = defaultSignInGrace
	}
	if c.SignInWait <= 0 {
		c.SignInWait = defaultSignInWait
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	header := http.Header{}
	if c.UserAgent != "" {
		header.Set("User-Agent", c.UserAgent)
	}
	r := &Relay{
		cfg:      c,
		log:      log,
		pending:  map[string]*call{},
		hostGone: make(chan struct{}),
		workers:  newWorkers(),
		idPrefix: fmt.Sprintf("mcp-bridge-%08x-", rand.Uint32()),
	}
	r.life, r.stop = context.WithCancel(context.Background())
	eras := c.EraCache
	if eras == nil {
		eras, _ = c.TransportCache.(EraCache)
	}
	r.era = newEraStage(r, eras, "era "+u.String()+" "+c.AuthContext)
	r.initCache = c.InitializeCache
	if r.initCache == nil {
		r.initCache, _ = c.TransportCache.(InitializeCache)
	}
	r.initKey = "initialize " + u.String() + " " + c.AuthContext
	if c.Transport == TransportSSE {
		r.era.server = eraLegacy // HTTP+SSE predates the modern era
	}
	r.cfg.Stages = append(slices.Clip(c.Stages), r.era)
	r.remote = &switchRemote{
		leg: httpLeg{
			endpoint: u.String(),
			client:   confineRedirects(tuneClient(c.HTTPClient)),
			header:   header,
			oauth:    c.OAuthHandler,
			maxSize:  c.MaxMessageSize,
			log:      log,
			deliver:  r.toHost,
			lost:     r.lost,
			expired:  r.expired,
		},
		mode:  c.Transport,
		cache: c.TransportCache,
		log:   log,
	}
	return r, nil
}

// CheckServerURL says whether the bridge accepts raw as a server URL: an
// absolute https URL, or http to a loopback address, or to any host when
// allowHTTP is set ([Config].AllowHTTP); no credentials, no fragment. It
// is the rule [New] applies, for commands that use a server URL without a
// relay (install, login, doctor) to apply before they do.
func CheckServerURL(raw string, allowHTTP bool) error {
	_, err := parseServerURL(raw, allowHTTP)
	return err
}

// parseServerURL parses raw and checks it with checkServerURL.
func parseServerURL(raw string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	if err := checkServerURL(u, allowHTTP); err != nil {
		return nil, err
	}
	return u, nil
}

// checkServerURL enforces https, except to loopback or when allowHTTP is set.
func checkServerURL(u *url.URL, allowHTTP bool) error {
	switch {
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return fmt.Errorf("server URL %q: want an absolute http or https URL", u.Redacted())
	case u.User != nil:
		return fmt.Errorf("server URL %s: credentials in the URL are not supported; use --header", u.Redacted())
	case u.Fragment != "":
		return fmt.Errorf("server URL %s: a fragment is not allowed", u.Redacted())
	case u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()):
		return fmt.Errorf("server URL %s: plain http is only allowed to loopback addresses; use https, or --allow-http if you accept that tokens and messages travel unencrypted", u.Redacted())
	}
	return nil
}

// isLoopback reports whether host names the local machine: localhost or a
// loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxRedirectURL bounds a redirect target quoted in an error.
const maxRedirectURL = 200

// confineRedirects returns a copy of c (or of http.DefaultClient) whose
// redirects never downgrade https to http and never carry credentials or
// the session id to another origin. (Static headers are the client's
// transport's to confine: see HTTPClient.)
func confineRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cc := *c
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		from := via[0].URL
		if from.Scheme == "https" && req.URL.Scheme != "https" {
			// The target is the server's choice: quoted and bounded, as
			// oauthclient quotes the URLs a server chose (issue 11).
			return fmt.Errorf("refusing a redirect from https to %s", safetext.Quote(req.URL.Redacted(), maxRedirectURL))
		}
		if req.URL.Scheme != from.Scheme || req.URL.Host != from.Host {
			for _, h := range []string{"Authorization", "DPoP", "Cookie", headerSessionID} {
				req.Header.Del(h)
			}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cc
}

// Run relays messages between the host, reading from in and writing to
// out, and the server, until in ends, ctx is done or out fails. When in
// ends, pending requests get DrainTimeout to finish; the rest are cancelled
// and answered with an error. Then the session is ended (bounded by a short
// timeout). Run returns nil on these normal ends.
func (r *Relay) Run(ctx context.Context, in io.Reader, out io.Writer) error {
	r.host = &hostWriter{w: out}
	// Each message's context is cancelled by the relay itself, through the
	// pending book, so it need not be registered with a cancellable parent
	// (that registration was a measurable cost per call).
	r.baseCtx = context.WithoutCancel(ctx)
	// The reader handles each line itself, without a hand-off to another
	// goroutine: that hand-off was a measurable share of a call's latency.
	inputDone := make(chan error, 1)
	lr := newLineReader(in, r.cfg.MaxMessageSize)
	r.readOn = func() { r.readHost(lr, inputDone) }
	go r.readOn()
	if r.cfg.KeepAlive > 0 {
		r.background.Add(1)
		go r.keepAlive(r.cfg.KeepAlive)
	}
	select {
	case <-ctx.Done():
		r.log.Info("stopping", "reason", context.Cause(ctx))
		return r.shutdown(nil)
	case <-r.hostGone:
		r.log.Info("stopping: the host closed stdout")
		return r.shutdown(nil)
	case err := <-inputDone:
		if !errors.Is(err, io.EOF) {
			r.log.Info("stopping: reading stdin failed", "err", err)
			return r.shutdown(nil)
		}
		r.log.Info("stopping: the host closed stdin")
		return r.shutdown(ctx.Done())
	}
}

// readHost reads and handles the host's lines until stdin fails or ends,
// or the relay shuts down; then it sends the reason to done (nil for a
// shutdown). A request it sends itself: it hands the reading on to a
// worker first, so that the request's POST goes out before the next read
// of stdin (which, on the bridge's one P, used to come first and find
// nothing), and the host's next line is read while the server works.
func (r *Relay) readHost(lr *lineReader, done chan<- error) {
	for {
		data, err := lr.next()
		switch {
		case errors.Is(err, errLineTooLong):
			r.log.Warn("message from the host refused", "err", err)
			r.reply(errorResponse(nil, codeInvalidRequest, "mcp-bridge: "+err.Error()))
		case err != nil:
			done <- err
			return
		default:
			send, ok := r.fromHost(data)
			if !ok {
				done <- nil
				return
			}
			if send != nil {
				r.workers.do(r.readOn)
				send()
				return
			}
		}
	}
}

// fromHost handles one line from the host. It reports false once the relay
// is shutting down. A request it does not send itself it returns as send,
// for the caller to run: each request goes on a goroutine of its own.
func (r *Relay) fromHost(data []byte) (send func(), ok bool) {
	m, err := ParseMessage(data)
	if err != nil {
		code := codeInvalidRequest
		if errors.Is(err, ErrSyntax) {
			code = codeParseError
		}
		r.log.Warn("message from the host refused", "err", err)
		r.reply(errorResponse(nil, code, "mcp-bridge: "+err.Error()))
		return nil, true
	}
	r.log.Debug("host → server", "msg", m)
	if m.Batch != nil {
		if ok, version := r.batchAllowed(m); !ok {
			r.refuseBatch(m, version)
			return nil, true
		}
	}
	if m.IsResponse() && r.era.answered(m) {
		return nil, true // the host answered the bridge's own request
	}
	if m.Method == "notifications/cancelled" {
		// Before forwarding: once the server reads it, the cancelled
		// call may still answer on its open stream, and the host must
		// not see that answer. Before the stages too: a modern server
		// gets no notification, only the request's stream closed.
		r.cancelled(m)
	}
	for _, st := range r.cfg.Stages {
		fwd, answer := st.ToServer(m)
		if answer != nil {
			r.refused(m, answer)
			r.reply(answer)
		}
		if fwd == nil {
			return nil, true
		}
		m = fwd
	}
	m = traced(m)
	early := r.early.Load()
	if early != nil && !hasRequests(m) && early.hold(m) {
		// Until the server's session is set up (signin_wait.go).
		if m.Method == "notifications/initialized" {
			r.sess.hostInitialized(m)
		}
		return nil, true
	}
	callCtx, cancel := context.WithCancel(r.baseCtx)
	if !r.track(m, cancel) {
		cancel()
		return nil, false
	}
	switch m.Method {
	case "initialize":
		r.sess.hostInitialize(m)
	case "notifications/initialized":
		r.sess.hostInitialized(m)
	}
	// Loads first: a store per message would contend between the workers.
	if !r.active.Load() {
		r.active.Store(true)
	}
	if !r.traffic.Load() {
		r.traffic.Store(true)
	}
	send = func() {
		defer r.calls.Done()
		defer cancel()
		err := r.deliver(callCtx, early, m, false)
		if err != nil {
			if err = r.signInAtHost(callCtx, m, err); err == nil {
				err = r.deliver(callCtx, early, m, true)
			}
		}
		if err != nil {
			r.failed(m, err)
		}
	}
	switch {
	case m.Method == "initialize" && early == nil:
		if e := r.earlyFor(m); e != nil {
			go r.initializeEarly(callCtx, e, cancel)
			break
		}
		send()
	case m.Method == "initialize", !hasRequests(m):
		// Notifications and responses go in order: the server must see
		// notifications/initialized before the requests that follow it. The
		// session id comes with the initialize response.
		send()
	default:
		return send, true
	}
	return nil, true
}

// deliver sends m, the host's, to the server: once the server's session
// is set up, if the host runs ahead of it (early, see signin_wait.go).
// signedIn says a sign-in m waited for has completed: what was said of it
// is out of date.
func (r *Relay) deliver(ctx context.Context, early *earlyInit, m *Message, signedIn bool) error {
	if early != nil {
		answered, err := r.waitSession(ctx, early, m, signedIn)
		if answered || err != nil {
			return err
		}
	}
	m, err := r.resumeSignIn(ctx, m)
	if err != nil {
		return err
	}
	return r.send(ctx, m)
}

// track records the requests in m as pending, with the function that
// cancels their exchange, and counts m in r.calls. It reports false, after
// answering m's requests, if the relay is shutting down.
func (r *Relay) track(m *Message, cancel context.CancelFunc) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		for _, c := range requests(m) {
			r.reply(errorResponse(c.ID, CodeBridgeError, "mcp-bridge is shutting down"))
		}
		return false
	}
	for _, c := range requests(m) {
		p := &call{id: c.ID, method: c.Method, req: c, cancel: cancel, shared: m.Batch != nil}
		if r.cfg.Audit != nil && audited(c.Method) {
			p.start = time.Now()
		}
		r.pending[idKey(c.ID)] = p
	}
	if !hasRequests(m) {
		r.ordered = cancel
	}
	r.calls.Add(1)
	return true
}

// hasRequests reports whether m is a request or a batch holding one.
func hasRequests(m *Message) bool {
	return m.IsRequest() || slices.ContainsFunc(m.Batch, (*Message).IsRequest)
}

// requests returns the requests in m: m itself, or a batch's requests.
func requests(m *Message) []*Message {
	if m.IsRequest() {
		return []*Message{m}
	}
	var rs []*Message
	for _, b := range m.Batch {
		if b.IsRequest() {
			rs = append(rs, b)
		}
	}
	return rs
}

// cancelled handles the host's notifications/cancelled: the response will
// not be wanted, so the request leaves the pending book and its stream is
// closed.
func (r *Relay) cancelled(m *Message) {
	var params struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(m.params, &params) != nil || len(params.RequestID) == 0 {
		return
	}
	r.mu.Lock()
	k := idKey(params.RequestID)
	p := r.pending[k]
	delete(r.pending, k) // a late response is dropped
	r.signalIdle()
	r.mu.Unlock()
	if p != nil && p.cancel != nil {
		p.cancel()
	}
	r.audit(p, nil, OutcomeCancelled)
}

// toHost delivers a message from the server to the host.
func (r *Relay) toHost(m *Message) {
	r.log.Debug("server → host", "msg", m)
	method := ""
	if m.Batch == nil && m.IsResponse() {
		p := r.complete(m)
		if p == nil {
			r.log.Debug("dropping a response no request awaits", "id", string(m.ID))
			return
		}
		if p.reply != nil {
			p.reply <- m // the relay's own request
			return
		}
		if m.standalone && p.cancel != nil && !p.shared {
			p.cancel() // the request's own stream has nothing more to bring
		}
		if !bytes.Equal(p.id, m.ID) {
			m = m.withID(p.id) // the server re-encoded the id
		}
		r.audit(p, m, "")
		if recorded(p.method) {
			r.sess.answered(p.req, m)
			if p.method == "initialize" {
				r.logSession(m)
				// After the answer: the caches may write a file.
				defer r.rememberInit(m.result)
				defer r.era.learnLegacy(m.result)
			}
		}
		method = p.method
	}
	for _, b := range m.Batch {
		if b.IsResponse() {
			r.audit(r.complete(b), b, "")
		}
	}
	for i := len(r.cfg.Stages) - 1; i >= 0 && m != nil; i-- {
		m = r.cfg.Stages[i].ToHost(m, method)
	}
	if m != nil {
		r.reply(m)
	}
}

// complete takes the call m answers off the pending book.
func (r *Relay) complete(m *Message) *call {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := idKey(m.ID)
	p := r.pending[k]
	if p != nil {
		delete(r.pending, k)
		r.signalIdle()
	}
	return p
}

// signalIdle closes idle if nothing is pending but listens, which end only
// when cancelled. r.mu must be held.
func (r *Relay) signalIdle() {
	if r.idle == nil {
		return
	}
	for _, p := range r.pending {
		if p.method != "subscriptions/listen" {
			return
		}
	}
	close(r.idle)
	r.idle = nil
}

func (r *Relay) logSession(m *Message) {
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
		ServerInfo      struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
	}
	if m.result == nil || json.Unmarshal(m.result, &res) != nil {
		return
	}
	r.log.Info("connected", "server", res.ServerInfo.Name, "version", res.ServerInfo.Version,
		"protocol", res.ProtocolVersion, "transport", r.remote.name())
}

// reply writes m to the host.
func (r *Relay) reply(m *Message) {
	if err := r.host.write(m); err != nil {
		r.goneOnce.Do(func() {
			r.log.Debug("writing to the host failed", "err", err)
			close(r.hostGone)
		})
	}
}

// failed answers the requests in m that are still pending with err.
func (r *Relay) failed(m *Message, err error) {
	var answers []*Message
	for _, c := range requests(m) {
		if p := r.complete(c); p != nil {
			a := errorFor(c.ID, err)
			r.audit(p, a, "")
			answers = append(answers, a)
		}
	}
	if len(answers) > 0 || !m.IsRequest() {
		r.log.Warn("sending to the server failed", "msg", m, "err", err)
	}
	r.replyAll(m, answers)
}

// lost answers every pending request: the connection that would have
// carried their responses is gone.
func (r *Relay) lost(err error) {
	r.log.Warn("connection to the server lost", "err", err)
	r.mu.Lock()
	var answers []*Message
	for k, p := range r.pending {
		delete(r.pending, k)
		if p.reply != nil {
			p.reply <- errorFor(p.id, err) // the relay's own request
			continue
		}
		a := errorFor(p.id, err)
		r.audit(p, a, "")
		answers = append(answers, a)
	}
	r.signalIdle()
	r.mu.Unlock()
	for _, a := range answers {
		r.reply(a)
	}
}

// replyAll writes answers to the requests of m: as one batch if m was one.
func (r *Relay) replyAll(m *Message, answers []*Message) {
	if m.Batch == nil || len(answers) == 0 {
		for _, a := range answers {
			r.reply(a)
		}
		return
	}
	raws := make([][]byte, len(answers))
	for i, a := range answers {
		raws[i] = a.Raw
	}
	b, err := ParseMessage(append(append([]byte{'['}, bytes.Join(raws, []byte{','})...), ']'))
	if err != nil {
		panic("bridge: malformed batch of errors: " + err.Error())
	}
	r.reply(b)
}

// errorFor builds the error response the host sees for a request the relay
// could not complete. The message says what failed, never what was sent.
func errorFor(id []byte, err error) *Message {
	if u, ok := errors.AsType[*urlRequired](err); ok {
		return u.response(id)
	}
	if s, ok := errors.AsType[*signInInput](err); ok {
		return s.response(id)
	}
	if se, ok := errors.AsType[*StatusError](err); ok && se.RPCError != nil {
		// The server explained itself in JSON-RPC terms: pass that on.
		raw := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"error":%s}`, id, se.RPCError)
		if m, perr := ParseMessage(raw); perr == nil {
			return m
		}
	}
	msg := "mcp-bridge: " + err.Error()
	switch {
	case err == ErrSessionExpired:
		// Before the host's initialize had an answer: nothing to replay.
		msg = "mcp-bridge: the server ended the MCP session; reconnect to this server in the host"
	case errors.Is(err, context.Canceled):
		msg = "mcp-bridge: request cancelled: the bridge is shutting down"
	}
	return errorResponse(id, CodeBridgeError, msg)
}

// closeTimeout bounds the farewell to the server: cancellations and the
// session's DELETE.
const closeTimeout = 2 * time.Second

// shutdown ends the relay. If drain is not nil, pending requests get
// DrainTimeout, or until drain is closed, to finish; the rest are
// cancelled upstream and answered with an error. Then the session ends.
func (r *Relay) shutdown(drain <-chan struct{}) error {
	r.mu.Lock()
	r.closing = true
	var idle chan struct{}
	if len(r.pending) > 0 && drain != nil {
		r.idle = make(chan struct{})
		idle = r.idle
		r.signalIdle() // nothing to wait for but listens
	}
	r.mu.Unlock()
	if idle != nil {
		t := time.NewTimer(r.cfg.DrainTimeout)
		select {
		case <-idle:
		case <-t.C:
		case <-drain:
		case <-r.hostGone:
		}
		t.Stop()
	}

	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	r.mu.Lock()
	left := r.pending
	r.pending = map[string]*call{}
	if r.ordered != nil {
		r.ordered()
	}
	r.mu.Unlock()
	for _, p := range left {
		if p.cancel != nil {
			p.cancel()
		}
		if p.reply != nil {
			continue // the relay's own request: r.stop ends it
		}
		if p.method != "initialize" && !r.era.modern() { // initialize must not be cancelled; a modern server sees the stream close
			n := fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%s,"reason":"mcp-bridge is shutting down"}}`, p.id)
			if m, err := ParseMessage(n); err == nil {
				if err := r.remote.Send(ctx, m); err != nil {
					r.log.Debug("cancelling a request upstream failed", "err", err)
				}
			}
		}
		r.audit(p, nil, OutcomeCancelled)
		r.reply(errorFor(p.id, context.Canceled))
	}
	r.sess.mu.Lock()
	r.sess.closed = true
	r.sess.mu.Unlock()
	r.stop()
	r.calls.Wait()
	r.background.Wait()
	if err := r.remote.Close(ctx); err != nil {
		r.log.Warn("ending the session failed", "err", err)
	}
	r.log.Info("stopped")
	return nil
}
