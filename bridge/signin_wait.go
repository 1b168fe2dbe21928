package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Hosts wait 5 to 30 seconds for the answer to initialize, then kill the
// bridge; a person signing in with SSO and MFA takes minutes (issue 12,
// "Hosts give up long before a person signs in"). So when the host's
// initialize waits on a sign-in that waits for the user, and the relay
// remembers the server's InitializeResult from an earlier session, the
// relay answers initialize from it after [Config.SignInGrace], with
// listChanged declared for tools, prompts and resources. The server's own
// initialize goes on, under an id of the relay's own (the host never sees
// a second answer). Meanwhile the host's notifications are held, to go
// out in order once the server's session is set up, and its requests
// wait for that, at most [Config.SignInWait]: then they are answered with
// an error that tells how to finish signing in. Once the sign-in
// completes and the server has answered initialize, the relay sends the
// held notifications and tells the host to list again
// (notifications/tools/list_changed and the others it declared).
//
// Without a remembered result, initialize waits for the sign-in, bounded
// by the login timeout, as before. A host of revision 2026-07-28 sends no
// initialize: its server/discover is answered from the era cache without
// a sign-in (eraStage.hostDiscover).

// An InitializeCache remembers a server's last InitializeResult, or what
// of it may be kept in a plain file: protocolVersion, capabilities,
// serverInfo and instructions. Implementations must be safe for
// concurrent use; failures are not errors.
type InitializeCache interface {
	// Initialize returns the result stored under key, or nil.
	Initialize(key string) []byte
	// SetInitialize stores result under key.
	SetInitialize(key string, result []byte)
}

// A signInPender is an [auth.OAuthHandler] that tells whether a sign-in
// waits for the user (oauthclient's Handler.SignInPending): it returns a
// [PendingSignIn] while one does, else nil.
type signInPender interface {
	SignInPending() error
}

// Defaults of [Config.SignInGrace] and [Config.SignInWait].
const (
	defaultSignInGrace = 2 * time.Second
	defaultSignInWait  = 20 * time.Second
)

// pendingPoll is how often, past the grace, the relay asks whether the
// host's initialize waits on a sign-in.
const pendingPoll = 200 * time.Millisecond

// listed are the capabilities whose lists the host is told to fetch again
// once signed in.
var listed = []string{"tools", "prompts", "resources"}

// cachedInit is what the relay keeps of an InitializeResult.
type cachedInit struct {
	ProtocolVersion string                     `json:"protocolVersion"`
	Capabilities    map[string]json.RawMessage `json:"capabilities"`
	ServerInfo      json.RawMessage            `json:"serverInfo,omitempty"`
	Instructions    json.RawMessage            `json:"instructions,omitempty"`
}

// earlyInit is the host's session while it runs ahead of the server's:
// from the host's initialize, when a remembered result may answer it,
// until the server's session is set up.
type earlyInit struct {
	host   *Message // the host's initialize
	cached []byte   // the remembered result

	mu       sync.Mutex    // guards the fields below
	answered bool          // the host has had the remembered result
	open     bool          // the server's session is set up: nothing is held
	held     []*Message    // the host's notifications and responses, in order
	attempt  chan struct{} // closed when the server's initialize in progress ends; nil if none
	err      error         // why the last one failed
	notice   error         // what the user must do, when the sign-in said so at once (no browser opened)
}

// rememberInit keeps what may be kept of result, the server's
// InitializeResult, unless it is what the cache has.
func (r *Relay) rememberInit(result []byte) {
	if r.initCache == nil || result == nil {
		return
	}
	var c cachedInit
	if json.Unmarshal(result, &c) != nil || c.ProtocolVersion == "" {
		return
	}
	if c.Capabilities == nil {
		c.Capabilities = map[string]json.RawMessage{}
	}
	data, err := json.Marshal(c)
	if err != nil {
		return
	}
	var cur bytes.Buffer
	json.Compact(&cur, r.initCache.Initialize(r.initKey)) // the cache may have indented it
	if !bytes.Equal(data, cur.Bytes()) {
		r.initCache.SetInitialize(r.initKey, data)
	}
}

// earlyFor returns, for the host's initialize m, the early session that
// may answer it from the cache: if the cache has a result for the
// protocol revision m asks for, the authorization handler tells of
// pending sign-ins, and no early session was started before. Otherwise it
// returns nil: m takes the usual path.
func (r *Relay) earlyFor(m *Message) *earlyInit {
	if r.initCache == nil || m.Batch != nil || r.pender() == nil {
		return nil
	}
	if _, host := r.era.eras(); host == eraModern {
		return nil
	}
	cached := r.initCache.Initialize(r.initKey)
	var c cachedInit
	if len(cached) == 0 || json.Unmarshal(cached, &c) != nil {
		return nil
	}
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	json.Unmarshal(m.params, &p)
	if c.ProtocolVersion == "" || c.ProtocolVersion != p.ProtocolVersion {
		return nil // a result of another revision: the host could not trust it
	}
	e := &earlyInit{host: m, cached: cached}
	if !r.early.CompareAndSwap(nil, e) {
		return nil
	}
	return e
}

