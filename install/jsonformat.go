package install

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonFormat edits a JSON (or JSONC) file whose top-level object maps
// server names to entries under key: {"mcpServers": {"NAME": {...}}}.
type jsonFormat struct {
	key string
	// projects is set for a file that also keeps entries per project
	// directory, {"projects": {"PATH": {KEY: {"NAME": {...}}}}}: Claude
	// Code's local scope, what `claude mcp add` writes without --scope.
	projects bool
	// project, if not "", is the project whose entries are edited.
	project string
}

// jsonString encodes s as a JSON string, leaving <, > and & as they are.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// renderJSON renders v for a line indented by indent. An object is spread
// over lines unless inline is set; arrays always stay on one line.
func renderJSON(v any, indent, unit, nl string, inline bool) string {
	switch v := v.(type) {
	case byDefault:
		return renderJSON(v.value, indent, unit, nl, inline)
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case string:
		return jsonString(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = jsonString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []field:
		if len(v) == 0 {
			return "{}"
		}
		var b strings.Builder
		b.WriteString("{")
		for i, f := range v {
			if i > 0 {
				b.WriteString(",")
			}
			if inline {
				if i > 0 {
					b.WriteString(" ")
				}
			} else {
				b.WriteString(nl + indent + unit)
			}
			b.WriteString(jsonString(f.key) + ": " + renderJSON(f.value, indent+unit, unit, nl, inline))
		}
		if !inline {
			b.WriteString(nl + indent)
		}
		b.WriteString("}")
		return b.String()
	}
	panic(fmt.Sprintf("install: cannot render %T", v))
}

// indentUnit guesses one level of the file's indentation from the first
// member of the top-level object: a tab, or some spaces (two by default).
func indentUnit(src []byte, root *jvalue) string {
	if len(root.members) > 0 && firstOnLine(src, root.members[0].keyStart) {
		if ind := lineIndent(src, root.members[0].keyStart); ind != "" {
			return ind
		}
	}
	if bytes.Contains(src, []byte("\n\t")) {
		return "\t"
	}
	return "  "
}

// jsonDoc is a parsed file and what its formatting asks of new text.
type jsonDoc struct {
	src      []byte
	root     *jvalue
	unit, nl string
}

func parseJSONDoc(src []byte) (*jsonDoc, error) {
	root, err := parseJSONC(src)
	if err != nil {
		return nil, err
	}
	if root.kind != '{' {
		return nil, fmt.Errorf("the file holds %s, not an object", kindName(root.kind))
	}
	return &jsonDoc{src: src, root: root, unit: indentUnit(src, root), nl: newline(src)}, nil
}

func kindName(k byte) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	}
	return "a literal"
}

// servers returns the object of entries (the project's, if f names one),
// or nil if the file has none.
func (f jsonFormat) servers(d *jsonDoc) (*jvalue, error) {
	path := []string{f.key}
	if f.project != "" {
		path = []string{"projects", f.project, f.key}
	}
	obj := d.root
	for _, k := range path {
		m := obj.member(k)
		if m == nil {
			return nil, nil
		}
		if m.value.kind != '{' {
			line, _ := lineCol(d.src, m.value.start)
			return nil, fmt.Errorf("line %d: %q holds %s, not an object", line, k, kindName(m.value.kind))
		}
		obj = m.value
	}
	return obj, nil
}

// entry returns the member named name of servers, or nil.
func entryMember(d *jsonDoc, servers *jvalue, name string) (*jmember, error) {
	var found *jmember
	for i := range servers.members {
		if servers.members[i].key != name {
			continue
		}
		if found != nil {
			line, _ := lineCol(d.src, servers.members[i].keyStart)
			return nil, fmt.Errorf("line %d: a second entry named %q: the file is ambiguous; remove one by hand", line, name)
		}
		found = &servers.members[i]
	}
	return found, nil
}

// commandOf returns an entry's command, or "" if it has none: "command"
// as a string, or the first word of "command" as an array (opencode's
// command line).
func commandOf(v *jvalue) string {
	if v.kind != '{' {
		return ""
	}
	c := v.member("command")
	switch {
	case c == nil:
		return ""
	case c.value.kind == '"':
		return c.value.str
	case c.value.kind == '[' && len(c.value.elems) > 0 && c.value.elems[0].kind == '"':
		return c.value.elems[0].str
	}
	return ""
}

