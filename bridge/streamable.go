package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// HTTP header names of the Streamable HTTP transport.
const (
	headerSessionID       = "Mcp-Session-Id"
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerLastEventID     = "Last-Event-ID"
)

// Header values shared by every request; never modified.
var (
	valueJSON      = []string{"application/json"}
	valueJSONOrSSE = []string{"application/json, text/event-stream"}
	valueSSE       = []string{"text/event-stream"}
)

// ErrSessionExpired is returned when the server answers 404 for the session:
// it has ended it (basic/transports, "Session Management", point 3).
var ErrSessionExpired = errors.New("the server ended the MCP session")

// errExpiredMidStream wraps [ErrSessionExpired] when the 404 answered the
// resumption of a request's response stream, not its POST: the server had
// received the request, and may have acted on it.
var errExpiredMidStream = fmt.Errorf("%w while the response was on its way", ErrSessionExpired)

// streamable is the remote leg over the Streamable HTTP transport of MCP
// revisions 2025-03-26, 2025-06-18 and 2025-11-25 (basic/transports,
// "Streamable HTTP").
//
// The relay uses this transport rather than the SDK's
// mcp.StreamableClientTransport because that one opens the standalone GET
// stream and sends MCP-Protocol-Version only when an mcp.Client drives it
// (go-sdk issue 657), decodes and re-encodes every message, and breaks the
// whole connection on failures that concern a single request. This one
// forwards bytes and reports failures per request.
type streamable struct {
	httpLeg

	ctx    context.Context // lives until Close: the standalone stream
	cancel context.CancelFunc
	wg     sync.WaitGroup // the standalone stream's goroutine

	// waiting is set while the standalone stream waits to reconnect; wake
	// ends the wait early: a POST has just been answered, so the server is
	// reachable again.
	waiting atomic.Bool
	wake    chan struct{}

	mu              sync.Mutex // guards the fields below
	sessionID       string
	protocolVersion string
	listening       bool // the standalone stream has been started
}

func newStreamable(h httpLeg) *streamable {
	ctx, cancel := context.WithCancel(context.Background())
	return &streamable{httpLeg: h, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
}

// session returns the session id and protocol version to send.
func (s *streamable) session() (id, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionID, s.protocolVersion
}

// request returns a function that builds the transport's request with
// method and body, for m, if not nil, with the headers m carries.
func (s *streamable) request(ctx context.Context, method string, body []byte, isInit bool, m *Message) func() (*http.Request, error) {
	return func() (*http.Request, error) {
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, s.endpoint, r)
		if err != nil {
			return nil, err
		}
		// Canonical keys and shared values: these maps are built per message.
		switch method {
		case http.MethodPost:
			req.Header["Content-Type"] = valueJSON
			req.Header["Accept"] = valueJSONOrSSE
		case http.MethodGet:
			req.Header["Accept"] = valueSSE
		}
		if !isInit {
			id, version := s.session()
			if id != "" {
				req.Header[headerSessionID] = []string{id}
			}
			if version != "" {
				req.Header[headerProtocolVersion] = []string{version}
			}
		}
		if m != nil {
			m.setPostHeader(req.Header)
		}
		return req, nil
	}
}

// Send posts m. For a request it returns once the response has been
// delivered, reading a JSON body or an SSE stream, and resuming the stream
// with GET and Last-Event-ID if the connection drops.
func (s *streamable) Send(ctx context.Context, m *Message) error {
	isInit := m.Method == "initialize"
	resp, err := s.do(ctx, true, safeToRepeat(m), s.request(ctx, http.MethodPost, m.Raw, isInit, m))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if sid, _ := s.session(); resp.StatusCode == http.StatusNotFound && sid != "" && !isInit {
			resp.Body.Close()
			return ErrSessionExpired
		}
		return statusError(resp)
	}
	if s.waiting.Load() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	if isInit {
		if err := s.startSession(resp.Header.Get(headerSessionID)); err != nil {
			return err
		}
	}

	wanted := callIDs(m)
	if len(wanted) == 0 {
		// A notification or a response: the server answers 202 with no
		// body. Some answer 200 with a body; read what it carries.
		if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusNoContent {
			if err := s.readMessages(ctx, resp, wanted, nil, nil); err != nil {
				s.log.Debug("reading the body of a notification's response", "err", err)
			}
		}
		if m.Method == "notifications/initialized" {
			s.listen()
		}
		return nil
	}
	var initID []byte
	if isInit {
		initID = m.ID
	}
	if err := s.readMessages(ctx, resp, wanted, initID, m.ID); err != nil {
		return answerError(resp, err)
	}
	return nil
}

