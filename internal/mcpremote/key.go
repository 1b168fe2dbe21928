package mcpremote

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Keys are what an mcp-remote command line names a server's files by:
// HASH_tokens.json, HASH_client_info.json, ... in its directory.
type Keys struct {
	// Current is mcp-remote 0.15.1's key (getServerUrlHash), the one of its
	// store layout mcp-remote-v1.
	Current string
	// Legacy are the keys releases before the v1 layout gave the same
	// command line, in their directories named for the release
	// (mcp-remote-0.1.29, ...): the URL, resource and headers alone, and
	// without the resource. They are never looked for in mcp-remote-v1,
	// where they may be another entry's Current key.
	Legacy []string
}

// All returns every key, Current first.
func (k Keys) All() []string { return slices.Concat([]string{k.Current}, k.Legacy) }

// keyInput is what getServerUrlHash takes.
type keyInput struct {
	url               string
	resource          string
	authorizeParams   map[string]string
	headers           map[string]string
	clientMetadataURL string
	tokenEndpoint     string
}

// hash is getServerUrlHash: the hex MD5 of the URL, the resource, the
// authorization parameters and the headers (each as JSON with its names
// sorted), the client metadata document's URL and the token endpoint,
// those present joined by "|".
func (in keyInput) hash() string {
	parts := []string{in.url}
	if in.resource != "" {
		parts = append(parts, in.resource)
	}
	if len(in.authorizeParams) > 0 {
		parts = append(parts, jsObject(in.authorizeParams))
	}
	if len(in.headers) > 0 {
		parts = append(parts, jsObject(in.headers))
	}
	if in.clientMetadataURL != "" {
		parts = append(parts, in.clientMetadataURL)
	}
	if in.tokenEndpoint != "" {
		parts = append(parts, in.tokenEndpoint)
	}
	sum := md5.Sum([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])
}

// FileKeys returns the keys mcp-remote names the files of the server that
// args (its arguments, the launcher dropped) reach by. It reads the
// command line as mcp-remote 0.15.1's parseCommandLineArgs does: only
// "--flag value" (not "--flag=value"), the first of a repeated single
// flag, --header and --header-file lines before ${VAR} expansion, the
// server URL the first argument left once the headers are taken out.
// readFile reads --header-file. An error says mcp-remote would refuse the
// command line, or the header file could not be read.
func FileKeys(args []string, readFile func(string) ([]byte, error)) (Keys, error) {
	in, err := parseKeyInput(args, readFile)
	if err != nil {
		return Keys{}, err
	}
	k := Keys{Current: in.hash()}
	old := keyInput{url: in.url, resource: in.resource, headers: in.headers}
	for _, h := range []string{old.hash(), keyInput{url: in.url, headers: in.headers}.hash()} {
		if h != k.Current && !slices.Contains(k.Legacy, h) {
			k.Legacy = append(k.Legacy, h)
		}
	}
	return k, nil
}

// Port is the callback port mcp-remote derives from a key
// (calculateDefaultPort): 3335 plus the key's first four hex digits
// modulo 45816.
func Port(key string) int {
	n, _ := strconv.ParseUint(key[:4], 16, 32)
	return 3335 + int(n%45816)
}

func parseKeyInput(args []string, readFile func(string) ([]byte, error)) (keyInput, error) {
	var in keyInput
	args, headers, err := takeHeaders(args, readFile)
	if err != nil {
		return in, err
	}
	if len(args) == 0 {
		return in, errors.New("no server URL")
	}
	in.url, in.headers = args[0], headers
	if in.clientMetadataURL, err = clientMetadataURL(args); err != nil {
		return in, err
	}
	if in.tokenEndpoint, err = tokenEndpoint(args); err != nil {
		return in, err
	}
	if in.resource, err = resource(args); err != nil {
		return in, err
	}
	in.authorizeParams, err = authorizeParams(args)
	return in, err
}

// takeHeaders takes --header and --header-file and their values out of
// args, as mcp-remote does before it reads anything else, and returns the
// headers, the later of two with one name winning.
func takeHeaders(args []string, readFile func(string) ([]byte, error)) ([]string, map[string]string, error) {
	headers := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--header" && i < len(args)-1:
			i++
			if name, value, ok := parseHeaderLine(args[i]); ok {
				setJS(headers, name, value)
			}
		case args[i] == "--header-file" && i < len(args)-1:
			i++
			data, err := readFile(args[i])
			if err != nil {
				return nil, nil, fmt.Errorf("--header-file: %w", err)
			}
			for _, line := range strings.Split(string(data), "\n") {
				line = jsTrim(strings.TrimSuffix(line, "\r"))
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				if name, value, ok := parseHeaderLine(line); ok {
					setJS(headers, name, value)
				}
			}
		default:
			rest = append(rest, args[i])
		}
	}
	return rest, headers, nil
}

// parseHeaderLine is mcp-remote's /^([A-Za-z0-9_-]+):\s*(.*)$/ with
// JavaScript's \s (Unicode blanks and line terminators) and . (anything
// but a line terminator).
func parseHeaderLine(line string) (name, value string, ok bool) {
	name, value, found := strings.Cut(line, ":")
	if !found || name == "" || strings.IndexFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-')
	}) >= 0 {
		return "", "", false
	}
	value = strings.TrimLeftFunc(value, isJSSpace)
	if strings.ContainsAny(value, "\n\r\u2028\u2029") {
		return "", "", false
	}
	return name, value, true
}

