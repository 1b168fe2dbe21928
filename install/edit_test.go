package install

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustHost(t *testing.T, id string) *Host {
	t.Helper()
	h, err := LookupHost(id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var bridge = Entry{Name: "x", Command: "/b/mcp-bridge", Args: []string{"u"}}

// An editCase installs bridge into before and expects after; with
// roundTrip, uninstalling must give before back.
type editCase struct {
	name      string
	before    string
	after     string
	action    Action
	roundTrip bool
}

func runEditCases(t *testing.T, h *Host, cases []editCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, action, err := h.Add([]byte(tt.before), bridge, false)
			if err != nil {
				t.Fatal(err)
			}
			if action != tt.action {
				t.Errorf("action = %v, want %v", action, tt.action)
			}
			if diff := cmp.Diff(tt.after, string(got)); diff != "" {
				t.Errorf("after install (-want +got):\n%s", diff)
			}
			entries, err := h.Entries(got)
			if err != nil {
				t.Fatalf("the result does not parse: %v", err)
			}
			var found bool
			for _, e := range entries {
				found = found || cmp.Equal(e, bridge)
			}
			if !found {
				t.Errorf("the result lacks the entry: %+v", entries)
			}
			if again, a, err := h.Add(got, bridge, false); err != nil || a != Unchanged || string(again) != string(got) {
				t.Errorf("second install: %v, %v", a, err)
			}
			if tt.roundTrip {
				back, a, err := h.Remove(got, bridge.Name, "", false)
				if err != nil || a != Removed {
					t.Fatalf("uninstall: %v, %v", a, err)
				}
				if diff := cmp.Diff(tt.before, string(back)); diff != "" {
					t.Errorf("after uninstall (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestJSONEdits(t *testing.T) {
	runEditCases(t, mustHost(t, "claude-desktop"), []editCase{
		{
			name:   "an empty object",
			before: "{}\n",
			after:  "{\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"]\n    }\n  }\n}\n",
			action: Added,
		},
		{
			name:      "an empty server list on one line",
			before:    `{"mcpServers": {}}`,
			after:     "{\"mcpServers\": {\n  \"x\": {\n    \"command\": \"/b/mcp-bridge\",\n    \"args\": [\"u\"]\n  }\n}}",
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "an empty server list",
			before:    "{\n    \"mcpServers\": {}\n}\n",
			after:     "{\n    \"mcpServers\": {\n        \"x\": {\n            \"command\": \"/b/mcp-bridge\",\n            \"args\": [\"u\"]\n        }\n    }\n}\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "everything on one line",
			before:    `{"mcpServers": {"a": {"command": "npx", "args": []}}}`,
			after:     `{"mcpServers": {"a": {"command": "npx", "args": []}, "x": {"command": "/b/mcp-bridge", "args": ["u"]}}}`,
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "no server list yet",
			before:    "{\n  \"theme\": \"dark\"\n}\n",
			after:     "{\n  \"theme\": \"dark\",\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"]\n    }\n  }\n}\n",
			action:    Added,
			roundTrip: false, // uninstall leaves "mcpServers": {}
		},
		{
			name:      "CRLF line endings",
			before:    "{\r\n  \"mcpServers\": {\r\n    \"a\": {\"command\": \"npx\"}\r\n  }\r\n}\r\n",
			after:     "{\r\n  \"mcpServers\": {\r\n    \"a\": {\"command\": \"npx\"},\r\n    \"x\": {\r\n      \"command\": \"/b/mcp-bridge\",\r\n      \"args\": [\"u\"]\r\n    }\r\n  }\r\n}\r\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "a byte order mark",
			before:    "\ufeff{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"npx\"}\n  }\n}\n",
			after:     "\ufeff{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"npx\"},\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"]\n    }\n  }\n}\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "a comment after the last entry",
			before:    "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"npx\"} // the first\n  }\n}\n",
			after:     "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"npx\"}, // the first\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"]\n    }\n  }\n}\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "only comments in the server list",
			before:    "{\n  \"mcpServers\": {\n    // none yet\n  }\n}\n",
			after:     "{\n  \"mcpServers\": {\n    // none yet\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"]\n    }\n  }\n}\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name:   "the closing brace on the last entry's line",
			before: "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"npx\"}}\n}\n",
			after:  "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"npx\"},\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"]\n    }\n  }\n}\n",
			action: Added,
		},
		{
			name:      "entries before and after",
			before:    "{\n\t\"mcpServers\": {\n\t\t\"a\": {},\n\t\t\"b\": {}\n\t},\n\t\"z\": 1\n}",
			after:     "{\n\t\"mcpServers\": {\n\t\t\"a\": {},\n\t\t\"b\": {},\n\t\t\"x\": {\n\t\t\t\"command\": \"/b/mcp-bridge\",\n\t\t\t\"args\": [\"u\"]\n\t\t}\n\t},\n\t\"z\": 1\n}",
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "an mcp-bridge entry with another command line keeps its env",
			before:    "{\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"/old/mcp-bridge\",\n      \"args\": [\"old\", \"--log-level\", \"debug\"],\n      \"env\": {\"HTTPS_PROXY\": \"http://proxy:3128\"}\n    }\n  }\n}\n",
			after:     "{\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"],\n      \"env\": {\"HTTPS_PROXY\": \"http://proxy:3128\"}\n    }\n  }\n}\n",
			action:    Updated,
			roundTrip: false,
		},
		{
			name:   "an mcp-bridge entry without args",
			before: "{\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"C:\\\\bin\\\\MCP-Bridge.exe\"\n    }\n  }\n}\n",
			after:  "{\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"/b/mcp-bridge\",\n      \"args\": [\"u\"]\n    }\n  }\n}\n",
			action: Updated,
		},
		{
			name:   "already there",
			before: "{\"mcpServers\": {\"x\": {\"args\": [\"u\"], \"command\": \"/b/mcp-bridge\"}}}",
			after:  "{\"mcpServers\": {\"x\": {\"args\": [\"u\"], \"command\": \"/b/mcp-bridge\"}}}",
			action: Unchanged,
		},
	})
}

