package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/mcp-bridge/mcp-bridge/install"
)

// installDeps is what install and uninstall take from the process. Tests
// give their own: another operating system's layout, a fixed binary path,
// a fixed clock, a fake login.
type installDeps struct {
	env        install.Env
	executable func() (string, error)
	now        func() time.Time
	terminal   func(io.Reader) bool
	login      func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func processInstallDeps() (installDeps, error) {
	env, err := install.CurrentEnv()
	return installDeps{
		env:        env,
		executable: install.Executable,
		now:        time.Now,
		terminal:   isTerminal,
		login:      runLogin,
	}, err
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// hostFlags are the flags install and uninstall share.
type hostFlags struct {
	host   string
	file   string
	dryRun bool
	force  bool
}

func (f *hostFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.host, "host", "", "the MCP host whose config to change: `name` is one of "+hostIDs())
	fs.StringVar(&f.file, "file", "", "change this config `file` instead of the host's own (a project's .mcp.json, .vscode/mcp.json, .zed/settings.json, ...); it has the host's format")
	fs.BoolVar(&f.dryRun, "dry-run", false, "show the change as a diff and write nothing")
	fs.BoolVar(&f.force, "force", false, "replace (or remove) an entry of that name even if it does not run mcp-bridge")
}

// installFlags adds install's own flags to the bridge's.
func installFlags(f *hostFlags, entryName *string, yes *bool) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		f.register(fs)
		fs.StringVar(entryName, "name", "", "the entry's `name` in the host's config (default: the server's name, or its URL's host)")
		fs.BoolVar(yes, "yes", false, "sign in right after installing, without asking")
	}
}

// uninstallFlags are uninstall's flags.
func uninstallFlags(f *hostFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("mcp-bridge uninstall", flag.ContinueOnError)
	f.register(fs)
	return fs
}

func hostIDs() string {
	var ids []string
	for _, h := range install.Hosts() {
		ids = append(ids, h.ID)
	}
	return strings.Join(ids, ", ")
}

// installOnlyFlags are install's own flags: they stay out of the entry.
var installOnlyFlags = map[string]bool{"host": true, "file": true, "dry-run": true, "force": true, "name": true, "yes": true}

// pathFlags are the bridge flags whose value is a file: the entry gets it
// as an absolute path, since a host starts servers in a directory of its
// choosing.
var pathFlags = map[string]bool{
	"config": true, "header-file": true, "ca-file": true, "log-file": true, "audit-log": true,
	"client-secret-file": true, "private-key-file": true, "id-token-file": true, "assertion-file": true,
}

// runInstall adds mcp-bridge to a host's config:
//
//	mcp-bridge install --host HOST URL|NAME [--name ENTRY] [--dry-run] [--yes] [--force] [--file PATH] [bridge flags...]
//
// The entry runs this binary by its absolute path with the URL and the
// bridge flags given, or with `run NAME` for a server of the configuration
// file. Then it offers to sign in.
func runInstall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	d, err := processInstallDeps()
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge install: %v\n", err)
		return exitError
	}
	return installCommand(ctx, d, args, stdin, stdout, stderr)
}

// runUninstall removes an entry that install made:
//
//	mcp-bridge uninstall --host HOST ENTRY [--dry-run] [--force] [--file PATH]
func runUninstall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	d, err := processInstallDeps()
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bridge uninstall: %v\n", err)
		return exitError
	}
	return uninstallCommand(d, args, stdout, stderr)
}

func installCommand(ctx context.Context, d installDeps, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const cmd = "mcp-bridge install"
	var f hostFlags
	var entryName string
	var yes bool
	o, code := parseBridgeArgs(cmd, args, installFlags(&f, &entryName, &yes), stderr)
	if o == nil {
		return code
	}
	h, path, code := f.resolve(cmd, d, stderr)
	if h == nil {
		return code
	}

	named := entryName != ""
	entryName, entryArgs, loginArgs, err := installedEntry(o, args, entryName)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return exitUsage
	}
	if entryName, err = checkCollision(h, path, entryName, named, entryArgs, f.force); err != nil {
		fmt.Fprintf(stderr, "%s: %s: %v\n", cmd, path, err)
		return exitError
	}
	if err := h.CheckName(entryName); err != nil {
		fmt.Fprintf(stderr, "%s: %v (choose another with --name)\n", cmd, err)
		return exitUsage
	}
	exe, err := d.executable()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return exitError
	}
	if strings.Contains(exe, "go-build") {
		fmt.Fprintf(stderr, "%s: warning: %s is a temporary build (go run?); the host will not find it later\n", cmd, exe)
	}
	for _, a := range entryArgs {
		if strings.Contains(a, "${") {
			fmt.Fprintf(stderr, "%s: note: some hosts replace ${...} in args with their own environment before mcp-bridge sees it; keep secrets in --header-file or the configuration file\n", cmd)
			break
		}
	}

	e := install.Entry{Name: entryName, Command: exe, Args: entryArgs}
	res, err := h.Install(path, e, install.Options{DryRun: f.dryRun, Force: f.force, Now: d.now})
	if err != nil {
		return reportEditError(cmd, h, path, err, "choose another name with --name, or replace it with --force", stderr)
	}
	if f.dryRun {
		return reportDryRun(res, stdout)
	}
	reportInstall(stdout, h, e, res)
	return offerLogin(ctx, d, loginArgs, yes, stdin, stdout, stderr)
}

