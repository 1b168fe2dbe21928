package bridge

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Message is one JSON-RPC 2.0 message on its way through the relay.
//
// The relay forwards the bytes it received, not a re-encoding of them, so
// that unknown fields, number formatting and future protocol additions reach
// the other side unchanged. It reads only the envelope: the id, the method,
// and whether a response carries a result or an error.
type Message struct {
	// Raw is the message as one compact JSON value with no trailing newline.
	Raw []byte

	// ID is the raw JSON text of the "id" member, or nil when there is none
	// (a notification).
	ID []byte

	// Method is the "method" member of a request or notification, or "" for
	// a response.
	Method string

	// Batch holds the members of a JSON-RPC batch (an array at the top
	// level, allowed by protocol revision 2025-03-26 only). For a batch, ID
	// and Method are empty.
	Batch []*Message

	// header holds headers the message's POST carries beside the
	// transport's own: the request metadata of revision 2026-07-28, derived
	// by the era stage. Nil for most messages.
	header http.Header

	// via is, for a request from the server, the id of the request on
	// whose response stream it came (the server's request relates to that
	// one), or nil.
	via []byte

	// standalone is set on a message from the server's standalone stream.
	standalone bool

	// trace is the W3C trace context the request's POST carries, or nil
	// (trace.go).
	trace *traceContext

	idStart, idEnd int // byte offsets of ID within Raw
	paramsAt       int // byte offset of params within Raw
	params         []byte
	result         []byte
}

// Params returns the raw "params" member, or nil.
func (m *Message) Params() json.RawMessage { return m.params }

// Result returns the raw "result" member of a response, or nil.
func (m *Message) Result() json.RawMessage { return m.result }

// IsRequest reports whether m is a request: it has a method and an id.
func (m *Message) IsRequest() bool { return m.Method != "" && m.ID != nil }

// IsNotification reports whether m is a notification: a method and no id.
func (m *Message) IsNotification() bool { return m.Method != "" && m.ID == nil }

// IsResponse reports whether m is a response: an id and no method.
func (m *Message) IsResponse() bool { return m.Method == "" && m.Batch == nil }

// String returns a short description of m for logs. It never includes
// parameters or results, which may hold secrets.
func (m *Message) String() string {
	switch {
	case m.Batch != nil:
		return fmt.Sprintf("batch of %d", len(m.Batch))
	case m.IsRequest():
		return fmt.Sprintf("request %s id=%s", m.Method, m.ID)
	case m.IsNotification():
		return "notification " + m.Method
	default:
		return fmt.Sprintf("response id=%s", m.ID)
	}
}

// Parse errors, distinguished so that the host gets the JSON-RPC error code
// that fits: -32700 for [ErrSyntax], -32600 for [ErrInvalidMessage].
var (
	// ErrSyntax is wrapped by errors for input that is not JSON.
	ErrSyntax = errors.New("JSON syntax error")
	// ErrInvalidMessage is wrapped by errors for JSON that is not a JSON-RPC 2.0 message.
	ErrInvalidMessage = errors.New("invalid JSON-RPC message")
)

// ParseMessage reads the envelope of one JSON-RPC message. data must hold a
// single JSON object (or, for a batch, an array of objects); surrounding
// whitespace is allowed and insignificant whitespace with line breaks is
// compacted, so that Raw can be written as one line of the stdio transport.
// ParseMessage keeps a reference to data.
//
// The check is structural: objects, arrays, strings and literals must be well
// formed, but the contents of strings are not decoded. This keeps a 10 MB
// tool result from costing more than a scan for quote characters.
func ParseMessage(data []byte) (*Message, error) {
	data = bytes.TrimSpace(data)
	if bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		data = buf.Bytes()
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrSyntax)
	}
	switch data[0] {
	case '{':
		m, err := parseObject(data)
		if err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		return parseBatch(data)
	default:
		end, err := skipValue(data, 0)
		if err != nil {
			return nil, err
		}
		if end != len(data) {
			return nil, fmt.Errorf("%w: data after the value", ErrSyntax)
		}
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalidMessage)
	}
}