func TestJSONErrors(t *testing.T) {
	h := mustHost(t, "vscode")
	for _, tt := range []struct {
		name, src, want string
	}{
		{"not an object", `["servers"]`, "an array, not an object"},
		{"servers not an object", `{"servers": null}`, `"servers" holds a literal, not an object`},
		{"a syntax error", "{\n  \"servers\": {\n    \"a\": 1,,\n  }\n}", "line 3, column 12: expected a member name"},
		{"unterminated comment", "{ /* ", "unterminated /* comment"},
		{"two entries named alike", "{\"servers\": {\"x\": {}, \"x\": {}}}", `a second entry named "x"`},
		{"garbage after", "{} {}", "after the document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := h.Add([]byte(tt.src), bridge, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one that says %q", err, tt.want)
			}
		})
	}
	var se *SyntaxError
	if _, err := parseJSONC([]byte("{\n\"a\" 1}")); !errors.As(err, &se) || se.Line != 2 {
		t.Errorf("parse error = %#v, want a *SyntaxError on line 2", err)
	}
}

// tomlHost is Codex with entries of command and args alone, so that the
// edit cases show the TOML edits (TestCodexDefaults covers the rest).
func tomlHost(t *testing.T) *Host {
	h := *mustHost(t, "codex")
	h.fields = commandArgs
	return &h
}