// reportInstall says what an install did to the host's config.
func reportInstall(stdout io.Writer, h *install.Host, e install.Entry, res *install.Result) {
	if res.Action == install.Unchanged {
		fmt.Fprintf(stdout, "%s already has %q, as install would write it, in %s: nothing changed.\n", h.Name, e.Name, res.Path)
		return
	}
	verb := "Added %q to %s's config %s\n"
	if res.Action == install.Updated {
		verb = "Updated %q in %s's config %s\n"
	}
	fmt.Fprintf(stdout, verb, e.Name, h.Name, res.Path)
	fmt.Fprintf(stdout, "  command  %s\n", e.Command)
	fmt.Fprintf(stdout, "  args     %s\n", shellJoin(e.Args))
	if res.Backup != "" {
		fmt.Fprintf(stdout, "The file as it was is in %s\n", res.Backup)
	}
	fmt.Fprintln(stdout, h.Reload)
}

// installedEntry returns the name and arguments of the host entry for
// the server o names (entryName, if not empty, is the name asked for), and
// the arguments of the login that signs in to it: the server, as a URL or
// `run NAME`, and the bridge flags of args as they were typed.
func installedEntry(o *bridgeOptions, args []string, entryName string) (name string, entryArgs, loginArgs []string, err error) {
	pass, err := bridgeArgsOf(args)
	if err != nil {
		return "", nil, nil, err
	}
	if o.name != "" {
		return cmp.Or(entryName, o.name), append([]string{"run", o.name}, pass...), append([]string{o.name}, pass...), nil
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", nil, nil, fmt.Errorf("%q is not an http or https URL", o.url)
	}
	return cmp.Or(entryName, install.EntryName(u)), append([]string{o.url}, pass...), append([]string{o.url}, pass...), nil
}

// checkCollision keeps install from replacing one server's entry with
// another's. The host's entry that already runs mcp-bridge for this server
// is updated whatever its name, unless a name was asked for (named); an
// mcp-bridge entry of the name for another server is refused unless
// force is set. It returns the name to write.
func checkCollision(h *install.Host, path, name string, named bool, args []string, force bool) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return name, nil // no file yet, or one Install will report
	}
	entries, err := h.Entries(src)
	if err != nil {
		return name, nil // Install reports it
	}
	server := serverOf(args)
	for _, e := range entries {
		if e.Project == "" && !named && isBridgeEntry(e) && serverOf(e.Args) == server {
			return e.Name, nil
		}
	}
	for _, e := range entries {
		if e.Project == "" && e.Name == name && isBridgeEntry(e) && serverOf(e.Args) != server && !force {
			return "", fmt.Errorf("the entry %q runs mcp-bridge for another server, %s; choose another name with --name, or replace it with --force", name, serverOf(e.Args))
		}
	}
	return name, nil
}

// isBridgeEntry reports whether a host entry runs mcp-bridge.
func isBridgeEntry(e install.Entry) bool {
	return strings.Contains(strings.ToLower(filepath.Base(e.Command)), "mcp-bridge")
}

// serverOf returns the server an mcp-bridge entry's arguments name: its
// URL, or "run NAME"; "" if they name none.
func serverOf(args []string) string {
	run := len(args) > 0 && args[0] == "run"
	if run {
		args = args[1:]
	}
	fs := bridgeFlags(&bridgeOptions{})
	fs.SetOutput(io.Discard)
	pos, err := parseInterspersed(fs, args)
	switch {
	case err != nil || len(pos) == 0:
		return ""
	case run && !strings.Contains(pos[0], "://"):
		return "run " + pos[0]
	}
	return pos[0]
}

