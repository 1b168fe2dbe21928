package bridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The request metadata headers of revision 2026-07-28 (basic/transports/
// streamable-http, "Request Metadata"). stdio carries no headers, so the
// bridge derives them from each message it posts to a 2026 server.
const (
	headerMethod      = "Mcp-Method"
	headerName        = "Mcp-Name"
	headerParamPrefix = "Mcp-Param-"
)

// metaPrefix is the prefix of the _meta keys the specification reserves
// for the per-request protocol fields (basic/index, "_meta").
const metaPrefix = "io.modelcontextprotocol/"

// Keys of the per-request protocol fields in _meta.
const (
	metaVersion        = metaPrefix + "protocolVersion"
	metaCapabilities   = metaPrefix + "clientCapabilities"
	metaClientInfo     = metaPrefix + "clientInfo"
	metaLogLevel       = metaPrefix + "logLevel"
	metaServerInfo     = metaPrefix + "serverInfo"
	metaSubscriptionID = metaPrefix + "subscriptionId"
)

// reqFields is what the header derivation reads of a request's params.
type reqFields struct {
	Name, URI, TaskID string
	Arguments         json.RawMessage
	Meta              struct{ ProtocolVersion string }
}

func parseReqFields(params []byte) reqFields {
	var e reqFields
	eachMember(params, func(key, val []byte) {
		switch string(key) {
		case "name":
			e.Name = unquote(val)
		case "uri":
			e.URI = unquote(val)
		case "taskId":
			e.TaskID = unquote(val)
		case "arguments":
			e.Arguments = val
		case "_meta":
			eachMember(val, func(key, val []byte) {
				if string(key) == metaVersion {
					e.Meta.ProtocolVersion = unquote(val)
				}
			})
		}
	})
	return e
}

// eachMember calls fn with the name and raw value of each member of the
// JSON object obj, which ParseMessage has checked; it does nothing if obj
// is not an object. Unlike json.Unmarshal it decodes nothing it is not
// asked for: the era stage reads a few members of every request.
func eachMember(obj []byte, fn func(key, val []byte)) {
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' {
		return
	}
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		keyEnd, err := skipString(obj, i)
		if err != nil {
			return
		}
		key := obj[i+1 : keyEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			key = []byte(unquote(obj[i:keyEnd]))
		}
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		valEnd, err := skipValue(obj, i)
		if err != nil {
			return
		}
		fn(key, obj[i:valEnd])
		i = skipSpace(obj, valEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

// nameSource returns the value of the Mcp-Name header for a request with
// this method, and whether the method has one: the tool or prompt name,
// the resource URI, or for the tasks extension the task id.
func (e *reqFields) nameSource(method string) (string, bool) {
	switch method {
	case "tools/call", "prompts/get":
		return e.Name, true
	case "resources/read":
		return e.URI, true
	case "tasks/get", "tasks/update", "tasks/cancel":
		return e.TaskID, true
	}
	return "", false
}

// modernHeaders returns the headers a request to a 2026 server carries
// beside the body: MCP-Protocol-Version (version), Mcp-Method, Mcp-Name and,
// for tools/call, an Mcp-Param-* header for each argument the tool's
// inputSchema marks with x-mcp-header.
func modernHeaders(method, version string, e *reqFields, tools *toolHeaders) http.Header {
	var params []paramPath
	if method == "tools/call" && tools != nil {
		params = tools.params(e.Name)
	}
	// One array holds the values, and the version a modern host sends,
	// nearly always the bridge's own, is shared: a request's headers are
	// built for every call.
	vals := make([]string, 0, 3+len(params))
	one := func(v string) []string {
		vals = append(vals, v)
		return vals[len(vals)-1 : len(vals) : len(vals)] // capped: an append copies
	}
	h := make(http.Header, 3+len(params))
	h[headerProtocolVersion] = valueModernVersion
	if version != modernVersion {
		h[headerProtocolVersion] = one(version)
	}
	h[headerMethod] = one(method)
	if name, ok := e.nameSource(method); ok {
		h[headerName] = one(encodeHeaderValue(name))
	}
	for _, p := range params {
		if v, ok := p.value(e.Arguments); ok {
			h[p.key] = one(v)
		}
	}
	return h
}

// valueModernVersion is the MCP-Protocol-Version of requests at
// modernVersion; never modified.
var valueModernVersion = []string{modernVersion}

// encodeHeaderValue returns s as a header value: as it is when it is plain
// printable ASCII with no surrounding whitespace, else in the base64
// sentinel form =?base64?…?= (streamable-http, "Value Encoding"). A value
// that already looks like the sentinel, and the empty string, are encoded
// too.
func encodeHeaderValue(s string) string {
	plain := s != "" && s[0] != ' ' && s[0] != '\t' && s[len(s)-1] != ' ' && s[len(s)-1] != '\t' &&
		!(strings.HasPrefix(s, "=?base64?") && strings.HasSuffix(s, "?="))
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = c == '\t' || c >= 0x20 && c <= 0x7e
	}
	if plain {
		return s
	}
	return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// toolHeaders remembers, per tool, the arguments its inputSchema mirrors
// into Mcp-Param-* headers, learned from every tools/list result that
// passes through the bridge (streamable-http, "Custom Headers from Tool
// Parameters"). It is safe for concurrent use.
type toolHeaders struct {
	mu    sync.Mutex             // guards tools
	tools map[string][]paramPath // by tool name; tools without x-mcp-header are absent
}

// A paramPath is one x-mcp-header annotation: the header name and the
// chain of properties keys that leads to the argument.
type paramPath struct {
	header string // as the schema names it
	key    string // of the Mcp-Param-* header, canonical
	path   []string
	kind   string // the JSON Schema type: string, integer or boolean
}

func (t *toolHeaders) params(tool string) []paramPath {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tools[tool]
}

// value returns the header value of the argument at p's path in args, and
// false when there is none (absent or null: the header is omitted).
func (p paramPath) value(args json.RawMessage) (string, bool) {
	raw := []byte(args)
	for _, key := range p.path {
		var next []byte
		eachMember(raw, func(k, v []byte) {
			if string(k) == key {
				next = v
			}
		})
		if next == nil {
			return "", false
		}
		raw = next
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		return encodeHeaderValue(unquote(raw)), true
	}
	if p.kind == "integer" {
		// Decimal text; 42.0 is the integer 42.
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil && f == float64(int64(f)) {
			return strconv.FormatInt(int64(f), 10), true
		}
	}
	return encodeHeaderValue(string(raw)), true // true, false, or what the server validates
}

// observe records the x-mcp-header annotations of the tools in a tools/list
// result and returns the result without the tools whose annotations are
// invalid, which a client MUST exclude, or result itself when none is. It
// reports each excluded tool to warn.
func (t *toolHeaders) observe(result []byte, warn func(tool string, err error)) []byte {
	var res map[string]json.RawMessage
	if json.Unmarshal(result, &res) != nil {
		return result
	}
	var tools []json.RawMessage
	if json.Unmarshal(res["tools"], &tools) != nil {
		return result
	}
	kept := tools[:0:0]
	learned := map[string][]paramPath{}
	for _, raw := range tools {
		var tool struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if json.Unmarshal(raw, &tool) != nil {
			kept = append(kept, raw)
			continue
		}
		params, err := headerParams(tool.InputSchema)
		if err != nil {
			warn(tool.Name, err)
			continue
		}
		if len(params) > 0 {
			learned[tool.Name] = params
		}
		kept = append(kept, raw)
	}
	t.mu.Lock()
	if t.tools == nil {
		t.tools = map[string][]paramPath{}
	}
	for _, raw := range tools {
		var tool struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(raw, &tool) == nil {
			if p, ok := learned[tool.Name]; ok {
				t.tools[tool.Name] = p
			} else {
				delete(t.tools, tool.Name)
			}
		}
	}
	t.mu.Unlock()
	if len(kept) == len(tools) {
		return result
	}
	res["tools"], _ = json.Marshal(kept)
	out, err := json.Marshal(res)
	if err != nil {
		return result
	}
	return out
}

// headerParams returns the x-mcp-header annotations of an inputSchema, or
// an error when one breaks the rules of streamable-http, "Schema
// Extension".
func headerParams(schema json.RawMessage) ([]paramPath, error) {
	if !bytes.Contains(schema, []byte(`x-mcp-header`)) {
		return nil, nil // the usual case: nothing to walk
	}
	var params []paramPath
	seen := map[string]bool{}
	var walk func(node map[string]json.RawMessage, path []string, reachable bool) error
	walk = func(node map[string]json.RawMessage, path []string, reachable bool) error {
		if raw, ok := node["x-mcp-header"]; ok {
			if !reachable || len(path) == 0 {
				return fmt.Errorf("x-mcp-header on a property not reachable through properties alone")
			}
			var name string
			if json.Unmarshal(raw, &name) != nil || !isToken(name) {
				return fmt.Errorf("x-mcp-header %s is not an HTTP field name", excerpt(raw, 40))
			}
			if seen[strings.ToLower(name)] {
				return fmt.Errorf("x-mcp-header %q appears twice", name)
			}
			seen[strings.ToLower(name)] = true
			var kind string
			json.Unmarshal(node["type"], &kind)
			switch kind {
			case "string", "integer", "boolean":
			default:
				return fmt.Errorf("x-mcp-header %q is on a property of type %q, not string, integer or boolean", name, kind)
			}
			params = append(params, paramPath{header: name, key: http.CanonicalHeaderKey(headerParamPrefix + name), path: append([]string(nil), path...), kind: kind})
		}
		for key, raw := range node {
			if key == "x-mcp-header" || !bytes.Contains(raw, []byte(`x-mcp-header`)) {
				continue
			}
			if key == "properties" {
				var props map[string]json.RawMessage
				if json.Unmarshal(raw, &props) != nil {
					continue
				}
				for name, sub := range props {
					var child map[string]json.RawMessage
					if json.Unmarshal(sub, &child) == nil {
						if err := walk(child, append(path, name), reachable); err != nil {
							return err
						}
					}
				}
				continue
			}
			// Any other keyword (items, anyOf, $defs, if, ...) leaves the
			// statically reachable part of the schema.
			if err := walkAny(raw, func(child map[string]json.RawMessage) error { return walk(child, path, false) }); err != nil {
				return err
			}
		}
		return nil
	}
	var root map[string]json.RawMessage
	if json.Unmarshal(schema, &root) != nil {
		return nil, nil
	}
	if err := walk(root, nil, true); err != nil {
		return nil, err
	}
	return params, nil
}

// walkAny calls fn with every object in raw: raw itself, or the members of
// an array.
func walkAny(raw json.RawMessage, fn func(map[string]json.RawMessage) error) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			return fn(obj)
		}
	case len(raw) > 0 && raw[0] == '[':
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) == nil {
			for _, a := range arr {
				if err := walkAny(a, fn); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token (1*tchar).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