// answerError says which answer of the server err concerns: a 2xx response
// whose body the relay could not use.
func answerError(resp *http.Response, err error) error {
	return fmt.Errorf("%s %s: %d %s: %w", resp.Request.Method, resp.Request.URL.Redacted(),
		resp.StatusCode, http.StatusText(resp.StatusCode), err)
}

// startSession records the session the server assigned, if any.
func (s *streamable) startSession(id string) error {
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return fmt.Errorf("the server sent a malformed %s header", headerSessionID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionID, s.protocolVersion = id, ""
	return nil
}

// callIDs returns the keys of the requests in m that await a response.
func callIDs(m *Message) map[string]bool {
	ids := map[string]bool{}
	if m.IsRequest() {
		ids[idKey(m.ID)] = true
	}
	for _, b := range m.Batch {
		if b.IsRequest() {
			ids[idKey(b.ID)] = true
		}
	}
	return ids
}

// readMessages reads the messages in a 2xx response to a POST, delivering
// each, until the responses in wanted have all arrived. initID is the id of
// an initialize request, whose result sets the protocol version; via is the
// id of the request posted, if it was one, which the server's own requests
// on its stream relate to.
func (s *streamable) readMessages(ctx context.Context, resp *http.Response, wanted map[string]bool, initID, via []byte) error {
	switch t := mediaType(resp.Header.Get("Content-Type")); t {
	case "application/json":
		body, err := s.readBody(resp)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(body)) == 0 && len(wanted) == 0 {
			return nil
		}
		m, err := ParseMessage(body)
		if err != nil {
			return fmt.Errorf("the server's JSON response is not a JSON-RPC message: %w: %s", err, excerpt(body, 100))
		}
		s.receive(m, wanted, initID, via)
		if len(wanted) > 0 {
			return fmt.Errorf("the server's response did not answer the request: %s", excerpt(body, 100))
		}
		return nil
	case "text/event-stream":
		return s.readStream(ctx, resp.Body, wanted, initID, via)
	default:
		if len(wanted) == 0 {
			return nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the server answered with content type %q, not JSON or an event stream: %s", t, excerpt(body, 100))
	}
}

// receive delivers m and crosses off the responses in wanted that it holds.
// A request of the server's own is marked as related to via.
func (s *streamable) receive(m *Message, wanted map[string]bool, initID, via []byte) {
	for _, r := range append([]*Message{m}, m.Batch...) {
		if !r.IsResponse() {
			if r.IsRequest() {
				r.via = via
			}
			continue
		}
		k := idKey(r.ID)
		if initID != nil && k == idKey(initID) && r.result != nil {
			var res struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			if json.Unmarshal(r.result, &res) == nil {
				s.mu.Lock()
				s.protocolVersion = res.ProtocolVersion
				s.mu.Unlock()
			}
		}
		delete(wanted, k)
	}
	s.deliver(m)
}

// maxResumes bounds the reconnections of one POST stream that bring no new
// event, like the SDK's MaxRetries.
const maxResumes = 5

// readStream reads an SSE stream until the responses in wanted have arrived.
// When the connection ends first, it resumes the stream with a GET carrying
// Last-Event-ID (basic/transports, "Resumability and Redelivery"), after the
// delay the server asked for in its retry field.
func (s *streamable) readStream(ctx context.Context, body io.ReadCloser, wanted map[string]bool, initID, via []byte) error {
	er := newEventReader(body, s.maxSize)
	defer er.release()
	failures := 0
	for {
		progressID := er.lastID
		err := readEvents(er, func(m *Message) bool {
			s.receive(m, wanted, initID, via)
			return len(wanted) > 0
		})
		if len(wanted) == 0 {
			er.release()
			drainClose(body) // the host has its answer: this wait is off its path
			return nil
		}
		body.Close()
		if errors.Is(err, errEventTooLarge) || errors.Is(err, ErrSyntax) || errors.Is(err, ErrInvalidMessage) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if er.lastID == "" {
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("the server closed the event stream before sending the response (%w)", err)
			}
			return errors.New("the server closed the event stream before sending the response")
		}
		if er.lastID == progressID {
			failures++
		} else {
			failures = 0
		}
		if failures > maxResumes {
			return fmt.Errorf("the event stream broke %d times without progress", failures)
		}
		resp, err := s.resume(ctx, er.lastID, retryDelay(er.retry, failures))
		if errors.Is(err, ErrSessionExpired) {
			return errExpiredMidStream
		}
		if err != nil {
			return err
		}
		body = resp.Body
		er.reset(body)
	}
}

