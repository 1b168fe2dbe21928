package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// The era stage lets hosts and servers of the two protocol eras meet: the
// initialize-based revisions 2024-11-05 to 2025-11-25 ("legacy") and the
// stateless revision 2026-07-28 ("modern": no initialize, no session,
// per-request _meta, server/discover, request metadata headers, multi
// round-trip requests, subscriptions/listen). See the specification's
// basic/versioning ("Backward Compatibility"), basic/transports and
// basic/patterns sections of revision 2026-07-28.
//
// It finds the server's era with server/discover, by the probe rules of
// basic/versioning: a DiscoverResult that shares a version is modern; a
// JSON-RPC error other than a corrective -32022, or a 4xx without a modern
// error, is legacy; a 401/403, 5xx, network failure or silence is no
// evidence and reaches the host as an error. It remembers the verdict in
// [Config.EraCache] so that the next start needs no probe. It finds the
// host's era from its messages: initialize pins legacy, a request with the
// per-request _meta pins modern, server/discover pins nothing.
//
// Each pairing then takes its own path:
//   - legacy host, legacy server: the stage does nothing once the server's
//     era is known (one probe, on the first start); the relay forwards
//     bytes as before.
//   - modern host, modern server: each request goes as it is, with the
//     headers stdio cannot carry derived from it (era_headers.go).
//   - legacy host, modern server: the bridge is the host's dual-era client.
//     It answers initialize from the DiscoverResult, stamps the _meta the
//     host's initialize declared on every request, answers ping,
//     logging/setLevel and resources/(un)subscribe itself, keeps one
//     subscriptions/listen open for the notifications the host may get,
//     and turns input_required results into real requests to the host
//     (era_mrtr.go).
//   - modern host, legacy server: the bridge is the host's modern server.
//     server/discover is answered from the server's InitializeResult, and
//     each request translated to the initialize-based session it holds in
//     the host's name (era_downgrade.go).

// modernVersion is the protocol revision of the modern era that the bridge
// speaks.
const modernVersion = "2026-07-28"

// legacyVersions are the initialize-based revisions a host may ask for
// when the server is modern; the bridge translates each.
var legacyVersions = []string{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}

// JSON-RPC error codes of revision 2026-07-28 (basic/index, "Error Codes").
const (
	codeMethodNotFound     = -32601
	codeHeaderMismatch     = -32020
	codeMissingCapability  = -32021
	codeUnsupportedVersion = -32022
)

// An era is what the stage knows of one side's protocol era.
type era int

const (
	eraUnknown era = iota
	eraLegacy
	eraModern
)

// An EraCache remembers which protocol era a server speaks, and its
// DiscoverResult (a legacy server's made from its InitializeResult), so
// that the next start answers the host's initialize or server/discover
// without a probe. Implementations must be safe for
// concurrent use; failures are not errors.
type EraCache interface {
	// Era returns what SetEra stored under key, or nil.
	Era(key string) []byte
	// SetEra stores verdict under key; nil removes it.
	SetEra(key string, verdict []byte)
}

// eraVerdict is what an [EraCache] holds for one server.
type eraVerdict struct {
	Era      string          `json:"era"` // "legacy" or a modern revision
	Discover json.RawMessage `json:"discover,omitempty"`
}

// probeTimeout bounds a server/discover probe. Silence is no evidence of
// a legacy server: it fails the request that needed the probe.
const probeTimeout = 30 * time.Second

// eraStage is the relay's protocol era stage. Its methods are safe for
// concurrent use.
type eraStage struct {
	r     *Relay
	cache EraCache // may be nil
	key   string   // of this server in cache
	tools toolHeaders

	probing sync.Mutex // held while the server's era is found out

	mu         sync.Mutex // guards the fields below
	server     era
	discover   json.RawMessage            // the server's DiscoverResult, when modern
	host       era                        // pinned by the host's first initialize or modern request
	stamp      map[string]json.RawMessage // _meta members for a legacy host's requests to a modern server
	hostCaps   hostCapabilities
	logLevel   json.RawMessage            // from the host's logging/setLevel
	metaCache  []byte                     // meta()'s answer, until stamp or logLevel changes
	subs       map[string]bool            // resources the host subscribed to
	asks       map[string]chan<- *Message // requests to the host awaiting its answer, by idKey
	listening  bool                       // the listen loop runs
	kick       chan struct{}              // wakes the listen loop: its filter changed
	stopListen context.CancelFunc         // ends the current listen request

	down downgrade // for a modern host and a legacy server
}

