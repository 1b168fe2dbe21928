package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// envelope is what ParseMessage reads from a message, in a form cmp can
// compare.
type envelope struct {
	Kind   string // "request", "notification", "response" or "batch"
	ID     string // the raw id; "" for none
	Method string
	Batch  []envelope
}

func envelopeOf(m *Message) envelope {
	e := envelope{ID: string(m.ID), Method: m.Method}
	switch {
	case m.Batch != nil:
		e.Kind = "batch"
		for _, b := range m.Batch {
			e.Batch = append(e.Batch, envelopeOf(b))
		}
	case m.IsRequest():
		e.Kind = "request"
	case m.IsNotification():
		e.Kind = "notification"
	case m.IsResponse():
		e.Kind = "response"
	}
	return e
}

func wantRequest(id, method string) envelope {
	return envelope{Kind: "request", ID: id, Method: method}
}

func wantNotification(method string) envelope {
	return envelope{Kind: "notification", Method: method}
}

func wantResponse(id string) envelope {
	return envelope{Kind: "response", ID: id}
}

// validMessages are JSON-RPC messages ParseMessage must accept. They also
// seed FuzzParseMessage.
var validMessages = []struct {
	name string
	in   string
	want envelope
}{
	{"request", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, wantRequest("1", "tools/list")},
	{"request with params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}`, wantRequest("1", "tools/call")},
	{"members in any order", `{"method":"ping","params":[],"id":"a","jsonrpc":"2.0"}`, wantRequest(`"a"`, "ping")},
	{"string id", `{"jsonrpc":"2.0","id":"abc-123","method":"ping"}`, wantRequest(`"abc-123"`, "ping")},
	{"empty string id", `{"jsonrpc":"2.0","id":"","method":"ping"}`, wantRequest(`""`, "ping")},
	{"string id with escapes", `{"jsonrpc":"2.0","id":"a\"b\\c\u00e9","method":"ping"}`, wantRequest(`"a\"b\\c\u00e9"`, "ping")},
	{"negative id", `{"jsonrpc":"2.0","id":-7,"method":"ping"}`, wantRequest("-7", "ping")},
	{"zero id", `{"jsonrpc":"2.0","id":0,"method":"ping"}`, wantRequest("0", "ping")},
	{"large id", `{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}`, wantRequest("123456789012345678901234567890", "ping")},
	{"float id", `{"jsonrpc":"2.0","id":1.5e-3,"method":"ping"}`, wantRequest("1.5e-3", "ping")},
	{"exponent id", `{"jsonrpc":"2.0","id":1E+2,"method":"ping"}`, wantRequest("1E+2", "ping")},
	{"escaped method", `{"jsonrpc":"2.0","id":1,"method":"tools\/list"}`, wantRequest("1", "tools/list")},
	{"unicode escaped method", `{"jsonrpc":"2.0","id":1,"method":"\u0070ing"}`, wantRequest("1", "ping")},
	{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, wantNotification("notifications/initialized")},
	{"notification with params", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":0.5}}`, wantNotification("notifications/progress")},
	{"result", `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`, wantResponse("1")},
	{"null result", `{"jsonrpc":"2.0","id":1,"result":null}`, wantResponse("1")},
	{"error", `{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"no such method"}}`, wantResponse(`"x"`)},
	{"error with null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`, wantResponse("null")},
	{"unknown members", `{"jsonrpc":"2.0","id":1,"method":"m","x-extra":[1,{"y":null}],"_meta":{}}`, wantRequest("1", "m")},
	{"literals in params", `{"jsonrpc":"2.0","method":"m","params":[true,false,null,0,-0.5,1e10,"s"]}`, wantNotification("m")},
	{"nested containers", `{"jsonrpc":"2.0","id":1,"result":{"a":[[],{},[{}],{"b":[1,[2,[3]]]}]}}`, wantResponse("1")},
	{"repeated id: the last wins", `{"jsonrpc":"2.0","id":1,"id":2,"result":0}`, wantResponse("2")},

	// A quote preceded by an even number of backslashes ends the string; an
	// odd number escapes it. Each case hides an "id":2 inside a string, where
	// a scanner that got this wrong would read it.
	{"string ending in escaped backslash", `{"jsonrpc":"2.0","params":{"s":"a\\"},"id":1,"method":"m"}`, wantRequest("1", "m")},
	{"string ending in two escaped backslashes", `{"jsonrpc":"2.0","params":{"s":"a\\\\"},"id":1,"method":"m"}`, wantRequest("1", "m")},
	{"escaped quote after escaped backslash", `{"jsonrpc":"2.0","params":{"s":"a\\\",\"id\":2,\""},"id":1,"method":"m"}`, wantRequest("1", "m")},
	{"escaped quote", `{"jsonrpc":"2.0","params":{"s":"\",\"id\":2,\""},"id":1,"method":"m"}`, wantRequest("1", "m")},
	{"method ending in backslash", `{"jsonrpc":"2.0","id":1,"method":"a\\\\"}`, wantRequest("1", `a\\`)},
	{"key ending in backslash", `{"jsonrpc":"2.0","a\\":"\\","id":1,"method":"m"}`, wantRequest("1", "m")},
	{"brackets in strings", `{"jsonrpc":"2.0","id":1,"result":"}]{[,:"}`, wantResponse("1")},

	{"spaces", " \t{ \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"method\" : \"m\" , \"params\" : [ 1 , 2 ] } \t", wantRequest("1", "m")},
	{"trailing newline", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}\n", wantRequest("1", "m")},
	{"trailing CRLF", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}\r\n", wantRequest("1", "m")},
	{"pretty printed", "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,\n  \"method\": \"tools/call\",\n  \"params\": {\n    \"name\": \"a b\",\n    \"arguments\": [\n      1,\n      {}\n    ]\n  }\n}\n", wantRequest("1", "tools/call")},
	{"CRLF inside", "{\"jsonrpc\":\"2.0\",\r\n\"id\":1,\r\n\"method\":\"m\"}", wantRequest("1", "m")},
	{"lone CR inside", "{\"jsonrpc\":\"2.0\",\r\"id\":1,\r\"method\":\"m\"}", wantRequest("1", "m")},

	{"batch", `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},{"jsonrpc":"2.0","id":2,"result":{}}]`,
		envelope{Kind: "batch", Batch: []envelope{wantRequest("1", "a"), wantNotification("b"), wantResponse("2")}}},
	{"batch of one", `[{"jsonrpc":"2.0","method":"b"}]`, envelope{Kind: "batch", Batch: []envelope{wantNotification("b")}}},
	{"pretty batch", "[\n {\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"a\"},\n {\"jsonrpc\": \"2.0\", \"id\": \"x\", \"error\": {\"code\": 1, \"message\": \"m\"}}\n]",
		envelope{Kind: "batch", Batch: []envelope{wantRequest("1", "a"), wantResponse(`"x"`)}}},
}

func TestParseMessage(t *testing.T) {
	for _, tt := range validMessages {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseMessage(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, envelopeOf(m)); diff != "" {
				t.Errorf("ParseMessage(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			checkMessage(t, []byte(tt.in), m)
		})
	}
}

// invalidMessages are inputs ParseMessage must refuse, with the sentinel
// the error must wrap. They also seed FuzzParseMessage.
var invalidMessages = []struct {
	name string
	in   string
	want error
}{
	{"empty", "", ErrSyntax},
	{"only spaces", " \n\t ", ErrSyntax},
	{"truncated object", `{"jsonrpc":"2.0","id":1,"method":"m"`, ErrSyntax},
	{"truncated string", `{"jsonrpc":"2.0","id":1,"method":"m`, ErrSyntax},
	{"truncated after colon", `{"jsonrpc":`, ErrSyntax},
	{"truncated batch", `[{"jsonrpc":"2.0","method":"m"}`, ErrSyntax},
	{"only an open brace", `{`, ErrSyntax},
	{"trailing garbage", `{"jsonrpc":"2.0","method":"m"}x`, ErrSyntax},
	{"two objects", `{"jsonrpc":"2.0","method":"m"} {"jsonrpc":"2.0","method":"m"}`, ErrSyntax},
	{"trailing garbage after batch", `[{"jsonrpc":"2.0","method":"m"}]]`, ErrSyntax},
	{"escaped closing quote", `{"jsonrpc":"2.0","method":"m\"}`, ErrSyntax},
	{"bad literal", `{"jsonrpc":"2.0","method":"m","params":[tru]}`, ErrSyntax},
	{"literal with suffix", `{"jsonrpc":"2.0","method":"m","params":[truex]}`, ErrSyntax},
	{"capitalized literal", `{"jsonrpc":"2.0","method":"m","params":[Null]}`, ErrSyntax},
	{"leading zero", `{"jsonrpc":"2.0","id":01,"method":"m"}`, ErrSyntax},
	{"negative leading zero", `{"jsonrpc":"2.0","id":-01,"method":"m"}`, ErrSyntax},
	{"no fraction digits", `{"jsonrpc":"2.0","id":1.,"method":"m"}`, ErrSyntax},
	{"lone minus", `{"jsonrpc":"2.0","id":-,"method":"m"}`, ErrSyntax},
	{"no integer digits", `{"jsonrpc":"2.0","id":.5,"method":"m"}`, ErrSyntax},
	{"plus sign", `{"jsonrpc":"2.0","id":+1,"method":"m"}`, ErrSyntax},
	{"no exponent digits", `{"jsonrpc":"2.0","id":1e,"method":"m"}`, ErrSyntax},
	{"no exponent digits after sign", `{"jsonrpc":"2.0","id":1e+,"method":"m"}`, ErrSyntax},
	{"two points", `{"jsonrpc":"2.0","id":1.2.3,"method":"m"}`, ErrSyntax},
	{"hex number", `{"jsonrpc":"2.0","id":0x1,"method":"m"}`, ErrSyntax},
	{"trailing comma in object", `{"jsonrpc":"2.0","method":"m",}`, ErrSyntax},
	{"trailing comma in array", `{"jsonrpc":"2.0","method":"m","params":[1,]}`, ErrSyntax},
	{"trailing comma in batch", `[{"jsonrpc":"2.0","method":"m"},]`, ErrSyntax},
	{"leading comma", `{"jsonrpc":"2.0","method":"m","params":[,1]}`, ErrSyntax},
	{"double comma", `{"jsonrpc":"2.0",,"method":"m"}`, ErrSyntax},
	{"missing comma", `{"jsonrpc":"2.0" "method":"m"}`, ErrSyntax},
	{"missing colon", `{"jsonrpc" "2.0","method":"m"}`, ErrSyntax},
	{"missing value", `{"jsonrpc":"2.0","method":}`, ErrSyntax},
	{"missing key", `{"jsonrpc":"2.0",:1,"method":"m"}`, ErrSyntax},
	{"number key", `{"jsonrpc":"2.0",1:1,"method":"m"}`, ErrSyntax},
	{"bare key", `{jsonrpc:"2.0","method":"m"}`, ErrSyntax},
	{"single quotes", `{'jsonrpc':'2.0','method':'m'}`, ErrSyntax},
	{"mismatched brackets", `{"jsonrpc":"2.0","method":"m","params":[}}`, ErrSyntax},
	{"mismatched braces", `{"jsonrpc":"2.0","method":"m","params":{]}`, ErrSyntax},
	{"unclosed nested", `{"jsonrpc":"2.0","method":"m","params":[[[]]}`, ErrSyntax},
	{"vertical tab between tokens", "{\"jsonrpc\":\"2.0\",\v\"method\":\"m\"}", ErrSyntax},
	{"newline in string", "{\"jsonrpc\":\"2.0\",\"method\":\"a\nb\"}", ErrSyntax},

	{"number", `1`, ErrInvalidMessage},
	{"string", `"jsonrpc"`, ErrInvalidMessage},
	{"null", `null`, ErrInvalidMessage},
	{"empty object", `{}`, ErrInvalidMessage},
	{"empty batch", `[]`, ErrInvalidMessage},
	{"empty batch with spaces", `[ ]`, ErrInvalidMessage},
	{"batch of a number", `[1]`, ErrInvalidMessage},
	{"batch of a batch", `[[{"jsonrpc":"2.0","method":"m"}]]`, ErrInvalidMessage},
	{"batch with an invalid member", `[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"2.0"}]`, ErrInvalidMessage},
	{"jsonrpc missing", `{"id":1,"method":"m"}`, ErrInvalidMessage},
	{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"m"}`, ErrInvalidMessage},
	{"jsonrpc number", `{"jsonrpc":2.0,"id":1,"method":"m"}`, ErrInvalidMessage},
	{"jsonrpc with spaces", `{"jsonrpc":" 2.0","id":1,"method":"m"}`, ErrInvalidMessage},
	{"method number", `{"jsonrpc":"2.0","id":1,"method":1}`, ErrInvalidMessage},
	{"method null", `{"jsonrpc":"2.0","id":1,"method":null}`, ErrInvalidMessage},
	{"method empty", `{"jsonrpc":"2.0","id":1,"method":""}`, ErrInvalidMessage},
	{"id true", `{"jsonrpc":"2.0","id":true,"method":"m"}`, ErrInvalidMessage},
	{"id false", `{"jsonrpc":"2.0","id":false,"result":1}`, ErrInvalidMessage},
	{"id object", `{"jsonrpc":"2.0","id":{"a":1},"method":"m"}`, ErrInvalidMessage},
	{"id array", `{"jsonrpc":"2.0","id":[1],"result":1}`, ErrInvalidMessage},
	{"request with null id", `{"jsonrpc":"2.0","id":null,"method":"m"}`, ErrInvalidMessage},
	{"neither method nor id", `{"jsonrpc":"2.0","result":1}`, ErrInvalidMessage},
	{"response with result and error", `{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}`, ErrInvalidMessage},
	{"response with neither result nor error", `{"jsonrpc":"2.0","id":1}`, ErrInvalidMessage},
	{"response with a null error and a result", `{"jsonrpc":"2.0","id":1,"result":1,"error":null}`, ErrInvalidMessage},
}

func TestParseMessageErrors(t *testing.T) {
	for _, tt := range invalidMessages {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseMessage(%q) = %v, %v; want an error wrapping %v", tt.in, m, err, tt.want)
			}
			if m != nil {
				t.Errorf("ParseMessage(%q) returned a message with its error", tt.in)
			}
			other := ErrSyntax
			if tt.want == ErrSyntax {
				other = ErrInvalidMessage
			}
			if errors.Is(err, other) {
				t.Errorf("ParseMessage(%q) = %v, which also wraps %v", tt.in, err, other)
			}
		})
	}
}

// TestParseMessageTopLevelSyntax pins a bug: for input that does not start
// with '{' or '[', ParseMessage checks only the first JSON value and then
// reports ErrInvalidMessage, so input that is not JSON at all gets the
// JSON-RPC code -32600 instead of -32700 (parse error).
func TestParseMessageTopLevelSyntax(t *testing.T) {
	for _, in := range []string{
		`1 2`,
		`01`,
		`truex`,
		`nullnull`,
		`"a" "b"`,
		`1]`,
		`-0.5e3garbage`,
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseMessage([]byte(in))
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("ParseMessage(%q) = %v; want an error wrapping ErrSyntax", in, err)
			}
		})
	}
}

// TestParseMessageEscapedNames pins a bug: ParseMessage compares member
// names and the "jsonrpc" value without decoding them, while every JSON
// decoder (the server's included) reads "\u0069d" as "id". The relay then
// disagrees with the server on what a message is: it takes a request for
// a notification, or refuses a valid message.
func TestParseMessageEscapedNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want envelope
	}{
		{"escaped id key", `{"jsonrpc":"2.0","\u0069d":1,"method":"m"}`, wantRequest("1", "m")},
		{"escaped method key", `{"jsonrpc":"2.0","id":1,"\u006dethod":"m"}`, wantRequest("1", "m")},
		{"escaped result key", `{"jsonrpc":"2.0","id":1,"r\u0065sult":{}}`, wantResponse("1")},
		{"escaped jsonrpc key", `{"\u006asonrpc":"2.0","id":1,"method":"m"}`, wantRequest("1", "m")},
		{"escaped version", `{"jsonrpc":"2\u002e0","id":1,"method":"m"}`, wantRequest("1", "m")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseMessage(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, envelopeOf(m)); diff != "" {
				t.Errorf("ParseMessage(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestParseMessageLenientStrings shows the documented leniency: without
// line breaks, string contents are not checked, and the message is passed
// on as it came. With line breaks the input goes through json.Compact,
// which does check them.
func TestParseMessageLenientStrings(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
	}{
		{"bad escape", `{"jsonrpc":"2.0","id":1,"method":"m","params":"\q"}`},
		{"short unicode escape", `{"jsonrpc":"2.0","id":1,"method":"m","params":"\u12"}`},
		{"tab in string", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":\"a\tb\"}"},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":\"\xff\"}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseMessage(%q): %v", tt.in, err)
			}
			if !bytes.Equal(m.Raw, []byte(tt.in)) {
				t.Errorf("Raw = %q; want the input %q", m.Raw, tt.in)
			}
			pretty := strings.Replace(tt.in, `"id":1,`, "\"id\":1,\n", 1)
			if _, err := ParseMessage([]byte(pretty)); json.Valid([]byte(tt.in)) == (err != nil) {
				t.Errorf("ParseMessage(%q) = %v; want an error exactly when json.Valid rejects it", pretty, err)
			}
		})
	}
	// A bad escape in the method does not get past decoding it.
	if _, err := ParseMessage([]byte(`{"jsonrpc":"2.0","id":1,"method":"\q"}`)); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("ParseMessage with a bad escape in the method = %v; want ErrInvalidMessage", err)
	}
}

func TestParseMessageDeepNesting(t *testing.T) {
	const depth = 100000
	arrays := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	objects := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	for _, tt := range []struct {
		name string
		in   string
		want error // nil for success
	}{
		{"arrays in params", `{"jsonrpc":"2.0","id":1,"method":"m","params":` + arrays + `}`, nil},
		{"objects in params", `{"jsonrpc":"2.0","id":1,"method":"m","params":` + objects + `}`, nil},
		{"arrays in result", `{"jsonrpc":"2.0","id":1,"result":` + arrays + `}`, nil},
		{"arrays in a batch member", `[{"jsonrpc":"2.0","method":"m","params":` + arrays + `}]`, nil},
		{"unclosed arrays", `{"jsonrpc":"2.0","id":1,"method":"m","params":` + strings.Repeat("[", depth) + `}`, ErrSyntax},
		{"unclosed objects", strings.Repeat(`{"a":`, depth), ErrSyntax},
		{"open brackets only", strings.Repeat("[", depth), ErrSyntax},
		{"arrays at the top", arrays, ErrInvalidMessage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ParseMessage: %v", err)
				}
				if len(m.Raw) != len(tt.in) {
					t.Errorf("len(Raw) = %d; want %d", len(m.Raw), len(tt.in))
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseMessage = %v; want an error wrapping %v", err, tt.want)
			}
		})
	}

	// With line breaks the input goes through json.Compact, whose depth limit
	// (10000) then applies: it must fail cleanly, not crash.
	pretty := "{\n\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":" + arrays + "}"
	if _, err := ParseMessage([]byte(pretty)); err != nil && !errors.Is(err, ErrSyntax) {
		t.Errorf("ParseMessage(deep pretty-printed) = %v; want success or ErrSyntax", err)
	}
}

// TestParseMessageNoLineBreaks checks that Raw can be written as one line of
// the stdio transport whatever the input's layout.
func TestParseMessageNoLineBreaks(t *testing.T) {
	in := "\r\n{\r\n\t\"jsonrpc\" :\n\"2.0\",\n\n\"id\"\n:\n\"a b\"\n,\"method\":\"m\",\"params\":{\"s\":\"x\\ny\",\"t\":[\n1,\n2\n]}\n}\r\n"
	m, err := ParseMessage([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"jsonrpc":"2.0","id":"a b","method":"m","params":{"s":"x\ny","t":[1,2]}}`
	if diff := cmp.Diff(want, string(m.Raw)); diff != "" {
		t.Errorf("Raw mismatch (-want +got):\n%s", diff)
	}
	if got := string(m.Raw[m.idStart:m.idEnd]); got != `"a b"` {
		t.Errorf("id offsets point at %q; want %q", got, `"a b"`)
	}
}

func TestIDKey(t *testing.T) {
	for _, tt := range []struct {
		name  string
		a, b  string
		equal bool
	}{
		{"same number", "1", "1", true},
		{"integer and float", "1", "1.0", true},
		{"integer and exponent", "100", "1e2", true},
		{"exponent forms", "1E+2", "10e1", true},
		{"fractions", "0.5", "5e-1", true},
		{"same string", `"a"`, `"a"`, true},
		{"escaped and plain string", `"a/b"`, `"a\/b"`, true},
		{"unicode escape", `"é"`, `"\u00e9"`, true},
		{"different numbers", "1", "2", false},
		{"different strings", `"a"`, `"b"`, false},
		{"string and number", `"1"`, "1", false},
		{"string and null", `"null"`, "null", false},

		// Bugs. idKey parses numbers as float64, so distinct integers past
		// 2^53 collide: two pending requests then share one entry, and the
		// response to one is rewritten (withID) to the other's id.
		{"distinct integers past 2^53", "9007199254740992", "9007199254740993", false},
		{"distinct int64 ids", "1152921504606846976", "1152921504606846977", false},
		{"distinct large integers", "123456789012345678901234567890", "123456789012345678901234567891", false},
		// Strings are keyed by their plain contents and numbers by "\x00"
		// and the number, so a string that starts with NUL collides with a
		// number, despite the doc comment.
		{"string with NUL and number", `"\u00001"`, "1", false},
		// Zero and negative zero are equal numbers, but FormatFloat tells
		// them apart.
		{"zero and negative zero", "0", "-0", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := idKey([]byte(tt.a)), idKey([]byte(tt.b))
			if (ka == kb) != tt.equal {
				t.Errorf("idKey(%s) = %q, idKey(%s) = %q; want equal: %v", tt.a, ka, tt.b, kb, tt.equal)
			}
		})
	}
}

func TestWithID(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		id   string
		want string
	}{
		{"number to string", `{"jsonrpc":"2.0","id":1,"result":{}}`, `"abc"`, `{"jsonrpc":"2.0","id":"abc","result":{}}`},
		{"string to number", `{"jsonrpc":"2.0","id":"abc","result":{}}`, `1`, `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{"float to integer", `{"jsonrpc":"2.0","id":1.0,"result":{}}`, `1`, `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{"id first", `{"id":7,"jsonrpc":"2.0","result":{}}`, `"x"`, `{"id":"x","jsonrpc":"2.0","result":{}}`},
		{"id last", `{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":7}`, `70000`, `{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":70000}`},
		{"null id", `{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"m"}}`, `2`, `{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"m"}}`},
		{"same length", `{"jsonrpc":"2.0","id":12,"result":{}}`, `34`, `{"jsonrpc":"2.0","id":34,"result":{}}`},
		{"spaces kept", `{ "jsonrpc" : "2.0" , "id" : 1 , "result" : 2 }`, `"a"`, `{ "jsonrpc" : "2.0" , "id" : "a" , "result" : 2 }`},
		{"compacted input", "{\n \"jsonrpc\": \"2.0\",\n \"id\": 1,\n \"result\": 2\n}", `"a"`, `{"jsonrpc":"2.0","id":"a","result":2}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			raw := bytes.Clone(m.Raw)
			c := m.withID([]byte(tt.id))
			if diff := cmp.Diff(tt.want, string(c.Raw)); diff != "" {
				t.Errorf("withID(%s).Raw mismatch (-want +got):\n%s", tt.id, diff)
			}
			if string(c.ID) != tt.id {
				t.Errorf("withID(%s).ID = %s", tt.id, c.ID)
			}
			if !bytes.Equal(m.Raw, raw) {
				t.Errorf("withID changed the original Raw to %q", m.Raw)
			}
			if back := c.withID(m.ID); !bytes.Equal(back.Raw, m.Raw) {
				t.Errorf("withID back to %s = %q; want %q", m.ID, back.Raw, m.Raw)
			}
			p, err := ParseMessage(c.Raw)
			if err != nil {
				t.Fatalf("ParseMessage(withID(%s).Raw): %v", tt.id, err)
			}
			if diff := cmp.Diff(envelopeOf(c), envelopeOf(p)); diff != "" {
				t.Errorf("withID result and its reparse differ (-withID +reparse):\n%s", diff)
			}
		})
	}

	t.Run("batch member", func(t *testing.T) {
		m, err := ParseMessage([]byte(`[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"result":2}]`))
		if err != nil {
			t.Fatal(err)
		}
		c := m.Batch[1].withID([]byte(`"b"`))
		if want := `{"jsonrpc":"2.0","id":"b","result":2}`; string(c.Raw) != want {
			t.Errorf("withID on a batch member: Raw = %s; want %s", c.Raw, want)
		}
		if want := `[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"result":2}]`; string(m.Raw) != want {
			t.Errorf("withID on a batch member changed the batch to %s", m.Raw)
		}
	})
}

func TestErrorResponse(t *testing.T) {
	for _, tt := range []struct {
		name   string
		id     []byte
		code   int
		msg    string
		wantID string
	}{
		{"null id", nil, -32700, "parse error", "null"},
		{"number id", []byte("7"), -32600, "bad", "7"},
		{"string id", []byte(`"a\"b"`), 1, "x", `"a\"b"`},
		{"message needing escapes", []byte("1"), -32000, "a \"quoted\"\nline\\ <tag> & é \x01", "1"},
		{"empty message", []byte("1"), 0, "", "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := errorResponse(tt.id, tt.code, tt.msg)
			if diff := cmp.Diff(wantResponse(tt.wantID), envelopeOf(m)); diff != "" {
				t.Errorf("errorResponse envelope mismatch (-want +got):\n%s", diff)
			}
			if bytes.ContainsAny(m.Raw, "\r\n") || !json.Valid(m.Raw) {
				t.Errorf("errorResponse Raw = %q; want one line of valid JSON", m.Raw)
			}
			var got struct {
				JSONRPC string `json:"jsonrpc"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(m.Raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.JSONRPC != "2.0" || got.Error.Code != tt.code || got.Error.Message != tt.msg {
				t.Errorf("errorResponse decodes to %+v; want code %d and message %q", got, tt.code, tt.msg)
			}
		})
	}
}

