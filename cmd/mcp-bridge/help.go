package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/mcp-bridge/mcp-bridge/internal/demosession"
	"io"
	"slices"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/internal/mcpremote"
)

// Each command's help is made from the flag set it parses, so that a flag
// added to a command is in its help, and only in its help: the text here
// is what no flag set says (the usage lines, a summary, examples). The
// bridge's flags are printed in groups; a sign-in flag (authOptions'
// register) is in the sign-in group without being named here, and a flag
// in no group is printed under "Flags" with the command's own.
//
// `mcp-bridge CMD --help` (or -h, or `mcp-bridge help CMD`) prints it on
// stdout and exits 0, as `mcp-bridge help` does; a wrong command line gets
// the usage lines on stderr and exit 2.

// A command is one of mcp-bridge's subcommands, as its help shows it.
type command struct {
	name     string
	usage    []string // command lines, without "mcp-bridge "
	summary  string   // one line, for the list of commands
	about    string   // more, if there is more to say; wrapped
	examples []string
	// flags returns the flag set the command parses, with fresh values;
	// nil: it takes none.
	flags func() *flag.FlagSet
	// grouped: the flags are the bridge's (and the command's own), printed
	// in the groups of [flagGroups]; else all under "Flags".
	grouped bool
	// brief names the flag groups listed by name only, after briefIntro:
	// flags the command accepts but whose meaning is another command's.
	brief      []string
	briefIntro string
	// note, if not nil, says more after the flags.
	note func() string
}

// A flagGroup is a titled group of the bridge's flags.
type flagGroup struct {
	title string
	names []string
}

const (
	groupConnection = "Connection flags"
	groupSignIn     = "Sign-in flags"
	groupRelay      = "Relay flags"
	groupLog        = "Log flags"
)

// flagGroups are the bridge's flags by what they are about, in the order
// help prints them.
func flagGroups() []flagGroup {
	return []flagGroup{
		{groupConnection, []string{"config", "header", "header-file", "allow-http", "ca-file", "proxy"}},
		{groupSignIn, authFlagNames()},
		{groupRelay, []string{"transport", "allow-tool", "deny-tool", "max-message-size", "keepalive"}},
		{groupLog, []string{"log-level", "log-file", "audit-log"}},
	}
}

