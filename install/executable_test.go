package install

import (
	"errors"
	"testing"
)

func TestStablePath(t *testing.T) {
	links := map[string]string{
		"/opt/homebrew/bin/mcp-bridge":        "/opt/homebrew/Cellar/mcp-bridge/1.2.3/bin/mcp-bridge",
		"/usr/local/bin/mcp-bridge":           "/usr/local/libexec/mcp-bridge",
		"/home/a/.nix-profile/bin/mcp-bridge": "/nix/store/abc-mcp-bridge-1.2.3/bin/mcp-bridge",
	}
	eval := func(p string) (string, error) {
		if r, ok := links[p]; ok {
			return r, nil
		}
		return p, nil
	}
	onPath := func(p string) func(string) (string, error) {
		return func(string) (string, error) { return p, nil }
	}
	tests := []struct {
		name, exe, path, want string
	}{
		{"a plain link is resolved", "/usr/local/bin/mcp-bridge", "", "/usr/local/libexec/mcp-bridge"},
		{"Homebrew's link is kept", "/opt/homebrew/bin/mcp-bridge", "", "/opt/homebrew/bin/mcp-bridge"},
		{"started from the Cellar, found on PATH", "/opt/homebrew/Cellar/mcp-bridge/1.2.3/bin/mcp-bridge", "/opt/homebrew/bin/mcp-bridge", "/opt/homebrew/bin/mcp-bridge"},
		{"Nix, found on PATH", "/nix/store/abc-mcp-bridge-1.2.3/bin/mcp-bridge", "/home/a/.nix-profile/bin/mcp-bridge", "/home/a/.nix-profile/bin/mcp-bridge"},
		{"the Cellar, PATH leads elsewhere", "/opt/homebrew/Cellar/mcp-bridge/1.2.3/bin/mcp-bridge", "/usr/local/bin/mcp-bridge", "/opt/homebrew/Cellar/mcp-bridge/1.2.3/bin/mcp-bridge"},
	}
	for _, tt := range tests {
		lookPath := onPath(tt.path)
		if tt.path == "" {
			lookPath = func(string) (string, error) { return "", errors.New("not found") }
		}
		if got := StablePath(tt.exe, lookPath, eval); got != tt.want {
			t.Errorf("%s: StablePath(%s) = %s, want %s", tt.name, tt.exe, got, tt.want)
		}
	}
}
