package bridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// A legacy host's requests to a modern server (basic/patterns/mrtr). The
// host expects the server to ask it for input with requests of its own
// (elicitation/create, sampling/createMessage, roots/list); a modern server
// answers with an input_required result instead and expects the request
// again with the answers. The bridge plays both parts: it asks the host,
// then sends the request again with a new id, the answers under
// inputResponses and the requestState byte for byte, until the server
// completes it.

// maxInputRounds bounds the input_required rounds of one request, as the
// TypeScript SDK and mcp-remote do.
const maxInputRounds = 10

// askTimeout bounds the host's answer to one input request: a person may
// be filling in a form.
const askTimeout = 10 * time.Minute

// legacyCall sends a legacy host's request to a modern server with the
// _meta of the host's initialize and the request headers, fulfils the
// input the server asks for, and delivers the outcome under the host's id.
func (e *eraStage) legacyCall(ctx context.Context, m *Message) error {
	up := e.r.remote.stateless()
	env := parseReqFields(m.params)
	params := paramsWithMeta(m.params, e.meta())
	for round := 0; ; round++ {
		req := e.r.request(m.Method, params)
		req.header = modernHeaders(m.Method, modernVersion, &env, &e.tools)
		req.trace = m.trace
		resp, err := e.r.roundTrip(ctx, up, req)
		if isHeaderMismatch(err) && m.Method == "tools/call" && round == 0 {
			if rerr := e.refreshTools(ctx, e.meta(), modernVersion); rerr != nil {
				e.r.log.Warn("listing the tools again failed", "err", rerr)
				return err
			}
			req = e.r.request(m.Method, params)
			req.header = modernHeaders(m.Method, modernVersion, &env, &e.tools)
			req.trace = m.trace
			resp, err = e.r.roundTrip(ctx, up, req)
		}
		if err != nil {
			e.stillModern(err)
			return err
		}
		if resp.result == nil {
			e.r.toHost(resp.withID(m.ID))
			return nil
		}
		switch rt := resultType(resp.result); rt {
		case "", "complete":
			if m.Method == "tools/list" {
				e.r.toHost(resultResponse(m.ID, e.observeTools(resp.result)))
			} else {
				e.r.toHost(resp.withID(m.ID))
			}
			return nil
		case "input_required":
			if round+1 >= maxInputRounds {
				return fmt.Errorf("the server asked for input %d times for one request; giving up", maxInputRounds)
			}
			if params, err = e.fulfil(ctx, params, resp.result); err != nil {
				return err
			}
		default:
			return fmt.Errorf("the server answered with a result of type %q, which mcp-bridge does not know", rt)
		}
	}
}

// resultType returns the resultType member of a result, or "" if it has
// none that is a string. It reads the member as encoding/json would (a
// name that matches case-insensitively, the last one if several), but
// with the envelope scanner: decoding the whole result to find one member
// was a full scan of every result, a large one's too.
func resultType(result []byte) string {
	rt := ""
	eachMember(result, func(key, val []byte) {
		if bytes.EqualFold(key, []byte("resultType")) {
			rt = ""
			if val[0] == '"' {
				rt = unquote(val)
			}
		}
	})
	return rt
}

// meta returns the _meta members of a legacy host's requests, as a JSON
// object its callers must not modify.
func (e *eraStage) meta() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.metaCache != nil {
		return e.metaCache
	}
	m := make(map[string]json.RawMessage, len(e.stamp)+1)
	for k, v := range e.stamp {
		m[k] = v
	}
	if e.logLevel != nil {
		m[metaLogLevel] = e.logLevel
	}
	e.metaCache = mustMarshal(m)
	return e.metaCache
}

