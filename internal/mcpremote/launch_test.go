package mcpremote

import (
	"slices"
	"testing"
)

// TestArgs: the launchers host entries start mcp-remote with.
func TestArgs(t *testing.T) {
	tests := []struct {
		command string
		args    []string
		want    []string
		ok      bool
	}{
		{"npx", []string{"-y", "mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"/usr/local/bin/npx", []string{"mcp-remote@0.1.29", "https://a/", "9999"}, []string{"https://a/", "9999"}, true},
		{`C:\Program Files\nodejs\npx.cmd`, []string{"--yes", "mcp-remote@latest", "https://a/"}, []string{"https://a/"}, true},
		{"npx", []string{"-y", "-p", "mcp-remote@0.15.1", "mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"npx", []string{"--package=mcp-remote", "mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"cmd", []string{"/c", "npx", "-y", "mcp-remote", "https://a/", "--header", "A: b"}, []string{"https://a/", "--header", "A: b"}, true},
		{"cmd.exe", []string{"/C", "mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"mcp-remote", []string{"https://a/"}, []string{"https://a/"}, true},
		{"/opt/homebrew/bin/mcp-remote", []string{"https://a/"}, []string{"https://a/"}, true},
		{"bunx", []string{"mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"bun", []string{"x", "mcp-remote@latest", "https://a/"}, []string{"https://a/"}, true},
		{"pnpm", []string{"dlx", "mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"pnpx", []string{"mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"yarn", []string{"dlx", "mcp-remote", "https://a/", "--debug"}, []string{"https://a/", "--debug"}, true},
		{"npm", []string{"exec", "--yes", "--", "mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"node", []string{"/home/a/.npm-global/lib/node_modules/mcp-remote/dist/proxy.js", "https://a/"}, []string{"https://a/"}, true},
		{`C:\Program Files\nodejs\node.exe`, []string{`C:\Users\a\AppData\Roaming\npm\node_modules\mcp-remote\dist\proxy.js`, "https://a/"}, []string{"https://a/"}, true},
		{"node", []string{"/srv/app/node_modules/.bin/mcp-remote", "https://a/"}, []string{"https://a/"}, true},
		{"npx", []string{"-y", "@modelcontextprotocol/server-filesystem", "/"}, nil, false},
		{"npx", []string{"-y", "mcp-remote-fork", "https://a/"}, nil, false},
		{"npx", []string{"-y"}, nil, false},
		{"pnpm", []string{"mcp-remote", "https://a/"}, nil, false},
		{"node", []string{"mcp-remote", "https://a/"}, nil, false},
		{"node", []string{"/srv/proxy.js", "https://a/"}, nil, false},
		{"/opt/mcp-bridge", []string{"https://a/"}, nil, false},
	}
	for _, tt := range tests {
		got, ok := Args(tt.command, tt.args)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("Args(%q, %q) = %q, %v; want %q, %v", tt.command, tt.args, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDropLauncher(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{[]string{"-y", "mcp-remote@latest", "https://a/"}, []string{"https://a/"}},
		{[]string{"mcp-remote", "https://a/", "9696"}, []string{"https://a/", "9696"}},
		{[]string{"https://a/", "--header", "A: b"}, []string{"https://a/", "--header", "A: b"}},
		{[]string{"-y", "https://a/"}, []string{"-y", "https://a/"}},
	} {
		if got := DropLauncher(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("DropLauncher(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
