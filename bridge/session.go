package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The relay keeps the host's MCP session alive across the server's
// sessions. When the server answers 404 for the session (it restarted, or
// timed the session out), the relay starts a new one by replaying what the
// host said to set the first one up: its initialize request (under an id of
// the relay's own, so that the host never sees the answer),
// notifications/initialized, its resource subscriptions and its log level.
// Then it sends the failed message again. The host sees one session
// throughout (basic/transports, "Session Management", point 4: the client
// MUST start a new session when it gets 404).

// keeper holds what the relay needs to start a new session in the host's
// name.
type keeper struct {
	mu          sync.Mutex          // guards the fields below
	init        *Message            // the host's initialize request, once it got a result
	initialized *Message            // the host's notifications/initialized
	requested   string              // the protocol version the host asked for
	negotiated  string              // the protocol version of the initialize result
	toolsListed bool                // the initialize result declares tools.listChanged
	subs        map[string]*Message // resources/subscribe requests that succeeded, by URI
	logLevel    *Message            // the last logging/setLevel that succeeded
	renewal     *renewal            // the new session being started, if any
	closed      bool                // the relay is shutting down: no new renewal
}

// A renewal is the start of a new session in place of one the server
// ended. Requests that failed with the old session wait for it.
type renewal struct {
	done chan struct{}
	err  error // set before done is closed
}

// renewTimeout bounds the start of a new session: longer than a sign-in's
// default wait (5 minutes), since a 401 on the new initialize may start one.
const renewTimeout = 6 * time.Minute

// pingTimeout bounds a keep-alive ping.
const pingTimeout = 30 * time.Second

// Errors of requests that a new session could not save.
var (
	errExpiredAgain  = errors.New("the server ended the MCP session again right after mcp-bridge started a new one; not trying again for this request")
	errLostMidStream = errors.New("the server ended the MCP session while this request was running; mcp-bridge started a new session, " +
		"but the request's result is lost, and it may or may not have taken effect")
)

// send forwards m to the server, through the era stage when m crosses
// protocol eras.
func (r *Relay) send(ctx context.Context, m *Message) error {
	if handled, err := r.era.send(ctx, m); handled {
		return err
	}
	return r.sendPlain(ctx, m)
}

// sendPlain forwards m to the server as it is. If the server has ended the
// session, it starts a new one (or waits for the one another request is
// starting) and sends m once more.
func (r *Relay) sendPlain(ctx context.Context, m *Message) error {
	up := r.remote.current()
	if up == nil {
		return r.remote.Send(ctx, m) // the first message chooses the transport
	}
	err := up.Send(ctx, m)
	if err == nil || !errors.Is(err, ErrSessionExpired) {
		return err
	}
	return r.resend(ctx, m, up, err)
}

// resend handles m's failure with err, a session expiry on up.
func (r *Relay) resend(ctx context.Context, m *Message, up *upstream, err error) error {
	r.sess.mu.Lock()
	canRenew := r.sess.init != nil
	r.sess.mu.Unlock()
	if !canRenew {
		return err // the host has not initialized through the bridge
	}
	if rerr := r.renew(ctx, up); rerr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the server ended the MCP session, and starting a new one failed: %w", rerr)
	}
	switch {
	case onlyResponses(m):
		// Answers to the old session's requests: the new one never asked.
		r.log.Info("dropping the host's answer to a request of the ended session", "msg", m)
		return nil
	case errors.Is(err, errExpiredMidStream) && !safeToRepeat(m):
		return errLostMidStream
	}
	err = r.remote.current().Send(ctx, m)
	if errors.Is(err, ErrSessionExpired) {
		return errExpiredAgain
	}
	return err
}

// onlyResponses reports whether m is a response or a batch of them.
func onlyResponses(m *Message) bool {
	if m.Batch == nil {
		return m.IsResponse()
	}
	for _, b := range m.Batch {
		if !b.IsResponse() {
			return false
		}
	}
	return true
}

