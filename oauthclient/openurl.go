package oauthclient

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// browserURL checks that raw may be handed to a browser (https, or http
// to loopback: the mcp-remote CVE-2025-6514 class of bug) and returns it
// re-serialised from its parsed form, with everything in the path and the
// query but letters, digits and -._~ percent-encoded (a few harmless
// delimiters stay in the path). A server chooses much of an authorization
// URL (its endpoint, and the parameters it echoes), and openers are
// commands: a user's --browser-command, $BROWSER, or `cmd /c start`,
// which take quotes, spaces, ;, &, |, ^, <, > and ! for syntax (issue
// 11). Only the & and = between query parameters are left to quote, and
// windowsCommandLine does.
func browserURL(raw string) (string, error) {
	if err := checkEndpoint("authorization URL", raw); err != nil {
		return "", fmt.Errorf("refusing to open it: %w", err)
	}
	u, _ := url.Parse(raw) // checkEndpoint parsed it
	host := u.Hostname()
	if ip := net.ParseIP(host); ip == nil && strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != "" {
		return "", errors.New("refusing to open the authorization URL: its host name is not plain letters, digits, dots and hyphens")
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if ip := net.ParseIP(host); ip != nil && strings.Contains(host, ":") {
		b.WriteString("[" + ip.String() + "]")
	} else {
		b.WriteString(strings.ToLower(host))
	}
	if p := u.Port(); p != "" {
		b.WriteString(":" + p)
	}
	for i, seg := range strings.Split(u.Path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(escape(seg, ":@+,="))
	}
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
	}
	first := true
	for part := range strings.SplitSeq(u.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, hasValue := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", errors.New("refusing to open the authorization URL: its query is not percent-encoded correctly")
		}
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(escape(k, ""))
		if hasValue {
			b.WriteString("=" + escape(v, ""))
		}
	}
	return b.String(), nil
}

// escape percent-encodes every byte of s but the unreserved characters of
// RFC 3986 section 2.3 and those in keep.
func escape(s, keep string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// isCmd reports whether program is Windows' command interpreter, whose
// `start` users name as their browser command.
func isCmd(program string) bool {
	base := strings.ToLower(program[strings.LastIndexAny(program, `/\`)+1:])
	return base == "cmd" || base == "cmd.exe"
}

// windowsCommandLine builds the command line Windows hands argv[0] for
// argv followed by url, quoting as CommandLineToArgvW and the C runtime
// read it (what syscall.EscapeArg does). To cmd.exe the URL is quoted
// always: cmd reads &, |, <, >, ^ and parentheses as syntax unless they
// are between double quotes, and Go quotes an argument only if it holds a
// space, a tab or a quote, so `cmd /c start "" https://as/authorize?a=1&b=2`
// would run b=2 as a command. browserURL has percent-encoded every quote,
// so none can end the quoted URL early. (A %NAME% in it would still be
// expanded if NAME were set; after percent-encoding NAME starts with two
// hex digits, which Windows' variables do not.)
func windowsCommandLine(argv []string, url string) string {
	var b strings.Builder
	for _, a := range argv {
		b.WriteString(windowsArg(a))
		b.WriteByte(' ')
	}
	b.WriteString(`"` + url + `"`)
	return b.String()
}

// windowsArg quotes s as syscall.EscapeArg does on Windows.
func windowsArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(s[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}