// readEvents delivers the JSON-RPC messages of er's events to fn until fn
// returns false or the stream ends.
func readEvents(er *eventReader, fn func(*Message) bool) error {
	for {
		ev, err := er.next()
		if err != nil {
			return err
		}
		if ev.name != "" && ev.name != "message" || len(bytes.TrimSpace(ev.data)) == 0 {
			continue // another kind of event, or a priming event (id only)
		}
		m, err := ParseMessage(ev.data)
		if err != nil {
			return fmt.Errorf("event from the server: %w: %s", err, excerpt(ev.data, 100))
		}
		if !fn(m) {
			return nil
		}
	}
}

// resume waits for delay, then opens a GET stream after lastID.
func (s *streamable) resume(ctx context.Context, lastID string, delay time.Duration) (*http.Response, error) {
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	newReq := s.request(ctx, http.MethodGet, nil, false, nil)
	resp, err := s.do(ctx, true, true, func() (*http.Request, error) {
		req, err := newReq()
		if err == nil {
			req.Header.Set(headerLastEventID, lastID)
		}
		return req, err
	})
	if err != nil {
		return nil, fmt.Errorf("resume the event stream: %w", err)
	}
	if sid, _ := s.session(); resp.StatusCode == http.StatusNotFound && sid != "" {
		resp.Body.Close()
		return nil, ErrSessionExpired
	}
	if resp.StatusCode != http.StatusOK || mediaType(resp.Header.Get("Content-Type")) != "text/event-stream" {
		return nil, fmt.Errorf("resume the event stream: %w", statusError(resp))
	}
	return resp, nil
}

// listen starts the standalone GET stream for messages the server sends
// outside any request (basic/transports, "Listening for Messages from the
// Server"), once per session.
//
// It waits, listenWait at most, for the server's answer to the first GET:
// the host's next request goes out once the stream is there, so that a
// server never sees that request before the stream (one that then answers
// it on the stream, as a conformance scenario does, had the bridge wait for
// a resumption it had no reason to make).
func (s *streamable) listen() {
	s.mu.Lock()
	if s.listening {
		s.mu.Unlock()
		return
	}
	s.listening = true
	opened := make(chan struct{})
	s.wg.Go(func() { s.listenLoop(opened) })
	s.mu.Unlock()
	t := time.NewTimer(listenWait)
	defer t.Stop()
	select {
	case <-opened:
	case <-t.C:
	case <-s.ctx.Done():
	}
}

// listenWait bounds how long listen waits for the first GET's answer.
const listenWait = time.Second

// listenLoop keeps the standalone stream open: it reconnects with
// Last-Event-ID when the stream ends, after the server's retry delay or a
// capped exponential backoff with jitter while reconnections fail. It
// closes opened once the first GET has its answer.
func (s *streamable) listenLoop(opened chan struct{}) {
	var er *eventReader
	defer func() {
		if er != nil {
			er.release()
		}
	}()
	failures := 0
	for {
		lastID := ""
		if er != nil {
			lastID = er.lastID
		}
		resp, err := s.openStream(lastID)
		if opened != nil {
			close(opened)
			opened = nil
		}
		if s.ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, errStreamBusy) && er != nil:
			// The server has not yet noticed that the broken stream is
			// gone: resuming it is the way to the events it holds.
			failures++
			delay := retryDelay(0, failures)
			s.log.Debug("the server still holds the broken standalone stream; resuming", "in", delay.Round(time.Millisecond))
			if !s.pause(delay) {
				return
			}
			continue
		case errors.Is(err, errNoStream):
			s.log.Debug("the server offers no standalone event stream", "reason", err)
			return
		case errors.Is(err, ErrSessionExpired) && er == nil:
			// The session's first GET: some servers answer 404 where
			// they mean 405. Were the session gone, the next POST says so.
			s.log.Debug("the server offers no standalone event stream", "reason", err)
			return
		case errors.Is(err, ErrSessionExpired):
			s.log.Info("the server ended the MCP session (its standalone stream answered 404)")
			if s.expired != nil {
				s.expired(s)
			}
			return
		case err != nil:
			failures++
			delay := retryDelay(0, failures)
			s.log.Warn("the standalone event stream failed; retrying", "in", delay.Round(time.Millisecond), "err", err)
			if !s.pause(delay) {
				return
			}
			continue
		}
		if er == nil {
			er = newEventReader(resp.Body, s.maxSize)
			s.log.Debug("standalone event stream open")
		} else {
			er.reset(resp.Body)
		}
		before := er.lastID
		err = readEvents(er, func(m *Message) bool {
			m.standalone = true
			s.deliver(m)
			return true
		})
		resp.Body.Close()
		if s.ctx.Err() != nil {
			return
		}
		if er.lastID != before {
			failures = 0
		} else {
			failures++
		}
		delay := retryDelay(er.retry, failures)
		s.log.Debug("standalone event stream ended; reconnecting", "in", delay, "err", err)
		if !s.pause(delay) {
			return
		}
	}
}

