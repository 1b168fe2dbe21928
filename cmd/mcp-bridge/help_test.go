package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runInProcess runs the command line in this process.
func runInProcess(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestHelpGolden: each command's --help, through the real binary, is
// testdata/help/COMMAND.txt (the top-level help: mcp-bridge.txt), on
// stdout with exit 0; -h and `mcp-bridge help COMMAND` print the same.
// Before, install, login, logout, doctor and run printed one usage line,
// and status --help the bridge's 69 flags (issue 12).
func TestHelpGolden(t *testing.T) {
	home := t.TempDir()
	stdout, stderr, code := runBinary(t, home, "--help")
	if code != exitOK || stderr != "" {
		t.Errorf("--help: exit %d, stderr %q", code, stderr)
	}
	golden(t, "help/mcp-bridge.txt", stdout)
	if got, _, _ := runInProcess("help"); got != stdout {
		t.Errorf("help and --help differ:\n%s", cmp.Diff(stdout, got))
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			want, _, _ := runInProcess("help", c.name)
			golden(t, "help/"+c.name+".txt", want)
			if c.flags == nil {
				return
			}
			prefix := []string{c.name}
			if c.name == "secret" {
				prefix = append(prefix, "set")
			}
			stdout, stderr, code := runBinary(t, home, append(prefix, "--help")...)
			if code != exitOK || stderr != "" {
				t.Errorf("%s --help: exit %d, stderr %q", c.name, code, stderr)
			}
			if stdout != want {
				t.Errorf("%s --help and help %s differ:\n%s", c.name, c.name, cmp.Diff(want, stdout))
			}
			if got, _, code := runInProcess(append(prefix, "-h")...); got != want || code != exitOK {
				t.Errorf("%s -h: exit %d, differs from help %s:\n%s", c.name, code, c.name, cmp.Diff(want, got))
			}
		})
	}
}

// TestHelpListsWhatIsParsed: a command's help names every flag its parser
// takes, and no other; status and secret take the token store's flag and
// no relay flag.
func TestHelpListsWhatIsParsed(t *testing.T) {
	flagName := regexp.MustCompile(`--([a-z][a-z0-9-]*)`)
	for _, c := range commands {
		if c.flags == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var parsed []string
			c.flags().VisitAll(func(f *flag.Flag) { parsed = append(parsed, f.Name) })
			var b strings.Builder
			printFlags(&b, c.flags(), c.grouped, c.brief, c.briefIntro)
			// Every flag parsed is named (a usage may name others:
			// --client-credentials names --client-id).
			var listed []string
			for _, m := range flagName.FindAllStringSubmatch(b.String(), -1) {
				if !slices.Contains(listed, m[1]) && slices.Contains(parsed, m[1]) {
					listed = append(listed, m[1])
				}
			}
			slices.Sort(listed)
			if diff := cmp.Diff(parsed, listed); diff != "" {
				t.Errorf("flags parsed (-) and named in the help (+):\n%s", diff)
			}
			// Every flag described is parsed.
			for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+)`).FindAllStringSubmatch(b.String(), -1) {
				if !slices.Contains(parsed, m[1]) {
					t.Errorf("the help describes --%s, which %s does not take", m[1], c.name)
				}
			}
		})
	}
	for name, want := range map[string][]string{"status": {"json", "token-store"}, "secret": {"token-store"}, "demo": {"audit-log", "auto-approve", "serve"}} {
		var got []string
		lookupCommand(name).flags().VisitAll(func(f *flag.Flag) { got = append(got, f.Name) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s's flags (-want +got):\n%s", name, diff)
		}
	}
}

// TestHelpWrongCommandLine: a flag a command does not take gets its usage
// lines on stderr, nothing on stdout, and exit 2.
func TestHelpWrongCommandLine(t *testing.T) {
	for _, args := range [][]string{
		{"status", "--header", "A: b"},
		{"secret", "set", "--log-level", "debug", "name"},
		{"uninstall", "--bogus"},
		{"migrate", "--bogus"},
		{"demo", "--bogus"},
		{"login", "--bogus", "https://example.com/mcp"},
		{"run", "--bogus", "https://example.com/mcp"},
		{"--bogus", "https://example.com/mcp"},
		{"help", "nope"},
	} {
		stdout, stderr, code := runInProcess(args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q; want exit %d and no stdout", args, code, stdout, exitUsage)
		}
		want := "usage: mcp-bridge " + args[0]
		if strings.HasPrefix(args[0], "-") || args[0] == "run" {
			want = "usage: mcp-bridge [run] [flags] URL"
		}
		if args[0] != "help" && !strings.Contains(stderr, want) {
			t.Errorf("%v: stderr has no usage line:\n%s", args, stderr)
		}
	}
	// -h as a flag's value is no request for help.
	if stdout, _, _ := runInProcess("secret", "set", "--token-store", "-h"); strings.Contains(stdout, "Usage:") {
		t.Errorf("--token-store -h printed the help:\n%s", stdout)
	}
}

// allHelp is every help text, the top-level one first.
func allHelp(t *testing.T) string {
	t.Helper()
	out, _, _ := runInProcess("help")
	for _, c := range commands {
		s, _, code := runInProcess("help", c.name)
		if code != exitOK {
			t.Fatalf("help %s: exit %d", c.name, code)
		}
		out += s
	}
	return out
}

// TestREADMEFlagsInHelp: every flag the README documents is in some
// command's help, so that the two cannot drift apart.
func TestREADMEFlagsInHelp(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	help := allHelp(t)
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?:^|[^-\w])--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(readme), -1) {
		name := m[1]
		if seen[name] {
			continue
		}
		seen[name] = true
		if !regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `([^a-z0-9-]|$)`).MatchString(help) {
			t.Errorf("the README documents --%s, which no command's help lists", name)
		}
	}
	if len(seen) < 40 {
		t.Errorf("found only %d flags in the README; is the pattern right?", len(seen))
	}
}

// TestREADMELinks: every relative link of README.md and docs/*.md names a
// file or directory of the repository.
func TestREADMELinks(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			n++
			if _, err := os.Stat(filepath.Join(filepath.Dir(file), filepath.FromSlash(target))); err != nil {
				rel, _ := filepath.Rel(root, file)
				t.Errorf("%s links to %s, which is not in the repository", rel, m[1])
			}
		}
	}
	if n == 0 {
		t.Error("no relative links found; is the pattern right?")
	}
}

// TestHelpSignInGroup: the sign-in group is every flag authOptions
// registers, without a list to keep: a sign-in flag added there is in the
// help of run, login, logout and doctor, under "Sign-in flags".
func TestHelpSignInGroup(t *testing.T) {
	want := authFlagNames()
	if len(want) < 10 {
		t.Fatalf("authFlagNames() = %v", want)
	}
	for _, name := range []string{"run", "login", "logout", "doctor"} {
		help, _, _ := runInProcess("help", name)
		_, section, ok := strings.Cut(help, "\nSign-in flags:\n")
		if !ok {
			t.Errorf("help %s has no sign-in flags", name)
			continue
		}
		section, _, _ = strings.Cut(section, "\n\n")
		var got []string
		for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+)`).FindAllStringSubmatch(section, -1) {
			got = append(got, m[1])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("help %s: sign-in flags (-want +got):\n%s", name, diff)
		}
	}
}