func newEraStage(r *Relay, cache EraCache, key string) *eraStage {
	e := &eraStage{r: r, cache: cache, key: key, asks: map[string]chan<- *Message{}, kick: make(chan struct{}, 1)}
	e.down.legs, e.down.parked, e.down.listens = map[string]*exchange{}, map[string]*exchange{}, map[string]*hostListen{}
	return e
}

// hostTakesURLs reports whether the host is a legacy one that declared
// URL-mode elicitation.
func (e *eraStage) hostTakesURLs() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.host == eraLegacy && e.hostCaps.Elicitation != nil && e.hostCaps.Elicitation.URL != nil
}

// modern reports whether the server is known to be modern.
func (e *eraStage) modern() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.server == eraModern
}

func (e *eraStage) eras() (server, host era) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.server, e.host
}

// ToServer handles, without blocking, what a modern server must not see:
// notifications and responses (the core protocol has none from client to
// server over HTTP; the relay has already acted on notifications/cancelled)
// and, for a legacy host, the methods 2026-07-28 removed.
func (e *eraStage) ToServer(m *Message) (forward, answer *Message) {
	server, host := e.eras()
	if server == eraLegacy && host == eraModern && !m.IsRequest() {
		return nil, nil // the bridge holds the server's session: nothing of the host's concerns it
	}
	if server != eraModern || m.Batch != nil {
		return m, nil
	}
	if !m.IsRequest() {
		if host == eraLegacy && m.Method == "notifications/initialized" {
			e.startListen()
		}
		return nil, nil
	}
	if host != eraLegacy {
		return m, nil
	}
	switch m.Method {
	case "ping":
	case "logging/setLevel":
		var p struct {
			Level json.RawMessage `json:"level"`
		}
		if json.Unmarshal(m.params, &p) != nil || len(p.Level) == 0 {
			return nil, errorResponse(m.ID, -32602, "logging/setLevel needs a level")
		}
		e.mu.Lock()
		e.logLevel, e.metaCache = p.Level, nil
		e.mu.Unlock()
	case "resources/subscribe", "resources/unsubscribe":
		var p struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(m.params, &p) != nil || p.URI == "" {
			return nil, errorResponse(m.ID, -32602, m.Method+" needs a uri")
		}
		e.mu.Lock()
		if e.subs == nil {
			e.subs = map[string]bool{}
		}
		if m.Method == "resources/subscribe" {
			e.subs[p.URI] = true
		} else {
			delete(e.subs, p.URI)
		}
		e.mu.Unlock()
		e.startListen()
	default:
		return m, nil
	}
	return nil, resultResponse(m.ID, []byte("{}"))
}

// ToHost adapts what a modern server sends to the host: for a legacy host
// it drops the listen acknowledgement and the subscription tag of listen
// notifications; for a modern host it removes from tools/list results the
// tools whose x-mcp-header annotations are invalid, and learns the others.
func (e *eraStage) ToHost(m *Message, method string) *Message {
	server, host := e.eras()
	if server == eraLegacy && host == eraModern && m.Batch == nil {
		return e.toModernHost(m)
	}
	if server != eraModern || m.Batch != nil {
		return m
	}
	switch {
	case m.IsNotification() && host == eraLegacy:
		if m.Method == "notifications/subscriptions/acknowledged" {
			e.r.log.Debug("the server acknowledged the subscription", "params", excerpt(m.params, 200))
			return nil
		}
		return withoutMeta(m, metaSubscriptionID)
	case method == "tools/list" && m.result != nil && host == eraModern:
		if res := e.observeTools(m.result); len(res) != len(m.result) {
			return resultResponse(m.ID, res)
		}
	}
	return m
}

func (e *eraStage) observeTools(result []byte) []byte {
	return e.tools.observe(result, func(tool string, err error) {
		e.r.log.Warn("hiding a tool whose definition is invalid (streamable-http, x-mcp-header)", "tool", tool, "err", err)
	})
}

