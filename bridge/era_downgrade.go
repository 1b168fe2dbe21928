package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// A modern host's requests to a legacy server (basic/versioning, "Backward
// Compatibility"): the bridge holds the initialize-based session in the
// host's name, started with the capabilities and clientInfo of the host's
// first request's _meta. Results get the resultType the host requires. A
// request the server sends on a call's stream, which a stdio server of
// revision 2026-07-28 must not write (basic/transports/stdio), is parked:
// the host's call is answered input_required with the request and a
// requestState handle, and the host's retry with inputResponses answers the
// server, whose final result then answers the retry (basic/patterns/mrtr).
// subscriptions/listen is acknowledged with what the server declared and
// fed from its standalone stream.

// parkTimeout bounds how long a parked exchange waits for the host's retry.
const parkTimeout = 10 * time.Minute

// downgrade is the stage's state for a modern host and a legacy server.
type downgrade struct {
	ready   sync.Mutex // held while the session starts
	started bool       // guarded by ready
	caps    struct {
		Tools, Prompts *struct {
			ListChanged bool `json:"listChanged"`
		}
		Resources *struct {
			ListChanged bool `json:"listChanged"`
			Subscribe   bool `json:"subscribe"`
		}
	}

	mu      sync.Mutex             // guards the maps
	legs    map[string]*exchange   // calls in flight upstream, by idKey of their upstream id
	parked  map[string]*exchange   // calls waiting for the host's retry, by requestState
	listens map[string]*hostListen // the host's open subscriptions/listen, by idKey
}

// An exchange is one host call to a legacy server: its upstream request,
// which may outlive several host requests when the server asks for input.
type exchange struct {
	id      []byte // of the upstream request
	cancel  context.CancelFunc
	done    chan legOutcome // the upstream response
	asks    chan *Message   // requests of the server's on the call's stream
	pending []*Message      // the server's requests the host is being asked
	timer   *time.Timer     // ends a parked exchange the host never resumes
}

type legOutcome struct {
	resp *Message
	err  error
}

// A hostListen is a modern host's subscriptions/listen to a legacy server.
type hostListen struct {
	id     []byte
	filter struct {
		Tools     bool     `json:"toolsListChanged"`
		Prompts   bool     `json:"promptsListChanged"`
		Resources bool     `json:"resourcesListChanged"`
		URIs      []string `json:"resourceSubscriptions"`
	}
}

// downgradeCall sends a modern host's request m to a legacy server.
func (e *eraStage) downgradeCall(ctx context.Context, m *Message) error {
	d := &e.down
	if err := e.startLegacySession(ctx, m.params); err != nil {
		return err
	}
	switch m.Method {
	case "subscriptions/listen":
		return e.downgradeListen(ctx, m)
	case "server/discover":
		return nil // answered in hostDiscover
	}
	var p map[string]json.RawMessage
	json.Unmarshal(m.params, &p)
	var state string
	json.Unmarshal(p["requestState"], &state)
	if state != "" {
		d.mu.Lock()
		x := d.parked[state]
		delete(d.parked, state)
		d.mu.Unlock()
		if x == nil {
			e.r.toHost(errorResponse(m.ID, -32602, "mcp-bridge: unknown or expired requestState"))
			return nil
		}
		x.timer.Stop()
		var answers map[string]json.RawMessage
		json.Unmarshal(p["inputResponses"], &answers)
		for i, req := range x.pending {
			result, ok := answers[fmt.Sprint("r", i)]
			var reply *Message
			if ok {
				reply = resultResponse(req.ID, result)
			} else {
				reply = errorResponse(req.ID, -32603, "the host did not answer")
			}
			if err := e.r.remote.Send(ctx, reply); err != nil {
				x.cancel()
				return fmt.Errorf("answer the server's %s: %w", req.Method, err)
			}
		}
		x.pending = nil
		return e.await(ctx, m, x)
	}
	leg := e.r.request(m.Method, legacyParams(m.params))
	leg.trace = m.trace
	legCtx, cancel := context.WithCancel(e.r.life)
	x := &exchange{id: leg.ID, cancel: cancel, done: make(chan legOutcome, 1), asks: make(chan *Message, 8)}
	k := idKey(leg.ID)
	d.mu.Lock()
	d.legs[k] = x
	d.mu.Unlock()
	go func() {
		resp, err := e.r.roundTrip(legCtx, e.r.remote, leg)
		d.mu.Lock()
		delete(d.legs, k)
		d.mu.Unlock()
		x.done <- legOutcome{resp, err}
	}()
	return e.await(ctx, m, x)
}

