package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/ from what the code produces")

// A layout is one operating system's file system, as a user has it.
type layout struct {
	name string
	env  Env
	exe  string // where mcp-bridge is installed
}

func vars(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func noGlob(string) ([]string, error) { return nil, nil }

var layouts = []layout{
	{"macos", Env{GOOS: "darwin", Home: "/Users/alice", Glob: noGlob}, "/usr/local/bin/mcp-bridge"},
	{"windows", Env{
		GOOS: "windows", Home: `C:\Users\alice`, Glob: noGlob,
		Getenv: vars(map[string]string{"APPDATA": `C:\Users\alice\AppData\Roaming`, "LOCALAPPDATA": `C:\Users\alice\AppData\Local`}),
	}, `C:\Users\alice\AppData\Local\Programs\mcp-bridge\mcp-bridge.exe`},
	{"linux", Env{GOOS: "linux", Home: "/home/alice", Glob: noGlob}, "/home/alice/.local/bin/mcp-bridge"},
}

// More environments whose paths the golden file pins.
var variants = []layout{
	{"linux-xdg", Env{GOOS: "linux", Home: "/home/alice", Getenv: vars(map[string]string{
		"XDG_CONFIG_HOME": "/home/alice/.xdg", "CLAUDE_CONFIG_DIR": "/home/alice/.claude-work", "CODEX_HOME": "/srv/codex",
	})}, ""},
	{"linux-relative-xdg-ignored", Env{GOOS: "linux", Home: "/home/alice", Getenv: vars(map[string]string{"XDG_CONFIG_HOME": "relative/dir"})}, ""},
	{"linux-flatpak-zed", Env{GOOS: "linux", Home: "/home/alice", Getenv: vars(map[string]string{
		"FLATPAK_XDG_CONFIG_HOME": "/home/alice/.var/app/dev.zed.Zed/config",
	})}, ""},
	{"linux-vscode-portable", Env{GOOS: "linux", Home: "/home/alice", Getenv: vars(map[string]string{"VSCODE_PORTABLE": "/opt/vscode/data"})}, ""},
	{"macos-vscode-appdata", Env{GOOS: "darwin", Home: "/Users/alice", Getenv: vars(map[string]string{"VSCODE_APPDATA": "/Volumes/work/appdata"})}, ""},
	{"windows-no-appdata", Env{GOOS: "windows", Home: `D:\Profiles\bob`, Glob: noGlob}, ""},
	{"windows-msix-claude", Env{GOOS: "windows", Home: `C:\Users\alice`, Getenv: vars(map[string]string{"LOCALAPPDATA": `C:\Users\alice\AppData\Local`}),
		Glob: func(pattern string) ([]string, error) {
			if pattern != `C:\Users\alice\AppData\Local\Packages\Claude_*\LocalCache\Roaming\Claude` {
				return nil, fmt.Errorf("unexpected pattern %s", pattern)
			}
			return []string{`C:\Users\alice\AppData\Local\Packages\Claude_pzs8sxrjxfjjc\LocalCache\Roaming\Claude`}, nil
		}}, ""},
	{"freebsd", Env{GOOS: "freebsd", Home: "/usr/home/alice"}, ""},
}

// golden compares got with the file, or rewrites the file with -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", file, diff)
	}
}

func TestConfigPaths(t *testing.T) {
	var b strings.Builder
	for _, l := range append(layouts, variants...) {
		fmt.Fprintf(&b, "# %s\n", l.name)
		for _, h := range Hosts() {
			p, err := h.ConfigPath(l.env)
			if err != nil {
				t.Fatalf("%s %s: %v", l.name, h.ID, err)
			}
			fmt.Fprintf(&b, "%-15s %s\n", h.ID, p)
		}
		b.WriteString("\n")
	}
	golden(t, filepath.Join("testdata", "paths.golden"), []byte(b.String()))
}

func TestConfigPathAmbiguousMSIX(t *testing.T) {
	h, _ := LookupHost("claude-desktop")
	env := Env{GOOS: "windows", Home: `C:\Users\alice`, Glob: func(string) ([]string, error) {
		return []string{`C:\a\Claude_1\LocalCache\Roaming\Claude`, `C:\a\Claude_2\LocalCache\Roaming\Claude`}, nil
	}}
	if _, err := h.ConfigPath(env); err == nil || !strings.Contains(err.Error(), "--file") {
		t.Errorf("two packages: err = %v, want one that says to use --file", err)
	}
}