// send takes over the requests that cross eras, and reports whether it
// did; the others go to the relay's plain path.
func (e *eraStage) send(ctx context.Context, m *Message) (bool, error) {
	if m.Batch != nil || !m.IsRequest() {
		return false, nil
	}
	server, host := e.eras()
	if host == eraLegacy && m.Method != "initialize" {
		if server != eraModern {
			return false, nil // the 2025 path: bytes as they came
		}
		return true, e.legacyCall(ctx, m)
	}
	switch m.Method {
	case "initialize":
		return true, e.initialize(ctx, m)
	case "server/discover":
		return true, e.hostDiscover(ctx, m)
	}
	env := parseReqFields(m.params)
	if env.Meta.ProtocolVersion == "" {
		return false, nil // a legacy request before initialize
	}
	e.mu.Lock()
	if e.host == eraUnknown {
		e.host = eraModern
	}
	e.mu.Unlock()
	if server, _ = e.rememberedEra(); server == eraUnknown {
		var err error
		if server, err = e.probeNow(ctx, metaOf(m.params), true); err != nil {
			return true, err
		}
	}
	if server == eraLegacy {
		return true, e.downgradeCall(ctx, m)
	}
	return true, e.modernCall(ctx, m, &env)
}

// initialize handles a legacy host's initialize. A server not yet known
// is asked with server/discover first (basic/versioning, "Backward
// Compatibility": a dual-era client probes), so that the bridge is the
// host's modern client wherever the server is modern, dual-era servers
// included: they serve initialize only statelessly, without the requests
// to the host and the notifications a modern client gets. A modern
// server's answer becomes the host's InitializeResult; a legacy server
// gets the host's initialize as it is, and the 2025 path stays as it was.
// A server remembered as legacy that refuses initialize as a modern-only
// server does is asked again.
func (e *eraStage) initialize(ctx context.Context, m *Message) error {
	e.mu.Lock()
	if e.host == eraModern {
		e.mu.Unlock()
		e.r.toHost(unsupportedVersion(m.ID, "", []string{modernVersion}))
		return nil
	}
	e.host = eraLegacy
	e.hostCaps, e.stamp = parseHostInit(m.params)
	e.metaCache = nil
	meta := mustMarshal(e.stamp)
	e.mu.Unlock()

	server, _ := e.rememberedEra()
	if server == eraUnknown {
		var err error
		if server, err = e.probeNow(ctx, meta, true); err != nil {
			if _, ok := errors.AsType[*signInError](err); ok || ctx.Err() != nil {
				return err
			}
			// No evidence either way: the host's initialize tells.
			e.r.log.Debug("server/discover failed; sending initialize", "err", err)
		}
	}
	if server == eraModern {
		e.answerInitialize(m)
		return nil
	}
	err := e.r.sendPlain(ctx, m)
	if !modernRefusal(err) {
		return err
	}
	e.r.log.Info("the server refused initialize as a server of protocol revision " + modernVersion + " does; asking it with server/discover")
	if server, perr := e.probeNow(ctx, meta, true); perr != nil || server != eraModern {
		if perr != nil {
			e.r.log.Warn("server/discover failed", "err", perr)
		}
		return err
	}
	e.answerInitialize(m)
	return nil
}

// modernRefusal reports whether err is the server's refusal of a request
// with a JSON-RPC error that only a modern server sends: a missing header,
// capability or _meta, an unsupported version, or (answering initialize)
// an unknown method.
func modernRefusal(err error) bool {
	se, ok := errors.AsType[*StatusError](err)
	if !ok || se.Status < 400 || se.Status > 499 {
		return false
	}
	switch rpcCode(se.RPCError) {
	case codeHeaderMismatch, codeMissingCapability, codeUnsupportedVersion, -32602, codeMethodNotFound:
		return true
	}
	return false
}

// rememberedEra returns the era known or remembered for the server, and
// whether it came from the cache, adopting a remembered one.
func (e *eraStage) rememberedEra() (era, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.server != eraUnknown {
		return e.server, false
	}
	if e.cache == nil {
		return eraUnknown, false
	}
	var v eraVerdict
	if json.Unmarshal(e.cache.Era(e.key), &v) != nil {
		return eraUnknown, false
	}
	switch {
	case v.Era == "legacy":
		e.server, e.discover = eraLegacy, v.Discover
	case v.Era == modernVersion && len(v.Discover) > 0:
		e.server, e.discover = eraModern, v.Discover
	default:
		return eraUnknown, false
	}
	return e.server, true
}

