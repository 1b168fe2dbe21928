package install

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// This file reads JSON with comments (JSONC: // and /* */ comments and
// trailing commas, as VS Code's and Zed's settings allow) into a small tree
// that remembers where every key and value sits in the text, so that an
// edit can touch only the bytes it means to change. Nothing here ever
// re-serializes a document.

// A jvalue is a JSON value and its span [start, end) in the text.
type jvalue struct {
	kind       byte // '{', '[', '"', '0' (number) or 'l' (true, false, null)
	start, end int
	members    []jmember // objects
	elems      []*jvalue // arrays
	str        string    // strings, decoded
	raw        string    // numbers and literals
}

// A jmember is one member of an object.
type jmember struct {
	key              string
	keyStart, keyEnd int
	value            *jvalue
	comma            int // offset of the comma after the value, or -1
}

// member returns the member named key, or nil.
func (v *jvalue) member(key string) *jmember {
	for i := range v.members {
		if v.members[i].key == key {
			return &v.members[i]
		}
	}
	return nil
}

// decode returns the value as encoding/json would: map[string]any,
// []any, string, json.Number, bool or nil.
func (v *jvalue) decode() any {
	switch v.kind {
	case '{':
		m := make(map[string]any, len(v.members))
		for _, mb := range v.members {
			m[mb.key] = mb.value.decode()
		}
		return m
	case '[':
		a := make([]any, len(v.elems))
		for i, e := range v.elems {
			a[i] = e.decode()
		}
		return a
	case '"':
		return v.str
	case '0':
		return json.Number(v.raw)
	}
	switch v.raw {
	case "true":
		return true
	case "false":
		return false
	}
	return nil
}

// SyntaxError says where a config file stops being what its host reads.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack.
const maxDepth = 500

type jparser struct {
	src   []byte
	pos   int
	depth int
}

// parseJSONC parses a whole document. A UTF-8 byte order mark is skipped.
func parseJSONC(src []byte) (*jvalue, error) {
	p := &jparser{src: src}
	if bytes.HasPrefix(src, utf8BOM) {
		p.pos = len(utf8BOM)
	}
	if err := p.skip(); err != nil {
		return nil, err
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if err := p.skip(); err != nil {
		return nil, err
	}
	if p.pos < len(src) {
		return nil, p.errorf("unexpected %q after the document", src[p.pos])
	}
	return v, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func (p *jparser) errorf(format string, args ...any) error {
	line, col := lineCol(p.src, p.pos)
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// lineCol returns the 1-based line and column (in bytes) of offset off.
func lineCol(src []byte, off int) (int, int) {
	off = min(off, len(src))
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(src[:off], '\n')
	return line, col
}

// skip moves past whitespace and comments.
func (p *jparser) skip() error {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.pos++
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '*':
			end := bytes.Index(p.src[p.pos+2:], []byte("*/"))
			if end < 0 {
				return p.errorf("unterminated /* comment")
			}
			p.pos += 2 + end + 2
		default:
			return nil
		}
	}
	return nil
}

func (p *jparser) value() (*jvalue, error) {
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of file")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		start := p.pos
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &jvalue{kind: '"', start: start, end: p.pos, str: s}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.src[p.pos:], []byte(lit)) {
				v := &jvalue{kind: 'l', start: p.pos, end: p.pos + len(lit), raw: lit}
				p.pos += len(lit)
				if p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
					return nil, p.errorf("unexpected %q", p.src[p.pos])
				}
				return v, nil
			}
		}
		return nil, p.errorf("unexpected %q where a value should be", c)
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *jparser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *jparser) object() (*jvalue, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	v := &jvalue{kind: '{', start: p.pos}
	p.pos++ // {
	for {
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of file in an object")
		}
		if p.src[p.pos] == '}' {
			p.pos++
			v.end = p.pos
			return v, nil
		}
		if n := len(v.members); n > 0 && v.members[n-1].comma < 0 {
			return nil, p.errorf("expected , or } after an object member")
		}
		if p.src[p.pos] != '"' {
			return nil, p.errorf("expected a member name in double quotes, found %q", p.src[p.pos])
		}
		m := jmember{keyStart: p.pos, comma: -1}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		m.key, m.keyEnd = key, p.pos
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.errorf("expected : after the member name %q", key)
		}
		p.pos++
		if err := p.skip(); err != nil {
			return nil, err
		}
		if m.value, err = p.value(); err != nil {
			return nil, err
		}
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			m.comma = p.pos
			p.pos++
		}
		v.members = append(v.members, m)
	}
}

func (p *jparser) array() (*jvalue, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	v := &jvalue{kind: '[', start: p.pos}
	p.pos++ // [
	comma := true
	for {
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of file in an array")
		}
		if p.src[p.pos] == ']' {
			p.pos++
			v.end = p.pos
			return v, nil
		}
		if !comma {
			return nil, p.errorf("expected , or ] after an array element")
		}
		e, err := p.value()
		if err != nil {
			return nil, err
		}
		v.elems = append(v.elems, e)
		if err := p.skip(); err != nil {
			return nil, err
		}
		comma = p.pos < len(p.src) && p.src[p.pos] == ','
		if comma {
			p.pos++
		}
	}
}

// string reads a string token and decodes it as encoding/json does.
func (p *jparser) string() (string, error) {
	start := p.pos
	p.pos++ // "
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == '\\':
			p.pos += 2
		case c == '"':
			p.pos++
			var s string
			if err := json.Unmarshal(p.src[start:p.pos], &s); err != nil {
				p.pos = start
				return "", p.errorf("invalid string: %v", err)
			}
			return s, nil
		case c < 0x20:
			return "", p.errorf("control character %q in a string", c)
		default:
			p.pos++
		}
	}
	p.pos = start
	return "", p.errorf("unterminated string")
}

func (p *jparser) number() (*jvalue, error) {
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("+-0123456789.eE", p.src[p.pos]) >= 0 {
		p.pos++
	}
	raw := string(p.src[start:p.pos])
	if !json.Valid([]byte(raw)) {
		p.pos = start
		return nil, p.errorf("invalid number %q", raw)
	}
	return &jvalue{kind: '0', start: start, end: p.pos, raw: raw}, nil
}