// authFlagNames are the flags [authOptions.register] defines, in its
// order.
func authFlagNames() []string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	(&authOptions{}).register(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// bridgeCommandFlags is the flag set of a command that parses the
// bridge's flags and, with extra, its own.
func bridgeCommandFlags(extra func(*flag.FlagSet)) func() *flag.FlagSet {
	return func() *flag.FlagSet {
		fs := bridgeFlags(&bridgeOptions{})
		if extra != nil {
			extra(fs)
		}
		return fs
	}
}

// ignoredHere introduces the relay flags of a command that talks to the
// server without relaying: a host entry's arguments, or a configuration
// file's server, may carry them.
const ignoredHere = "Accepted, so that a host entry's arguments work here, and ignored:"

// commands are the subcommands, in the order the top-level help lists
// them.
var commands = []*command{
	{
		name:    "run",
		grouped: true,
		usage:   []string{"[run] [flags] URL", "run [flags] NAME"},
		summary: "bridge a server over stdin/stdout: what a host launches",
		about: "\"run\" may be left out before a URL. Flags may come " +
			"before or after the URL. A named server's settings come from the configuration file " +
			"(--config, by default mcp-bridge/config.json in the user config directory), which is " +
			"watched: header, tool filter, scope and log level changes apply without a restart. " +
			"Flags override the file.",
		examples: []string{
			"mcp-bridge https://mcp.example.com/mcp",
			"mcp-bridge https://mcp.example.com/mcp --header 'X-Api-Key: ${EXAMPLE_KEY}'",
			"mcp-bridge run work --log-level debug --log-file /tmp/bridge.log",
		},
		flags: bridgeCommandFlags(nil),
		note:  mcpRemoteNote,
	},
	{
		name:    "login",
		grouped: true,
		usage:   []string{"login [flags] URL|NAME"},
		summary: "sign in from a terminal (browser, --login=device or --login=paste)",
		about: "NAME is a server of the configuration file, or the name of a host's entry (the one " +
			"a host's sign-in hint gives). It prints who is signed in and until when, never a token. " +
			"Where no browser opens, it prints the URL to open.",
		examples: []string{
			"mcp-bridge login https://mcp.example.com/mcp",
			"mcp-bridge login mcp-example-com --login=device   # enter a code on any device",
			"mcp-bridge login work --login=paste   # over SSH: paste the address it ends at",
		},
		flags:      bridgeCommandFlags(nil),
		brief:      []string{groupRelay},
		briefIntro: ignoredHere,
	},
	{
		name:    "logout",
		grouped: true,
		usage:   []string{"logout [flags] URL|NAME", "logout --all [flags]"},
		summary: "sign out: revoke the tokens where the server allows, remove them",
		examples: []string{
			"mcp-bridge logout https://mcp.example.com/mcp",
			"mcp-bridge logout mcp-example-com",
			"mcp-bridge logout --all",
		},
		flags:      bridgeCommandFlags(logoutFlags(new(bool))),
		brief:      []string{groupRelay},
		briefIntro: ignoredHere,
	},
	{
		name:    "status",
		usage:   []string{"status [--json] [--token-store KIND]"},
		summary: "list the servers signed in to, and their tokens' state",
		about: "One row per server with stored credentials: URL, issuer, client, scopes, the access " +
			"token's expiry, whether there is a refresh token, the last refresh, the store. Never a token.",
		examples: []string{
			"mcp-bridge status",
			"mcp-bridge status --json | jq -r '.servers[].server'",
			"mcp-bridge status --token-store file",
		},
		flags: func() *flag.FlagSet { return statusFlags(&bridgeOptions{}, new(bool)) },
	},
	{
		name:    "doctor",
		grouped: true,
		usage:   []string{"doctor [flags] URL|NAME"},
		summary: "check each step a sign-in depends on, and say which fails",
		about: "The steps: the token store, reaching the server (DNS, TLS and which CA), that it answers " +
			"as an MCP server, the 401, the resource metadata, the authorization server's metadata, PKCE, " +
			"registration, the callback port, the stored token. It exits 1 if one fails.",
		examples: []string{
			"mcp-bridge doctor https://mcp.example.com/mcp",
			"mcp-bridge doctor work --json",
			"mcp-bridge doctor https://mcp.example.com/mcp --ca-file corp-ca.pem",
		},
		flags:      bridgeCommandFlags(doctorFlags(new(bool))),
		brief:      []string{groupRelay},
		briefIntro: ignoredHere,
	},
	{
		name:    "secret",
		usage:   []string{"secret set [--token-store KIND] NAME", "secret delete [--token-store KIND] NAME"},
		summary: "keep a secret (from stdin) in the keychain, for ${keychain:NAME}",
		about: "set reads the value from stdin (from a terminal, without echo), never from the command " +
			"line, which ps shows. Headers and client secrets then refer to it as ${keychain:NAME}. " +
			"NAME is letters, digits, '.', '-' and '_'.",
		examples: []string{
			`echo -n "$API_KEY" | mcp-bridge secret set api-key`,
			"mcp-bridge https://mcp.example.com/mcp --header 'Api-Key: ${keychain:api-key}'",
			"mcp-bridge secret delete api-key",
		},
		flags: func() *flag.FlagSet { return secretFlags(&bridgeOptions{}) },
	},
	{
		name:    "install",
		grouped: true,
		usage:   []string{"install --host HOST [flags] URL|NAME"},
		summary: "add this binary to a host's config (--dry-run shows the change)",
		about: "HOST is one of " + hostIDs() + ". The entry runs this binary by its absolute path with " +
			"the URL and the bridge flags given, or with \"run NAME\" for a server of the configuration " +
			"file. The file is merged into, backed up first, and left alone the second time. Then it " +
			"offers to sign in.",
		examples: []string{
			"mcp-bridge install --host claude-desktop https://mcp.example.com/mcp",
			"mcp-bridge install --host cursor work --yes",
			"mcp-bridge install --host vscode --file .vscode/mcp.json work --dry-run",
		},
		flags: bridgeCommandFlags(installFlags(&hostFlags{}, new(string), new(bool))),
		brief: []string{groupConnection, groupSignIn, groupRelay, groupLog},
		briefIntro: "The bridge's flags go into the entry as given, and the sign-in flags also to " +
			"the sign-in that follows (mcp-bridge help run says what each does):",
	},
	{
		name:    "uninstall",
		usage:   []string{"uninstall --host HOST [flags] ENTRY"},
		summary: "remove an entry install made from a host's config",
		about: "ENTRY is the name install printed, or the --name it was given. An entry that does not " +
			"run mcp-bridge is left alone unless --force.",
		examples: []string{
			"mcp-bridge uninstall --host claude-desktop mcp-example-com",
			"mcp-bridge uninstall --host vscode --file .vscode/mcp.json example --dry-run",
		},
		flags: func() *flag.FlagSet { return uninstallFlags(&hostFlags{}) },
	},
	{
		name:    "migrate",
		usage:   []string{"migrate [flags]"},
		summary: "make the host entries that run mcp-remote run mcp-bridge",
		about: "Each entry that runs npx mcp-remote gets this binary as its command and mcp-remote's " +
			"arguments unchanged; the tokens mcp-remote left in plaintext under ~/.mcp-auth move into " +
			"the keychain, so no one signs in again. Files are backed up first.",
		examples: []string{
			"mcp-bridge migrate --dry-run",
			"mcp-bridge migrate",
			"mcp-bridge migrate --host claude-desktop --token-store file",
		},
		flags: func() *flag.FlagSet { return migrateFlags(&migrateOptions{}) },
	},
	{
		name:    "demo",
		usage:   []string{"demo [flags]"},
		summary: "run a full session, sign-in included, against a built-in server",
		about: "The server and its authorization server run in-process on 127.0.0.1; the real binary " +
			"is started as a host would. No network and no remote server needed.",
		examples: []string{
			"mcp-bridge demo",
			"mcp-bridge demo --auto-approve",
			"mcp-bridge demo --serve",
			"mcp-bridge demo --audit-log audit.jsonl",
		},
		flags: func() *flag.FlagSet { return demoFlags(new(bool), new(demosession.Options)) },
	},
	{
		name:     "version",
		usage:    []string{"version"},
		summary:  "print the version",
		examples: []string{"mcp-bridge version"},
	},
	{
		name:     "help",
		usage:    []string{"help [COMMAND]"},
		summary:  "print this help, or a command's flags and examples",
		examples: []string{"mcp-bridge help", "mcp-bridge help install"},
	},
}

// lookupCommand returns the command called name, or nil.
func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// asksHelp reports whether args, parsed by fs, ask for help (-h, -help or
// --help, not as another flag's value).
func asksHelp(fs *flag.FlagSet, args []string) bool {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	_, err := parseInterspersed(fs, args)
	return errors.Is(err, flag.ErrHelp)
}

// usageText is the command's usage lines and where its help is: what a
// wrong command line gets on stderr.
func (c *command) usageText() string {
	var b strings.Builder
	for i, u := range c.usage {
		if i == 0 {
			b.WriteString("usage: ")
		} else {
			b.WriteString("       ")
		}
		b.WriteString("mcp-bridge " + u + "\n")
	}
	fmt.Fprintf(&b, "Run 'mcp-bridge help %s' for its flags and examples.\n", c.name)
	return b.String()
}

// printShortUsage writes the usage of the command name (its first word:
// "secret set" is secret's) to w: what a wrong command line gets.
func printShortUsage(w io.Writer, name string) {
	word, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	if c := lookupCommand(word); c != nil {
		fmt.Fprint(w, c.usageText())
		return
	}
	fmt.Fprintln(w, "Run 'mcp-bridge help' for usage.")
}

// helpWidth is the column help text wraps at.
const helpWidth = 80

// printHelp writes the command's help to w.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "%s%s.\n\nUsage:\n", strings.ToUpper(c.summary[:1]), c.summary[1:])
	for _, u := range c.usage {
		fmt.Fprintf(w, "  mcp-bridge %s\n", u)
	}
	if c.about != "" {
		fmt.Fprintln(w)
		writeWrapped(w, c.about, "", helpWidth)
	}
	if c.flags != nil {
		printFlags(w, c.flags(), c.grouped, c.brief, c.briefIntro)
	}
	if c.note != nil {
		fmt.Fprintln(w)
		writeWrapped(w, c.note(), "", helpWidth)
	}
	if len(c.examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// printFlags writes every flag of fs. With groups, the command's own come
// first, under "Flags", then each group's, in full, or by name only for
// the groups brief names, after intro, then the bridge's flags no group
// names, under "Other flags"; without, all are under "Flags".
func printFlags(w io.Writer, fs *flag.FlagSet, groups bool, brief []string, intro string) {
	grouped := map[string]bool{}
	type section struct {
		title string
		flags []*flag.Flag
	}
	var sections []section
	var briefNames []string
	var gs []flagGroup
	if groups {
		gs = flagGroups()
	}
	for _, g := range gs {
		s := section{title: g.title}
		for _, name := range g.names {
			if f := fs.Lookup(name); f != nil && !grouped[name] {
				grouped[name] = true
				s.flags = append(s.flags, f)
			}
		}
		switch {
		case len(s.flags) == 0:
		case slices.Contains(brief, g.title):
			for _, f := range s.flags {
				briefNames = append(briefNames, "--"+f.Name)
			}
		default:
			sections = append(sections, s)
		}
	}
	// The command's own flags come first; a flag of the bridge's that no
	// group names comes after the groups.
	bridge := bridgeFlags(&bridgeOptions{})
	own, other := section{title: "Flags"}, section{title: "Other flags"}
	fs.VisitAll(func(f *flag.Flag) {
		switch {
		case grouped[f.Name]:
		case groups && bridge.Lookup(f.Name) != nil:
			other.flags = append(other.flags, f)
		default:
			own.flags = append(own.flags, f)
		}
	})
	if len(own.flags) > 0 {
		sections = append([]section{own}, sections...)
	}
	if len(other.flags) > 0 {
		sections = append(sections, other)
	}
	for _, s := range sections {
		fmt.Fprintf(w, "\n%s:\n", s.title)
		for _, f := range s.flags {
			printFlag(w, f)
		}
	}
	if len(briefNames) > 0 {
		fmt.Fprintln(w)
		writeWrapped(w, intro+" "+strings.Join(briefNames, ", ")+".", "", helpWidth)
	}
}

// placeholders name the value of the flags whose usage has a value of
// theirs, not a name, in backquotes (the flag package takes the first
// backquoted word for the placeholder).
var placeholders = map[string]string{
	"transport":        "kind",
	"login":            "mode",
	"token-store":      "kind",
	"private-key-file": "file",
}

// printFlag writes one flag: its name and placeholder, then its usage,
// wrapped and indented, and its default unless it is the zero value.
func printFlag(w io.Writer, f *flag.Flag) {
	name, usage := flag.UnquoteUsage(f)
	if p, ok := placeholders[f.Name]; ok && name != "" {
		name = p
	}
	line := "  --" + f.Name
	if name != "" {
		line += " " + name
	}
	fmt.Fprintln(w, line)
	switch f.DefValue {
	case "", "0", "false", "0s":
	default:
		usage += fmt.Sprintf(" (default %s)", f.DefValue)
	}
	writeWrapped(w, usage, "      ", helpWidth)
}

// writeWrapped writes text in lines of at most width columns (longer
// words stay whole), each after indent.
func writeWrapped(w io.Writer, text, indent string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		fmt.Fprintln(w, line)
	}
}

// printUsage writes the top-level help: what mcp-bridge is, its commands
// with one line each, examples, and the bridge's flags by name.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `mcp-bridge connects an MCP host that speaks stdio (Claude Desktop, Cursor,
VS Code, Zed, ...) to a remote MCP server over Streamable HTTP.