// stillModern forgets the verdict that the server is modern when err, the
// failure of a request sent as to a modern server, is an HTTP error a
// modern server would not give (no modern JSON-RPC error, not an
// authorization or server failure): the next start asks the server again.
func (e *eraStage) stillModern(err error) {
	se, ok := errors.AsType[*StatusError](err)
	if !ok || se.Status < 400 || se.Status > 499 || se.Status == 401 || se.Status == 403 || se.Status == 429 || modernRefusal(err) {
		return
	}
	e.r.log.Warn("the server answered as it would not under protocol revision " + modernVersion + "; the next start asks it which revision it speaks")
	e.forget()
}

// forget drops the verdict on the server's era, here and in the cache.
func (e *eraStage) forget() {
	e.mu.Lock()
	e.server, e.discover = eraUnknown, nil
	e.mu.Unlock()
	if e.cache != nil {
		e.cache.SetEra(e.key, nil)
	}
}

// probeNow probes the server's era and records it. Concurrent callers
// share one probe.
func (e *eraStage) probeNow(ctx context.Context, meta []byte, interactive bool) (era, error) {
	e.mu.Lock()
	before := e.server
	e.mu.Unlock()
	e.probing.Lock()
	defer e.probing.Unlock()
	e.mu.Lock()
	server := e.server
	e.mu.Unlock()
	if server != before && server != eraUnknown {
		return server, nil // another caller's probe answered meanwhile
	}
	server, discover, err := e.probe(ctx, meta, modernVersion, interactive)
	if err != nil {
		return eraUnknown, err
	}
	e.settle(server, discover)
	return server, nil
}

// settle records the server's era, here and in the cache.
func (e *eraStage) settle(server era, discover json.RawMessage) {
	e.mu.Lock()
	e.server, e.discover = server, discover
	e.mu.Unlock()
	v := eraVerdict{Era: "legacy", Discover: discover}
	if server == eraModern {
		v.Era = modernVersion
		e.r.log.Info("the server speaks protocol revision " + modernVersion)
	} else {
		e.r.log.Debug("the server speaks an initialize-based protocol revision")
	}
	if e.cache != nil {
		if data, err := json.Marshal(v); err == nil {
			e.cache.SetEra(e.key, data)
		}
	}
}

// probe sends server/discover at version and classifies the answer
// (basic/versioning, "Backward Compatibility"; streamable-http, "Backward
// Compatibility"). On a modern verdict the probe's transport becomes the
// relay's.
func (e *eraStage) probe(ctx context.Context, meta []byte, version string, interactive bool) (era, json.RawMessage, error) {
	return e.probeAt(ctx, meta, version, interactive, false)
}

// probeAt is probe; retried says it is the one retry a corrective -32022
// gets, even one that names the version already sent (a refusal the
// server means as transient).
func (e *eraStage) probeAt(ctx context.Context, meta []byte, version string, interactive, retried bool) (era, json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if !interactive {
		ctx = withoutSignIn(ctx)
	}
	tr := e.r.remote.current()
	var st remote
	if tr != nil {
		st = tr.remote
	} else {
		st = newStreamable(e.r.remote.leg)
	}
	req := e.r.request("server/discover", paramsWithMeta(nil, meta))
	req.header = modernHeaders("server/discover", version, &reqFields{}, nil)
	resp, err := e.r.roundTrip(ctx, st, req)
	verdict, corrective, cerr := classifyDiscover(resp, err)
	switch {
	case corrective != "" && !retried:
		st.abandon()
		e.r.log.Debug("the server asks for protocol revision "+corrective+"; asking once more", "sent", version)
		return e.probeAt(ctx, meta, corrective, interactive, true)
	case corrective != "":
		cerr = fmt.Errorf("the server refused protocol revision %s twice, asking for %s", version, corrective)
	case cerr == nil && verdict == eraModern && (resp == nil || resp.result == nil):
		cerr = errors.New("the server answered server/discover with no result")
	}
	if cerr != nil || verdict != eraModern {
		if tr == nil {
			st.abandon()
		}
		if cerr != nil {
			return eraUnknown, nil, fmt.Errorf("find out the server's protocol revision: %w", cerr)
		}
		return eraLegacy, nil, nil
	}
	if tr == nil && !e.r.remote.adopt(st) {
		st.abandon()
	}
	return eraModern, resp.result, nil
}