// TestParseMessageAgreesWithEncodingJSON runs the fuzz properties over the
// tables, so that they hold on every run, not just when fuzzing.
func TestParseMessageAgreesWithEncodingJSON(t *testing.T) {
	for _, tt := range validMessages {
		checkParseMessage(t, []byte(tt.in))
	}
	for _, tt := range invalidMessages {
		checkParseMessage(t, []byte(tt.in))
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, tt := range validMessages {
		f.Add([]byte(tt.in))
	}
	for _, tt := range invalidMessages {
		f.Add([]byte(tt.in))
	}
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":"a\\","method":"m"}`,
		`{"jsonrpc":"2.0","id":"\\\"","result":"\\\\\""}`,
		`{"jsonrpc":"2.0","id":1,"result":[[[{"a":[{}]}]]]}`,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"\t\"}",
		"{\"jsonrpc\":\"2.0\",\n\"id\":1,\"result\":\"\t\"}",
		"\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"method\":\"m\"}",
		"\u00a0{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\u2028",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseMessage(t, data)
	})
}

// maxJSONDepth is encoding/json's nesting limit: json.Valid rejects deeper
// input, which ParseMessage accepts. The cross-checks skip such input.
const maxJSONDepth = 10000

// checkParseMessage checks the properties ParseMessage must have for any
// input:
//
//   - An error wraps exactly one of ErrSyntax and ErrInvalidMessage, and
//     comes with no message.
//   - Input that is not structurally JSON (see structureOf) is an ErrSyntax.
//     Input that json.Valid accepts is never an ErrSyntax.
//   - A message's Raw has no line breaks, is structurally JSON, and is the
//     input trimmed of white space, compacted if it had line breaks.
//   - For input that json.Valid accepts, ParseMessage agrees with
//     encoding/json (see jsonrpcEnvelope) on whether it is a JSON-RPC
//     message and on its ids and methods.
//
// The scanner does not look inside strings (escapes, control characters,
// UTF-8), so the structural checks blank out string contents first; that is
// the documented leniency, and the only one besides encoding/json's depth
// limit and bytes.TrimSpace's notion of white space.
func checkParseMessage(t *testing.T, data []byte) {
	t.Helper()
	in := bytes.Clone(data)
	m, err := ParseMessage(data)
	if !bytes.Equal(data, in) {
		t.Fatalf("ParseMessage modified its input %q to %q", in, data)
	}
	trimmed := bytes.TrimSpace(in)
	structure, depth, closed := structureOf(trimmed)
	shallow := depth <= maxJSONDepth
	if err != nil {
		syntax, invalid := errors.Is(err, ErrSyntax), errors.Is(err, ErrInvalidMessage)
		if syntax == invalid {
			t.Fatalf("ParseMessage(%q) = %v, which must wrap exactly one of ErrSyntax and ErrInvalidMessage", in, err)
		}
		if m != nil {
			t.Errorf("ParseMessage(%q) returned a message with error %v", in, err)
		}
		if syntax && json.Valid(in) {
			t.Errorf("ParseMessage(%q) = %v; want no syntax error for valid JSON", in, err)
		}
		if !syntax && shallow && (!closed || !json.Valid(structure)) {
			t.Errorf("ParseMessage(%q) = %v; want ErrSyntax for input that is not JSON", in, err)
		}
	} else {
		checkMessage(t, in, m)
		if shallow && (!closed || !json.Valid(structure)) {
			t.Errorf("ParseMessage(%q) accepted input that is not JSON: %s", in, structure)
		}
	}
	if !json.Valid(in) {
		return
	}
	want, v := jsonrpcEnvelope(t, trimmed)
	switch v {
	case isMessage:
		if err != nil {
			t.Fatalf("ParseMessage(%q) = %v; encoding/json reads %+v", in, err, want)
		}
		if diff := cmp.Diff(want, envelopeOf(m)); diff != "" {
			t.Errorf("ParseMessage(%q) and encoding/json disagree (-json +ParseMessage):\n%s", in, diff)
		}
	case notMessage:
		if !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("ParseMessage(%q) = %v, %v; want ErrInvalidMessage", in, m, err)
		}
	}
}

