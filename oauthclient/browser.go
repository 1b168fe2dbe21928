package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/cli/browser"
)

// OpenBrowser opens url in the user's browser, without a shell, and only
// if it is https or http to loopback. Whatever a launcher prints is
// discarded: stdout carries the MCP protocol. It tries, in order:
//
//   - the commands in $BROWSER, a list separated like $PATH: one with %s
//     in it is split at spaces and %s replaced by the URL (%% by %); any
//     other is a program, run with the URL as its argument. VS Code
//     Remote, dev containers and Codespaces set it to a helper that opens
//     the browser on the user's own machine, where DISPLAY is unset.
//   - on WSL, wslview, else Windows' URL handler (rundll32).
//   - the desktop's default browser (xdg-open and its kin on Linux, open
//     on macOS, the URL handler on Windows); on Linux only in a graphical
//     session (DISPLAY or WAYLAND_DISPLAY set).
//
// A command that exits with an error within a few seconds has failed, and
// the next is tried; one still running then is taken to be the browser.
// OpenBrowser fails when none could open the URL, naming why each failed.
func OpenBrowser(ctx context.Context, url string) error {
	url, err := browserURL(url)
	if err != nil {
		return err
	}
	var errs []error
	try := func(argv []string) bool {
		err := runOpener(ctx, argv, url)
		if err != nil {
			errs = append(errs, err)
		}
		return err == nil
	}
	for _, argv := range browserCommands(os.Getenv("BROWSER"), url) {
		if try(argv) {
			return nil
		}
	}
	if runtime.GOOS == "linux" && isWSL() {
		if _, err := exec.LookPath("wslview"); err == nil && try([]string{"wslview", url}) {
			return nil
		}
		if try([]string{"rundll32.exe", "url.dll,FileProtocolHandler", url}) {
			return nil
		}
	}
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		errs = append(errs, errors.New("no graphical session (DISPLAY and WAYLAND_DISPLAY are unset), and no $BROWSER"))
		return errors.Join(errs...)
	}
	if err := browser.OpenURL(url); err != nil {
		return errors.Join(append(errs, err)...)
	}
	return nil
}

// browserCommands returns the commands that the $BROWSER value env names,
// each with url in its place.
func browserCommands(env, url string) [][]string {
	var cmds [][]string
	for entry := range strings.SplitSeq(env, string(os.PathListSeparator)) {
		entry = strings.TrimSpace(entry)
		switch {
		case entry == "":
		case strings.Contains(entry, "%s"):
			argv := strings.Fields(entry)
			for i, a := range argv {
				var b strings.Builder
				for j := 0; j < len(a); j++ {
					if a[j] == '%' && j+1 < len(a) && (a[j+1] == 's' || a[j+1] == '%') {
						if a[j+1] == 's' {
							b.WriteString(url)
						} else {
							b.WriteByte('%')
						}
						j++
						continue
					}
					b.WriteByte(a[j])
				}
				argv[i] = b.String()
			}
			cmds = append(cmds, argv)
		default:
			cmds = append(cmds, []string{entry, url})
		}
	}
	return cmds
}

// openerPatience is how long runOpener waits to see whether a command
// fails.
const openerPatience = 3 * time.Second

// runOpener runs argv, which opens url, without a shell and with its
// output discarded, as [startOpener] does.
func runOpener(ctx context.Context, argv []string, url string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	if len(argv) > 1 && argv[len(argv)-1] == url && isCmd(argv[0]) {
		setCommandLine(cmd, windowsCommandLine(argv[:len(argv)-1], url))
	}
	return startOpener(ctx, cmd, nil)
}

// startOpener starts cmd, which opens a URL, and reports whether it
// failed: it did not start, or exited with an error, within
// openerPatience. A command still running then is left to run; if log is
// not nil, its failure after that is logged.
func startOpener(ctx context.Context, cmd *exec.Cmd, log *slog.Logger) error {
	name := cmd.Args[0]
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(openerPatience)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case <-t.C:
	case <-ctx.Done(): // the sign-in is over; the command may go on
	}
	if log != nil {
		go func() {
			if err := <-done; err != nil {
				log.Warn("the browser command failed", "command", name, "err", err)
			}
		}()
	}
	return nil
}

// isWSL reports whether this is Linux under Windows (the Windows Subsystem
// for Linux), where a Windows browser opens URLs.
func isWSL() bool {
	if os.Getenv("WSL_DISTRO_NAME") != "" || os.Getenv("WSL_INTEROP") != "" {
		return true
	}
	_, err := os.Stat("/proc/sys/fs/binfmt_misc/WSLInterop")
	return err == nil
}

// CommandOpener returns an opener that runs argv with the URL appended as
// its last argument, without a shell: a browser other than the default, a
// profile, wslview. The command's output goes to output, never to stdout.
// A command that cannot run, or exits with an error within a few seconds
// (false, a helper with no display to reach), has opened nothing: the
// opener fails, and the user is shown the URL as with no browser. One
// still running then is taken to be the browser, and the sign-in goes on
// while it runs; its failure later is logged to log.
func CommandOpener(argv []string, output io.Writer, log *slog.Logger) func(ctx context.Context, url string) error {
	return func(ctx context.Context, url string) error {
		url, err := browserURL(url)
		if err != nil {
			return err
		}
		if len(argv) == 0 {
			return errors.New("no browser command")
		}
		cmd := openerCommand(argv, url)
		cmd.Stdout, cmd.Stderr = output, output
		if err := startOpener(ctx, cmd, log); err != nil {
			return fmt.Errorf("the browser command failed: %w", err)
		}
		return nil
	}
}

// openerCommand returns the command that runs argv with url appended as
// its last argument; to cmd.exe (`cmd /c start ""`) the URL is quoted
// (see windowsCommandLine).
func openerCommand(argv []string, url string) *exec.Cmd {
	cmd := exec.Command(argv[0], append(argv[1:len(argv):len(argv)], url)...)
	if isCmd(argv[0]) {
		setCommandLine(cmd, windowsCommandLine(argv, url))
	}
	return cmd
}

func init() {
	// github.com/cli/browser writes the launcher's output to these.
	browser.Stdout = io.Discard
	browser.Stderr = io.Discard
}