// pender returns the authorization handler as a [signInPender], or nil.
func (r *Relay) pender() signInPender {
	p, _ := r.cfg.OAuthHandler.(signInPender)
	return p
}

// hold keeps m, a notification or response of the host's, until the
// server's session is set up, and reports whether it did.
func (e *earlyInit) hold(m *Message) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open {
		return false
	}
	e.held = append(e.held, m)
	return true
}

// attemptResult is the outcome of the server's initialize.
type attemptResult struct {
	resp *Message
	err  error
}

// initializeEarly runs the host's initialize m upstream, under an id of
// the relay's own, and answers the host: with the server's answer if it
// comes in time, else, when a sign-in holds it up, from the cache. It
// ends the work that fromHost counted in r.calls.
func (r *Relay) initializeEarly(ctx context.Context, e *earlyInit, cancel context.CancelFunc) {
	defer r.calls.Done()
	defer cancel()
	// Once the host has its answer nothing of the host's cancels this:
	// only the relay's end does.
	ctx, stop := context.WithTimeout(ctx, renewTimeout)
	defer stop()
	defer context.AfterFunc(r.life, stop)()

	e.mu.Lock()
	e.attempt = make(chan struct{})
	e.mu.Unlock()
	noticed := make(chan struct{}, 1)
	results := make(chan attemptResult, 1)
	go func() { results <- r.initAttempt(ctx, e, noticed) }()

	grace := time.NewTimer(r.cfg.SignInGrace)
	defer grace.Stop()
	var poll <-chan time.Time
	pending := false
	for {
		select {
		case a := <-results:
			e.mu.Lock()
			answered := e.answered
			e.mu.Unlock()
			if answered {
				r.sessionReady(e, a)
				return
			}
			if a.err != nil {
				r.early.Store(nil)
				r.failed(e.host, a.err)
				return
			}
			r.toHost(a.resp.withID(e.host.ID))
			r.openEarly(e)
			return
		case <-noticed:
			pending = true
		case <-grace.C:
			t := time.NewTicker(pendingPoll)
			defer t.Stop()
			poll = t.C
		case <-poll:
		}
		if poll != nil && (pending || r.pender().SignInPending() != nil) {
			poll = nil
			r.answerEarly(e)
		}
	}
}

// initAttempt sends the host's initialize m to the server under a new id
// of the relay's own and returns the server's answer. A sign-in that
// answers the request at once while it goes on (no browser could open)
// is told of on noticed, waited for, and m sent again.
func (r *Relay) initAttempt(ctx context.Context, e *earlyInit, noticed chan<- struct{}) attemptResult {
	m := e.host
	resp, err := r.roundTrip(ctx, senderFunc(r.send), m.withID(r.newID()))
	var p PendingSignIn
	if err != nil && errors.As(err, &p) {
		e.mu.Lock()
		e.notice = err
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.notice = nil
			e.mu.Unlock()
		}()
		select {
		case noticed <- struct{}{}:
		default:
		}
		if werr := p.Wait(ctx); werr != nil {
			return attemptResult{err: fmt.Errorf("the sign-in did not complete: %w", werr)}
		}
		resp, err = r.roundTrip(ctx, senderFunc(r.send), m.withID(r.newID()))
	}
	if err == nil && resp.result == nil {
		err = fmt.Errorf("the server refused initialize: %s", excerpt(resp.Raw, 200))
	}
	return attemptResult{resp, err}
}

// senderFunc is a [sender] made of a function.
type senderFunc func(context.Context, *Message) error

func (f senderFunc) Send(ctx context.Context, m *Message) error { return f(ctx, m) }

// answerEarly answers the host's initialize with the remembered result,
// every list it has declared changeable.
func (r *Relay) answerEarly(e *earlyInit) {
	if r.complete(e.host) == nil {
		return // the host cancelled it, or the relay is shutting down
	}
	e.mu.Lock()
	e.answered = true
	e.mu.Unlock()
	result := withListChanged(e.cached)
	r.log.Info("the sign-in waits for the user; answering the host's initialize with the server's capabilities of the last session, until it completes")
	r.toHostAs(resultResponse(e.host.ID, result), "initialize")
}

// withListChanged returns the InitializeResult cached with listChanged set
// for each of [listed] it declares.
func withListChanged(cached []byte) []byte {
	var res map[string]json.RawMessage
	if json.Unmarshal(cached, &res) != nil {
		return cached
	}
	var caps map[string]json.RawMessage
	json.Unmarshal(res["capabilities"], &caps)
	for _, name := range listed {
		if _, ok := caps[name]; !ok {
			continue
		}
		var c map[string]json.RawMessage
		json.Unmarshal(caps[name], &c)
		if c == nil {
			c = map[string]json.RawMessage{}
		}
		c["listChanged"] = json.RawMessage("true")
		caps[name] = mustMarshal(c)
	}
	if caps != nil {
		res["capabilities"] = mustMarshal(caps)
	}
	return mustMarshal(res)
}

