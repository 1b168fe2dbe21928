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

	"github.com/cli/browser"
)

// OpenBrowser opens url in the user's default browser, without a shell,
// and only if it is https or http to loopback. Whatever the launcher
// prints is discarded: stdout carries the MCP protocol. It fails where no
// browser can be opened: on Linux without a graphical session, for one.
func OpenBrowser(_ context.Context, url string) error {
	if err := checkBrowserURL(url); err != nil {
		return err
	}
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)")
	}
	return browser.OpenURL(url)
}

// CommandOpener returns an opener that runs argv with the URL appended as
// its last argument, without a shell: a browser other than the default, a
// profile, wslview. The command's output goes to output, never to stdout.
// The opener does not wait for the command: the sign-in goes on while the
// browser runs.
func CommandOpener(argv []string, output io.Writer, log *slog.Logger) func(ctx context.Context, url string) error {
	return func(_ context.Context, url string) error {
		if err := checkBrowserURL(url); err != nil {
			return err
		}
		if len(argv) == 0 {
			return errors.New("no browser command")
		}
		cmd := exec.Command(argv[0], append(argv[1:len(argv):len(argv)], url)...)
		cmd.Stdout, cmd.Stderr = output, output
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("run the browser command: %w", err)
		}
		go func() {
			if err := cmd.Wait(); err != nil && log != nil {
				log.Warn("the browser command failed", "command", argv[0], "err", err)
			}
		}()
		return nil
	}
}

func init() {
	// github.com/cli/browser writes the launcher's output to these.
	browser.Stdout = io.Discard
	browser.Stderr = io.Discard
}
