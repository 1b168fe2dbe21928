package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		wantHdrs []string
		wantLog  string
	}{
		{"flags first", []string{"--header", "A: 1", "--log-level", "debug", "https://x/mcp"}, []string{"https://x/mcp"}, []string{"A: 1"}, "debug"},
		{"URL first, as mcp-remote configs have it", []string{"https://x/mcp", "--header", "A: 1", "--log-level=warn"}, []string{"https://x/mcp"}, []string{"A: 1"}, "warn"},
		{"mixed", []string{"--header", "A: 1", "https://x/mcp", "--header", "B: 2"}, []string{"https://x/mcp"}, []string{"A: 1", "B: 2"}, "info"},
		{"after --", []string{"--", "--not-a-flag"}, []string{"--not-a-flag"}, nil, "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o bridgeOptions
			fs := bridgeFlags(&o)
			pos, err := parseInterspersed(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPos, pos); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHdrs, []string(o.headers)); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if o.logLevel != tt.wantLog {
				t.Errorf("log level = %q, want %q", o.logLevel, tt.wantLog)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"version", []string{"version"}, exitOK, "mcp-bridge ", ""},
		{"help has examples", []string{"help"}, exitOK, "Examples:", ""},
		{"help lists flags", []string{"--help"}, exitOK, "-header-file", ""},
		{"no URL", nil, exitUsage, "", "want exactly one server URL"},
		{"two URLs", []string{"https://a/mcp", "https://b/mcp"}, exitUsage, "", "want exactly one server URL"},
		{"unknown flag", []string{"--nope", "https://a/mcp"}, exitUsage, "", "flag provided but not defined"},
		{"plain http refused", []string{"http://example.com/mcp"}, exitUsage, "", "plain http is only allowed to loopback"},
		{"credentials in URL refused", []string{"https://u:p@example.com/mcp"}, exitUsage, "", "credentials in the URL"},
		{"bad transport", []string{"--transport", "ws", "https://example.com/mcp"}, exitUsage, "", `transport "ws"`},
		{"bad log level", []string{"--log-level", "loud", "https://example.com/mcp"}, exitUsage, "", "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantCode != exitOK && stdout.Len() > 0 {
				t.Errorf("a failing command wrote to stdout: %q", stdout.String())
			}
		})
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "firefox", want: []string{"firefox"}},
		{in: "  open  -a\tSafari ", want: []string{"open", "-a", "Safari"}},
		{in: `"C:\Program Files\Browser\browser.exe" --new-tab`, want: []string{`C:\Program Files\Browser\browser.exe`, "--new-tab"}},
		{in: `a"b c"d`, want: []string{"ab cd"}},
		{in: `x ""`, want: []string{"x", ""}},
		{in: `$BROWSER *`, want: []string{"$BROWSER", "*"}}, // no shell
		{in: `"unbalanced`, err: "unbalanced double quote"},
		{in: "   ", err: "empty command"},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("splitCommand(%q): error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("splitCommand(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitCommand(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