// classifyDiscover reads the answer to server/discover: the era it shows,
// or a modern version to try once more with (a corrective -32022), or an
// error when it is no evidence either way.
func classifyDiscover(resp *Message, err error) (verdict era, corrective string, _ error) {
	var rpcErr json.RawMessage
	switch se, ok := errors.AsType[*StatusError](err); {
	case err == nil && resp.result != nil:
		var res struct {
			SupportedVersions []string `json:"supportedVersions"`
		}
		if json.Unmarshal(resp.result, &res) == nil && slices.Contains(res.SupportedVersions, modernVersion) {
			return eraModern, "", nil
		}
		return eraLegacy, "", nil
	case err == nil:
		rpcErr = errorObject(resp.Raw)
	case ok && (se.Status == 401 || se.Status == 403 || se.Status >= 500 || se.Status == 429):
		return eraUnknown, "", err
	case ok:
		rpcErr = se.RPCError
	default:
		return eraUnknown, "", err
	}
	if rpcCode(rpcErr) == codeUnsupportedVersion {
		var e struct {
			Data struct {
				Supported []string `json:"supported"`
			} `json:"data"`
		}
		json.Unmarshal(rpcErr, &e)
		if slices.Contains(e.Data.Supported, modernVersion) {
			return eraModern, modernVersion, nil
		}
	}
	return eraLegacy, "", nil
}

// hostDiscover answers a host's server/discover. It never starts a
// sign-in: hosts probe on a process they throw away. A modern server's
// answer goes to the host; a legacy server's is made by the bridge
// (legacyDiscover). A server that cannot be asked without a sign-in gets
// the host -32601, on which a dual-era host falls back to initialize, and
// which tells a host that speaks only this era how to sign in.
func (e *eraStage) hostDiscover(ctx context.Context, m *Message) error {
	env := parseReqFields(m.params)
	version := env.Meta.ProtocolVersion
	if version == "" {
		version = modernVersion
	}
	server, _ := e.rememberedEra()
	if server == eraLegacy {
		return e.legacyDiscover(ctx, m)
	}
	e.probing.Lock()
	verdict, discover, err := e.probe(ctx, metaOf(m.params), version, false)
	if err == nil && server == eraUnknown {
		e.settle(verdict, discover)
	}
	e.probing.Unlock()
	switch {
	case err == nil && verdict == eraModern:
		e.r.toHost(resultResponse(m.ID, discover))
	case err == nil:
		return e.legacyDiscover(ctx, m)
	default:
		e.mu.Lock()
		cached := e.discover
		e.mu.Unlock()
		if cached != nil {
			e.r.toHost(resultResponse(m.ID, cached))
			return nil
		}
		e.r.log.Info("answering the host's server/discover without the server's", "err", err)
		msg := "Method not found: mcp-bridge could not ask the server (" + err.Error() + ")"
		if advice := e.r.signInAdvice(err); advice != nil {
			// For a host of this era alone, the last word it gets.
			msg = "Method not found: mcp-bridge could not ask the server before a sign-in: " + advice.Error()
		}
		e.r.toHost(errorResponse(m.ID, codeMethodNotFound, msg))
	}
	return nil
}

// modernCall sends a modern host's request to a modern server with the
// request metadata headers; a header mismatch on tools/call refreshes the
// tools' annotations and sends it once more.
func (e *eraStage) modernCall(ctx context.Context, m *Message, env *reqFields) error {
	c := *m
	c.header = modernHeaders(m.Method, env.Meta.ProtocolVersion, env, &e.tools)
	// Not sendPlain: its first message would hold the choice of transport
	// until answered, and a subscriptions/listen is answered only at its end.
	err := e.r.remote.stateless().Send(ctx, &c)
	if !isHeaderMismatch(err) || m.Method != "tools/call" {
		e.stillModern(err)
		return err
	}
	e.r.log.Info("the server refused the request's headers; listing its tools again", "tool", env.Name)
	if rerr := e.refreshTools(ctx, metaOf(m.params), env.Meta.ProtocolVersion); rerr != nil {
		e.r.log.Warn("listing the tools again failed", "err", rerr)
		return err
	}
	c.header = modernHeaders(m.Method, env.Meta.ProtocolVersion, env, &e.tools)
	return e.r.sendPlain(ctx, &c)
}

