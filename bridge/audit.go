package bridge

import (
	"encoding/json"
	"time"
)

// A CallRecord is what the relay tells [Config.Audit] of one of the host's
// tools/call, prompts/get and resources/read requests, once it is over.
// It holds no arguments and no results.
type CallRecord struct {
	Method string          // tools/call, prompts/get or resources/read
	Name   string          // the tool's or prompt's name, or the resource's URI
	ID     json.RawMessage // the host's request id, as it sent it

	// TraceID is the request's W3C trace id (32 hex digits), or "".
	TraceID string

	Start    time.Time
	Duration time.Duration

	// Outcome is one of the Outcome constants; Code is the JSON-RPC error
	// code for OutcomeError and OutcomeRefused.
	Outcome string
	Code    int
}

// Outcomes of a [CallRecord].
const (
	OutcomeOK        = "ok"
	OutcomeError     = "error"      // a JSON-RPC error, from the server or the bridge
	OutcomeToolError = "tool_error" // a tools/call result with isError set
	OutcomeCancelled = "cancelled"  // by the host, or by the bridge's shutdown
	OutcomeRefused   = "refused"    // by a stage, without reaching the server
)

// audited reports whether the relay tells Config.Audit of requests with
// this method.
func audited(method string) bool {
	switch method {
	case "tools/call", "prompts/get", "resources/read":
		return true
	}
	return false
}

// audit tells Config.Audit that the host's request p ended, answered with
// answer (nil if there is none to give: cancelled).
func (r *Relay) audit(p *call, answer *Message, outcome string) {
	if r.cfg.Audit == nil || p == nil || p.reply != nil || !audited(p.method) {
		return
	}
	rec := callRecord(p.req, p.start, outcome)
	if outcome == "" {
		rec.Outcome, rec.Code = answerOutcome(p.method, answer)
	}
	r.cfg.Audit(rec)
}

// refused tells Config.Audit that a stage answered request m itself.
func (r *Relay) refused(m, answer *Message) {
	if r.cfg.Audit == nil || !m.IsRequest() || !audited(m.Method) {
		return
	}
	rec := callRecord(m, time.Now(), OutcomeRefused)
	_, rec.Code = answerOutcome(m.Method, answer)
	r.cfg.Audit(rec)
}

func callRecord(m *Message, start time.Time, outcome string) *CallRecord {
	f := parseReqFields(m.params)
	name := f.Name
	if m.Method == "resources/read" {
		name = f.URI
	}
	return &CallRecord{
		Method: m.Method, Name: name, ID: m.ID, TraceID: m.TraceID(),
		Start: start, Duration: time.Since(start), Outcome: outcome,
	}
}

// answerOutcome reads the outcome of a response to a method call.
func answerOutcome(method string, m *Message) (string, int) {
	if m == nil {
		return OutcomeCancelled, 0
	}
	if m.result == nil {
		var e struct {
			Error struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		json.Unmarshal(m.Raw, &e)
		return OutcomeError, e.Error.Code
	}
	if method == "tools/call" {
		isError := false
		eachMember(m.result, func(key, val []byte) {
			if string(key) == "isError" && string(val) == "true" {
				isError = true
			}
		})
		if isError {
			return OutcomeToolError, 0
		}
	}
	return OutcomeOK, 0
}