// fulfil asks the host for each input an input_required result asks for,
// and returns params for the next round: the request's params with the
// answers in inputResponses and the result's requestState as it was sent.
func (e *eraStage) fulfil(ctx context.Context, params []byte, result []byte) ([]byte, error) {
	var ir struct {
		InputRequests map[string]struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		} `json:"inputRequests"`
		RequestState json.RawMessage `json:"requestState"`
	}
	if err := json.Unmarshal(result, &ir); err != nil {
		return nil, fmt.Errorf("the server's input_required result is malformed: %w", err)
	}
	answers := map[string]json.RawMessage{}
	for key, in := range ir.InputRequests {
		p, err := e.allowed(in.Method, in.Params)
		if err != nil {
			return nil, err
		}
		resp, err := e.ask(ctx, in.Method, p)
		if err != nil {
			return nil, fmt.Errorf("the server's %s request to the host: %w", in.Method, err)
		}
		if resp.result == nil {
			return nil, fmt.Errorf("the host refused the server's %s request: %s", in.Method, excerpt(errorObject(resp.Raw), 200))
		}
		answers[key] = resp.result
	}
	var p map[string]json.RawMessage
	json.Unmarshal(params, &p)
	if p == nil {
		p = map[string]json.RawMessage{}
	}
	delete(p, "inputResponses")
	delete(p, "requestState")
	if len(answers) > 0 {
		p["inputResponses"] = mustMarshal(answers)
	}
	if len(ir.RequestState) > 0 {
		p["requestState"] = ir.RequestState
	}
	return mustMarshal(p), nil
}

// allowed checks that the host declared what an input request needs (a
// server must not ask for more, and a host must not be asked for what it
// cannot do), and returns the params to send it. A URL-mode elicitation
// gets the elicitationId that revision 2025-11-25 requires and 2026-07-28
// dropped.
func (e *eraStage) allowed(method string, params json.RawMessage) (json.RawMessage, error) {
	e.mu.Lock()
	caps := e.hostCaps
	e.mu.Unlock()
	missing := func(what string) error {
		return fmt.Errorf("the server needs %s from the host, which the host did not declare", what)
	}
	switch method {
	case "elicitation/create":
		var p struct {
			Mode string `json:"mode"`
		}
		json.Unmarshal(params, &p)
		switch {
		case caps.Elicitation == nil:
			return nil, missing("elicitation")
		case p.Mode == "url" && caps.Elicitation.URL == nil:
			return nil, missing("URL-mode elicitation")
		case p.Mode == "url":
			id := make([]byte, 16)
			for i := range id {
				id[i] = byte(rand.Uint32())
			}
			return setMember(params, "elicitationId", mustMarshal(base64.RawURLEncoding.EncodeToString(id))), nil
		case p.Mode != "" && p.Mode != "form":
			return nil, fmt.Errorf("the server asks for elicitation mode %q, which mcp-bridge does not know", p.Mode)
		}
	case "sampling/createMessage":
		var p struct {
			Tools json.RawMessage `json:"tools"`
		}
		json.Unmarshal(params, &p)
		switch {
		case caps.Sampling == nil:
			return nil, missing("sampling")
		case len(p.Tools) > 0 && caps.Sampling.Tools == nil:
			return nil, missing("sampling with tools")
		}
	case "roots/list":
		if caps.Roots == nil {
			return nil, missing("roots")
		}
	default:
		return nil, fmt.Errorf("the server asks the host for %q, which mcp-bridge cannot pass on", method)
	}
	return params, nil
}

// ask sends the host a request of the bridge's own and waits for its
// answer, for askTimeout at most; when ctx ends first it tells the host
// that the request is cancelled.
func (e *eraStage) ask(ctx context.Context, method string, params json.RawMessage) (*Message, error) {
	req := e.r.request(method, params)
	reply := make(chan *Message, 1)
	k := idKey(req.ID)
	e.mu.Lock()
	e.asks[k] = reply
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.asks, k)
		e.mu.Unlock()
	}()
	e.r.reply(req)
	t := time.NewTimer(askTimeout)
	defer t.Stop()
	select {
	case resp := <-reply:
		return resp, nil
	case <-ctx.Done():
		e.cancelAsk(req.ID, "the request that needed it ended")
		return nil, ctx.Err()
	case <-t.C:
		e.cancelAsk(req.ID, "no answer in time")
		return nil, fmt.Errorf("no answer from the host within %v", askTimeout)
	}
}

func (e *eraStage) cancelAsk(id []byte, reason string) {
	n, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%s,"reason":%s}}`, id, mustMarshal(reason)))
	if err == nil {
		e.r.reply(n)
	}
}

// answered hands the host's response m to the request of the bridge's own
// that awaits it, and reports whether one did.
func (e *eraStage) answered(m *Message) bool {
	e.mu.Lock()
	reply, ok := e.asks[idKey(m.ID)]
	delete(e.asks, idKey(m.ID))
	e.mu.Unlock()
	if ok {
		reply <- m
	}
	return ok
}