func TestLookupHost(t *testing.T) {
	for _, name := range []string{"vscode", "VS Code", "vs-code", "Claude_Desktop", "claude-code", "ZED"} {
		if _, err := LookupHost(name); err != nil {
			t.Errorf("LookupHost(%q): %v", name, err)
		}
	}
	_, err := LookupHost("emacs")
	if !errors.Is(err, ErrUnknownHost) || !strings.Contains(err.Error(), "claude-desktop, claude-code, cursor, vscode, windsurf, zed, codex") {
		t.Errorf("LookupHost(emacs) = %v", err)
	}
}

// fixture returns a host's realistic config file from testdata/hosts.
func fixture(t *testing.T, h *Host) (string, []byte) {
	t.Helper()
	name := h.ID + ".json"
	if h.TOML {
		name = h.ID + ".toml"
	}
	src, err := os.ReadFile(filepath.Join("testdata", "hosts", name))
	if err != nil {
		t.Fatal(err)
	}
	return name, src
}

func exampleEntry(exe string) Entry {
	return Entry{Name: "example", Command: exe, Args: []string{"https://mcp.example.com/mcp", "--header", "X-Team: ${TEAM}"}}
}

// strictJSON is the hosts whose file is plain JSON: the result must stay so.
var strictJSON = map[string]bool{"claude-desktop": true, "claude-code": true, "cursor": true, "windsurf": true}

