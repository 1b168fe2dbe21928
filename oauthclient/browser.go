package oauthclient

import (
	"context"
	"errors"
	"io"
	"os"
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

func init() {
	// github.com/cli/browser writes the launcher's output to these.
	browser.Stdout = io.Discard
	browser.Stderr = io.Discard
}
