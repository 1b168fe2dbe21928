package bridge

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
)

// W3C Trace Context (https://www.w3.org/TR/trace-context/) on every
// request upstream, so that the server's traces join the host's: the
// host's own, from the request's params._meta (the traceparent, tracestate
// and baggage keys of SEP-414), or, when the host sent none, one the
// bridge starts and writes into _meta itself. Either way the value in the
// HTTP traceparent header is the one in _meta.

// Trace context members of _meta, and the HTTP headers that carry them.
const (
	metaTraceparent = "traceparent"
	metaTracestate  = "tracestate"
	metaBaggage     = "baggage"
)

// A traceContext is what one request carries of its trace.
type traceContext struct {
	parent, state, baggage string
}

// TraceID returns the trace id of the request m (32 hex digits), or "" if
// it carries no trace context.
func (m *Message) TraceID() string {
	if m.trace == nil {
		return ""
	}
	return m.trace.parent[3:35]
}

// setPostHeader sets in h the headers m's POST carries beside the
// transport's own: m.header, and the trace context. (Into the request's
// own header map: a map per message that is copied again was a
// measurable share of a call's allocations.)
func (m *Message) setPostHeader(h http.Header) {
	for k, v := range m.header {
		h[k] = v
	}
	if m.trace == nil {
		return
	}
	h["Traceparent"] = []string{m.trace.parent}
	if m.trace.state != "" {
		h["Tracestate"] = []string{m.trace.state}
	}
	if m.trace.baggage != "" {
		h["Baggage"] = []string{m.trace.baggage}
	}
}

// traced returns request m with its trace context: the host's, valid, as
// it came; else a new one, also written into m's _meta. A host's malformed
// traceparent is left as it is, and nothing is added: the server sees
// what the host meant to send.
func traced(m *Message) *Message {
	if !m.IsRequest() {
		return m
	}
	var t traceContext
	var hostParent []byte
	eachMember(m.params, func(key, val []byte) {
		if string(key) != "_meta" {
			return
		}
		eachMember(val, func(key, val []byte) {
			switch string(key) {
			case metaTraceparent:
				hostParent = val
				t.parent = unquote(val)
			case metaTracestate:
				t.state = unquote(val)
			case metaBaggage:
				t.baggage = unquote(val)
			}
		})
	})
	switch {
	case hostParent != nil && validTraceparent(t.parent):
		c := *m
		c.trace = &t
		return &c
	case hostParent != nil:
		return m
	}
	t.parent, t.state = newTraceparent(), "" // a tracestate belongs to its traceparent
	c, err := withMetaMember(m, metaTraceparent, t.parent)
	if err != nil {
		return m // params that are not an object: no _meta to hold it
	}
	c.trace = &t
	return c
}

// validTraceparent reports whether s is a traceparent of version 00, or of
// a later version read as 00 (trace-context, "Versioning of traceparent"):
// version, trace id, parent id and flags in lowercase hex, the ids not all
// zero.
func validTraceparent(s string) bool {
	if len(s) < 55 || (len(s) > 55 && (s[:2] == "00" || s[55] != '-')) || s[:2] == "ff" {
		return false
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	for i, c := range []byte(s[:55]) {
		if i == 2 || i == 35 || i == 52 {
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s[3:35] != "00000000000000000000000000000000" && s[36:52] != "0000000000000000"
}

// newTraceparent starts a trace: random ids, sampled.
func newTraceparent() string {
	var ids [24]byte
	for i := 0; i < len(ids); i += 8 {
		binary.LittleEndian.PutUint64(ids[i:], rand.Uint64())
	}
	b := []byte("00-________________________________-________________-01")
	hex.Encode(b[3:35], ids[:16])
	hex.Encode(b[36:52], ids[16:])
	return string(b)
}

// withMetaMember returns request m with the member key added to its
// params' _meta, which must not hold it yet, and every other byte as it
// came; key and value are strings that need no escaping. It fails if
// params or _meta is there but not an object.
func withMetaMember(m *Message, key, value string) (*Message, error) {
	member := []byte(`"` + key + `":"` + value + `"`)
	raw := m.Raw
	var at int
	var insert []byte
	switch {
	case m.params == nil:
		at = bytes.LastIndexByte(raw, '}')
		insert = slices.Concat([]byte(`,"params":{"_meta":{`), member, []byte(`}}`))
	case m.params[0] != '{':
		return nil, errors.New("params is not an object")
	default:
		p := m.params
		meta := -1
		for i := skipSpace(p, 1); p[i] != '}'; {
			keyEnd, _ := skipValue(p, i)
			name := p[i+1 : keyEnd-1]
			j := skipSpace(p, skipSpace(p, keyEnd)+1)
			end, _ := skipValue(p, j)
			if string(name) == "_meta" {
				if p[j] != '{' {
					return nil, errors.New("_meta is not an object")
				}
				meta = j
			}
			if i = skipSpace(p, end); p[i] == ',' {
				i = skipSpace(p, i+1)
			}
		}
		obj := meta
		if meta < 0 {
			obj, member = 0, slices.Concat([]byte(`"_meta":{`), member, []byte(`}`))
		}
		at = m.paramsAt + obj + 1
		insert = member
		if p[skipSpace(p, obj+1)] != '}' {
			insert = append(insert, ',')
		}
	}
	out := make([]byte, 0, len(raw)+len(insert))
	out = append(append(append(out, raw[:at]...), insert...), raw[at:]...)
	// Not parsed again: the envelope is m's, moved by the insertion (a
	// second scan of a large request was as long as the first).
	c := *m
	c.Raw = out
	if m.params == nil {
		c.paramsAt = at + len(`,"params":`)
		c.params = out[c.paramsAt : at+len(insert)]
	} else {
		c.params = out[m.paramsAt : m.paramsAt+len(m.params)+len(insert)]
	}
	if m.ID != nil {
		if m.idStart >= at {
			c.idStart, c.idEnd = m.idStart+len(insert), m.idEnd+len(insert)
		}
		c.ID = out[c.idStart:c.idEnd]
	}
	return &c, nil
}
