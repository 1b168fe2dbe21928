package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A host of revision 2026-07-28 gets no request from the bridge: the page
// where a sign-in waits for the user reaches it as an input_required result
// (basic/patterns/mrtr) holding a URL-mode elicitation/create, in answer to
// a request that may carry one (tools/call, prompts/get, resources/read)
// when the request's clientCapabilities declare URL mode. The result's
// requestState is the bridge's own. The host's retry, with the user's
// answer in inputResponses, waits for the sign-in and then goes to the
// server without those two members, which the server never asked for. An
// accept only means the user agreed to go (client/elicitation, "URL
// Mode"); the retry's answer says how the sign-in went.

// signInInputKey is the key of the bridge's URL elicitation in
// inputRequests and inputResponses.
const signInInputKey = "mcp-bridge/sign-in"

// signInInput is a sign-in that waits at a page, as the input_required
// answer to a 2026 host's request.
type signInInput struct {
	err                 error // the sign-in's
	state, url, message string
}

func (s *signInInput) Error() string { return s.err.Error() }
func (s *signInInput) Unwrap() error { return s.err }

// response is the input_required answer to the request with id.
func (s *signInInput) response(id []byte) *Message {
	return resultResponse(id, mustMarshal(map[string]any{
		"resultType": "input_required",
		"inputRequests": map[string]any{signInInputKey: map[string]any{
			"method": "elicitation/create",
			"params": map[string]string{"mode": "url", "url": s.url, "message": s.message},
		}},
		"requestState": s.state,
	}))
}

// parkedSignIns are the sign-ins 2026 hosts were shown, by requestState.
type parkedSignIns struct {
	n  atomic.Int32 // len(m), read on every request's way
	mu sync.Mutex
	m  map[string]parkedSignIn
}

type parkedSignIn struct {
	p       PendingSignIn
	err     error
	expires time.Time
}

// mrtrMethods are the requests an input_required result may answer.
var mrtrMethods = map[string]bool{"tools/call": true, "prompts/get": true, "resources/read": true}

// takesURLInput reports whether m, a 2026 host's request, may be answered
// with a URL-mode elicitation in an input_required result.
func takesURLInput(m *Message) bool {
	if !mrtrMethods[m.Method] {
		return false
	}
	var p struct {
		Meta struct {
			Caps hostCapabilities `json:"io.modelcontextprotocol/clientCapabilities"`
		} `json:"_meta"`
	}
	json.Unmarshal(m.params, &p)
	return p.Meta.Caps.Elicitation != nil && p.Meta.Caps.Elicitation.URL != nil
}

// parkSignIn keeps p, the sign-in that a request's failure err waits on,
// for the host's retry, and returns the error whose answer to the host is
// the input_required result.
func (r *Relay) parkSignIn(p PendingSignIn, err error, url, message string) error {
	s := &signInInput{err: err, state: newHandle(), url: url, message: message}
	now := time.Now()
	ps := &r.signIns
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for k, v := range ps.m {
		if now.After(v.expires) {
			delete(ps.m, k)
		}
	}
	if ps.m == nil {
		ps.m = map[string]parkedSignIn{}
	}
	ps.m[s.state] = parkedSignIn{p: p, err: err, expires: now.Add(parkTimeout)}
	ps.n.Store(int32(len(ps.m)))
	return s
}

// resumeSignIn returns m, a host's request, as it goes to the server: m
// itself, or, for the retry of a request answered with a sign-in
// (parkSignIn), m without requestState and inputResponses once the user
// has signed in. It fails if the user declined, or the sign-in did not
// complete.
func (r *Relay) resumeSignIn(ctx context.Context, m *Message) (*Message, error) {
	ps := &r.signIns
	if ps.n.Load() == 0 || !m.IsRequest() || !bytes.Contains(m.params, []byte(`"requestState"`)) {
		return m, nil
	}
	var p struct {
		State     string `json:"requestState"`
		Responses map[string]struct {
			Action string `json:"action"`
		} `json:"inputResponses"`
	}
	json.Unmarshal(m.params, &p)
	ps.mu.Lock()
	parked, ok := ps.m[p.State]
	delete(ps.m, p.State)
	ps.n.Store(int32(len(ps.m)))
	ps.mu.Unlock()
	if !ok {
		return m, nil // the server's requestState
	}
	if action := p.Responses[signInInputKey].Action; action != "accept" {
		r.log.Info("the host did not show the sign-in page", "action", action)
		// The words alone: as a pending sign-in it would be asked again.
		return nil, errors.New(parked.err.Error())
	}
	r.log.Info("the host showed the sign-in page; waiting for the sign-in")
	if err := parked.p.Wait(ctx); err != nil {
		url, _ := parked.p.Elsewhere()
		return nil, fmt.Errorf("the sign-in at %s did not complete: %w", url, err)
	}
	params := withoutMember(withoutMember(m.params, "requestState"), "inputResponses")
	retry, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"method":%s,"params":%s}`, m.ID, mustMarshal(m.Method), params))
	if err != nil {
		return nil, errors.New("mcp-bridge: the retried request: " + err.Error())
	}
	retry.trace = m.trace
	return retry, nil
}