func parseBatch(data []byte) (*Message, error) {
	end, err := skipValue(data, 0)
	if err != nil {
		return nil, err
	}
	if end != len(data) {
		return nil, fmt.Errorf("%w: data after the batch", ErrSyntax)
	}
	b := &Message{Raw: data, Batch: []*Message{}}
	i := skipSpace(data, 1)
	if data[i] == ']' {
		return nil, fmt.Errorf("%w: empty batch", ErrInvalidMessage)
	}
	for {
		i = skipSpace(data, i)
		end, _ := skipValue(data, i) // already validated
		if data[i] != '{' {
			return nil, fmt.Errorf("%w: batch member is not an object", ErrInvalidMessage)
		}
		m, err := parseObject(data[i:end])
		if err != nil {
			return nil, err
		}
		b.Batch = append(b.Batch, m)
		i = skipSpace(data, end)
		if data[i] == ']' {
			return b, nil
		}
		i++ // ','
	}
}

func parseObject(data []byte) (*Message, error) {
	// One pass checks the structure and reads the envelope: the members'
	// values are each checked as they are skipped. (A first pass over the
	// whole object, then a second for its members, scanned every message
	// twice.) A member that breaks the envelope's rules is reported only
	// once the whole object is known to be well formed, so that a syntax
	// error anywhere is still a parse error.
	m := &Message{Raw: data}
	var version []byte
	hasError := false
	var invalid error
	syntax := func(i int) (*Message, error) {
		return nil, fmt.Errorf("%w: syntax error at offset %d", ErrSyntax, i)
	}
	i := skipSpace(data, 1)
	if i >= len(data) {
		return syntax(i)
	}
	for data[i] != '}' {
		if data[i] != '"' {
			return syntax(i)
		}
		keyEnd, err := skipString(data, i)
		if err != nil {
			return nil, err
		}
		key := data[i+1 : keyEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			// An escaped name ("\u0069d") means what it decodes to.
			var s string
			if json.Unmarshal(data[i:keyEnd], &s) == nil {
				key = []byte(s)
			}
		}
		if i = skipSpace(data, keyEnd); i >= len(data) || data[i] != ':' {
			return syntax(i)
		}
		i = skipSpace(data, i+1)
		valEnd, err := skipValue(data, i)
		if err != nil {
			return nil, err
		}
		val := data[i:valEnd]
		switch {
		case bytes.Equal(key, []byte("jsonrpc")):
			version = val
		case bytes.Equal(key, []byte("id")):
			m.ID, m.idStart, m.idEnd = val, i, valEnd
		case bytes.Equal(key, []byte("method")):
			switch {
			case val[0] != '"':
				invalid = cmp.Or(invalid, fmt.Errorf("%w: method is not a string", ErrInvalidMessage))
			default:
				if m.Method = unquote(val); m.Method == "" {
					invalid = cmp.Or(invalid, fmt.Errorf("%w: bad method", ErrInvalidMessage))
				}
			}
		case bytes.Equal(key, []byte("params")):
			m.params, m.paramsAt = val, i
		case bytes.Equal(key, []byte("result")):
			m.result = val
		case bytes.Equal(key, []byte("error")):
			hasError = true
		}
		if i = skipSpace(data, valEnd); i >= len(data) {
			return syntax(i)
		}
		switch data[i] {
		case ',':
			if i = skipSpace(data, i+1); i >= len(data) || data[i] != '"' {
				return syntax(i)
			}
		case '}':
		default:
			return syntax(i)
		}
	}
	if i+1 != len(data) {
		return nil, fmt.Errorf("%w: data after the object", ErrSyntax)
	}
	if invalid != nil {
		return nil, invalid
	}
	if !bytes.Equal(version, []byte(`"2.0"`)) && !isVersion2(version) {
		return nil, fmt.Errorf(`%w: "jsonrpc" must be "2.0"`, ErrInvalidMessage)
	}
	if m.ID != nil {
		switch m.ID[0] {
		case '"':
		case 'n': // null: only in error responses to unparseable requests
			if m.Method != "" {
				return nil, fmt.Errorf("%w: request id is null", ErrInvalidMessage)
			}
		case 't', 'f', '{', '[':
			return nil, fmt.Errorf("%w: id must be a string or a number", ErrInvalidMessage)
		}
	}
	if m.Method == "" {
		if m.ID == nil {
			return nil, fmt.Errorf("%w: neither a method nor an id", ErrInvalidMessage)
		}
		if (m.result != nil) == hasError {
			return nil, fmt.Errorf("%w: a response needs exactly one of result and error", ErrInvalidMessage)
		}
	}
	return m, nil
}

// isVersion2 reports whether the "jsonrpc" member, written with escapes,
// is "2.0". (Apart from parseObject, so that the common case does not
// allocate the string it decodes to.)
func isVersion2(version []byte) bool {
	var v string
	return json.Unmarshal(version, &v) == nil && v == "2.0"
}

