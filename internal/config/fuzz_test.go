package config

import (
	"strings"
	"testing"
)

// FuzzParse: any document gives a configuration or an error, never a
// panic; an error names the file, and a file that parses gives each
// server flags that start with its URL.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"version": 1, "servers": {"a": {"url": "https://a.example/mcp", "auth": {"login_timeout": "1h"}}}}`))
	f.Add([]byte(`{"version": 1, "servers": {"a": null}}`))
	f.Add([]byte(`{"version": 1,, }`))
	f.Add([]byte(`{"version": 1, "servers": {"a": {"url": "https://a/", "toolz": []}}}`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("c.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "c.json") {
				t.Errorf("the error does not name the file: %v", err)
			}
			return
		}
		for name, s := range c.Servers {
			if args := s.Args(); len(args) == 0 || args[0] != s.URL {
				t.Errorf("server %q: Args = %q, want the URL first", name, args)
			}
		}
	})
}