// refreshTools lists the server's tools, every page, to learn their
// x-mcp-header annotations. meta is the _meta its requests carry.
func (e *eraStage) refreshTools(ctx context.Context, meta []byte, version string) error {
	up := e.r.remote.stateless()
	cursor := json.RawMessage(nil)
	for range 100 {
		params := paramsWithMeta(nil, meta)
		if cursor != nil {
			params = setMember(params, "cursor", cursor)
		}
		req := e.r.request("tools/list", params)
		req.header = modernHeaders("tools/list", version, &reqFields{}, nil)
		resp, err := e.r.roundTrip(ctx, up, req)
		if err != nil {
			return err
		}
		if resp.result == nil {
			return fmt.Errorf("tools/list: %s", excerpt(resp.Raw, 200))
		}
		e.observeTools(resp.result)
		var page struct {
			NextCursor json.RawMessage `json:"nextCursor"`
		}
		json.Unmarshal(resp.result, &page)
		if len(page.NextCursor) == 0 || string(page.NextCursor) == "null" {
			return nil
		}
		cursor = page.NextCursor
	}
	return errors.New("tools/list: more than 100 pages")
}

func isHeaderMismatch(err error) bool {
	se, ok := errors.AsType[*StatusError](err)
	return ok && rpcCode(se.RPCError) == codeHeaderMismatch
}

// answerInitialize answers a legacy host's initialize from the modern
// server's DiscoverResult.
func (e *eraStage) answerInitialize(m *Message) {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	json.Unmarshal(m.params, &p)
	version := p.ProtocolVersion
	if !slices.Contains(legacyVersions, version) {
		version = legacyVersions[len(legacyVersions)-1]
	}
	e.mu.Lock()
	discover := e.discover
	e.mu.Unlock()
	var d struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
		Instructions json.RawMessage            `json:"instructions"`
		Meta         map[string]json.RawMessage `json:"_meta"`
	}
	json.Unmarshal(discover, &d)
	if d.Capabilities == nil {
		d.Capabilities = map[string]json.RawMessage{}
	}
	delete(d.Capabilities, "extensions") // none that the bridge can serve
	res := map[string]json.RawMessage{"capabilities": mustMarshal(d.Capabilities)}
	res["protocolVersion"] = mustMarshal(version)
	res["serverInfo"] = d.Meta[metaServerInfo]
	if len(res["serverInfo"]) == 0 {
		res["serverInfo"] = json.RawMessage(`{"name":"unknown","version":""}`)
	}
	if len(d.Instructions) > 0 {
		res["instructions"] = d.Instructions
	}
	e.r.toHost(resultResponse(m.ID, mustMarshal(res)))
}

// hostCapabilities is what the stage reads of a legacy host's
// capabilities, to know which input requests it may pass on.
type hostCapabilities struct {
	Roots    *struct{} `json:"roots"`
	Sampling *struct {
		Tools *struct{} `json:"tools"`
	} `json:"sampling"`
	Elicitation *struct {
		Form *struct{} `json:"form"`
		URL  *struct{} `json:"url"`
	} `json:"elicitation"`
}

// parseHostInit reads a legacy host's initialize params: its capabilities,
// and the _meta members its requests carry to a modern server (the
// version, its capabilities without the 2025-11-25 tasks, which the modern
// era moved to an extension the bridge does not serve, and its clientInfo).
func parseHostInit(params []byte) (hostCapabilities, map[string]json.RawMessage) {
	var p struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
		ClientInfo   json.RawMessage            `json:"clientInfo"`
	}
	json.Unmarshal(params, &p)
	var caps hostCapabilities
	json.Unmarshal(mustMarshal(p.Capabilities), &caps)
	delete(p.Capabilities, "tasks")
	if p.Capabilities == nil {
		p.Capabilities = map[string]json.RawMessage{}
	}
	stamp := map[string]json.RawMessage{
		metaVersion:      mustMarshal(modernVersion),
		metaCapabilities: mustMarshal(p.Capabilities),
	}
	if len(p.ClientInfo) > 0 {
		stamp[metaClientInfo] = p.ClientInfo
	}
	return caps, stamp
}

// metaOf returns the reserved protocol members of params' _meta, as a JSON
// object, for the bridge's own requests on the host's behalf.
func metaOf(params []byte) []byte {
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	json.Unmarshal(params, &p)
	out := map[string]json.RawMessage{}
	for k, v := range p.Meta {
		if len(k) > len(metaPrefix) && k[:len(metaPrefix)] == metaPrefix {
			out[k] = v
		}
	}
	return mustMarshal(out)
}