// unquote returns the string a JSON string literal holds, or "" if it is
// malformed. Literals without escapes, the usual case, take no decoding,
// and the methods and the protocol version that nearly every message
// holds take no allocation either.
func unquote(lit []byte) string {
	if bytes.IndexByte(lit, '\\') < 0 && utf8.Valid(lit) {
		if s, ok := known(lit[1 : len(lit)-1]); ok {
			return s
		}
		return string(lit[1 : len(lit)-1])
	}
	var s string
	if json.Unmarshal(lit, &s) != nil {
		return ""
	}
	return s
}

// known returns the string b holds if it is one that most messages carry:
// a common method or the modern protocol version.
func known(b []byte) (string, bool) {
	switch string(b) { // no allocation: the compiler compares in place
	case "tools/call":
		return "tools/call", true
	case "tools/list":
		return "tools/list", true
	case "resources/read":
		return "resources/read", true
	case "resources/list":
		return "resources/list", true
	case "prompts/get":
		return "prompts/get", true
	case "prompts/list":
		return "prompts/list", true
	case "ping":
		return "ping", true
	case "notifications/progress":
		return "notifications/progress", true
	case "notifications/message":
		return "notifications/message", true
	case "notifications/cancelled":
		return "notifications/cancelled", true
	case "server/discover":
		return "server/discover", true
	case "subscriptions/listen":
		return "subscriptions/listen", true
	case modernVersion:
		return modernVersion, true
	}
	return "", false
}

// idKey returns a key under which equal ids compare equal, even when a
// server re-encodes a number id (1.0 as 1, say). Strings and numbers never
// collide.
func idKey(id []byte) string {
	if len(id) == 0 {
		return ""
	}
	if id[0] == '"' {
		if bytes.IndexByte(id, '\\') < 0 && utf8.Valid(id) {
			return "s" + string(id[1:len(id)-1])
		}
		var s string
		if json.Unmarshal(id, &s) != nil {
			return "r" + string(id)
		}
		return "s" + s
	}
	return "n" + numberKey(string(id))
}

// numberKey returns the JSON number n in a form that is the same for equal
// numbers: its significant digits, without leading or trailing zeros, and
// the exponent of the last one. Unlike a float64 it is exact, so that
// distinct large integer ids stay distinct.
func numberKey(n string) string {
	if plainInteger(n) {
		return n // the usual id, already in the form below
	}
	digits, exp := strings.TrimPrefix(n, "-"), 0
	if i := strings.IndexAny(digits, "eE"); i >= 0 {
		e, err := strconv.Atoi(digits[i+1:])
		if err != nil || e > 1<<30 || e < -1<<30 {
			return n // compare absurd exponents as written
		}
		digits, exp = digits[:i], e
	}
	intPart, frac, _ := strings.Cut(digits, ".")
	digits = strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	if trimmed == "" {
		return "0" // 0, -0, 0.0e5
	}
	if n[0] == '-' {
		trimmed = "-" + trimmed
	}
	if exp >= 0 && exp <= 20 {
		return trimmed + strings.Repeat("0", exp) // an integer: written plainly
	}
	return trimmed + "e" + strconv.Itoa(exp)
}

