package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/install"
)

// The install tests run `mcp-bridge install` and `mcp-bridge uninstall`
// against a home directory of their own, laid out as on Linux, and compare
// what the commands print and the host's config file afterwards with
// testdata/install/*.txtar. An archive holds:
//
//	args     the command line, one argument per line: install or
//	         uninstall, then its arguments; $HOME is the test's home
//	before   the host's config file before (no section: no file); $HOME
//	         in it, and in after, is the test's home
//	config   mcp-bridge's own configuration file, $HOME/bridge.json
//	path     the host's file relative to $HOME, when --file names another
//	terminal stdin is a terminal, and this is what the user types
//	stdout   what the command prints (the home directory shown as $HOME)
//	stderr   what it prints on stderr
//	after    the host's config file after (no section: no file)
//	exit     the exit code
//
// The binary is /opt/mcp-bridge/bin/mcp-bridge, the clock is fixed, and
// login prints its arguments instead of signing in. When the command
// changed an existing file, the harness also checks the backup holds the
// file as it was.
//
// go test ./cmd/mcp-bridge -run TestInstallCommand -update rewrites the
// stdout, stderr, after and exit sections.

const testExe = "/opt/mcp-bridge/bin/mcp-bridge"

var installNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// loginRecorder is a fake login: it records its command lines.
type loginRecorder struct {
	mu    sync.Mutex
	calls [][]string
}

func (l *loginRecorder) login(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, args)
	fmt.Fprintf(stdout, "[login %s]\n", shellJoin(args))
	return exitOK
}

func testInstallDeps(home string, terminal bool, l *loginRecorder) installDeps {
	return installDeps{
		env:        install.Env{GOOS: "linux", Home: home, Getenv: func(string) string { return "" }},
		executable: func() (string, error) { return testExe, nil },
		now:        func() time.Time { return installNow },
		terminal:   func(io.Reader) bool { return terminal },
		login:      l.login,
	}
}

// runHostCommand runs install or uninstall (args[0]) with test deps.
func runHostCommand(d installDeps, args []string, stdin io.Reader) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	switch args[0] {
	case "install":
		code = installCommand(context.Background(), d, args[1:], stdin, &out, &errOut)
	case "uninstall":
		code = uninstallCommand(d, args[1:], &out, &errOut)
	default:
		panic("unknown command " + args[0])
	}
	return out.String(), errOut.String(), code
}

func TestInstallCommand(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "install", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no archives in testdata/install")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			runInstallArchive(t, file)
		})
	}
}