// checkMessage checks a message that ParseMessage returned for in.
func checkMessage(t *testing.T, in []byte, m *Message) {
	t.Helper()
	if bytes.ContainsAny(m.Raw, "\r\n") {
		t.Errorf("ParseMessage(%q).Raw = %q has a line break", in, m.Raw)
	}
	trimmed := bytes.TrimSpace(in)
	if bytes.ContainsAny(trimmed, "\r\n") {
		var buf bytes.Buffer
		if err := json.Compact(&buf, trimmed); err != nil {
			t.Errorf("ParseMessage(%q) accepted input with line breaks that json.Compact refuses: %v", in, err)
		} else if !bytes.Equal(m.Raw, buf.Bytes()) {
			t.Errorf("ParseMessage(%q).Raw = %q; want it compacted: %q", in, m.Raw, buf.Bytes())
		}
	} else if !bytes.Equal(m.Raw, trimmed) {
		t.Errorf("ParseMessage(%q).Raw = %q; want the trimmed input", in, m.Raw)
	}
	if m.Batch != nil {
		if m.ID != nil || m.Method != "" || len(m.Batch) == 0 {
			t.Errorf("ParseMessage(%q): batch with id %q, method %q and %d members", in, m.ID, m.Method, len(m.Batch))
		}
		for _, b := range m.Batch {
			if !bytes.Contains(m.Raw, b.Raw) {
				t.Errorf("batch member %q is not part of the batch %q", b.Raw, m.Raw)
			}
			checkMember(t, b)
		}
		return
	}
	checkMember(t, m)
}