// plainInteger reports whether n is a non-zero integer written without
// leading zeros, fraction or exponent, like 42 or -7, in the form numberKey
// gives it.
func plainInteger(n string) bool {
	d := strings.TrimPrefix(n, "-")
	if d == "" || d[0] == '0' || len(d)-len(strings.TrimRight(d, "0")) > 20 {
		return false // numberKey writes more than 20 trailing zeros as an exponent
	}
	for i := range len(d) {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// withID returns the message with its id replaced by id, copying Raw. It is
// used to give the host back the exact id bytes it sent when a server
// re-encoded them.
func (m *Message) withID(id []byte) *Message {
	raw := make([]byte, 0, len(m.Raw)-len(m.ID)+len(id))
	raw = append(raw, m.Raw[:m.idStart]...)
	raw = append(raw, id...)
	raw = append(raw, m.Raw[m.idEnd:]...)
	c := *m
	c.Raw, c.ID, c.idEnd = raw, raw[m.idStart:m.idStart+len(id)], m.idStart+len(id)
	return &c
}

// errorResponse builds a JSON-RPC error response with the given raw id
// (nil means null).
func errorResponse(id []byte, code int, msg string) *Message {
	if id == nil {
		id = []byte("null")
	}
	text, _ := json.Marshal(msg)
	raw := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%s}}`, id, code, text)
	m, err := ParseMessage(raw)
	if err != nil {
		panic("bridge: malformed error response: " + err.Error())
	}
	return m
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the offset just past the JSON value that starts at
// data[i], checking its structure (see [ParseMessage]).
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, fmt.Errorf("%w: unexpected end of input", ErrSyntax)
	}
	switch c := data[i]; {
	case c == '"':
		return skipString(data, i)
	case c == '{' || c == '[':
		return skipContainer(data, i)
	case c == 't':
		return skipLiteral(data, i, "true")
	case c == 'f':
		return skipLiteral(data, i, "false")
	case c == 'n':
		return skipLiteral(data, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(data, i)
	default:
		return 0, fmt.Errorf("%w: unexpected %q at offset %d", ErrSyntax, c, i)
	}
}

// skipString returns the offset just past the string starting at data[i].
func skipString(data []byte, i int) (int, error) {
	j := i + 1
	// The first bytes one by one: most strings of an envelope are short
	// names and values, on which a call of IndexByte costs more than it
	// saves. An escape is left to the loop below.
	for end := min(len(data), j+16); j < end && data[j] != '\\'; j++ {
		if data[j] == '"' {
			return j + 1, nil
		}
	}
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return 0, fmt.Errorf("%w: unterminated string at offset %d", ErrSyntax, i)
		}
		j += k
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > i && data[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			return j, nil
		}
	}
}

func skipLiteral(data []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(data[i:], []byte(lit)) {
		return 0, fmt.Errorf("%w: bad literal at offset %d", ErrSyntax, i)
	}
	return i + len(lit), nil
}

func skipNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	bad := func() (int, error) {
		return 0, fmt.Errorf("%w: bad number at offset %d", ErrSyntax, start)
	}
	if i < len(data) && data[i] == '0' {
		i++
	} else if digits() == 0 {
		return bad()
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			return bad()
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return bad()
		}
	}
	return i, nil
}

// skipKey returns the offset just past the member name that starts at
// data[i] and the colon after it.
func skipKey(data []byte, i int) (int, error) {
	if i >= len(data) || data[i] != '"' {
		return 0, fmt.Errorf("%w: syntax error at offset %d", ErrSyntax, i)
	}
	end, err := skipString(data, i)
	if err != nil {
		return 0, err
	}
	i = skipSpace(data, end)
	if i >= len(data) || data[i] != ':' {
		return 0, fmt.Errorf("%w: syntax error at offset %d", ErrSyntax, i)
	}
	return i + 1, nil
}

// skipContainer walks an object or array iteratively, with an explicit stack
// of open brackets, so that deeply nested input cannot exhaust the stack.
func skipContainer(data []byte, i int) (int, error) {
	var stack []byte // '{' or '['
	syntax := func() (int, error) {
		return 0, fmt.Errorf("%w: syntax error at offset %d", ErrSyntax, i)
	}
	// Each iteration starts at a position where a value (or, right after an
	// opening bracket, a closing bracket) is expected.
	for {
		i = skipSpace(data, i)
		if i >= len(data) {
			return syntax()
		}
		switch data[i] {
		case '{', '[':
			stack = append(stack, data[i])
			i = skipSpace(data, i+1)
			if i >= len(data) {
				return syntax()
			}
			if data[i] == '}' || data[i] == ']' {
				// An empty container: handled below as a close.
				break
			}
			if stack[len(stack)-1] == '{' {
				var err error
				if i, err = skipKey(data, i); err != nil {
					return 0, err
				}
			}
			continue
		default:
			end, err := skipValue(data, i) // a scalar: containers are handled above
			if err != nil {
				return 0, err
			}
			i = end
		}
		// After a value, or at an empty container's closing bracket: close
		// containers or move on to the next member.
		for {
			i = skipSpace(data, i)
			if i >= len(data) {
				return syntax()
			}
			top := stack[len(stack)-1]
			switch c := data[i]; {
			case c == '}' && top == '{', c == ']' && top == '[':
				stack = stack[:len(stack)-1]
				i++
				if len(stack) == 0 {
					return i, nil
				}
				continue
			case c == ',':
				i = skipSpace(data, i+1)
				if top == '{' {
					var err error
					if i, err = skipKey(data, i); err != nil {
						return 0, err
					}
				}
			default:
				return syntax()
			}
			break
		}
	}
}