// toHostAs delivers m, the relay's own answer to a host's request with
// method, through the stages.
func (r *Relay) toHostAs(m *Message, method string) {
	for i := len(r.cfg.Stages) - 1; i >= 0 && m != nil; i-- {
		m = r.cfg.Stages[i].ToHost(m, method)
	}
	if m != nil {
		r.reply(m)
	}
}

// sessionReady takes up the outcome a of the server's initialize, after
// the host was answered from the cache.
func (r *Relay) sessionReady(e *earlyInit, a attemptResult) {
	if a.err != nil {
		if r.life.Err() == nil {
			r.log.Warn("the server's session could not be set up; the host's requests get an error, and the next one tries again", "err", a.err)
		}
		e.mu.Lock()
		e.err = a.err
		close(e.attempt)
		e.attempt = nil
		e.mu.Unlock()
		return
	}
	resp := a.resp.withID(e.host.ID)
	r.sess.answered(e.host, resp)
	r.logSession(resp)
	r.era.learnLegacy(resp.result)
	r.rememberInit(resp.result)
	var was, now cachedInit
	json.Unmarshal(e.cached, &was)
	json.Unmarshal(resp.result, &now)
	if was.ProtocolVersion != now.ProtocolVersion {
		r.log.Warn("the server's session speaks another protocol revision than the host was told", "host", was.ProtocolVersion, "server", now.ProtocolVersion)
	}
	r.sess.mu.Lock()
	if _, ok := was.Capabilities["tools"]; ok {
		r.sess.toolsListed = true // the host was told so
	}
	r.sess.mu.Unlock()
	r.openEarly(e)
	r.log.Info("signed in: the server's session is set up; telling the host to list again")
	for _, name := range listed {
		if _, ok := was.Capabilities[name]; ok {
			n, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","method":"notifications/` + name + `/list_changed"}`))
			r.reply(n)
		}
	}
}

// openEarly sends the host's held messages in order and lets everything
// through from then on.
func (r *Relay) openEarly(e *earlyInit) {
	ctx, cancel := context.WithTimeout(r.life, renewTimeout)
	defer cancel()
	for {
		e.mu.Lock()
		held := e.held
		e.held = nil
		if len(held) == 0 {
			e.open, e.err = true, nil
			if e.attempt != nil {
				close(e.attempt)
				e.attempt = nil
			}
			e.mu.Unlock()
			break
		}
		e.mu.Unlock()
		for _, m := range held {
			if err := r.send(ctx, m); err != nil {
				r.log.Warn("sending the host's held message failed", "msg", m, "err", err)
			}
		}
	}
	r.early.CompareAndSwap(e, nil)
}

// waitSession waits, for the host's request m, until the server's session
// is set up, at most [Config.SignInWait]. It reports whether m was
// answered here (a ping), and the error to answer m with if it may not go:
// at once if the user must act elsewhere (no browser opened), as the
// host's initialize would have been without the cache, unless signedIn
// says that sign-in has completed.
func (r *Relay) waitSession(ctx context.Context, e *earlyInit, m *Message, signedIn bool) (bool, error) {
	e.mu.Lock()
	if e.open {
		e.mu.Unlock()
		return false, nil
	}
	if m.Method == "ping" {
		e.mu.Unlock()
		if p := r.complete(m); p != nil {
			r.reply(resultResponse(m.ID, []byte("{}")))
		}
		return true, nil
	}
	if e.attempt == nil && e.answered {
		// The last attempt failed: this request tries again, unless the
		// relay is shutting down (as renew, under sess.mu).
		r.sess.mu.Lock()
		closed := r.sess.closed
		if !closed {
			r.background.Add(1)
		}
		r.sess.mu.Unlock()
		if closed {
			e.mu.Unlock()
			return false, errors.New("mcp-bridge is shutting down")
		}
		e.attempt = make(chan struct{})
		go r.retryEarly(e)
	}
	attempt, notice := e.attempt, e.notice
	e.mu.Unlock()
	if notice != nil && !signedIn {
		return false, fmt.Errorf("the server's session waits for a sign-in: %w", notice)
	}
	t := time.NewTimer(r.cfg.SignInWait)
	defer t.Stop()
	select {
	case <-attempt:
		e.mu.Lock()
		open, err := e.open, e.err
		e.mu.Unlock()
		if !open {
			return false, fmt.Errorf("the server's session could not be set up: %w", err)
		}
		return false, nil
	case <-t.C:
		return false, r.stillSigningIn()
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// retryEarly runs the server's initialize once more, after one failed.
func (r *Relay) retryEarly(e *earlyInit) {
	defer r.background.Done()
	ctx, cancel := context.WithTimeout(r.life, renewTimeout)
	defer cancel()
	r.log.Info("setting up the server's session once more")
	r.sessionReady(e, r.initAttempt(ctx, e, nil))
}

// stillSigningIn is the error of a request that waited for the sign-in
// long enough: what the user must do to finish it.
func (r *Relay) stillSigningIn() error {
	if p := r.pender(); p != nil {
		if err := p.SignInPending(); err != nil {
			return fmt.Errorf("the server's session waits for a sign-in: %w", err)
		}
	}
	return errors.New("the server's session is not set up yet; try again in a moment")
}