// pause waits for d before the standalone stream reconnects, or less if a
// POST gets an answer meanwhile. It reports false if the transport closed.
func (s *streamable) pause(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	s.waiting.Store(true)
	defer s.waiting.Store(false)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.wake:
		return s.ctx.Err() == nil
	case <-s.ctx.Done():
		return false
	}
}

// errNoStream means the server does not offer a standalone stream.
var errNoStream = errors.New("no standalone stream")

// errStreamBusy is a 409 Conflict to a GET: the server holds a standalone
// stream for the session already. It is also an errNoStream.
var errStreamBusy = fmt.Errorf("%w: 409 Conflict", errNoStream)

func (s *streamable) openStream(lastID string) (*http.Response, error) {
	newReq := s.request(s.ctx, http.MethodGet, nil, false, nil)
	resp, err := s.do(s.ctx, true, false, func() (*http.Request, error) {
		req, err := newReq()
		if err == nil && lastID != "" {
			req.Header.Set(headerLastEventID, lastID)
		}
		return req, err
	})
	if err != nil {
		return nil, err
	}
	sid, _ := s.session()
	switch {
	case resp.StatusCode == http.StatusNotFound && sid != "":
		resp.Body.Close()
		return nil, ErrSessionExpired
	case resp.StatusCode == http.StatusMethodNotAllowed:
		resp.Body.Close()
		return nil, fmt.Errorf("%w: 405 Method Not Allowed", errNoStream)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, statusError(resp)
	case resp.StatusCode == http.StatusConflict:
		return nil, fmt.Errorf("%w: %w", errStreamBusy, statusError(resp))
	case resp.StatusCode != http.StatusOK:
		// Some servers answer 400 or 404 rather than 405.
		return nil, fmt.Errorf("%w: %w", errNoStream, statusError(resp))
	case mediaType(resp.Header.Get("Content-Type")) != "text/event-stream":
		resp.Body.Close()
		return nil, fmt.Errorf("%w: content type %q", errNoStream, resp.Header.Get("Content-Type"))
	}
	return resp, nil
}

// Close stops the standalone stream and ends the session with DELETE
// (basic/transports, "Session Management", point 5).
func (s *streamable) Close(ctx context.Context) error {
	s.cancel()
	s.wg.Wait()
	sid, _ := s.session()
	if sid == "" {
		return nil
	}
	resp, err := s.do(ctx, false, false, s.request(ctx, http.MethodDelete, nil, false, nil))
	if err != nil {
		return fmt.Errorf("end the session: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300, resp.StatusCode == http.StatusMethodNotAllowed, resp.StatusCode == http.StatusNotFound:
		return nil
	default:
		return fmt.Errorf("end the session: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
}

func (s *streamable) abandon() { s.cancel() }

// retryDelay returns how long to wait before reconnection number failures
// (0 for the first): the server's retry value if it gave one, else a capped
// exponential backoff with full jitter.
func retryDelay(serverRetry time.Duration, failures int) time.Duration {
	if serverRetry > 0 && failures <= 1 {
		return serverRetry
	}
	if failures == 0 {
		return 0
	}
	d := min(500*time.Millisecond<<min(failures-1, 6), 30*time.Second)
	return d/2 + rand.N(d/2+1)
}
