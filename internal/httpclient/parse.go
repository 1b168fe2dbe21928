package httpclient

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// reservedHeaders are set by the bridge itself; a static header may not
// replace them.
var reservedHeaders = []string{
	"Accept", "Content-Type", "Content-Length", "Host", "Connection",
	"Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-Id", "Transfer-Encoding",
}

// ParseHeaders builds the static headers from "Name: value" lines: values,
// given with --header, then the lines of file (--header-file, if not
// empty; blank lines and lines starting with # are skipped). Each value
// goes through expand, which resolves the references in it. A name the
// bridge sets itself, a malformed line or a value with a line break is an
// error that quotes no more of a value than its first characters: it may
// hold a secret.
func ParseHeaders(values []string, file string, expand func(string) (string, error)) (http.Header, error) {
	h := http.Header{}
	add := func(line, where string) error {
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return fmt.Errorf("%s: want 'Name: value', got %q", where, redactValue(line))
		}
		if !validHeaderName(name) {
			return fmt.Errorf("%s: %q is not a valid header name", where, name)
		}
		for _, r := range reservedHeaders {
			if strings.EqualFold(name, r) {
				return fmt.Errorf("%s: the bridge sets %s itself", where, r)
			}
		}
		value, err := expand(value)
		if err != nil {
			return fmt.Errorf("%s: header %s: %w", where, name, err)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return fmt.Errorf("%s: header %s: the value holds a line break or NUL", where, name)
		}
		h.Add(name, value)
		return nil
	}
	for _, v := range values {
		if err := add(v, "--header"); err != nil {
			return nil, err
		}
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--header-file: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := add(line, fmt.Sprintf("%s:%d", file, n)); err != nil {
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--header-file: %w", err)
		}
	}
	return h, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return name != ""
}

// redactValue keeps a malformed header line out of error messages except
// for its first characters: it may hold a secret.
func redactValue(line string) string {
	if len(line) > 8 {
		return line[:8] + "…"
	}
	return line
}