// argsOf returns an entry's arguments: "args", or the words after the
// first of "command" as an array.
func argsOf(v *jvalue) []string {
	var args []string
	if v.kind != '{' {
		return nil
	}
	if a := v.member("args"); a != nil && a.value.kind == '[' {
		for _, el := range a.value.elems {
			args = append(args, el.str)
		}
	} else if c := v.member("command"); c != nil && c.value.kind == '[' && len(c.value.elems) > 1 {
		for _, el := range c.value.elems[1:] {
			args = append(args, el.str)
		}
	}
	return args
}

func (f jsonFormat) fresh(src []byte, name string, fields []field) []byte {
	nl := newline(src)
	doc := "{" + nl + "  " + jsonString(f.key) + ": " +
		renderJSON([]field{{name, fields}}, "  ", "  ", nl, false) + nl + "}" + nl
	if bytes.HasPrefix(src, utf8BOM) {
		return append(bytes.Clone(utf8BOM), doc...)
	}
	return []byte(doc)
}

func (f jsonFormat) nextAdd(src []byte, name string, fields []field, self string, force bool) ([]edit, Action, error) {
	d, err := parseJSONDoc(src)
	if err != nil {
		return nil, 0, err
	}
	servers, err := f.servers(d)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case servers == nil && f.project != "":
		return nil, 0, fmt.Errorf("no entries for the project %s", f.project)
	case servers == nil:
		return d.insertMember(d.root, f.key, []field{{name, fields}}), Added, nil
	}
	m, err := entryMember(d, servers, name)
	if err != nil {
		return nil, 0, err
	}
	if m == nil {
		return d.insertMember(servers, name, fields), Added, nil
	}
	if cmd := commandOf(m.value); !isBridgeCommand(cmd, self) {
		if !force {
			return nil, 0, &ForeignEntryError{Name: name, Command: cmd}
		}
		return []edit{d.replaceValue(m, fields)}, Updated, nil
	}
	for _, fd := range fields {
		fm := m.value.member(fd.key)
		if fm == nil {
			return d.insertMember(m.value, fd.key, fd.value), Updated, nil
		}
		if !sameValue(fm.value.decode(), fd.value) {
			return []edit{d.replaceValue(fm, fd.value)}, Updated, nil
		}
	}
	return nil, Unchanged, nil
}

func (f jsonFormat) nextRemove(src []byte, name, self string, force bool) ([]edit, Action, error) {
	d, err := parseJSONDoc(src)
	if err != nil {
		return nil, 0, err
	}
	servers, err := f.servers(d)
	if err != nil || servers == nil {
		return nil, NotFound, err
	}
	m, err := entryMember(d, servers, name)
	if err != nil || m == nil {
		return nil, NotFound, err
	}
	if cmd := commandOf(m.value); !isBridgeCommand(cmd, self) && !force {
		return nil, 0, &ForeignEntryError{Name: name, Command: cmd}
	}
	return d.removeMember(servers, m), Removed, nil
}

