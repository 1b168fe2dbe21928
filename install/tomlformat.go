package install

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// tomlFormat edits a TOML file whose entries are tables [KEY.NAME], as
// Codex's config.toml has them: [mcp_servers.NAME].
type tomlFormat struct {
	key string
}

func hasPathPrefix(path, prefix []string) bool {
	return len(path) >= len(prefix) && slices.Equal(path[:len(prefix)], prefix)
}

// tomlEntry is what a parsed file holds of one entry.
type tomlEntry struct {
	main   *ttable   // [KEY.NAME], or nil
	tables []*ttable // [KEY.NAME] and its sub-tables, such as [KEY.NAME.env]
	inline *tkey     // a definition by a dotted key or an inline table
}

func (f tomlFormat) find(src []byte, tables []*ttable, name string) (*tomlEntry, error) {
	prefix := []string{f.key, name}
	e := &tomlEntry{}
	for _, t := range tables {
		if t.headerStart >= 0 && hasPathPrefix(t.path, prefix) {
			line, _ := lineCol(src, t.headerStart)
			if t.array {
				return nil, fmt.Errorf("line %d: %q is an array of tables: install cannot edit it", line, strings.Join(t.path, "."))
			}
			if len(t.path) == 2 {
				if e.main != nil {
					return nil, fmt.Errorf("line %d: the table [%s.%s] is defined twice", line, f.key, tomlKey(name))
				}
				e.main = t
			}
			e.tables = append(e.tables, t)
			continue
		}
		for i := range t.keys {
			full := slices.Concat(t.path, t.keys[i].path)
			if hasPathPrefix(full, prefix) || slices.Equal(full, prefix[:1]) && inlineHas(t.keys[i].value, name) {
				e.inline = &t.keys[i]
			}
		}
	}
	if e.inline != nil {
		line, _ := lineCol(src, e.inline.lineStart)
		return nil, fmt.Errorf("line %d: the entry %q is written as a dotted key or an inline table; install edits only a [%s.%s] table: change it by hand", line, name, f.key, tomlKey(name))
	}
	return e, nil
}