// checkMember checks a message that is not a batch, and withID on it.
func checkMember(t *testing.T, m *Message) {
	t.Helper()
	n := 0
	for _, is := range []bool{m.IsRequest(), m.IsNotification(), m.IsResponse()} {
		if is {
			n++
		}
	}
	if n != 1 || m.Batch != nil {
		t.Errorf("message %q: request %v, notification %v, response %v, batch %v", m.Raw,
			m.IsRequest(), m.IsNotification(), m.IsResponse(), m.Batch != nil)
	}
	if m.ID == nil {
		return
	}
	if got := m.Raw[m.idStart:m.idEnd]; !bytes.Equal(got, m.ID) {
		t.Fatalf("message %q: ID %q but Raw[idStart:idEnd] = %q", m.Raw, m.ID, got)
	}
	raw := bytes.Clone(m.Raw)
	const newID = `"swapped \"id\""`
	c := m.withID([]byte(newID))
	if !bytes.Equal(m.Raw, raw) {
		t.Fatalf("withID changed the original Raw %q to %q", raw, m.Raw)
	}
	p, err := ParseMessage(c.Raw)
	if err != nil {
		t.Fatalf("message %q with id %s = %q, which does not parse: %v", raw, newID, c.Raw, err)
	}
	if string(p.ID) != newID || string(c.ID) != newID || p.Method != m.Method {
		t.Errorf("message %q with id %s = %q, which parses to id %s, method %q", raw, newID, c.Raw, p.ID, p.Method)
	}
	if back := c.withID(m.ID); !bytes.Equal(back.Raw, raw) {
		t.Errorf("withID round trip: %q became %q", raw, back.Raw)
	}
}