func runInstallArchive(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a := parseArchive(data)
	section := func(name string) ([]byte, bool) {
		for _, f := range a.files {
			if f.name == name {
				return f.data, true
			}
		}
		return nil, false
	}
	home := t.TempDir()
	expand := func(b []byte) string { return strings.ReplaceAll(string(b), "$HOME", home) }
	hide := func(s string) string { return strings.ReplaceAll(s, home, "$HOME") }

	argsText, ok := section("args")
	if !ok {
		t.Fatal("no args section")
	}
	args := strings.Split(strings.TrimSuffix(expand(argsText), "\n"), "\n")
	if c, ok := section("config"); ok {
		if err := os.WriteFile(filepath.Join(home, "bridge.json"), []byte(expand(c)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The host's file: --file's, or the host's own on Linux.
	d := testInstallDeps(home, false, &loginRecorder{})
	var path string
	if p, ok := section("path"); ok {
		path = filepath.Join(home, strings.TrimSpace(string(p)))
	} else if i := slices.Index(args, "--host"); i < 0 {
		path = filepath.Join(home, "no-host")
	} else {
		h, err := install.LookupHost(args[i+1])
		if err == nil {
			path, err = h.ConfigPath(d.env)
		}
		if err != nil {
			path = filepath.Join(home, "unknown-host")
		}
	}
	before, hadBefore := section("before")
	before = []byte(expand(before))
	if hadBefore {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, before, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdin io.Reader = strings.NewReader("")
	if typed, ok := section("terminal"); ok {
		d.terminal = func(io.Reader) bool { return true }
		stdin = bytes.NewReader(typed)
	}

	stdout, stderr, code := runHostCommand(d, args, stdin)
	after, err := os.ReadFile(path)
	hasAfter := err == nil

	got := map[string][]byte{
		"stdout": []byte(hide(stdout)),
		"stderr": []byte(hide(stderr)),
		"exit":   []byte(strconv.Itoa(code) + "\n"),
	}
	if hasAfter {
		got["after"] = []byte(hide(string(after)))
	}
	if *update {
		var files []archiveFile
		for _, f := range a.files {
			if _, ok := got[f.name]; !ok && f.name != "after" {
				files = append(files, f)
			}
		}
		for _, name := range []string{"stdout", "stderr", "after", "exit"} {
			if b, ok := got[name]; ok && (len(b) > 0 || name == "after") {
				files = append(files, archiveFile{name: name, data: b})
			}
		}
		a.files = files
		if err := os.WriteFile(file, a.format(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, name := range []string{"stdout", "stderr", "exit"} {
		want, _ := section(name)
		if diff := cmp.Diff(string(want), string(withNewline(got[name]))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	wantAfter, wantFile := section("after")
	switch {
	case wantFile != hasAfter:
		t.Errorf("the host's file exists afterwards: %v, want %v", hasAfter, wantFile)
	case wantFile:
		if diff := cmp.Diff(string(wantAfter), string(withNewline(got["after"]))); diff != "" {
			t.Errorf("the host's file afterwards (-want +got):\n%s", diff)
		}
	}
	backup := path + ".bak-20260304-050607"
	if hadBefore && hasAfter && !bytes.Equal(before, after) {
		if b, err := os.ReadFile(backup); err != nil || !bytes.Equal(b, before) {
			t.Errorf("backup %s: %q, %v; want the file as it was", backup, b, err)
		}
	} else if _, err := os.Stat(backup); err == nil {
		t.Errorf("a backup, though the file did not change")
	}
}

// TestInstallThenUninstall: a second install changes nothing, uninstall
// gives back the original bytes, for every host, with the real file
// operations.
func TestInstallThenUninstall(t *testing.T) {
	for _, h := range install.Hosts() {
		t.Run(h.ID, func(t *testing.T) {
			home := t.TempDir()
			l := &loginRecorder{}
			d := testInstallDeps(home, false, l)
			path, err := h.ConfigPath(d.env)
			if err != nil {
				t.Fatal(err)
			}
			// The example snippet stands for the user's existing file.
			name := h.ID + ".json"
			if h.TOML {
				name = h.ID + ".toml"
			}
			original, err := os.ReadFile(filepath.Join("..", "..", "configs", "examples", "hosts", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, original, 0o600); err != nil {
				t.Fatal(err)
			}
			installArgs := []string{"install", "--host", h.ID, "--name", "added", "--yes", "https://mcp.example.com/mcp", "--log-level", "debug"}
			if _, stderr, code := runHostCommand(d, installArgs, nil); code != exitOK {
				t.Fatalf("install: exit %d: %s", code, stderr)
			}
			first, _ := os.ReadFile(path)
			stdout, stderr, code := runHostCommand(d, installArgs, nil)
			if code != exitOK || !strings.Contains(stdout, "nothing changed") {
				t.Fatalf("second install: exit %d, %s%s", code, stdout, stderr)
			}
			if again, _ := os.ReadFile(path); !bytes.Equal(first, again) {
				t.Errorf("a second install changed the file")
			}
			if _, stderr, code := runHostCommand(d, []string{"uninstall", "--host", h.ID, "added"}, nil); code != exitOK {
				t.Fatalf("uninstall: exit %d: %s", code, stderr)
			}
			if restored, _ := os.ReadFile(path); !bytes.Equal(restored, original) {
				t.Errorf("uninstall did not restore the file:\n%s", cmp.Diff(string(original), string(restored)))
			}
			want := [][]string{{"https://mcp.example.com/mcp", "--log-level", "debug"}, {"https://mcp.example.com/mcp", "--log-level", "debug"}}
			if diff := cmp.Diff(want, l.calls); diff != "" {
				t.Errorf("login (-want +got):\n%s", diff)
			}
			backups, _ := filepath.Glob(path + ".bak-*")
			if len(backups) != 2 {
				t.Errorf("backups: %v, want one for the install and one for the uninstall", backups)
			}
		})
	}
}

func TestBridgeArgsOf(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--host", "zed", "https://x/mcp", "--header", "A: 1", "--dry-run", "--yes", "--name=n", "--allow-http"},
			[]string{"--header", "A: 1", "--allow-http"}},
		{[]string{"-header=A: 1", "https://x/mcp", "--ca-file", "ca.pem", "--config=conf.json", "--force", "--file", "x.json"},
			[]string{"-header=A: 1", "--ca-file", filepath.Join(wd, "ca.pem"), "--config=" + filepath.Join(wd, "conf.json")}},
		{[]string{"--log-level", "debug", "--", "--not-a-flag"}, []string{"--log-level", "debug"}},
	}
	for _, tt := range tests {
		got, err := bridgeArgsOf(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("bridgeArgsOf(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"https://x/mcp", "--header", "X-Team: ${TEAM}", "it's", ""})
	want := `https://x/mcp --header 'X-Team: ${TEAM}' 'it'\''s' ''`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

// TestRunInstallUsage runs the commands as run calls them, with the
// process's own environment, on command lines refused before any file is
// read.
func TestRunInstallUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runInstall(t.Context(), []string{"https://mcp.example.com/mcp"}, strings.NewReader(""), &out, &errOut); code != exitUsage {
		t.Errorf("install without --host: exit %d, want %d", code, exitUsage)
	}
	if code := runUninstall(t.Context(), []string{"--host", "zed"}, strings.NewReader(""), &out, &errOut); code != exitUsage {
		t.Errorf("uninstall without an entry: exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(errOut.String(), "--host") || !strings.Contains(errOut.String(), "want exactly one entry name") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
