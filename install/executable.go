package install

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Executable is this program's absolute path, symbolic links resolved
// (see [StablePath]): what a host's entry runs, without a shell or a PATH
// lookup.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this program's path: %w", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return "", err
	}
	return StablePath(exe, exec.LookPath, filepath.EvalSymlinks), nil
}

// versionedDirs mark a package manager's store, where each version has a
// directory of its own that the next upgrade removes.
var versionedDirs = []string{"/Cellar/", "/nix/store/", `\scoop\apps\`}

// StablePath returns exe with symbolic links resolved, unless that lands
// in a versioned store (Homebrew's Cellar, say): then the mcp-bridge on
// PATH that leads to the same file, such as /opt/homebrew/bin/mcp-bridge,
// so that an upgrade does not break the host's entry. lookPath and
// evalSymlinks are [exec.LookPath] and [filepath.EvalSymlinks], or a
// test's.
func StablePath(exe string, lookPath func(string) (string, error), evalSymlinks func(string) (string, error)) string {
	resolved, err := evalSymlinks(exe)
	if err != nil {
		return exe
	}
	versioned := false
	for _, d := range versionedDirs {
		versioned = versioned || strings.Contains(resolved, d)
	}
	if !versioned {
		return resolved
	}
	for _, cand := range []string{exe, "mcp-bridge"} {
		if cand == "mcp-bridge" {
			p, err := lookPath(cand)
			if err != nil {
				continue
			}
			if cand, err = filepath.Abs(p); err != nil {
				continue
			}
		}
		if r, err := evalSymlinks(cand); err == nil && r == resolved && !strings.EqualFold(cand, resolved) {
			return cand
		}
	}
	return resolved
}
