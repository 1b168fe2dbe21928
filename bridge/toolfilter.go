package bridge

import (
	"encoding/json"
	"fmt"
	"path"
	"sync/atomic"
)

// A ToolFilter is a [Stage] that hides tools from the host: tools whose
// names match a deny glob, or, if allow globs are given, match none of
// them. Hidden tools vanish from tools/list results (and so from the list
// the host fetches after notifications/tools/list_changed), and a
// tools/call to one is answered with an error without reaching the
// server. Globs are those of [path.Match]. Its rules can be replaced while
// it runs; it is safe for concurrent use.
type ToolFilter struct {
	rules atomic.Pointer[toolRules]
}

type toolRules struct{ allow, deny []string }

// NewToolFilter returns a filter with the given globs; see
// [ToolFilter.Set].
func NewToolFilter(allow, deny []string) (*ToolFilter, error) {
	f := &ToolFilter{}
	return f, f.Set(allow, deny)
}

// Set replaces the filter's globs. It fails, changing nothing, if a glob
// is malformed.
func (f *ToolFilter) Set(allow, deny []string) error {
	for _, g := range append(append([]string(nil), allow...), deny...) {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("tool filter %q: %w", g, err)
		}
	}
	f.rules.Store(&toolRules{allow: allow, deny: deny})
	return nil
}

// Allowed reports whether the host may see and call the tool.
func (f *ToolFilter) Allowed(name string) bool {
	r := f.rules.Load()
	if r == nil {
		return true
	}
	for _, g := range r.deny {
		if ok, _ := path.Match(g, name); ok {
			return false
		}
	}
	if len(r.allow) == 0 {
		return true
	}
	for _, g := range r.allow {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

func (f *ToolFilter) active() bool {
	r := f.rules.Load()
	return r != nil && (len(r.allow) > 0 || len(r.deny) > 0)
}

// ToServer answers a tools/call to a hidden tool with an error, as the
// server would for a tool it does not have.
func (f *ToolFilter) ToServer(m *Message) (forward, answer *Message) {
	if m.Method != "tools/call" || !m.IsRequest() || !f.active() {
		return m, nil
	}
	var p struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(m.params, &p) != nil || f.Allowed(p.Name) {
		return m, nil
	}
	return nil, errorResponse(m.ID, -32602, fmt.Sprintf("Unknown tool: %s (hidden by mcp-bridge's tool filter)", p.Name))
}

// ToHost removes hidden tools from a tools/list result, keeping every
// other member of the result and of each tool as the server sent it.
func (f *ToolFilter) ToHost(m *Message, method string) *Message {
	if method != "tools/list" || m.result == nil || !f.active() {
		return m
	}
	var res map[string]json.RawMessage
	if json.Unmarshal(m.result, &res) != nil {
		return m
	}
	var tools []json.RawMessage
	if json.Unmarshal(res["tools"], &tools) != nil {
		return m
	}
	kept := tools[:0]
	for _, t := range tools {
		var tool struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(t, &tool) == nil && !f.Allowed(tool.Name) {
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == len(tools) {
		return m
	}
	res["tools"], _ = json.Marshal(kept)
	result, _ := json.Marshal(res)
	raw := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"result":%s}`, m.ID, result)
	out, err := ParseMessage(raw)
	if err != nil {
		return m
	}
	return out
}
