package install

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reads TOML (v1.0, with the 1.1 relaxations a reader may meet:
// newlines and trailing commas in inline tables, \e and \xHH escapes) far
// enough to edit it in place: every table header and every key/value line
// with its offsets, strings and arrays of strings decoded, other values
// checked and kept as text. It does not build a document model: the edit
// is done on the text.

// A ttable is a [table] or [[array table]] header and the key/value lines
// under it. The root table (before any header) has no header: its
// headerStart is -1.
type ttable struct {
	path                   []string
	array                  bool
	headerStart, headerEnd int // the header line: from its start to past its newline
	keys                   []tkey
	end                    int // where the next header line starts, or len(src)
}

// A tkey is one key = value line.
type tkey struct {
	path                 []string // the (dotted) key
	lineStart, lineEnd   int      // lineEnd is past the newline
	valueStart, valueEnd int
	value                any // string, []any, map[string]any or tother
}

// tother is a value kept as text: a number, a boolean or a date.
type tother string

type tparser struct {
	src []byte
	pos int
}

func parseTOML(src []byte) ([]*ttable, error) {
	p := &tparser{src: src}
	if bytes.HasPrefix(src, utf8BOM) {
		p.pos = len(utf8BOM)
	}
	tables := []*ttable{{headerStart: -1, headerEnd: p.pos}}
	for {
		p.skipBlank()
		if p.pos >= len(src) {
			break
		}
		start := p.pos
		if src[p.pos] == '[' {
			t, err := p.header()
			if err != nil {
				return nil, err
			}
			t.headerStart = lineStart(src, start)
			tables[len(tables)-1].end = t.headerStart
			tables = append(tables, t)
			continue
		}
		k, err := p.keyValue()
		if err != nil {
			return nil, err
		}
		k.lineStart = lineStart(src, start)
		t := tables[len(tables)-1]
		t.keys = append(t.keys, k)
	}
	tables[len(tables)-1].end = len(src)
	return tables, nil
}

func (p *tparser) errorf(format string, args ...any) error {
	line, col := lineCol(p.src, p.pos)
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// skipBlank moves past whitespace, newlines and comments.
func (p *tparser) skipBlank() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		case '#':
			p.skipComment()
		default:
			return
		}
	}
}

func (p *tparser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *tparser) skipComment() {
	for p.pos < len(p.src) && p.src[p.pos] != '\n' {
		p.pos++
	}
}

// endLine expects the rest of the line to be blank or a comment, and
// moves past its newline.
func (p *tparser) endLine() error {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '#' {
		p.skipComment()
	}
	switch {
	case p.pos >= len(p.src):
		return nil
	case p.src[p.pos] == '\n':
		p.pos++
		return nil
	case bytes.HasPrefix(p.src[p.pos:], []byte("\r\n")):
		p.pos += 2
		return nil
	}
	return p.errorf("unexpected %q at the end of a line", p.src[p.pos])
}

func (p *tparser) header() (*ttable, error) {
	t := &ttable{}
	p.pos++
	if p.pos < len(p.src) && p.src[p.pos] == '[' {
		t.array = true
		p.pos++
	}
	p.skipSpace()
	path, err := p.key()
	if err != nil {
		return nil, err
	}
	t.path = path
	p.skipSpace()
	closing := "]"
	if t.array {
		closing = "]]"
	}
	if !bytes.HasPrefix(p.src[p.pos:], []byte(closing)) {
		return nil, p.errorf("expected %s to close the table header", closing)
	}
	p.pos += len(closing)
	if err := p.endLine(); err != nil {
		return nil, err
	}
	t.headerEnd = p.pos
	return t, nil
}

func (p *tparser) keyValue() (tkey, error) {
	k := tkey{}
	path, err := p.key()
	if err != nil {
		return k, err
	}
	k.path = path
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '=' {
		return k, p.errorf("expected = after the key %q", strings.Join(path, "."))
	}
	p.pos++
	p.skipSpace()
	k.valueStart = p.pos
	if k.value, err = p.value(0); err != nil {
		return k, err
	}
	k.valueEnd = p.pos
	if err := p.endLine(); err != nil {
		return k, err
	}
	k.lineEnd = p.pos
	return k, nil
}

// key reads a dotted key: bare, "basic" or 'literal' parts joined by dots.
func (p *tparser) key() ([]string, error) {
	var path []string
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of file in a key")
		}
		switch c := p.src[p.pos]; {
		case c == '"' || c == '\'':
			if bytes.HasPrefix(p.src[p.pos:], []byte{c, c, c}) {
				return nil, p.errorf("a multi-line string cannot be a key")
			}
			s, err := p.str(c == '"', false)
			if err != nil {
				return nil, err
			}
			path = append(path, s)
		case isBareKeyByte(c):
			start := p.pos
			for p.pos < len(p.src) && isBareKeyByte(p.src[p.pos]) {
				p.pos++
			}
			path = append(path, string(p.src[start:p.pos]))
		default:
			return nil, p.errorf("unexpected %q where a key should be", c)
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '.' {
			return path, nil
		}
		p.pos++
	}
}

func isBareKeyByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// value reads one value. Arrays and inline tables nest at most maxDepth.
func (p *tparser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested more than %d levels deep", maxDepth)
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of file where a value should be")
	}
	switch c := p.src[p.pos]; c {
	case '"', '\'':
		multi := bytes.HasPrefix(p.src[p.pos:], []byte{c, c, c})
		return p.str(c == '"', multi)
	case '[':
		return p.array(depth)
	case '{':
		return p.inlineTable(depth)
	}
	return p.scalar()
}