// renew starts a new session in place of up, unless another has started
// since, and waits until it is ready or ctx is done. Concurrent callers
// share one start.
func (r *Relay) renew(ctx context.Context, up *upstream) error {
	r.sess.mu.Lock()
	rn := r.sess.renewal
	if rn == nil {
		switch {
		case r.sess.closed:
			r.sess.mu.Unlock()
			return errors.New("mcp-bridge is shutting down")
		case r.remote.current() != up:
			r.sess.mu.Unlock()
			return nil // a new session has started since up failed
		}
		rn = &renewal{done: make(chan struct{})}
		r.sess.renewal = rn
		r.background.Add(1)
		go func() {
			defer r.background.Done()
			err := r.reinitialize(up)
			r.sess.mu.Lock()
			r.sess.renewal = nil
			rn.err = err
			r.sess.mu.Unlock()
			close(rn.done)
		}()
	}
	r.sess.mu.Unlock()
	select {
	case <-rn.done:
		return rn.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reinitialize starts a new session in the host's name on a fresh
// transport and, once it is set up, makes it the one in use in place of
// old.
func (r *Relay) reinitialize(old *upstream) error {
	ctx, cancel := context.WithTimeout(r.life, renewTimeout)
	defer cancel()
	r.sess.mu.Lock()
	init, initialized, version := r.sess.init, r.sess.initialized, r.sess.negotiated
	restore := slices.SortedFunc(maps.Values(r.sess.subs), func(a, b *Message) int { return slices.Compare(a.Raw, b.Raw) })
	if r.sess.logLevel != nil {
		restore = append(restore, r.sess.logLevel)
	}
	r.sess.mu.Unlock()
	if init == nil {
		return errors.New("the host has not initialized a session to start again")
	}

	r.log.Info("the server ended the MCP session; starting a new one")
	next, err := r.remote.fresh(ctx, old)
	if err != nil {
		return err
	}
	ready := false
	defer func() {
		if !ready {
			next.abandon()
		}
	}()
	resp, err := r.roundTrip(ctx, next, init.withID(r.newID()))
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if resp.result == nil {
		return fmt.Errorf("initialize: the server answered with an error: %s", excerpt(resp.Raw, 200))
	}
	r.rememberInit(resp.result)
	if v := parseInitialize(resp.result).ProtocolVersion; v != version {
		r.log.Warn("the new session speaks another protocol revision than the host negotiated", "host", version, "server", v)
	}
	if initialized == nil {
		initialized, _ = ParseMessage([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	}
	if err := next.Send(ctx, initialized); err != nil {
		return fmt.Errorf("notifications/initialized: %w", err)
	}
	for _, m := range restore {
		resp, err := r.roundTrip(ctx, next, m.withID(r.newID()))
		if err == nil && resp.result == nil {
			err = fmt.Errorf("the server answered with an error: %s", excerpt(resp.Raw, 200))
		}
		if err != nil {
			r.log.Warn("restoring the host's "+m.Method+" in the new session failed", "err", err)
		}
	}
	if !r.remote.swap(old, next) {
		ready = true // swap closed it
		return nil
	}
	ready = true
	r.active.Store(false)
	r.log.Info("new MCP session started", "restored", len(restore))
	return nil
}

// expired is called when the standalone stream of transport tr learns
// that the server ended the session. The stream is the server's only way
// to reach the host between requests (resource updates, list changes), so
// the relay starts a new session at once, rather than at the host's next
// message, if the host has sent something since the last new session: a
// server that times out idle sessions is not made to keep one forever.
func (r *Relay) expired(tr remote) {
	up := r.remote.current()
	if up == nil || up.remote != tr {
		return // an abandoned transport
	}
	if !r.active.Load() {
		r.log.Info("the server ended the idle MCP session; a new one starts with the host's next message")
		return
	}
	if err := r.renew(r.life, up); err != nil && r.life.Err() == nil {
		r.log.Warn("starting a new MCP session failed; trying again at the host's next message", "err", err)
	}
}

// ToolsChanged tells the host that the tools it may see changed, as a
// server does with notifications/tools/list_changed, so that it lists them
// again: a running bridge calls it when its tool filter changes. It sends
// nothing before the host's session is initialized, or if the server did
// not declare tools.listChanged, since the host then expects no such
// notification; the host sees the new filter at its next tools/list.
func (r *Relay) ToolsChanged() {
	r.sess.mu.Lock()
	ready := r.sess.init != nil && r.sess.toolsListed && !r.sess.closed
	r.sess.mu.Unlock()
	if !ready {
		r.log.Info("the tool filter changed; the host sees it at its next tools/list")
		return
	}
	m, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`))
	r.log.Info("the tool filter changed; telling the host to list tools again")
	r.reply(m)
}

// A sender sends messages to the server: a transport, or the relay's
// [switchRemote], which chooses one with the first message.
type sender interface {
	Send(ctx context.Context, m *Message) error
}

// roundTrip sends the relay's own request m over tr and returns the
// server's response, which the host never sees.
func (r *Relay) roundTrip(ctx context.Context, tr sender, m *Message) (*Message, error) {
	reply := make(chan *Message, 1)
	k := idKey(m.ID)
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return nil, errors.New("mcp-bridge is shutting down")
	}
	r.pending[k] = &call{id: m.ID, method: m.Method, reply: reply}
	r.mu.Unlock()
	forget := func() {
		r.mu.Lock()
		if p := r.pending[k]; p != nil && p.reply == reply {
			delete(r.pending, k)
			r.signalIdle()
		}
		r.mu.Unlock()
	}
	if err := tr.Send(ctx, m); err != nil {
		forget()
		return nil, err
	}
	select {
	case resp := <-reply:
		return resp, nil
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
}

// request builds a request of the relay's own, with a new id.
func (r *Relay) request(method string, params []byte) *Message {
	// One buffer of the final size, and the envelope recorded as it is
	// written, not parsed again: the relay sends one of these for each call
	// of a 2025 host to a 2026 server, whose arguments may be large. params
	// is the bridge's own making, or the host's spliced (paramsWithMeta).
	raw := make([]byte, 0, 64+len(r.idPrefix)+len(method)+len(params))
	raw = append(raw, `{"jsonrpc":"2.0","id":`...)
	m := &Message{Method: method, idStart: len(raw)}
	raw = r.appendID(raw)
	m.idEnd = len(raw)
	raw = append(raw, `,"method":`...)
	if plainString(method) {
		raw = append(append(append(raw, '"'), method...), '"')
	} else {
		raw = append(raw, mustMarshal(method)...)
	}
	if len(params) > 0 {
		raw = append(raw, `,"params":`...)
		m.paramsAt = len(raw)
		raw = append(raw, params...)
	}
	m.Raw = append(raw, '}')
	m.ID = m.Raw[m.idStart:m.idEnd]
	if len(params) > 0 {
		m.params = m.Raw[m.paramsAt : m.paramsAt+len(params)]
	}
	return m
}

// newID returns a request id for the relay's own requests, one that no
// host is likely to use.
func (r *Relay) newID() []byte { return r.appendID(nil) }

// appendID appends a new id of newID's to b. (idPrefix needs no escape.)
func (r *Relay) appendID(b []byte) []byte {
	b = append(append(b, '"'), r.idPrefix...)
	return append(strconv.AppendUint(b, r.nextID.Add(1), 10), '"')
}

// plainString reports whether s is written in JSON as it is, between
// quotes, by encoding/json too: printable ASCII without the characters it
// escapes.
func plainString(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// keepAlive pings the server every interval in which no message from the
// host went upstream, and starts a new session if the ping finds the old
// one gone. The SDK's servers, for one, time out sessions that get no
// request (go-sdk mcp/streamable.go: "Clients should generally make
// keepalive pings if they want to keep the session live").
func (r *Relay) keepAlive(every time.Duration) {
	defer r.background.Done()
	t := time.NewTicker(every) // monotonic: wall clock jumps do not move it
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-r.life.Done():
			return
		}
		if r.traffic.Swap(false) {
			continue // not idle
		}
		r.sess.mu.Lock()
		ready := r.sess.init != nil && r.sess.renewal == nil
		r.sess.mu.Unlock()
		if up := r.remote.current(); up != nil && ready && !r.era.modern() {
			r.ping(up)
		}
	}
}

func (r *Relay) ping(up *upstream) {
	ctx, cancel := context.WithTimeout(r.life, pingTimeout)
	defer cancel()
	m, _ := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"method":"ping"}`, r.newID()))
	_, err := r.roundTrip(ctx, up, m)
	switch {
	case err == nil, r.life.Err() != nil:
	case errors.Is(err, ErrSessionExpired):
		r.log.Info("the keep-alive ping found the MCP session ended")
		if err := r.renew(r.life, up); err != nil && r.life.Err() == nil {
			r.log.Warn("starting a new MCP session failed; trying again at the next ping or message", "err", err)
		}
	default:
		// Whatever broke, the next request should not meet it on a pooled
		// connection.
		r.remote.leg.client.CloseIdleConnections()
		r.log.Warn("keep-alive ping failed", "err", err)
	}
}

// hostInitialize notes the protocol version the host asks for.
func (k *keeper) hostInitialize(m *Message) {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	json.Unmarshal(m.params, &p)
	k.mu.Lock()
	k.requested = p.ProtocolVersion
	k.mu.Unlock()
}

// hostInitialized keeps the host's notifications/initialized, to replay.
func (k *keeper) hostInitialized(m *Message) {
	k.mu.Lock()
	k.initialized = m
	k.mu.Unlock()
}

// answered records the outcome of the host's requests that set up the
// session: req, a request with one of the methods in [recorded], got resp.
func (k *keeper) answered(req, resp *Message) {
	if resp.result == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch req.Method {
	case "initialize":
		res := parseInitialize(resp.result)
		k.init, k.negotiated = req, res.ProtocolVersion
		k.toolsListed = res.Capabilities.Tools != nil && res.Capabilities.Tools.ListChanged
	case "logging/setLevel":
		k.logLevel = req
	case "resources/subscribe", "resources/unsubscribe":
		var p struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(req.params, &p) != nil {
			return
		}
		if req.Method == "resources/unsubscribe" {
			delete(k.subs, p.URI)
			return
		}
		if k.subs == nil {
			k.subs = map[string]*Message{}
		}
		k.subs[p.URI] = req
	}
}

// recorded reports whether the response to a request with this method
// goes to [keeper.answered].
func recorded(method string) bool {
	switch method {
	case "initialize", "logging/setLevel", "resources/subscribe", "resources/unsubscribe":
		return true
	}
	return false
}

// initializeResult is what the relay reads of the server's initialize
// result.
type initializeResult struct {
	ProtocolVersion string `json:"protocolVersion"`
	Capabilities    struct {
		Tools *struct {
			ListChanged bool `json:"listChanged"`
		} `json:"tools"`
	} `json:"capabilities"`
}

func parseInitialize(result []byte) initializeResult {
	var res initializeResult
	json.Unmarshal(result, &res)
	return res
}

// batchRevision is the only protocol revision that allows JSON-RPC
// batches: 2025-06-18 removed them.
const batchRevision = "2025-03-26"

// batchAllowed reports whether the host may send the batch m: the
// negotiated revision or, before initialize has an answer, the one the
// host asked for (in m, if m holds the initialize request), is
// [batchRevision].
func (r *Relay) batchAllowed(m *Message) (bool, string) {
	r.sess.mu.Lock()
	v := r.sess.negotiated
	if v == "" {
		v = r.sess.requested
	}
	r.sess.mu.Unlock()
	for _, b := range m.Batch {
		if v == "" && b.Method == "initialize" {
			var p struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			json.Unmarshal(b.params, &p)
			v = p.ProtocolVersion
		}
	}
	return v == batchRevision, v
}

// refuseBatch answers each request in the batch m with Invalid Request,
// in a batch, and sends nothing upstream.
func (r *Relay) refuseBatch(m *Message, version string) {
	if version == "" {
		version = "none yet"
	}
	msg := "mcp-bridge: JSON-RPC batches are allowed only in protocol revision " + batchRevision + "; this session's is " + version
	r.log.Warn("batch from the host refused", "protocol", version)
	var answers []*Message
	for _, c := range requests(m) {
		answers = append(answers, errorResponse(c.ID, codeInvalidRequest, msg))
	}
	r.replyAll(m, answers)
}