// await answers the host's request m with the outcome of exchange x: its
// result, or an input_required result when the server asks for input.
func (e *eraStage) await(ctx context.Context, m *Message, x *exchange) error {
	select {
	case out := <-x.done:
		x.cancel()
		if out.err != nil {
			return out.err
		}
		if out.resp.result == nil {
			e.r.toHost(out.resp.withID(m.ID))
			return nil
		}
		e.r.toHost(resultResponse(m.ID, modernResult(m.Method, out.resp.result)))
		return nil
	case req := <-x.asks:
		x.pending = []*Message{req}
		for more := true; more; {
			select {
			case r := <-x.asks:
				x.pending = append(x.pending, r)
			default:
				more = false
			}
		}
		inputs := map[string]json.RawMessage{}
		for i, r := range x.pending {
			inputs[fmt.Sprint("r", i)] = mustMarshal(map[string]json.RawMessage{"method": mustMarshal(r.Method), "params": withoutMember(r.params, "elicitationId")})
		}
		state := newHandle()
		d := &e.down
		d.mu.Lock()
		d.parked[state] = x
		d.mu.Unlock()
		x.timer = time.AfterFunc(parkTimeout, func() {
			d.mu.Lock()
			_, still := d.parked[state]
			delete(d.parked, state)
			d.mu.Unlock()
			if still {
				x.cancel()
			}
		})
		e.r.toHost(resultResponse(m.ID, mustMarshal(map[string]any{
			"resultType": "input_required", "inputRequests": inputs, "requestState": state,
		})))
		return nil
	case <-ctx.Done():
		// The host cancelled (or the bridge stops): so is the call upstream.
		x.cancel()
		if n, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%s}}`, x.id)); err == nil {
			e.answerServer(n)
		}
		return ctx.Err()
	}
}

// startLegacySession starts the initialize-based session in the host's
// name, once, with the capabilities and clientInfo in params' _meta.
func (e *eraStage) startLegacySession(ctx context.Context, params []byte) error {
	d := &e.down
	d.ready.Lock()
	defer d.ready.Unlock()
	if d.started {
		return nil
	}
	var p struct {
		Meta struct {
			Caps       map[string]json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
			ClientInfo json.RawMessage            `json:"io.modelcontextprotocol/clientInfo"`
		} `json:"_meta"`
	}
	json.Unmarshal(params, &p)
	delete(p.Meta.Caps, "extensions")
	if p.Meta.Caps == nil {
		p.Meta.Caps = map[string]json.RawMessage{}
	}
	if len(p.Meta.ClientInfo) == 0 {
		p.Meta.ClientInfo = json.RawMessage(`{"name":"mcp-bridge","version":"0"}`)
	}
	init := e.r.request("initialize", mustMarshal(map[string]any{
		"protocolVersion": legacyVersions[len(legacyVersions)-1],
		"capabilities":    p.Meta.Caps,
		"clientInfo":      p.Meta.ClientInfo,
	}))
	resp, err := e.r.roundTrip(ctx, e.r.remote, init)
	if err != nil {
		return fmt.Errorf("initialize the server's session: %w", err)
	}
	if resp.result == nil {
		return fmt.Errorf("initialize the server's session: %s", excerpt(errorObject(resp.Raw), 200))
	}
	e.r.sess.answered(init, resp) // a new session after an expiry replays it
	e.learnLegacy(resp.result)
	var res struct {
		Capabilities json.RawMessage `json:"capabilities"`
	}
	json.Unmarshal(resp.result, &res)
	json.Unmarshal(res.Capabilities, &d.caps)
	initialized, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	e.r.sess.hostInitialized(initialized)
	if err := e.r.remote.Send(ctx, initialized); err != nil {
		return fmt.Errorf("initialize the server's session: %w", err)
	}
	d.started = true
	return nil
}

// legacyDiscover answers a modern host's server/discover for a legacy
// server with the DiscoverResult its InitializeResult translates to. The
// same request comes from a dual-era host, which would fall back to
// initialize, and from a 2026-only host, which would give up: answering
// it, the bridge serves both, as the host's modern server. The session
// starts without a sign-in (see hostDiscover); when it cannot, the host
// gets -32601 and a dual-era host falls back.
func (e *eraStage) legacyDiscover(ctx context.Context, m *Message) error {
	e.mu.Lock()
	discover := e.discover
	e.mu.Unlock()
	if discover == nil {
		if err := e.startLegacySession(withoutSignIn(ctx), m.params); err != nil {
			e.r.log.Info("answering the host's server/discover without the server", "err", err)
			e.r.toHost(errorResponse(m.ID, codeMethodNotFound, "Method not found: the server speaks an initialize-based protocol revision, and mcp-bridge could not start its session ("+err.Error()+")"))
			return nil
		}
		e.mu.Lock()
		discover = e.discover
		e.mu.Unlock()
	}
	e.r.toHost(resultResponse(m.ID, discover))
	return nil
}

// learnLegacy keeps, for a legacy server, the DiscoverResult that its
// InitializeResult translates to, here and in the cache, so that the next
// start answers server/discover with no request.
func (e *eraStage) learnLegacy(initResult []byte) {
	if server, _ := e.eras(); server != eraLegacy || initResult == nil {
		return
	}
	d := synthesizeDiscover(initResult)
	e.mu.Lock()
	var cur bytes.Buffer
	json.Compact(&cur, e.discover) // the cache may have indented it
	same := bytes.Equal(d, cur.Bytes())
	e.mu.Unlock()
	if !same {
		e.settle(eraLegacy, d)
	}
}

// synthesizeDiscover makes a DiscoverResult from a legacy server's
// InitializeResult (research note §3.2): its capabilities but the legacy
// tasks, instructions and serverInfo; no caching (ttlMs 0, private).
func synthesizeDiscover(initResult []byte) json.RawMessage {
	var r struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
		ServerInfo   json.RawMessage            `json:"serverInfo"`
		Instructions json.RawMessage            `json:"instructions"`
	}
	json.Unmarshal(initResult, &r)
	if r.Capabilities == nil {
		r.Capabilities = map[string]json.RawMessage{}
	}
	delete(r.Capabilities, "tasks")
	d := map[string]any{
		"supportedVersions": []string{modernVersion},
		"capabilities":      r.Capabilities,
		"resultType":        "complete",
		"ttlMs":             0,
		"cacheScope":        "private",
	}
	if len(r.Instructions) > 0 {
		d["instructions"] = r.Instructions
	}
	if len(r.ServerInfo) > 0 {
		d["_meta"] = map[string]json.RawMessage{metaServerInfo: r.ServerInfo}
	}
	return mustMarshal(d)
}

// downgradeListen serves a modern host's subscriptions/listen from the
// legacy session's notifications, until the host cancels it.
func (e *eraStage) downgradeListen(ctx context.Context, m *Message) error {
	d := &e.down
	l := &hostListen{id: m.ID}
	var p struct {
		Notifications json.RawMessage `json:"notifications"`
	}
	json.Unmarshal(m.params, &p)
	json.Unmarshal(p.Notifications, &l.filter)
	c := d.caps
	l.filter.Tools = l.filter.Tools && c.Tools != nil && c.Tools.ListChanged
	l.filter.Prompts = l.filter.Prompts && c.Prompts != nil && c.Prompts.ListChanged
	l.filter.Resources = l.filter.Resources && c.Resources != nil && c.Resources.ListChanged
	if c.Resources == nil || !c.Resources.Subscribe {
		l.filter.URIs = nil
	}
	for _, uri := range l.filter.URIs {
		sub := e.r.request("resources/subscribe", mustMarshal(map[string]string{"uri": uri}))
		if resp, err := e.r.roundTrip(ctx, e.r.remote, sub); err != nil || resp.result == nil {
			e.r.log.Warn("subscribing to a resource for the host's listen failed", "uri", uri, "err", err)
			l.filter.URIs = slices.DeleteFunc(l.filter.URIs, func(u string) bool { return u == uri })
		}
	}
	ack := mustMarshal(map[string]any{"notifications": l.filter, "_meta": map[string]json.RawMessage{metaSubscriptionID: m.ID}})
	n, _ := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":%s}`, ack))
	k := idKey(m.ID)
	d.mu.Lock()
	d.listens[k] = l
	d.mu.Unlock()
	e.r.reply(n)
	<-ctx.Done() // the host's notifications/cancelled, or shutdown
	d.mu.Lock()
	delete(d.listens, k)
	d.mu.Unlock()
	return ctx.Err()
}