// setJS sets m[k] = v as a JavaScript object literal's assignment does:
// "__proto__" sets no member.
func setJS(m map[string]string, k, v string) {
	if k != "__proto__" {
		m[k] = v
	}
}

// valueOf returns the value after the first flag in args, as mcp-remote's
// args.indexOf(flag) finds it, and whether there is one.
func valueOf(args []string, flag string) (string, bool) {
	i := slices.Index(args, flag)
	if i < 0 || i >= len(args)-1 {
		return "", false
	}
	return args[i+1], true
}

// resource is --resource, trimmed; "" with --disable-resource-parameter
// or an empty --resource.
func resource(args []string) (string, error) {
	v, ok := valueOf(args, "--resource")
	v = jsTrim(v)
	if !ok || v == "" || slices.Contains(args, "--disable-resource-parameter") {
		return "", nil
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" {
		return "", fmt.Errorf("--resource %q: want an absolute URI", v)
	}
	return v, nil
}

// clientMetadataURL is --client-metadata-url, trimmed, if it is an https
// URL with a path; mcp-remote ignores any other.
func clientMetadataURL(args []string) (string, error) {
	v, ok := valueOf(args, "--client-metadata-url")
	v = jsTrim(v)
	if !ok {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" || whatwgPath(u) == "/" {
		return "", nil
	}
	return v, nil
}

// tokenEndpoint is --token-endpoint as the URL's WHATWG serialization
// (what new URL(v).toString() gives), which takes only --client-credentials
// and an https URL or an http one on loopback, without credentials or a
// fragment.
func tokenEndpoint(args []string) (string, error) {
	i := slices.Index(args, "--token-endpoint")
	if i < 0 {
		return "", nil
	}
	if i >= len(args)-1 || strings.HasPrefix(args[i+1], "--") {
		return "", errors.New("--token-endpoint requires an HTTPS URL")
	}
	if !slices.Contains(args, "--client-credentials") {
		return "", errors.New("--token-endpoint can only be used with --client-credentials")
	}
	u, err := url.Parse(jsTrim(args[i+1]))
	if err != nil {
		return "", errors.New("--token-endpoint: want an HTTPS URL")
	}
	if err := checkTokenEndpoint(u); err != nil {
		return "", err
	}
	href := whatwgHref(u)
	if strings.HasSuffix(jsTrim(args[i+1]), "#") {
		href += "#" // an empty fragment is no fragment to mcp-remote, and stays in the URL
	}
	return href, nil
}

// checkTokenEndpoint is what mcp-remote asks of --token-endpoint: an https
// URL, or an http one on loopback, without credentials or a fragment.
func checkTokenEndpoint(u *url.URL) error {
	if u.Scheme == "" || u.Host == "" {
		return errors.New("--token-endpoint: want an HTTPS URL")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	loopback := scheme == "http" && (host == "localhost" || host == "127.0.0.1" || host == "::1")
	if scheme != "https" && !loopback {
		return errors.New("--token-endpoint must use HTTPS, except for an HTTP loopback endpoint")
	}
	if u.User != nil || u.Fragment != "" {
		return errors.New("--token-endpoint must not contain credentials or a URL fragment")
	}
	return nil
}

// reservedParams are the authorization request's own parameters, which
// --authorize-param may not set.
var reservedParams = []string{"client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method"}

// authorizeParams is every --authorize-param key=value, the key trimmed,
// a later value for a key winning (parseAuthorizeParams).
func authorizeParams(args []string) (map[string]string, error) {
	params := map[string]string{}
	for i := 0; i < len(args)-1; i++ {
		if args[i] != "--authorize-param" {
			continue
		}
		raw := args[i+1]
		sep := strings.IndexByte(raw, '=')
		if sep < 1 {
			return nil, fmt.Errorf("--authorize-param %q: want key=value", raw)
		}
		key := jsTrim(raw[:sep])
		if slices.Contains(reservedParams, key) {
			return nil, fmt.Errorf("--authorize-param cannot set %q", key)
		}
		setJS(params, key, raw[sep+1:])
	}
	return params, nil
}

// whatwgHref serializes an http(s) URL as the WHATWG URL standard does for
// the usual cases: the scheme and host in lower case, the scheme's default
// port dropped, the path "/" when empty and with dot segments resolved.
// (Internationalised host names and characters the standard escapes that
// Go keeps are not covered.)
func whatwgHref(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if n, err := strconv.Atoi(port); err != nil || n == 443 && scheme == "https" || n == 80 && scheme == "http" {
		port = ""
	} else {
		port = ":" + strconv.Itoa(n)
	}
	s := scheme + "://" + host + port + whatwgPath(u)
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + u.RawQuery
	}
	return s
}

// whatwgPath is a special URL's path: "/" when empty, dot segments
// resolved.
func whatwgPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	var out []string
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(s) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// isJSSpace is JavaScript's \s and what String.prototype.trim removes:
// WhiteSpace and LineTerminator.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}

func jsTrim(s string) string { return strings.TrimFunc(s, isJSSpace) }

// jsObject is JSON.stringify(m, Object.keys(m).sort()): the members in
// the order of their names' UTF-16 code units, no blanks.
func jsObject(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
	})
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsString(n))
		b.WriteByte(':')
		b.WriteString(jsString(m[n]))
	}
	b.WriteByte('}')
	return b.String()
}

// jsString is JSON.stringify of a string: unlike encoding/json it leaves
// <, >, &, U+2028 and U+2029 as they are.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
