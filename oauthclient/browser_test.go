package oauthclient

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestBrowserCommands(t *testing.T) {
	const u = "https://as.example/authorize?a=1&b=%2F"
	sep := string(os.PathListSeparator)
	for _, tt := range []struct {
		env  string
		want [][]string
	}{
		{"", nil},
		{"/vscode/bin/helpers/browser.sh", [][]string{{"/vscode/bin/helpers/browser.sh", u}}},
		{"/Applications/Google Chrome.app/x", [][]string{{"/Applications/Google Chrome.app/x", u}}},
		{"firefox --new-tab %s", [][]string{{"firefox", "--new-tab", u}}},
		{"echo 100%% %s", [][]string{{"echo", "100%", u}}},
		{"wslview" + sep + sep + " lynx ", [][]string{{"wslview", u}, {"lynx", u}}},
	} {
		if got := browserCommands(tt.env, u); !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("browserCommands(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// TestOpenBrowserTriesEachCommand: a $BROWSER command that fails gives way
// to the next, which gets the URL as one argument, with no shell between.
func TestOpenBrowserTriesEachCommand(t *testing.T) {
	dir := t.TempDir()
	out, script := dir+"/args", dir+"/browser"
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sep := string(os.PathListSeparator)
	t.Setenv("BROWSER", "/nonexistent/browser"+sep+"false %s"+sep+script+" --new-tab %s")
	const u = "http://127.0.0.1:9/authorize?state=x&y=$(id)"
	if err := OpenBrowser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	// Re-serialised, percent-encoded (issue 11).
	const want = "http://127.0.0.1:9/authorize?state=x&y=%24%28id%29"
	if string(got) != "--new-tab\n"+want+"\n" {
		t.Errorf("the browser got the arguments %q, want --new-tab and %q", got, want)
	}
	if runtime.GOOS != "linux" {
		return // the desktop's browser would open
	}
	t.Setenv("BROWSER", "false %s")
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	err := OpenBrowser(t.Context(), u)
	if err == nil || !strings.Contains(err.Error(), "false") {
		t.Errorf("only failing openers: err = %v, want one naming the failed command", err)
	}
}
