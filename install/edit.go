package install

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// An edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// applyEdits applies non-overlapping edits to a copy of src.
func applyEdits(src []byte, edits []edit) []byte {
	edits = slices.Clone(edits)
	slices.SortFunc(edits, func(a, b edit) int { return cmp.Compare(b.start, a.start) })
	out := slices.Clone(src)
	for _, e := range edits {
		out = slices.Concat(out[:e.start], []byte(e.text), out[e.end:])
	}
	return out
}

// A field is one member of an entry as install writes it. Its value is a
// string, a []string or a []field (an object).
type field struct {
	key   string
	value any
}

// byDefault marks a field's value as a default: written when the entry
// lacks the field, and left as the user set it otherwise (a longer
// Codex startup timeout, opencode's "enabled": false).
type byDefault struct{ value any }

// newline returns the line ending the file uses: "\r\n" if any line ends
// so, else "\n".
func newline(src []byte) string {
	if bytes.Contains(src, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

// lineIndent returns the spaces and tabs that start the line holding off.
func lineIndent(src []byte, off int) string {
	s := lineStart(src, off)
	e := s
	for e < len(src) && (src[e] == ' ' || src[e] == '\t') {
		e++
	}
	return string(src[s:e])
}

// firstOnLine reports whether only spaces and tabs precede off on its line.
func firstOnLine(src []byte, off int) bool {
	return strings.Trim(string(src[lineStart(src, off):off]), " \t") == ""
}

// isBlank reports whether b holds only whitespace.
func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// lineRest returns the offset where the line holding off ends (its "\r\n"
// or "\n", or the end of src), provided only spaces, tabs and comments
// follow off on that line; else it returns where the first other byte is,
// and false. comment says how comments start in this format ("//" also
// takes in /* */ comments that close on the same line; "#" is TOML's).
func lineRest(src []byte, off int, comment string) (int, bool) {
	for off < len(src) {
		switch {
		case src[off] == ' ' || src[off] == '\t':
			off++
		case src[off] == '\n' || src[off] == '\r' && off+1 < len(src) && src[off+1] == '\n':
			return off, true
		case bytes.HasPrefix(src[off:], []byte(comment)):
			for off < len(src) && src[off] != '\n' {
				off++
			}
			if off > 0 && src[off-1] == '\r' && off < len(src) {
				off--
			}
			return off, true
		case comment == "//" && bytes.HasPrefix(src[off:], []byte("/*")):
			end := bytes.Index(src[off+2:], []byte("*/"))
			if end < 0 || bytes.IndexByte(src[off:off+2+end], '\n') >= 0 {
				return off, false
			}
			off += 2 + end + 2
		default:
			return off, false
		}
	}
	return off, true
}

// pastNewline returns the offset just after the line ending at off.
func pastNewline(src []byte, off int) int {
	switch {
	case bytes.HasPrefix(src[off:], []byte("\r\n")):
		return off + 2
	case off < len(src) && src[off] == '\n':
		return off + 1
	}
	return off
}

// isBridgeCommand reports whether a host entry's command runs mcp-bridge:
// this binary, or any file named mcp-bridge (mcp-bridge.exe on Windows).
func isBridgeCommand(command, self string) bool {
	if command == "" {
		return false
	}
	if command == self {
		return true
	}
	base := command[strings.LastIndexAny(command, `/\`)+1:]
	base = strings.ToLower(base)
	return base == "mcp-bridge" || base == "mcp-bridge.exe"
}

// sameValue reports whether a decoded value (from a JSON or TOML file)
// equals what install would write.
func sameValue(have, want any) bool {
	switch w := want.(type) {
	case byDefault:
		return have != nil
	case string:
		h, ok := have.(string)
		return ok && h == w
	case []string:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if s, ok := h[i].(string); !ok || s != w[i] {
				return false
			}
		}
		return true
	case []field:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for _, f := range w {
			if !sameValue(h[f.key], f.value) {
				return false
			}
		}
		return true
	}
	return false
}
