package install

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Rewrite returns src with each of the entries, which exist, given the
// command line of es (matched by name), whatever command they ran before:
// `mcp-bridge migrate` turns entries that launch mcp-remote into ones that
// launch mcp-bridge. Only the command line changes (and the "type" or
// "source" member a host's entries carry, if missing); the entry's other
// members (an "env", say) and the rest of the file stay byte for byte.
// An entry that is not there is an error. The Action is Updated, or
// Unchanged if every entry already had its command line.
func (h *Host) Rewrite(src []byte, es []Entry) ([]byte, Action, error) {
	action := Unchanged
	for _, e := range es {
		if err := h.CheckName(e.Name); err != nil {
			return nil, 0, err
		}
		f, err := h.formatFor(e.Project)
		if err != nil {
			return nil, 0, err
		}
		fields := h.fields(e)
		for step := 0; ; step++ {
			if step == maxSteps {
				return nil, 0, errors.New("install: the edit does not settle (a bug)")
			}
			// The entry's current command counts as this binary's, so that
			// the edit changes the command line in place instead of
			// refusing (or, forced, replacing the whole entry).
			cur, err := h.Entries(src)
			if err != nil {
				return nil, 0, err
			}
			i := slices.IndexFunc(cur, func(c Entry) bool { return c.Name == e.Name && c.Project == e.Project })
			if i < 0 {
				return nil, 0, fmt.Errorf("no entry named %q%s", e.Name, inProject(e.Project))
			}
			if cur[i].Command == "" {
				return nil, 0, fmt.Errorf("the entry %q names no command", e.Name)
			}
			edits, _, err := f.nextAdd(src, e.Name, fields, cur[i].Command, false)
			if err != nil {
				return nil, 0, err
			}
			if len(edits) == 0 {
				break
			}
			action = Updated
			src = applyEdits(src, edits)
		}
	}
	return src, action, nil
}

// RewriteFile applies Rewrite to the host's config file at path, with the
// backup and atomic replacement of [Host.Install]: one backup for all the
// entries.
func (h *Host) RewriteFile(path string, es []Entry, o Options) (*Result, error) {
	return update(path, o, func(old []byte) ([]byte, Action, error) {
		if old == nil {
			return nil, 0, errors.New("the file does not exist")
		}
		return h.Rewrite(old, es)
	})
}

// inProject says which project an entry is in, if any.
func inProject(project string) string {
	if project == "" {
		return ""
	}
	return " in the project " + project
}

// EntryEnv returns the environment variables the entry (by its Name and
// Project) sets for its command (its "env" member, or Codex's
// [mcp_servers.NAME.env]), or nil. Values that are not strings are left
// out.
func (h *Host) EntryEnv(src []byte, e Entry) (map[string]string, error) {
	if isBlank(bytes.TrimPrefix(src, utf8BOM)) {
		return nil, nil
	}
	f, err := h.formatFor(e.Project)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	switch f := f.(type) {
	case jsonFormat:
		raw, err = f.entryEnv(src, e.Name)
	case tomlFormat:
		raw, err = f.entryEnv(src, e.Name)
	}
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			env[k] = s
		}
	}
	if len(env) == 0 {
		return nil, nil
	}
	return env, nil
}

// entryEnv returns the "env" member of the entry named name, decoded, or
// nil.
func (f jsonFormat) entryEnv(src []byte, name string) (map[string]any, error) {
	d, err := parseJSONDoc(src)
	if err != nil {
		return nil, err
	}
	servers, err := f.servers(d)
	if err != nil || servers == nil {
		return nil, err
	}
	m, err := entryMember(d, servers, name)
	if err != nil || m == nil || m.value.kind != '{' {
		return nil, err
	}
	var env map[string]any
	if e := m.value.member("env"); e != nil {
		env, _ = e.value.decode().(map[string]any)
	}
	return env, nil
}

// entryEnv returns the variables the entry named name sets, decoded:
// env = { ... }, [KEY.NAME.env] A = "1", or env.A = "1".
func (f tomlFormat) entryEnv(src []byte, name string) (map[string]any, error) {
	tables, err := parseTOML(src)
	if err != nil {
		return nil, err
	}
	env := map[string]any{}
	for _, t := range tables {
		for _, k := range t.keys {
			full := slices.Concat(t.path, k.path)
			switch {
			case slices.Equal(full, []string{f.key, name, "env"}):
				if m, ok := k.value.(map[string]any); ok {
					maps.Copy(env, m)
				}
			case len(full) == 4 && slices.Equal(full[:3], []string{f.key, name, "env"}):
				env[full[3]] = k.value
			}
		}
	}
	return env, nil
}