// structureOf returns data with every string replaced by "s", delimiting
// strings as ParseMessage does (a backslash escapes the next byte), the
// deepest nesting of objects and arrays, and whether every string is
// closed. json.Valid on the result checks the structure of data without
// the contents of its strings.
func structureOf(data []byte) (structure []byte, depth int, closed bool) {
	structure = make([]byte, 0, len(data))
	d := 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			i++
			for i < len(data) && data[i] != '"' {
				if data[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(data) {
				return structure, depth, false
			}
			structure = append(structure, `"s"`...)
			continue
		case '{', '[':
			d++
			depth = max(depth, d)
		case '}', ']':
			d--
		}
		structure = append(structure, data[i])
	}
	return structure, depth, true
}

type verdict int

const (
	notMessage verdict = iota
	isMessage
	undecided // repeated member names: JSON leaves the meaning open
)

// jsonrpcEnvelope reads the JSON-RPC envelope of valid JSON with
// encoding/json, deciding with ParseMessage's rules what a message is. It
// decodes member names into a map rather than a struct: struct fields
// match names case-insensitively, and JSON-RPC names are case-sensitive.
func jsonrpcEnvelope(t *testing.T, data []byte) (envelope, verdict) {
	t.Helper()
	switch data[0] {
	case '{':
		return jsonrpcObject(t, data)
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			t.Fatalf("json.Unmarshal(%q) into a slice: %v", data, err)
		}
		if len(items) == 0 {
			return envelope{}, notMessage
		}
		e := envelope{Kind: "batch"}
		v := isMessage
		for _, item := range items {
			if item[0] != '{' {
				return envelope{}, notMessage
			}
			b, bv := jsonrpcObject(t, item)
			switch bv {
			case notMessage:
				return envelope{}, notMessage
			case undecided:
				v = undecided
			}
			e.Batch = append(e.Batch, b)
		}
		return e, v
	default:
		return envelope{}, notMessage
	}
}