// TestGolden installs an entry into each host's realistic config, on each
// operating system's layout (the binary's path differs, and so does its
// escaping), and compares the file with testdata/golden. Then it checks
// that a second install changes nothing, that the other entries are all
// still there, and that uninstall gives back the original bytes.
func TestGolden(t *testing.T) {
	for _, h := range Hosts() {
		for _, l := range layouts {
			t.Run(h.ID+"/"+l.name, func(t *testing.T) {
				name, before := fixture(t, h)
				e := exampleEntry(l.exe)
				after, action, err := h.Add(before, e, false)
				if err != nil {
					t.Fatal(err)
				}
				if action != Added {
					t.Errorf("action = %v, want added", action)
				}
				golden(t, filepath.Join("testdata", "golden", h.ID+"-"+l.name+filepath.Ext(name)), after)
				if strictJSON[h.ID] && !json.Valid(after) {
					t.Errorf("the result is not valid JSON")
				}

				again, action, err := h.Add(after, e, false)
				if err != nil || action != Unchanged || !bytes.Equal(again, after) {
					t.Errorf("second install: action %v, err %v, changed: %v", action, err, !bytes.Equal(again, after))
				}

				was, err := h.Entries(before)
				if err != nil {
					t.Fatal(err)
				}
				now, err := h.Entries(after)
				if err != nil {
					t.Fatal(err)
				}
				// The new entry is the user scope's last; Claude Code's
				// project entries (local scope) follow.
				user := slices.IndexFunc(was, func(e Entry) bool { return e.Project != "" })
				if user < 0 {
					user = len(was)
				}
				if diff := cmp.Diff(slices.Concat(was[:user], []Entry{e}, was[user:]), now); diff != "" {
					t.Errorf("entries after install (-want +got):\n%s", diff)
				}

				restored, action, err := h.Remove(after, "example", "", false)
				if err != nil || action != Removed {
					t.Fatalf("uninstall: action %v, err %v", action, err)
				}
				if diff := cmp.Diff(string(before), string(restored)); diff != "" {
					t.Errorf("uninstall did not restore the file (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestGoldenFresh writes each host's file from nothing.
func TestGoldenFresh(t *testing.T) {
	for _, h := range Hosts() {
		t.Run(h.ID, func(t *testing.T) {
			e := exampleEntry("/home/alice/.local/bin/mcp-bridge")
			got, action, err := h.Add(nil, e, false)
			if err != nil || action != Added {
				t.Fatalf("action %v, err %v", action, err)
			}
			ext := ".json"
			if h.TOML {
				ext = ".toml"
			}
			golden(t, filepath.Join("testdata", "golden", h.ID+"-new"+ext), got)
			entries, err := h.Entries(got)
			if err != nil || len(entries) != 1 || !cmp.Equal(entries[0], e) {
				t.Errorf("entries = %v, %v", entries, err)
			}
		})
	}
}

func TestForeignEntry(t *testing.T) {
	for _, h := range Hosts() {
		t.Run(h.ID, func(t *testing.T) {
			_, before := fixture(t, h)
			entries, err := h.Entries(before)
			if err != nil || len(entries) == 0 {
				t.Fatalf("entries: %v, %v", entries, err)
			}
			taken := entries[0].Name
			e := Entry{Name: taken, Command: "/usr/local/bin/mcp-bridge", Args: []string{"https://mcp.example.com/mcp"}}

			_, _, err = h.Add(before, e, false)
			if fe, ok := errors.AsType[*ForeignEntryError](err); !ok || fe.Name != taken {
				t.Fatalf("install over %q: err = %v, want a *ForeignEntryError", taken, err)
			}
			_, _, err = h.Remove(before, taken, "", false)
			if _, ok := errors.AsType[*ForeignEntryError](err); !ok {
				t.Fatalf("uninstall of %q: err = %v, want a *ForeignEntryError", taken, err)
			}

			forced, action, err := h.Add(before, e, true)
			if err != nil || action != Updated {
				t.Fatalf("install --force: action %v, err %v", action, err)
			}
			now, err := h.Entries(forced)
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for i, got := range now {
				if got.Name == taken {
					found = true
					if !cmp.Equal(got, e) {
						t.Errorf("forced entry = %+v, want %+v", got, e)
					}
				} else if i < len(entries) && !cmp.Equal(got, entries[i]) && h.TOML == false {
					t.Errorf("entry %d changed: %+v, was %+v", i, got, entries[i])
				}
			}
			if !found || len(now) != len(entries) {
				t.Errorf("entries after --force: %+v", now)
			}
			if _, a, err := h.Add(forced, e, false); err != nil || a != Unchanged {
				t.Errorf("install after --force: action %v, err %v", a, err)
			}
		})
	}
}

func TestRemoveMissing(t *testing.T) {
	for _, h := range Hosts() {
		_, before := fixture(t, h)
		got, action, err := h.Remove(before, "nothing-here", "", false)
		if err != nil || action != NotFound || !bytes.Equal(got, before) {
			t.Errorf("%s: action %v, err %v", h.ID, action, err)
		}
		if _, action, err := h.Remove(nil, "nothing-here", "", false); err != nil || action != NotFound {
			t.Errorf("%s, empty file: action %v, err %v", h.ID, action, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	codex, _ := LookupHost("codex")
	zed, _ := LookupHost("zed")
	for _, tt := range []struct {
		h    *Host
		name string
		ok   bool
	}{
		{codex, "example_1-a", true},
		{codex, "mcp.example.com", false},
		{codex, "", false},
		{zed, "mcp.example.com", true},
		{zed, "two words", true},
		{zed, "bell\a", false},
	} {
		if err := tt.h.CheckName(tt.name); (err == nil) != tt.ok {
			t.Errorf("%s.CheckName(%q) = %v", tt.h.ID, tt.name, err)
		}
	}
	for in, want := range map[string]string{"mcp.example.com": "mcp-example-com", "bücher.example": "b-cher-example", "[::1]": "1", "work_2": "work_2"} {
		if got := DeriveName(in); got != want {
			t.Errorf("DeriveName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEntryName: servers on one host get names of their own (the port,
// the path), and the common endpoint of a host keeps the host's name.
func TestEntryName(t *testing.T) {
	for raw, want := range map[string]string{
		"https://mcp.example.com/mcp":         "mcp-example-com",
		"https://mcp.example.com/mcp/":        "mcp-example-com",
		"https://mcp.example.com":             "mcp-example-com",
		"https://mcp.example.com/sse":         "mcp-example-com",
		"http://127.0.0.1:8080/mcp":           "127-0-0-1-8080",
		"http://127.0.0.1:9090/mcp":           "127-0-0-1-9090",
		"https://example.com/tools/a/mcp":     "example-com-tools-a",
		"https://example.com/tools/b/mcp":     "example-com-tools-b",
		"https://example.com/v1/mcp-server":   "example-com-v1-mcp-server",
		"http://[::1]:3000/mcp":               "1-3000",
		"https://mcp.example.com/mcp?tenant=": "mcp-example-com",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := EntryName(u); got != want {
			t.Errorf("EntryName(%s) = %q, want %q", raw, got, want)
		}
	}
}