// inlineHas reports whether v is an inline table with a key name (or a
// dotted key under it).
func inlineHas(v any, name string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k := range m {
		if k == name || strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}

// command returns the entry's command, or "".
func (e *tomlEntry) command() string {
	if e.main == nil {
		return ""
	}
	for _, k := range e.main.keys {
		if s, ok := k.value.(string); ok && slices.Equal(k.path, []string{"command"}) {
			return s
		}
	}
	return ""
}

func (f tomlFormat) header(name string) string { return "[" + f.key + "." + tomlKey(name) + "]" }

func (f tomlFormat) block(name string, fields []field, nl string) string {
	var b strings.Builder
	b.WriteString(f.header(name) + nl)
	for _, fd := range fields {
		b.WriteString(tomlKey(fd.key) + " = " + renderTOML(fd.value) + nl)
	}
	return b.String()
}

func (f tomlFormat) fresh(src []byte, name string, fields []field) []byte {
	doc := f.block(name, fields, newline(src))
	if bytes.HasPrefix(src, utf8BOM) {
		return append(bytes.Clone(utf8BOM), doc...)
	}
	return []byte(doc)
}

// bodyEnd returns where a table's text ends: its end, less the blank and
// comment lines that lead into whatever follows.
func bodyEnd(src []byte, t *ttable) int {
	floor := t.headerEnd
	if n := len(t.keys); n > 0 {
		floor = t.keys[n-1].lineEnd
	}
	end := t.end
	for end > floor {
		s := lineStart(src, end-1)
		if s < floor {
			break
		}
		line := strings.TrimSpace(string(src[s:end]))
		if line != "" && !strings.HasPrefix(line, "#") {
			break
		}
		end = s
	}
	return end
}

func (f tomlFormat) nextAdd(src []byte, name string, fields []field, self string, force bool) ([]edit, Action, error) {
	tables, err := parseTOML(src)
	if err != nil {
		return nil, 0, err
	}
	e, err := f.find(src, tables, name)
	if err != nil {
		return nil, 0, err
	}
	nl := newline(src)
	if len(e.tables) == 0 {
		at := len(src)
		for _, t := range tables {
			if t.headerStart >= 0 && len(t.path) > 0 && t.path[0] == f.key {
				at = bodyEnd(src, t)
			}
		}
		text := nl + f.block(name, fields, nl)
		if at == len(src) && at > 0 && src[at-1] != '\n' {
			text = nl + text
		}
		return []edit{{at, at, text}}, Added, nil
	}
	if cmd := e.command(); !isBridgeCommand(cmd, self) {
		if !force {
			return nil, 0, &ForeignEntryError{Name: name, Command: cmd}
		}
		return f.removeTables(src, e.tables), Updated, nil
	}
	t := e.main
	for _, fd := range fields {
		var k *tkey
		for i := range t.keys {
			if slices.Equal(t.keys[i].path, []string{fd.key}) {
				k = &t.keys[i]
			}
		}
		if k != nil {
			if sameValue(k.value, fd.value) {
				continue
			}
			return []edit{{k.valueStart, k.valueEnd, renderTOML(fd.value)}}, Updated, nil
		}
		at := t.headerEnd
		if n := len(t.keys); n > 0 {
			at = t.keys[n-1].lineEnd
		}
		line := tomlKey(fd.key) + " = " + renderTOML(fd.value)
		if at > 0 && src[at-1] != '\n' {
			return []edit{{at, at, nl + line}}, Updated, nil
		}
		return []edit{{at, at, line + nl}}, Updated, nil
	}
	return nil, Unchanged, nil
}

// removeTables deletes the tables of an entry, each with the blank line
// before its header, if it had one.
func (f tomlFormat) removeTables(src []byte, tables []*ttable) []edit {
	var edits []edit
	for _, t := range tables {
		start := t.headerStart
		if start > 0 {
			prev := lineStart(src, start-1)
			if isBlank(src[prev:start]) {
				start = prev
			}
		}
		edits = append(edits, edit{start, bodyEnd(src, t), ""})
	}
	return edits
}

func (f tomlFormat) nextRemove(src []byte, name, self string, force bool) ([]edit, Action, error) {
	tables, err := parseTOML(src)
	if err != nil {
		return nil, 0, err
	}
	e, err := f.find(src, tables, name)
	if err != nil {
		return nil, 0, err
	}
	if len(e.tables) == 0 {
		return nil, NotFound, nil
	}
	if cmd := e.command(); !isBridgeCommand(cmd, self) && !force {
		return nil, 0, &ForeignEntryError{Name: name, Command: cmd}
	}
	return f.removeTables(src, e.tables), Removed, nil
}

func (f tomlFormat) list(src []byte) ([]Entry, error) {
	tables, err := parseTOML(src)
	if err != nil {
		return nil, err
	}
	var out []Entry
	add := func(name string, kv map[string]any) {
		e := Entry{Name: name}
		e.Command, _ = kv["command"].(string)
		if args, ok := kv["args"].([]any); ok {
			for _, a := range args {
				s, _ := a.(string)
				e.Args = append(e.Args, s)
			}
		}
		out = append(out, e)
	}
	for _, t := range tables {
		switch {
		case t.headerStart >= 0 && !t.array && len(t.path) == 2 && t.path[0] == f.key:
			kv := map[string]any{}
			for _, k := range t.keys {
				kv[strings.Join(k.path, ".")] = k.value
			}
			add(t.path[1], kv)
		case slices.Equal(t.path, []string{f.key}):
			for _, k := range t.keys {
				if m, ok := k.value.(map[string]any); ok && len(k.path) == 1 {
					add(k.path[0], m)
				}
			}
		}
	}
	return out, nil
}
