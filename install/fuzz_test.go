package install

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fuzzEdit checks, for any file h accepts, that an install leaves a file
// that parses and holds the entry, that a second install changes nothing,
// and that an uninstall leaves a file that parses without it; and that a
// file that was plain JSON stays plain JSON.
func fuzzEdit(t *testing.T, h *Host, src []byte) {
	e := Entry{Name: "fz", Command: `C:\Program Files\mcp-bridge\mcp-bridge.exe`, Args: []string{"https://x.example/mcp", "--header", "A: \"b\""}}
	added, action, err := h.Add(src, e, false)
	if err != nil {
		return
	}
	entries, err := h.Entries(added)
	if err != nil {
		t.Fatalf("after install, the file does not parse: %v\n%q", err, added)
	}
	if !slices.ContainsFunc(entries, func(x Entry) bool { return x.Name == e.Name && x.Command == e.Command && slices.Equal(x.Args, e.Args) }) {
		t.Fatalf("after install (%v), the entry is missing: %+v\n%q", action, entries, added)
	}
	if again, a, err := h.Add(added, e, false); err != nil || a != Unchanged || string(again) != string(added) {
		t.Fatalf("a second install: %v, %v\n%q", a, err, added)
	}
	removed, a, err := h.Remove(added, e.Name, "", false)
	if err != nil || a != Removed {
		t.Fatalf("uninstall: %v, %v\n%q", a, err, added)
	}
	after, err := h.Entries(removed)
	if err != nil {
		t.Fatalf("after uninstall, the file does not parse: %v\n%q", err, removed)
	}
	if slices.ContainsFunc(after, func(x Entry) bool { return x.Name == e.Name }) {
		t.Fatalf("after uninstall, the entry is still there\n%q", removed)
	}
	if !h.TOML && json.Valid(src) && (!json.Valid(added) || !json.Valid(removed)) {
		t.Fatalf("plain JSON became something else:\n%q\n%q\n%q", src, added, removed)
	}
}

func addSeeds(f *testing.F, ext string, extra ...string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "hosts", "*"+ext))
	more, _ := filepath.Glob(filepath.Join("..", "configs", "examples", "hosts", "*"+ext))
	for _, file := range append(files, more...) {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

func FuzzJSONEdit(f *testing.F) {
	addSeeds(f, ".json",
		"{}", `{"mcpServers": {}}`, "{\r\n\t\"mcpServers\": {\r\n\t}\r\n}", `{"mcpServers": {"a": 1,}, }`,
		"{\n  \"mcpServers\": {\n    \"a\": {} /* c\n */\n  }\n}", "// c\n{\"servers\": {\"fz\": {\"command\": \"mcp-bridge\"}}}",
		"{\"context_servers\": {\"a\": []}}\n", "\ufeff{}")
	hs := []*Host{}
	for _, h := range Hosts() {
		if !h.TOML && (len(hs) == 0 || hs[len(hs)-1].Key != h.Key) {
			hs = append(hs, h)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, h := range hs {
			fuzzEdit(t, h, src)
		}
	})
}

func FuzzTOMLEdit(f *testing.F) {
	addSeeds(f, ".toml",
		"", "a = 1", "[mcp_servers]\n", "[mcp_servers.a]\ncommand = 'x'\n[mcp_servers.a.env]\nK = \"v\"\n",
		"x = \"\"\"\n[mcp_servers.fz]\n\"\"\"\n", "[mcp_servers.fz]\r\ncommand = \"mcp-bridge\"\r\n", "t = 1979-05-27 07:32:00Z\n[[arr]]\n")
	h, _ := LookupHost("codex")
	f.Fuzz(func(t *testing.T, src []byte) {
		fuzzEdit(t, h, src)
	})
}