// toModernHost adapts a message from a legacy server for a modern host:
// the server's requests on a call's stream are parked with that call, the
// others refused; list changes and resource updates go to the host's
// listens that asked for them, tagged with each one's id.
func (e *eraStage) toModernHost(m *Message) *Message {
	d := &e.down
	switch {
	case m.IsRequest():
		if m.Method == "ping" {
			e.answerServer(resultResponse(m.ID, []byte("{}")))
			return nil
		}
		d.mu.Lock()
		x := d.legs[idKey(m.via)]
		d.mu.Unlock()
		if x != nil && (m.Method == "elicitation/create" || m.Method == "sampling/createMessage" || m.Method == "roots/list") {
			x.asks <- m
			return nil
		}
		e.answerServer(errorResponse(m.ID, codeMethodNotFound, "mcp-bridge: the host speaks protocol revision "+modernVersion+", which carries no "+m.Method+" outside a tools/call, prompts/get or resources/read"))
		return nil
	case m.IsNotification():
		var uri struct {
			URI string `json:"uri"`
		}
		var want func(*hostListen) bool
		switch m.Method {
		case "notifications/tools/list_changed":
			want = func(l *hostListen) bool { return l.filter.Tools }
		case "notifications/prompts/list_changed":
			want = func(l *hostListen) bool { return l.filter.Prompts }
		case "notifications/resources/list_changed":
			want = func(l *hostListen) bool { return l.filter.Resources }
		case "notifications/resources/updated":
			json.Unmarshal(m.params, &uri)
			want = func(l *hostListen) bool { return slices.Contains(l.filter.URIs, uri.URI) }
		case "notifications/elicitation/complete":
			return nil // the host learns the outcome from its retry
		default:
			return m // progress and log messages of a call
		}
		d.mu.Lock()
		var to []*hostListen
		for _, l := range d.listens {
			if want(l) {
				to = append(to, l)
			}
		}
		d.mu.Unlock()
		for _, l := range to {
			params := paramsWithMeta(m.params, mustMarshal(map[string]json.RawMessage{metaSubscriptionID: l.id}))
			if n, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","method":%s,"params":%s}`, mustMarshal(m.Method), params)); err == nil {
				e.r.reply(n)
			}
		}
		return nil
	}
	return m
}