func (p *tparser) array(depth int) (any, error) {
	p.pos++ // [
	var out []any
	for {
		p.skipBlank()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of file in an array")
		}
		if p.src[p.pos] == ']' {
			p.pos++
			return out, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skipBlank()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++
			return out, nil
		}
		return nil, p.errorf("expected , or ] in an array")
	}
}

func (p *tparser) inlineTable(depth int) (any, error) {
	p.pos++ // {
	out := map[string]any{}
	for {
		p.skipBlank()
		if p.pos >= len(p.src) {
			return nil, p.errorf("unexpected end of file in an inline table")
		}
		if p.src[p.pos] == '}' {
			p.pos++
			return out, nil
		}
		path, err := p.key()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '=' {
			return nil, p.errorf("expected = in an inline table")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out[strings.Join(path, ".")] = v
		p.skipBlank()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			p.pos++
			return out, nil
		}
		return nil, p.errorf("expected , or } in an inline table")
	}
}

// scalar reads a number, boolean or date and keeps it as text.
func (p *tparser) scalar() (any, error) {
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n,]}#", p.src[p.pos]) < 0 {
		p.pos++
	}
	// A date and a time may be separated by a space: 1979-05-27 07:32:00Z.
	if p.pos-start == 10 && p.src[start+4] == '-' && p.pos+1 < len(p.src) && p.src[p.pos] == ' ' &&
		p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9' {
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte(" \t\r\n,]}#", p.src[p.pos]) < 0 {
			p.pos++
		}
	}
	tok := string(p.src[start:p.pos])
	if !validScalar(tok) {
		p.pos = start
		if tok == "" {
			return nil, p.errorf("expected a value")
		}
		return nil, p.errorf("invalid value %q", tok)
	}
	return tother(tok), nil
}

// validScalar accepts booleans, integers, floats and dates, loosely: it
// keeps text that is not one of them from passing as a value.
func validScalar(tok string) bool {
	switch tok {
	case "true", "false", "inf", "+inf", "-inf", "nan", "+nan", "-nan":
		return true
	case "":
		return false
	}
	if c := tok[0]; c != '+' && c != '-' && (c < '0' || c > '9') {
		return false
	}
	for _, c := range tok {
		if !strings.ContainsRune("0123456789abcdefABCDEFoxX_+-.:TtZz ", c) {
			return false
		}
	}
	return true
}

// str reads a string: basic ("...") or literal ('...'), on one line or
// multi-line (""" or ”').
func (p *tparser) str(basic, multi bool) (string, error) {
	start := p.pos
	quote := p.src[p.pos]
	if multi {
		p.pos += 3
		// A newline right after the opening delimiter is not part of it.
		if bytes.HasPrefix(p.src[p.pos:], []byte("\r\n")) {
			p.pos += 2
		} else if p.pos < len(p.src) && p.src[p.pos] == '\n' {
			p.pos++
		}
	} else {
		p.pos++
	}
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			p.pos = start
			return "", p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == quote && !multi:
			p.pos++
			return b.String(), nil
		case c == quote && bytes.HasPrefix(p.src[p.pos:], []byte{c, c, c}):
			n := 3
			for p.pos+n < len(p.src) && p.src[p.pos+n] == c {
				n++
			}
			if n > 5 {
				return "", p.errorf("too many quotes closing a string")
			}
			b.WriteString(strings.Repeat(string(c), n-3))
			p.pos += n
			return b.String(), nil
		case c == '\\' && basic:
			if err := p.escape(&b, multi); err != nil {
				return "", err
			}
		case c == '\n' || c == '\r':
			if !multi {
				return "", p.errorf("newline in a single-line string")
			}
			b.WriteByte(c)
			p.pos++
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.errorf("control character %q in a string", c)
		default:
			r, size := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errorf("invalid UTF-8 in a string")
			}
			b.Write(p.src[p.pos : p.pos+size])
			p.pos += size
		}
	}
}

func (p *tparser) escape(b *strings.Builder, multi bool) error {
	p.pos++ // backslash
	if p.pos >= len(p.src) {
		return p.errorf("unterminated string")
	}
	c := p.src[p.pos]
	simple := map[byte]string{'b': "\b", 't': "\t", 'n': "\n", 'f': "\f", 'r': "\r", 'e': "\x1b", '"': `"`, '\\': `\`}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		p.pos++
		return nil
	}
	if n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]; n > 0 {
		if p.pos+1+n > len(p.src) {
			return p.errorf("short \\%c escape", c)
		}
		v, err := strconv.ParseUint(string(p.src[p.pos+1:p.pos+1+n]), 16, 32)
		if err != nil || !utf8.ValidRune(rune(v)) {
			return p.errorf("invalid \\%c escape", c)
		}
		b.WriteRune(rune(v))
		p.pos += 1 + n
		return nil
	}
	if multi {
		// A backslash ending a line drops the newline and the whitespace
		// after it.
		q := p.pos
		for q < len(p.src) && (p.src[q] == ' ' || p.src[q] == '\t') {
			q++
		}
		if q < len(p.src) && (p.src[q] == '\n' || p.src[q] == '\r') {
			for q < len(p.src) && strings.IndexByte(" \t\r\n", p.src[q]) >= 0 {
				q++
			}
			p.pos = q
			return nil
		}
	}
	return p.errorf("invalid escape \\%c", c)
}

// tomlString renders s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlKey renders one part of a key: bare when it can be.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		if !isBareKeyByte(k[i]) {
			return tomlString(k)
		}
	}
	return k
}

func renderTOML(v any) string {
	switch v := v.(type) {
	case byDefault:
		return renderTOML(v.value)
	case int:
		return strconv.Itoa(v)
	case string:
		return tomlString(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = tomlString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic(fmt.Sprintf("install: cannot render %T as TOML", v))
}
