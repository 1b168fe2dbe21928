package bridge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// A host of revision 2025-11-25 that declares URL-mode elicitation
// (client/elicitation, "URL Mode") can show the user the page where a
// sign-in waits for them, which the bridge could not open itself: the
// bridge asks it with elicitation/create, waits for the sign-in, tells the
// host it is complete (notifications/elicitation/complete) and sends the
// request that needed it once more. Other hosts get the sign-in's error,
// with the URL and the login command, as the answer.
//
// The host's initialize cannot be held that way: until the host has sent
// notifications/initialized the bridge should send it no request but
// pings (basic/lifecycle, "Initialization"). So, with no cached result to
// answer it from (signin_wait.go), initialize is answered with the
// URLElicitationRequiredError (-32042, client/elicitation, "URL
// Elicitation Required Error"): the same text, plus the page as a URL
// elicitation the host can show. The sign-in goes on in the background;
// the host connects again once it is over. No
// notifications/elicitation/complete follows: the host is not initialized.
// Revision 2026-07-28 has no -32042, and the bridge sends it only to
// 2025-11-25 hosts that declared URL mode.

// codeURLElicitationRequired is the URLElicitationRequiredError's code.
const codeURLElicitationRequired = -32042

// urlRequired is a sign-in waiting at a page that the host must show
// before its request can succeed: the -32042 answer.
type urlRequired struct {
	err          error  // the sign-in's, what the host is told in words
	id           string // the elicitationId
	url, message string
}

func (u *urlRequired) Error() string { return u.err.Error() }
func (u *urlRequired) Unwrap() error { return u.err }

// response is the -32042 answer to the request with id.
func (u *urlRequired) response(id []byte) *Message {
	data := mustMarshal(map[string]any{"elicitations": []map[string]string{
		{"mode": "url", "elicitationId": u.id, "url": u.url, "message": u.message},
	}})
	m, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%s,"data":%s}}`,
		id, codeURLElicitationRequired, mustMarshal("mcp-bridge: "+u.err.Error()), data))
	if err != nil {
		panic("bridge: " + err.Error())
	}
	return m
}

// A PendingSignIn is an authorization error that the [auth.OAuthHandler]
// returns while a sign-in goes on and waits for the user at a page.
type PendingSignIn interface {
	error
	// Elsewhere returns the page and a sentence to show with it, or ""
	// if the user has nowhere to go.
	Elsewhere() (url, message string)
	// Wait waits for the sign-in to end and returns its outcome.
	Wait(ctx context.Context) error
}

// A SignInAdvisor is an [auth.OAuthHandler] that can tell the user how to
// sign in, for the answers the bridge gives without starting a sign-in
// (a host's server/discover).
type SignInAdvisor interface {
	// SignInAdvice returns the error that says how to sign in.
	SignInAdvice() error
}

// signInAdvice returns the advice of the OAuth handler when err, a request
// sent without a sign-in, was refused for want of one; else nil.
func (r *Relay) signInAdvice(err error) error {
	se, ok := errors.AsType[*StatusError](err)
	a, advises := r.cfg.OAuthHandler.(SignInAdvisor)
	if !ok || !advises || se.Status != http.StatusUnauthorized {
		return nil
	}
	return a.SignInAdvice()
}

// urlAsk is one sign-in page shown to the host: every request waiting on
// that sign-in shares it.
type urlAsk struct {
	done     chan struct{} // closed when the host has answered
	accepted bool
	id       string // the elicitationId
}

// urlAsks are the sign-in pages the host has been asked to show, by URL.
type urlAsks struct {
	mu sync.Mutex
	m  map[string]*urlAsk
}

// signInAtHost handles err, request m's failure: when it is a sign-in
// waiting at a page and the host takes URL elicitations, it has the host
// show the page and waits for the sign-in. It returns nil once signed in,
// when m may go again, else the error that remains: err itself when the
// host cannot help, or declines.
func (r *Relay) signInAtHost(ctx context.Context, m *Message, err error) error {
	var p PendingSignIn
	if !errors.As(err, &p) || !m.IsRequest() {
		return err
	}
	url, message := p.Elsewhere()
	if url == "" {
		return err
	}
	if _, host := r.era.eras(); host == eraModern && takesURLInput(m) {
		return r.parkSignIn(p, err, url, message) // signin_input.go
	}
	if !r.era.hostTakesURLs() {
		return err
	}
	if m.Method == "initialize" {
		return &urlRequired{err: err, id: elicitationID(), url: url, message: message}
	}
	a := r.askURL(url, message)
	select {
	case <-a.done:
		if !a.accepted {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	if werr := p.Wait(ctx); werr != nil {
		return fmt.Errorf("the sign-in at %s did not complete: %w", url, werr)
	}
	r.urls.mu.Lock()
	if r.urls.m[url] == a {
		delete(r.urls.m, url)
		n, _ := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/elicitation/complete","params":{"elicitationId":%s}}`, mustMarshal(a.id)))
		r.reply(n)
	}
	r.urls.mu.Unlock()
	return nil
}

// askURL asks the host to show the sign-in page url, once for every
// request that waits on it.
func (r *Relay) askURL(url, message string) *urlAsk {
	r.urls.mu.Lock()
	defer r.urls.mu.Unlock()
	if a := r.urls.m[url]; a != nil {
		return a
	}
	a := &urlAsk{done: make(chan struct{}), id: elicitationID()}
	if r.urls.m == nil {
		r.urls.m = map[string]*urlAsk{}
	}
	r.urls.m[url] = a
	params := mustMarshal(map[string]string{"mode": "url", "elicitationId": a.id, "url": url, "message": message})
	go func() {
		defer close(a.done)
		resp, err := r.era.ask(r.life, "elicitation/create", params)
		if err != nil || resp.result == nil {
			r.log.Info("the host did not show the sign-in page", "err", err)
			return
		}
		var res struct {
			Action string `json:"action"`
		}
		json.Unmarshal(resp.result, &res)
		a.accepted = res.Action == "accept"
		r.log.Info("the host showed the sign-in page", "action", res.Action)
	}()
	return a
}

// elicitationID returns a new, unguessable elicitationId.
func elicitationID() string {
	id := make([]byte, 16)
	rand.Read(id)
	return base64.RawURLEncoding.EncodeToString(id)
}