// answerServer sends the server the bridge's answer to one of its
// requests, without holding up the message path.
func (e *eraStage) answerServer(m *Message) {
	e.r.background.Add(1)
	go func() {
		defer e.r.background.Done()
		ctx, cancel := context.WithTimeout(e.r.life, closeTimeout)
		defer cancel()
		if err := e.r.remote.Send(ctx, m); err != nil {
			e.r.log.Debug("answering the server's request failed", "err", err)
		}
	}()
}

// legacyParams returns a modern request's params for a legacy server:
// without the reserved protocol members of _meta, inputResponses and
// requestState.
func legacyParams(params []byte) []byte {
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil || p == nil {
		return params
	}
	delete(p, "inputResponses")
	delete(p, "requestState")
	var meta map[string]json.RawMessage
	if json.Unmarshal(p["_meta"], &meta) == nil {
		for k := range meta {
			if len(k) > len(metaPrefix) && k[:len(metaPrefix)] == metaPrefix {
				delete(meta, k)
			}
		}
		if len(meta) == 0 {
			delete(p, "_meta")
		} else {
			p["_meta"] = mustMarshal(meta)
		}
	}
	if len(p) == 0 {
		return nil
	}
	return mustMarshal(p)
}

// modernResult returns a legacy server's result for a modern host: with
// resultType, and for results the 2026 caching rules cover, a ttlMs of 0
// and a private cacheScope (nothing is known of their freshness).
func modernResult(method string, result []byte) []byte {
	var r map[string]json.RawMessage
	if json.Unmarshal(result, &r) != nil || r == nil {
		return result
	}
	r["resultType"] = json.RawMessage(`"complete"`)
	switch method {
	case "tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read":
		if r["ttlMs"] == nil {
			r["ttlMs"] = json.RawMessage(`0`)
		}
		if r["cacheScope"] == nil {
			r["cacheScope"] = json.RawMessage(`"private"`)
		}
	}
	return mustMarshal(r)
}

// withoutMember returns the object obj without member name.
func withoutMember(obj []byte, name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil || m[name] == nil {
		return obj
	}
	delete(m, name)
	return mustMarshal(m)
}

// newHandle returns an unguessable requestState.
func newHandle() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("bridge: no randomness: " + err.Error()))
	}
	return "mcp-bridge:" + base64.RawURLEncoding.EncodeToString(b)
}