func jsonrpcObject(t *testing.T, data []byte) (envelope, verdict) {
	t.Helper()
	members := map[string]json.RawMessage{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		t.Fatalf("decode %q: %v", data, err)
	}
	repeated := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("decode %q: %v", data, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decode %q: %v", data, err)
		}
		name := tok.(string)
		if _, ok := members[name]; ok {
			repeated = true
		}
		members[name] = v
	}
	if repeated {
		return envelope{}, undecided
	}
	var version string
	if raw, ok := members["jsonrpc"]; !ok || json.Unmarshal(raw, &version) != nil || version != "2.0" {
		return envelope{}, notMessage
	}
	var e envelope
	if raw, ok := members["method"]; ok {
		if raw[0] != '"' {
			return envelope{}, notMessage
		}
		if err := json.Unmarshal(raw, &e.Method); err != nil || e.Method == "" {
			return envelope{}, notMessage
		}
	}
	id, hasID := members["id"]
	if hasID {
		switch c := id[0]; {
		case c == '"', c == '-', c >= '0' && c <= '9':
		case c == 'n' && e.Method == "":
		default:
			return envelope{}, notMessage
		}
		e.ID = string(id)
	}
	_, hasResult := members["result"]
	_, hasError := members["error"]
	switch {
	case e.Method != "" && hasID:
		e.Kind = "request"
	case e.Method != "":
		e.Kind = "notification"
	case hasID && hasResult != hasError:
		e.Kind = "response"
	default:
		return envelope{}, notMessage
	}
	return e, isMessage
}