Usage:
  mcp-bridge [flags] URL        bridge the server at URL over stdin/stdout
  mcp-bridge COMMAND [flags] ...

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  mcp-bridge https://mcp.example.com/mcp
  mcp-bridge install --host claude-desktop https://mcp.example.com/mcp
  mcp-bridge login mcp-example-com

Claude Desktop (claude_desktop_config.json):
  {"mcpServers": {"example": {"command": "/usr/local/bin/mcp-bridge",
                              "args": ["https://mcp.example.com/mcp"]}}}

`)
	var names []string
	bridgeFlags(&bridgeOptions{}).VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	writeWrapped(w, "The bridge's flags (mcp-bridge help run says what each does): "+strings.Join(names, ", ")+".", "", helpWidth)
	fmt.Fprint(w, "\nRun 'mcp-bridge help COMMAND' (or 'mcp-bridge COMMAND --help') for a command's\nflags and examples.\n")
}

// mcpRemoteNote is what run's help adds about mcp-remote's command line.
func mcpRemoteNote() string {
	var names []string
	for _, n := range mcpremote.Flags() {
		names = append(names, "--"+n)
	}
	return "mcp-remote's command line works too, with the same meaning (README: Coming from " +
		"mcp-remote): a callback port after the URL, its --transport values, and " +
		strings.Join(names, ", ") + "."
}
