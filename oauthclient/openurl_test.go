package oauthclient

import (
	"net/url"
	"strings"
	"testing"
)

// TestReencodeURL pins issue 11: the authorization URL reached the
// opener as the server's endpoint and parameters made it, quotes, ;, &,
// |, ^ and spaces inside values included. It is re-serialised from its
// parsed form, with the same meaning.
func TestReencodeURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "https://as.example/authorize?client_id=abc&state=x1",
			"https://as.example/authorize?client_id=abc&state=x1"},
		{"metacharacters in values", `https://as.example/authorize?client_id=a"b;c&scope=x|y^z w&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb%26calc`,
			"https://as.example/authorize?client_id=a%22b%3Bc&scope=x%7Cy%5Ez%20w&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb%26calc"},
		{"plus is a space", "https://as.example/a?scope=a+b", "https://as.example/a?scope=a%20b"},
		{"path", "https://AS.example:8443/o/a'u&t;h(x)/authorize%20me", "https://as.example:8443/o/a%27u%26t%3Bh%28x%29/authorize%20me"},
		{"non-ASCII", "https://as.example/a?n=\u202egnp.exe", "https://as.example/a?n=%E2%80%AEgnp.exe"},
		{"loopback http", "http://127.0.0.1:9/a?b=c", "http://127.0.0.1:9/a?b=c"},
		{"IPv6 loopback", "http://[::1]:9/a", "http://[::1]:9/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := browserURL(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("browserURL(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if strings.ContainsAny(got, "\"' ;|^<>!`$()\\\n\t*") {
				t.Errorf("%s holds a shell or cmd.exe metacharacter", got)
			}
			a, _ := url.Parse(tt.in)
			b, err := url.Parse(got)
			if err != nil || pairs(a.RawQuery) != pairs(b.RawQuery) || a.Path != b.Path {
				t.Errorf("the meaning changed: %v, query %s vs %s, path %q vs %q", err, pairs(a.RawQuery), pairs(b.RawQuery), a.Path, b.Path)
			}
		})
	}
	for _, bad := range []string{
		"file:///etc/passwd", "javascript:alert(1)", "http://as.example/authorize", "https://user:pw@as.example/",
		"https://as.example/\x1b[2J", "https://as\"&calc.example/", "https://as.example/a?b=%zz", "ms-settings:x",
	} {
		if got, err := browserURL(bad); err == nil {
			t.Errorf("browserURL(%q) = %q, want an error", bad, got)
		}
	}
}

// TestWindowsStartCommand builds the command line a --browser-command of
// `cmd /c start ""` gets on Windows for a URL whose values hold cmd.exe
// syntax, and reads it as cmd.exe does: nothing outside double quotes may
// be &, |, <, >, ^ or a parenthesis, and the URL must reach start whole.
// Go quotes only arguments with spaces or quotes, so before the fix cmd
// ran what followed the first & as a command of its own.
func TestWindowsStartCommand(t *testing.T) {
	raw := `https://as.example/authorize?client_id=x&redirect_uri=http://127.0.0.1:1/cb&state="&calc.exe&rem "^|(x)%25PATH%25`
	u, err := browserURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	argv, err := splitWords(`cmd /c start ""`)
	if err != nil {
		t.Fatal(err)
	}
	cmd := openerCommand(argv, u)
	if got, want := cmd.Args, append(argv, u); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("argv = %q, want %q", got, want)
	}
	line := windowsCommandLine(argv, u)
	if want := `cmd /c start "" "` + u + `"`; line != want {
		t.Errorf("command line\n got %s\nwant %s", line, want)
	}
	var words []string
	var cur strings.Builder
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
			cur.WriteRune(c)
		case !quoted && strings.ContainsRune("&|<>^()", c):
			t.Fatalf("cmd.exe reads %q in %s as syntax", c, line)
		case !quoted && c == ' ':
			words = append(words, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(c)
		}
	}
	words = append(words, cur.String())
	if quoted || len(words) != 5 || words[4] != `"`+u+`"` {
		t.Errorf("cmd.exe reads %q, want the URL whole as the fifth word", words)
	}
	if strings.Contains(u, "%PATH%") {
		t.Errorf("the URL %s names a variable cmd.exe expands", u)
	}
}

// pairs decodes a query's parameters, in order; url.ParseQuery drops
// those with a semicolon.
func pairs(q string) string {
	var out []string
	for p := range strings.SplitSeq(q, "&") {
		k, v, _ := strings.Cut(p, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		out = append(out, k+"\x00"+v)
	}
	return strings.Join(out, "\n")
}

// splitWords splits s at spaces, double quotes grouping, as
// cmd/mcp-bridge's --browser-command does.
func splitWords(s string) ([]string, error) {
	var words []string
	for _, w := range strings.Fields(s) {
		words = append(words, strings.ReplaceAll(w, `"`, ""))
	}
	return words, nil
}