// list returns the entries of the user's scope, then those of each
// project (in the file's order) if the file keeps them.
func (f jsonFormat) list(src []byte) ([]Entry, error) {
	if isBlank(bytes.TrimPrefix(src, utf8BOM)) {
		return nil, nil
	}
	d, err := parseJSONDoc(src)
	if err != nil {
		return nil, err
	}
	out, err := f.listOf(d)
	if err != nil || !f.projects {
		return out, err
	}
	projects := d.root.member("projects")
	if projects == nil || projects.value.kind != '{' {
		return out, nil
	}
	for _, p := range projects.value.members {
		if p.value.kind != '{' {
			continue
		}
		es, err := jsonFormat{key: f.key, project: p.key}.listOf(d)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// listOf returns the entries of f's scope in d.
func (f jsonFormat) listOf(d *jsonDoc) ([]Entry, error) {
	servers, err := f.servers(d)
	if err != nil || servers == nil {
		return nil, err
	}
	var out []Entry
	for _, m := range servers.members {
		out = append(out, Entry{Name: m.key, Command: commandOf(m.value), Args: argsOf(m.value), Project: f.project})
	}
	return out, nil
}

// replaceValue rewrites a member's value, indented as the member's line.
func (d *jsonDoc) replaceValue(m *jmember, v any) edit {
	inline := !firstOnLine(d.src, m.keyStart)
	text := renderJSON(v, lineIndent(d.src, m.keyStart), d.unit, d.nl, inline)
	return edit{m.value.start, m.value.end, text}
}

// insertMember adds key: v as the last member of obj, in the style of the
// members around it.
func (d *jsonDoc) insertMember(obj *jvalue, key string, v any) []edit {
	src := d.src
	closeIndent := lineIndent(src, obj.start)
	if len(obj.members) == 0 {
		ind := closeIndent + d.unit
		member := jsonString(key) + ": " + renderJSON(v, ind, d.unit, d.nl, false)
		inner := src[obj.start+1 : obj.end-1]
		switch {
		case isBlank(inner):
			return []edit{{obj.start + 1, obj.end - 1, d.nl + ind + member + d.nl + closeIndent}}
		case firstOnLine(src, obj.end-1):
			// Only comments inside: add the member after them.
			at := lineStart(src, obj.end-1)
			return []edit{{at, at, ind + member + d.nl}}
		default:
			return []edit{{obj.end - 1, obj.end - 1, d.nl + ind + member + d.nl + closeIndent}}
		}
	}
	last := obj.members[len(obj.members)-1]
	after := last.value.end
	if last.comma >= 0 {
		after = last.comma + 1
	}
	if !firstOnLine(src, last.keyStart) {
		// Members share a line: keep to it.
		member := jsonString(key) + ": " + renderJSON(v, "", d.unit, d.nl, true)
		if last.comma >= 0 {
			return []edit{{after, after, " " + member + ","}}
		}
		return []edit{{after, after, ", " + member}}
	}
	ind := lineIndent(src, last.keyStart)
	member := jsonString(key) + ": " + renderJSON(v, ind, d.unit, d.nl, false)
	eol, clean := lineRest(src, after, "//")
	tail := ""
	if !clean && eol == obj.end-1 {
		tail = d.nl + closeIndent // the closing brace shared the last line
	}
	if last.comma >= 0 {
		// The file keeps a comma after its last member: so does the new one.
		return []edit{{eol, eol, d.nl + ind + member + "," + tail}}
	}
	// A comma after the old last member, then the new member on the next
	// line, after whatever comment ended the old one's line.
	return []edit{{after, eol, "," + string(src[after:eol]) + d.nl + ind + member + tail}}
}

// removeMember deletes m from obj: its lines when it has lines of its own,
// the comma before it when it was the last member, and leaves an object it
// empties as {}.
func (d *jsonDoc) removeMember(obj *jvalue, m *jmember) []edit {
	src := d.src
	i := 0
	for i < len(obj.members) && obj.members[i].keyStart != m.keyStart {
		i++
	}
	after := m.value.end
	if m.comma >= 0 {
		after = m.comma + 1
	}
	if len(obj.members) == 1 && isBlank(src[obj.start+1:m.keyStart]) && isBlank(src[after:obj.end-1]) {
		return []edit{{obj.start + 1, obj.end - 1, ""}}
	}
	eol, clean := lineRest(src, after, "//")
	if firstOnLine(src, m.keyStart) && clean {
		edits := []edit{{lineStart(src, m.keyStart), pastNewline(src, eol), ""}}
		if m.comma < 0 && i > 0 {
			if prev := obj.members[i-1]; prev.comma >= 0 {
				edits = append(edits, edit{prev.comma, prev.comma + 1, ""})
			}
		}
		return edits
	}
	switch {
	case i+1 < len(obj.members):
		return []edit{{m.keyStart, obj.members[i+1].keyStart, ""}}
	case i > 0:
		return []edit{{obj.members[i-1].value.end, after, ""}}
	default:
		return []edit{{m.keyStart, after, ""}}
	}
}
