package install

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRewrite replaces the command lines of entries that launch something
// else (mcp-remote through npx, or cmd /c npx on Windows) in place: their
// env, the other entries and comments stay byte for byte.
func TestRewrite(t *testing.T) {
	const bridge = "/opt/mcp-bridge"
	tests := []struct {
		host, src, want string
		entries         []Entry
	}{{
		host: "claude-desktop",
		src: `{
  "mcpServers": {
    "linear": {
      "command": "npx",
      "args": ["-y", "mcp-remote", "https://mcp.linear.app/sse"],
      "env": {"A": "1"}
    },
    "fs": {"command": "node", "args": ["fs.js"]},
    "win": {
      "command": "cmd",
      "args": ["/c", "npx", "mcp-remote@0.1.29", "https://x.example/mcp", "--header", "K: ${KEY}"]
    }
  },
  "theme": "dark"
}
`,
		entries: []Entry{
			{Name: "linear", Command: bridge, Args: []string{"https://mcp.linear.app/sse"}},
			{Name: "win", Command: bridge, Args: []string{"https://x.example/mcp", "--header", "K: ${KEY}"}},
		},
		want: `{
  "mcpServers": {
    "linear": {
      "command": "/opt/mcp-bridge",
      "args": ["https://mcp.linear.app/sse"],
      "env": {"A": "1"}
    },
    "fs": {"command": "node", "args": ["fs.js"]},
    "win": {
      "command": "/opt/mcp-bridge",
      "args": ["https://x.example/mcp", "--header", "K: ${KEY}"]
    }
  },
  "theme": "dark"
}
`,
	}, {
		host: "vscode",
		src: `{
	// mine
	"servers": {
		"r": {"type": "stdio", "command": "mcp-remote", "args": ["https://r.example/mcp"], "env": {"B": "2"}}
	}
}
`,
		entries: []Entry{{Name: "r", Command: bridge, Args: []string{"https://r.example/mcp", "--token-store", "file"}}},
		want: `{
	// mine
	"servers": {
		"r": {"type": "stdio", "command": "/opt/mcp-bridge", "args": ["https://r.example/mcp", "--token-store", "file"], "env": {"B": "2"}}
	}
}
`,
	}, {
		host: "codex",
		src: `model = "o3"

# remote
[mcp_servers.remote]
command = "npx"
args = ["-y", "mcp-remote", "https://t.example/mcp"]
startup_timeout_sec = 20

[mcp_servers.remote.env]
TOKEN = "x"

[mcp_servers.other]
command = "uvx"
`,
		entries: []Entry{{Name: "remote", Command: bridge, Args: []string{"https://t.example/mcp"}}},
		want: `model = "o3"

# remote
[mcp_servers.remote]
command = "/opt/mcp-bridge"
args = ["https://t.example/mcp"]
startup_timeout_sec = 20
env_vars = ["DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "BROWSER", "WSL_DISTRO_NAME", "WSL_INTEROP", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"]

[mcp_servers.remote.env]
TOKEN = "x"

[mcp_servers.other]
command = "uvx"
`,
	}}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h := mustHost(t, tt.host)
			got, a, err := h.Rewrite([]byte(tt.src), tt.entries)
			if err != nil || a != Updated {
				t.Fatalf("Rewrite: %v, %v", a, err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			again, a, err := h.Rewrite(got, tt.entries)
			if err != nil || a != Unchanged || string(again) != string(got) {
				t.Errorf("second Rewrite: %v, %v, changed: %v", a, err, string(again) != string(got))
			}
		})
	}
}

func TestRewriteMissing(t *testing.T) {
	h := mustHost(t, "cursor")
	_, _, err := h.Rewrite([]byte(`{"mcpServers": {"a": {"command": "npx"}}}`), []Entry{{Name: "b", Command: "/b", Args: nil}})
	if err == nil || !strings.Contains(err.Error(), `no entry named "b"`) {
		t.Errorf("err = %v", err)
	}
}

// TestRewriteFile backs the file up once, whatever the number of entries.
func TestRewriteFile(t *testing.T) {
	h := mustHost(t, "cursor")
	path := filepath.Join(t.TempDir(), "mcp.json")
	old := `{"mcpServers": {"a": {"command": "npx", "args": ["mcp-remote", "https://a/"]}, "b": {"command": "mcp-remote", "args": ["https://b/"]}}}`
	os.WriteFile(path, []byte(old), 0o600)
	es := []Entry{{Name: "a", Command: "/m", Args: []string{"https://a/"}}, {Name: "b", Command: "/m", Args: []string{"https://b/"}}}
	dry, err := h.RewriteFile(path, es, Options{DryRun: true})
	if err != nil || dry.Backup != "" {
		t.Fatal(dry, err)
	}
	if now, _ := os.ReadFile(path); string(now) != old {
		t.Fatalf("a dry run wrote %s", now)
	}
	res, err := h.RewriteFile(path, es, Options{})
	if err != nil || res.Action != Updated {
		t.Fatal(res, err)
	}
	backups, _ := filepath.Glob(path + ".bak-*")
	if len(backups) != 1 || backups[0] != res.Backup {
		t.Errorf("backups %q, result says %q", backups, res.Backup)
	}
	if b, _ := os.ReadFile(res.Backup); string(b) != old {
		t.Errorf("backup holds %s", b)
	}
	if now, _ := os.ReadFile(path); string(now) != string(dry.New) {
		t.Errorf("wrote %s, the dry run showed %s", now, dry.New)
	}
	if _, err := h.RewriteFile(filepath.Join(t.TempDir(), "none.json"), es, Options{}); err == nil {
		t.Error("rewriting a missing file: no error")
	}
}