// offerLogin signs in now with --yes, asks on a terminal, and otherwise
// says how.
func offerLogin(ctx context.Context, d installDeps, loginArgs []string, yes bool, stdin io.Reader, stdout, stderr io.Writer) int {
	command := "mcp-bridge login " + shellJoin(loginArgs)
	if !yes {
		if !d.terminal(stdin) {
			fmt.Fprintf(stdout, "If the server asks you to sign in, do it now rather than in the host: %s\n", command)
			return exitOK
		}
		fmt.Fprintf(stderr, "Sign in to %s now? [y/N] ", loginArgs[0])
		answer, _ := bufio.NewReader(stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintf(stdout, "Sign in later with: %s\n", command)
			return exitOK
		}
	}
	fmt.Fprintf(stderr, "Running: %s\n", command)
	return d.login(ctx, loginArgs, stdin, stdout, stderr)
}

func uninstallCommand(d installDeps, args []string, stdout, stderr io.Writer) int {
	const cmd = "mcp-bridge uninstall"
	var f hostFlags
	pos, code, ok := parseFlags("uninstall", uninstallFlags(&f), args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want exactly one entry name (what install printed, or the --name it was given)\n", cmd)
		return exitUsage
	}
	h, path, code := f.resolve(cmd, d, stderr)
	if h == nil {
		return code
	}
	name := pos[0]
	self, _ := d.executable()
	res, err := h.Uninstall(path, name, install.Options{DryRun: f.dryRun, Force: f.force, Now: d.now, Self: self})
	if err != nil {
		return reportEditError(cmd, h, path, err, "remove it with --force if you are sure", stderr)
	}
	if f.dryRun {
		return reportDryRun(res, stdout)
	}
	if res.Action == install.NotFound {
		fmt.Fprintf(stdout, "%s has no entry %q in %s: nothing to remove.\n", h.Name, name, res.Path)
		return exitOK
	}
	fmt.Fprintf(stdout, "Removed %q from %s's config %s\n", name, h.Name, res.Path)
	if res.Backup != "" {
		fmt.Fprintf(stdout, "The file as it was is in %s\n", res.Backup)
	}
	return exitOK
}

// resolve finds the host and the file to change. On failure it has said
// why and returns a nil host and the exit code.
func (f *hostFlags) resolve(cmd string, d installDeps, stderr io.Writer) (*install.Host, string, int) {
	if f.host == "" {
		fmt.Fprintf(stderr, "%s: say which host with --host: %s\n", cmd, hostIDs())
		return nil, "", exitUsage
	}
	h, err := install.LookupHost(f.host)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, "", exitUsage
	}
	if f.file != "" {
		p, err := filepath.Abs(f.file)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
			return nil, "", exitUsage
		}
		return h, p, exitOK
	}
	p, err := h.ConfigPath(d.env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s's config: %v\n", cmd, h.Name, err)
		return nil, "", exitError
	}
	return h, p, exitOK
}

func reportEditError(cmd string, h *install.Host, path string, err error, hint string, stderr io.Writer) int {
	if fe, ok := errors.AsType[*install.ForeignEntryError](err); ok {
		fmt.Fprintf(stderr, "%s: %s: %v; %s\n", cmd, path, fe, hint)
		return exitError
	}
	fmt.Fprintf(stderr, "%s: %s's config: %v\n", cmd, h.Name, err)
	return exitError
}

func reportDryRun(res *install.Result, stdout io.Writer) int {
	diff := install.Diff(res.Path, res.Path+" ("+res.Action.String()+")", res.Old, res.New)
	if diff == "" {
		fmt.Fprintf(stdout, "%s would not change (dry run).\n", res.Path)
		return exitOK
	}
	fmt.Fprint(stdout, diff)
	fmt.Fprintln(stdout, "(dry run: nothing was written)")
	return exitOK
}

// bridgeArgsOf returns the bridge flags of an install command line, as
// they were typed, without install's own flags and the server: what the
// host entry passes on. File paths are made absolute.
func bridgeArgsOf(args []string) ([]string, error) {
	fs := bridgeFlags(&bridgeOptions{})
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue // the server
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if installOnlyFlags[name] {
			if !hasValue && name != "dry-run" && name != "force" && name != "yes" {
				i++
			}
			continue
		}
		fl := fs.Lookup(name)
		if fl == nil {
			continue // parseBridgeArgs has refused it already
		}
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			out = append(out, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag needs an argument: %s", a)
			}
			i++
			value = args[i]
		}
		if pathFlags[name] && value != "" {
			abs, err := filepath.Abs(value)
			if err != nil {
				return nil, err
			}
			value = abs
		}
		if hasValue {
			out = append(out, a[:strings.Index(a, "=")+1]+value)
		} else {
			out = append(out, a, value)
		}
	}
	return out, nil
}

// shellJoin quotes args for display as a POSIX shell command line.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
