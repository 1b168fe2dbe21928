package mcpremote

import (
	"slices"
	"strings"
)

// Args returns the arguments a host entry's command line gives
// mcp-remote, if it launches mcp-remote:
//
//	mcp-remote ARGS
//	npx [-y] mcp-remote[@VERSION] ARGS          (and pnpx, bunx)
//	npx [-y] -p|--package mcp-remote[@VERSION] mcp-remote ARGS
//	npm exec [-y] [--] mcp-remote[@VERSION] ARGS
//	pnpm dlx mcp-remote ARGS, yarn dlx mcp-remote ARGS, bun x mcp-remote ARGS
//	node PATH ARGS                              (PATH in an mcp-remote package: dist/proxy.js, or its bin link)
//
// and Windows's `cmd /c` in front of any of them. Program names compare
// without case and without .exe, .cmd or .bat.
func Args(command string, args []string) ([]string, bool) {
	name := program(command)
	if name == "cmd" {
		if len(args) >= 2 && strings.EqualFold(args[0], "/c") {
			return Args(args[1], args[2:])
		}
		return nil, false
	}
	if l := launchers[name]; l != nil {
		return l(args)
	}
	return nil, false
}

// launchers read, by program, the arguments that run mcp-remote.
var launchers = map[string]func(args []string) ([]string, bool){
	"mcp-remote": func(args []string) ([]string, bool) { return args, true },
	"npx":        npx,
	"pnpx":       npx,
	"bunx":       npx,
	"npm":        subcommand("exec", "x"),
	"pnpm":       subcommand("dlx"),
	"yarn":       subcommand("dlx"),
	"bun":        subcommand("x"),
	"node": func(args []string) ([]string, bool) {
		if len(args) > 0 && isScript(args[0]) {
			return args[1:], true
		}
		return nil, false
	},
}

// npx reads npx's command line (and pnpx's, bunx's).
func npx(args []string) ([]string, bool) { return afterPackage(args, npxFlags) }

// subcommand reads a package manager's command line that runs a package
// through one of names (npm exec, pnpm dlx, ...), as npx's.
func subcommand(names ...string) func(args []string) ([]string, bool) {
	return func(args []string) ([]string, bool) {
		if len(args) > 0 && slices.Contains(names, args[0]) {
			return npx(args[1:])
		}
		return nil, false
	}
}

// npxFlags are the launcher flags that may stand before the package.
var npxFlags = []string{"-y", "--yes", "-q", "--quiet", "--silent", "--prefer-offline", "--prefer-online", "--"}

// afterPackage returns what follows the mcp-remote package in a
// launcher's arguments, skipping the launcher's flags, and a
// --package/-p mcp-remote that names the package before its command.
func afterPackage(args []string, flags []string) ([]string, bool) {
	i := 0
	for i < len(args) {
		switch {
		case slices.Contains(flags, args[i]):
			i++
		case (args[i] == "-p" || args[i] == "--package") && i+1 < len(args) && IsPackage(args[i+1]):
			i += 2
		case strings.HasPrefix(args[i], "--package=") && IsPackage(strings.TrimPrefix(args[i], "--package=")):
			i++
		default:
			if IsPackage(args[i]) {
				return args[i+1:], true
			}
			return nil, false
		}
	}
	return nil, false
}

// program is a command's file name, lower case, without its directory
// and a Windows extension.
func program(command string) string {
	base := strings.ToLower(command[strings.LastIndexAny(command, `/\`)+1:])
	for _, ext := range []string{".exe", ".cmd", ".bat"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

// isScript reports whether path is mcp-remote's entry point in an
// installed package: .../mcp-remote/dist/proxy.js, the package's
// directory .../node_modules/mcp-remote, or its bin link
// .../node_modules/.bin/mcp-remote.
func isScript(path string) bool {
	parts := strings.FieldsFunc(strings.ToLower(path), func(r rune) bool { return r == '/' || r == '\\' })
	n := len(parts)
	switch {
	case n >= 3 && parts[n-1] == "proxy.js" && parts[n-2] == "dist" && parts[n-3] == "mcp-remote":
		return true
	case n >= 2 && parts[n-1] == "mcp-remote" && (parts[n-2] == ".bin" || parts[n-2] == "node_modules"):
		return true
	}
	return false
}

// DropLauncher drops what launched mcp-remote from the front of args, as
// a host entry that ran `npx -y mcp-remote@latest URL` has them when
// mcp-bridge replaces npx: "-y", "--yes", "mcp-remote",
// "mcp-remote@latest".
func DropLauncher(args []string) []string {
	i := 0
	for i < len(args) && (args[i] == "-y" || args[i] == "--yes") {
		i++
	}
	if i < len(args) && IsPackage(args[i]) {
		return args[i+1:]
	}
	return args
}

// IsPackage reports whether s names the mcp-remote package, as npx takes
// it: mcp-remote, mcp-remote@0.15.1, mcp-remote@latest.
func IsPackage(s string) bool {
	name, _, _ := strings.Cut(s, "@")
	return name == "mcp-remote"
}