// TestIDKeyIntegerForms pins that the fast path for plain integers gives the
// key every other spelling of the same number gets.
func TestIDKeyIntegerForms(t *testing.T) {
	for _, group := range [][]string{
		{"100", "1e2", "1.00e2", "100.0", "10E1"},
		{"-7", "-7.0", "-0.7e1"},
		{"123" + strings.Repeat("0", 20), "123e20"},
		{"123" + strings.Repeat("0", 25), "123e25", "1.23e27"},
	} {
		want := idKey([]byte(group[0]))
		for _, id := range group[1:] {
			if got := idKey([]byte(id)); got != want {
				t.Errorf("idKey(%s) = %q, idKey(%s) = %q: want equal", id, got, group[0], want)
			}
		}
	}
}

// BenchmarkParseMessage parses a 2026-07-28 host's tools/call as the relay
// reads each line, and a small tool result as it reads each response: the
// envelope scan every message pays.
func BenchmarkParseMessage(b *testing.B) {
	for _, tt := range []struct{ name, msg string }{
		{"call", `{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello","region":"eu-west-1"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"}}}}`},
		{"result", `{"jsonrpc":"2.0","id":12,"result":{"resultType":"complete","content":[{"type":"text","text":"hello"}]}}`},
	} {
		b.Run(tt.name, func(b *testing.B) {
			data := []byte(tt.msg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseMessage(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