// paramsWithMeta returns params (an object, or nil for none) with the
// members of meta (an object) set in its _meta, keeping the others.
func paramsWithMeta(params, meta []byte) []byte {
	if out, ok := spliceMeta(params, meta); ok {
		return out
	}
	var m map[string]json.RawMessage
	json.Unmarshal(params, &m)
	var fields map[string]json.RawMessage
	json.Unmarshal(meta, &fields)
	var cur map[string]json.RawMessage
	json.Unmarshal(m["_meta"], &cur)
	if cur == nil {
		cur = map[string]json.RawMessage{}
	}
	for k, v := range fields {
		cur[k] = v
	}
	return setMember(params, "_meta", mustMarshal(cur))
}

// spliceMeta is paramsWithMeta without decoding: meta's members written
// into params, every other byte as it came. It declines (false) where
// params' _meta may hold one of them already (a member of the reserved
// prefix, or an escaped name), which paramsWithMeta then replaces.
func spliceMeta(params, meta []byte) ([]byte, bool) {
	meta = bytes.TrimSpace(meta)
	if len(meta) < 2 || meta[0] != '{' || meta[skipSpace(meta, 1)] == '}' {
		return nil, false
	}
	p := bytes.TrimSpace(params)
	if len(p) == 0 || string(p) == "null" {
		return slices.Concat([]byte(`{"_meta":`), meta, []byte(`}`)), true
	}
	if p[0] != '{' {
		return nil, false
	}
	var cur []byte
	eachMember(p, func(key, val []byte) {
		if string(key) == "_meta" {
			cur = val
		}
	})
	insert, at := slices.Concat([]byte(`"_meta":`), meta), 1
	if cur != nil {
		if cur[0] != '{' || bytes.IndexByte(cur, '\\') >= 0 || bytes.Contains(cur, []byte(`"`+metaPrefix)) {
			return nil, false
		}
		// cur is a slice of p: its offset is the difference of their caps.
		insert, at = meta[1:len(meta)-1], cap(p)-cap(cur)+1
	}
	if p[skipSpace(p, at)] != '}' {
		insert = append(slices.Clip(insert), ',')
	}
	return slices.Concat(p[:at], insert, p[at:]), true
}

// setMember returns the object obj (nil for an empty one) with member
// name set to value.
func setMember(obj []byte, name string, value json.RawMessage) []byte {
	var m map[string]json.RawMessage
	json.Unmarshal(obj, &m)
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	m[name] = value
	return mustMarshal(m)
}

// withoutMeta returns notification m without the member key of its
// params' _meta, or m itself if it has none.
func withoutMeta(m *Message, key string) *Message {
	var p map[string]json.RawMessage
	if json.Unmarshal(m.params, &p) != nil {
		return m
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(p["_meta"], &meta) != nil || meta[key] == nil {
		return m
	}
	delete(meta, key)
	if len(meta) == 0 {
		delete(p, "_meta")
	} else {
		p["_meta"] = mustMarshal(meta)
	}
	raw := fmt.Appendf(nil, `{"jsonrpc":"2.0","method":%s`, mustMarshal(m.Method))
	if len(p) > 0 {
		raw = fmt.Appendf(raw, `,"params":%s`, mustMarshal(p))
	}
	out, err := ParseMessage(append(raw, '}'))
	if err != nil {
		return m
	}
	return out
}

func mustMarshal(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic("bridge: " + err.Error())
	}
	return data
}

// rpcCode returns the code of a JSON-RPC error object, or 0.
func rpcCode(obj json.RawMessage) int {
	var e struct {
		Code int `json:"code"`
	}
	json.Unmarshal(obj, &e)
	return e.Code
}

// errorObject returns the error member of a response's raw JSON.
func errorObject(raw []byte) json.RawMessage {
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	json.Unmarshal(raw, &r)
	return r.Error
}

// resultResponse builds a response with the given raw id and result.
func resultResponse(id []byte, result []byte) *Message {
	m, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":%s}`, id, result))
	if err != nil {
		panic("bridge: malformed result: " + err.Error())
	}
	return m
}

// unsupportedVersion builds the -32022 error that names the versions the
// host may use (basic/index, "Error Codes").
func unsupportedVersion(id []byte, requested string, supported []string) *Message {
	data := mustMarshal(map[string]any{"supported": supported, "requested": requested})
	msg := mustMarshal("Unsupported protocol version: mcp-bridge reaches this server with " + fmt.Sprint(supported))
	m, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%s,"data":%s}}`, id, codeUnsupportedVersion, msg, data))
	if err != nil {
		panic("bridge: " + err.Error())
	}
	return m
}
