package install

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples loads every file in configs/examples/hosts, each named for
// its host, with the parser install uses, and checks that each of its
// mcp-bridge entries is what install would write: installing it again
// changes nothing.
func TestExamples(t *testing.T) {
	dir := filepath.Join("..", "configs", "examples", "hosts")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		t.Run(f.Name(), func(t *testing.T) {
			id := strings.TrimSuffix(f.Name(), filepath.Ext(f.Name()))
			h, err := LookupHost(id)
			if err != nil {
				t.Fatalf("%s is not named for a host: %v", f.Name(), err)
			}
			if want := map[bool]string{false: ".json", true: ".toml"}[h.TOML]; filepath.Ext(f.Name()) != want {
				t.Errorf("%s: want the extension %s", f.Name(), want)
			}
			seen[h.ID] = true
			src, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			entries, err := h.Entries(src)
			if err != nil {
				t.Fatalf("%s does not parse as %s reads it: %v", f.Name(), h.Name, err)
			}
			bridges := 0
			for _, e := range entries {
				if !isBridgeCommand(e.Command, "") {
					continue
				}
				bridges++
				if !strings.HasPrefix(e.Command, "/") {
					t.Errorf("%s: the command %q is not an absolute path", e.Name, e.Command)
				}
				got, action, err := h.Add(src, e, false)
				if err != nil || action != Unchanged || string(got) != string(src) {
					t.Errorf("%s: the entry is not as install writes it: install would say %v (%v)", e.Name, action, err)
				}
			}
			if bridges == 0 {
				t.Errorf("%s has no mcp-bridge entry", f.Name())
			}
		})
	}
	for _, h := range Hosts() {
		if !seen[h.ID] {
			t.Errorf("configs/examples/hosts has no snippet for %s", h.ID)
		}
	}
}
