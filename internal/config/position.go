package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// fieldLines maps a field's dotted path (servers.NAME.auth.login) to the
// line where its key stands.
type fieldLines map[string]int

// positions walks a JSON document and records the line of every object
// member. Malformed input yields what was read before the error.
func positions(data []byte) fieldLines {
	lines := fieldLines{}
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		path   string
		key    bool // an object member name comes next
	}
	var stack []frame
	var pending string // the path of the value about to be read
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return lines
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].key {
			if name, ok := tok.(string); ok {
				p := name
				if stack[top].path != "" {
					p = stack[top].path + "." + name
				}
				lines[p] = lineAt(data, start)
				pending = p
				stack[top].key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, frame{object: tok == json.Delim('{'), path: pending, key: tok == json.Delim('{')})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if top = len(stack) - 1; top >= 0 && stack[top].object && tok != json.Delim('{') {
			stack[top].key = true
			pending = stack[top].path
		} else if top >= 0 && stack[top].object {
			stack[top].key = true
		}
	}
}

// lineAt returns the 1-based line of the first non-space byte at or after
// offset.
func lineAt(data []byte, offset int64) int {
	i := int(offset)
	for i < len(data) && strings.IndexByte(" \t\r\n,:", data[i]) >= 0 {
		i++
	}
	return bytes.Count(data[:min(i, len(data))], []byte("\n")) + 1
}

// line returns the line of field, or of its nearest parent that has one.
func (l fieldLines) line(field string) int {
	for f := field; f != ""; {
		if n, ok := l[f]; ok {
			return n
		}
		i := strings.LastIndexByte(f, '.')
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 1
}

// decodeError names the field and the line of a decoding error; prefix
// is the path of the value that was being decoded.
func decodeError(name string, data []byte, pos fieldLines, prefix string, err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		// The whole document was checked first, so offsets are its own.
		line := bytes.Count(data[:max(0, min(int(se.Offset)-1, len(data)))], []byte("\n")) + 1
		return fmt.Errorf("%s:%d: %v", name, line, err)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := strings.TrimSuffix(prefix+te.Field, ".")
		return fmt.Errorf("%s:%d: %s: want %s, not a JSON %s", name, pos.line(field), field, te.Type, te.Value)
	}
	// DisallowUnknownFields names the field but not where it is: find
	// the first member, by line, that is not a known one.
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		if field, line := pos.unknown(); field != "" {
			return fmt.Errorf("%s:%d: %s: unknown field", name, line, field)
		}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// known lists, per level of the document, the member names it may hold;
// "*" marks maps, whose keys are free.
var known = map[string][]string{
	"":                                jsonNames(File{}),
	"servers":                         {"*"},
	"servers.*":                       jsonNames(Server{}),
	"servers.*.headers":               {"*"},
	"servers.*.tools":                 jsonNames(Tools{}),
	"servers.*.auth":                  jsonNames(Auth{}),
	"servers.*.auth.authorize_params": {"*"},
}

// unknown returns the first member, by line, that the format does not
// have, with its line.
func (l fieldLines) unknown() (string, int) {
	best, bestLine := "", 0
	for p, n := range l {
		parts := strings.Split(p, ".")
		// The pattern of the parent: map keys become "*".
		var pattern []string
		ok := true
		for i, part := range parts[:len(parts)-1] {
			parent := strings.Join(pattern, ".")
			names := known[parent]
			if slices.Contains(names, "*") {
				pattern = append(pattern, "*")
				continue
			}
			if !slices.Contains(names, part) {
				ok = false // under an unknown member: reported at that one
				break
			}
			pattern = append(pattern, parts[i])
		}
		if !ok {
			continue
		}
		names, listed := known[strings.Join(pattern, ".")]
		if !listed || slices.Contains(names, "*") || slices.Contains(names, parts[len(parts)-1]) {
			continue
		}
		if best == "" || n < bestLine {
			best, bestLine = p, n
		}
	}
	return best, bestLine
}

// jsonNames returns the JSON member names of a struct's fields.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}