// TestCodexDefaults: a Codex entry gets a startup timeout and the session
// variables to pass when it lacks them, and keeps the user's when it has
// them.
func TestCodexDefaults(t *testing.T) {
	h := mustHost(t, "codex")
	got, _, err := h.Add(nil, bridge, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\nargs = [\"u\"]\nstartup_timeout_sec = 60\nenv_vars = " + renderTOML(SessionVariables) + "\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("new entry (-want +got):\n%s", diff)
	}
	mine := "[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\nargs = [\"old\"]\nstartup_timeout_sec = 120\nenv_vars = [\"DISPLAY\"]\n"
	got, action, err := h.Add([]byte(mine), bridge, false)
	if err != nil || action != Updated {
		t.Fatalf("update: %v, %v", action, err)
	}
	if want := strings.Replace(mine, `"old"`, `"u"`, 1); string(got) != want {
		t.Errorf("update changed the user's settings:\n%s\nwant\n%s", got, want)
	}
}

func TestTOMLEdits(t *testing.T) {
	runEditCases(t, tomlHost(t), []editCase{
		{
			name:   "no newline at the end",
			before: `model = "o3"`,
			after:  "model = \"o3\"\n\n[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\nargs = [\"u\"]\n",
			action: Added,
		},
		{
			name:      "after the other servers, before what follows",
			before:    "[mcp_servers.a]\ncommand = \"npx\"\n[profiles.p]\nmodel = \"o3\"\n",
			after:     "[mcp_servers.a]\ncommand = \"npx\"\n\n[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\nargs = [\"u\"]\n[profiles.p]\nmodel = \"o3\"\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name:      "CRLF line endings",
			before:    "model = \"o3\"\r\n",
			after:     "model = \"o3\"\r\n\r\n[mcp_servers.x]\r\ncommand = \"/b/mcp-bridge\"\r\nargs = [\"u\"]\r\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name: "headers inside strings and arrays are not headers",
			before: "notes = \"\"\"\n[mcp_servers.fake]\ncommand = \"x\"\n\"\"\"\nlist = [\n  [1, 2],\n  # a comment\n]\n" +
				"when = 1979-05-27 07:32:00Z\nlit = '''\n[mcp_servers.x]\n'''\n",
			after: "notes = \"\"\"\n[mcp_servers.fake]\ncommand = \"x\"\n\"\"\"\nlist = [\n  [1, 2],\n  # a comment\n]\n" +
				"when = 1979-05-27 07:32:00Z\nlit = '''\n[mcp_servers.x]\n'''\n\n[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\nargs = [\"u\"]\n",
			action:    Added,
			roundTrip: true,
		},
		{
			name:   "an mcp-bridge entry with other settings",
			before: "[mcp_servers.\"x\"]\ncommand = '/usr/bin/mcp-bridge' # installed by hand\nstartup_timeout_sec = 20\n\n[mcp_servers.x.env]\nHTTPS_PROXY = \"http://proxy:3128\"\n",
			after:  "[mcp_servers.\"x\"]\ncommand = \"/b/mcp-bridge\" # installed by hand\nstartup_timeout_sec = 20\nargs = [\"u\"]\n\n[mcp_servers.x.env]\nHTTPS_PROXY = \"http://proxy:3128\"\n",
			action: Updated,
		},
		{
			name:      "a multi-line array",
			before:    "[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\nargs = [\n  \"old\",\n]\n\n[other]\n",
			after:     "[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\nargs = [\"u\"]\n\n[other]\n",
			action:    Updated,
			roundTrip: false,
		},
	})
}

func TestTOMLRemoveSubtables(t *testing.T) {
	h := tomlHost(t)
	src := "model = \"o3\"\n\n[mcp_servers.x]\ncommand = \"/b/mcp-bridge\"\n\n[mcp_servers.a]\ncommand = \"npx\"\n\n# the bridge's environment\n[mcp_servers.x.env]\nA = \"1\"\n"
	got, a, err := h.Remove([]byte(src), "x", "", false)
	if err != nil || a != Removed {
		t.Fatal(a, err)
	}
	want := "model = \"o3\"\n\n[mcp_servers.a]\ncommand = \"npx\"\n\n# the bridge's environment\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTOMLErrors(t *testing.T) {
	h := tomlHost(t)
	for _, tt := range []struct {
		name, src, want string
	}{
		{"inline table", "[mcp_servers]\nx = { command = \"npx\" }\n", "change it by hand"},
		{"dotted key", "mcp_servers.x.command = \"npx\"\n", "change it by hand"},
		{"inline at the top", "mcp_servers = { x = { command = \"npx\" } }\n", "change it by hand"},
		{"array of tables", "[[mcp_servers.x]]\ncommand = \"npx\"\n", "array of tables"},
		{"twice", "[mcp_servers.x]\n[mcp_servers.x]\n", "defined twice"},
		{"bad value", "a = nope\n", `line 1, column 5: invalid value "nope"`},
		{"unterminated string", "a = \"open\n", "newline in a single-line string"},
		{"unclosed header", "[mcp_servers.x\n", "expected ] to close the table header"},
		{"junk after a value", "a = 1 2\n", "unexpected '2' at the end of a line"},
		{"bad escape", `a = "\q"`, `invalid escape \q`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := h.Add([]byte(tt.src), bridge, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one that says %q", err, tt.want)
			}
		})
	}
}

func TestTOMLStrings(t *testing.T) {
	src := "a = \"tab\\there \\u00e9 \\U0001F600 \\\"q\\\" \\\\\"\n" +
		"b = 'C:\\raw\\path'\n" +
		"c = \"\"\"\nline one\\\n    continued \"\" two\"\"\"\"\n" +
		"d = '''\nkeep \\n this'''\n"
	tables, err := parseTOML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, k := range tables[0].keys {
		got[k.path[0]] = k.value
	}
	want := map[string]any{
		"a": "tab\there é 😀 \"q\" \\",
		"b": `C:\raw\path`,
		"c": "line one\n    continued \"\" two\"",
		"d": `keep \n this`,
	}
	// c: the backslash at the end of "line one" joins the lines.
	want["c"] = "line onecontinued \"\" two\""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, s := range []string{`plain`, `C:\Program Files\x.exe`, "quote\" and\nnewline", "\x01"} {
		tables, err := parseTOML([]byte("k = " + tomlString(s) + "\n"))
		if err != nil || tables[0].keys[0].value != s {
			t.Errorf("tomlString(%q) does not read back: %v %v", s, tables, err)
		}
	}
}

// TestRemoveSelf: an entry that runs this binary is an mcp-bridge entry,
// whatever the binary's file is called.
func TestRemoveSelf(t *testing.T) {
	h := mustHost(t, "cursor")
	src := []byte(`{"mcpServers": {"x": {"command": "/home/a/bin/bridge-dev", "args": []}}}`)
	if _, _, err := h.Remove(src, "x", "", false); err == nil {
		t.Errorf("removed an entry that runs another program")
	}
	got, a, err := h.Remove(src, "x", "/home/a/bin/bridge-dev", false)
	if err != nil || a != Removed || string(got) != `{"mcpServers": {}}` {
		t.Errorf("got %s, %v, %v", got, a, err)
	}
}