func TestEntryEnv(t *testing.T) {
	tests := []struct {
		host, src, name string
		want            map[string]string
	}{
		{"claude-desktop", `{"mcpServers": {"a": {"command": "npx", "env": {"K": "v", "N": 1}}}}`, "a", map[string]string{"K": "v"}},
		{"claude-desktop", `{"mcpServers": {"a": {"command": "npx"}}}`, "a", nil},
		{"zed", "{// c\n\"context_servers\": {\"z\": {\"command\": \"npx\", \"env\": {\"Z\": \"1\"}}}}", "z", map[string]string{"Z": "1"}},
		{"codex", "[mcp_servers.a]\ncommand = \"npx\"\n[mcp_servers.a.env]\nK = \"v\"\n[mcp_servers.b.env]\nX = \"no\"\n", "a", map[string]string{"K": "v"}},
		{"codex", "[mcp_servers.a]\ncommand = \"npx\"\nenv = { K = \"v\", L = \"w\" }\n", "a", map[string]string{"K": "v", "L": "w"}},
		{"codex", "[mcp_servers.a]\ncommand = \"npx\"\nenv.K = \"v\"\n", "a", map[string]string{"K": "v"}},
	}
	for _, tt := range tests {
		got, err := mustHost(t, tt.host).EntryEnv([]byte(tt.src), Entry{Name: tt.name})
		if err != nil {
			t.Errorf("%s %s: %v", tt.host, tt.src, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s %s: (-want +got):\n%s", tt.host, tt.src, diff)
		}
	}
}

// TestClaudeCodeLocalScope: `claude mcp add` without --scope keeps the
// entry in ~/.claude.json under the project's directory. Before, Entries
// saw only the user's scope, so migrate left such entries running
// mcp-remote (whose files it then removed for the user-scope entry of the
// same server). Entries lists them with Project set; Rewrite and
// EntryEnv find them by Name and Project; the rest stays byte for byte.
func TestClaudeCodeLocalScope(t *testing.T) {
	const src = `{
  "numStartups": 12,
  "mcpServers": {
    "r": {"type": "stdio", "command": "npx", "args": ["-y", "mcp-remote", "https://u.example/mcp"]}
  },
  "projects": {
    "/home/u/app": {
      "allowedTools": [],
      "mcpServers": {
        "r": {"type": "stdio", "command": "npx", "args": ["-y", "mcp-remote", "https://p.example/mcp"], "env": {"K": "app"}}
      }
    },
    "/home/u/empty": {"allowedTools": []},
    "/home/u/lib": {"mcpServers": {"fs": {"command": "node", "args": ["fs.js"]}}}
  }
}
`
	h := mustHost(t, "claude-code")
	got, err := h.Entries([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Name: "r", Command: "npx", Args: []string{"-y", "mcp-remote", "https://u.example/mcp"}},
		{Name: "r", Command: "npx", Args: []string{"-y", "mcp-remote", "https://p.example/mcp"}, Project: "/home/u/app"},
		{Name: "fs", Command: "node", Args: []string{"fs.js"}, Project: "/home/u/lib"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Entries (-want +got):\n%s", d)
	}
	if env, err := h.EntryEnv([]byte(src), want[1]); err != nil || !cmp.Equal(env, map[string]string{"K": "app"}) {
		t.Errorf("EntryEnv of the project's entry: %v, %v", env, err)
	}
	if env, _ := h.EntryEnv([]byte(src), want[0]); env != nil {
		t.Errorf("EntryEnv of the user's entry: %v, want none", env)
	}
	out, a, err := h.Rewrite([]byte(src), []Entry{{Name: "r", Command: "/opt/mcp-bridge", Args: []string{"https://p.example/mcp"}, Project: "/home/u/app"}})
	if err != nil || a != Updated {
		t.Fatalf("Rewrite: %v, %v", a, err)
	}
	wantOut := strings.Replace(src, `"command": "npx", "args": ["-y", "mcp-remote", "https://p.example/mcp"]`, `"command": "/opt/mcp-bridge", "args": ["https://p.example/mcp"]`, 1)
	if d := cmp.Diff(wantOut, string(out)); d != "" {
		t.Errorf("Rewrite (-want +got):\n%s", d)
	}
	if _, _, err := h.Rewrite([]byte(src), []Entry{{Name: "r", Command: "/b", Project: "/home/u/none"}}); err == nil || !strings.Contains(err.Error(), "/home/u/none") {
		t.Errorf("Rewrite in a project without the entry: %v", err)
	}
	if _, _, err := mustHost(t, "cursor").Rewrite([]byte(`{"mcpServers": {}}`), []Entry{{Name: "r", Command: "/b", Project: "/p"}}); err == nil {
		t.Error("Rewrite of a project entry for a host that has none: no error")
	}
	if _, _, err := h.Add([]byte(src), Entry{Name: "n", Command: "/b", Project: "/home/u/app"}, false); err == nil {
		t.Error("Add into a project: no error")
	}
}
