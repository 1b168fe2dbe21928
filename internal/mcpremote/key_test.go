package mcpremote

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// headerFile is what the header-file cases read: a comment, a CRLF line,
// blanks around a line, a line mcp-remote ignores, an empty value.
const headerFile = "# team headers\nX-Team: blue\r\n  Authorization: Bearer ${TOKEN}  \nnot a header\n\nX-Empty:\n"

func readTestFile(path string) ([]byte, error) {
	if path == "/tmp/mrk/headers.txt" {
		return []byte(headerFile), nil
	}
	return nil, fs.ErrNotExist
}

// TestFileKeys pins mcp-remote 0.15.1's file key, one case per input of
// getServerUrlHash. Each want is what mcp-remote 0.15.1 itself computed:
// its parseCommandLineArgs (dist/chunk-KJCT2FXL.js), called with the
// same arguments under node 20 and the header file above at
// /tmp/mrk/headers.txt, returned the serverUrlHash and callbackPort below.
func TestFileKeys(t *testing.T) {
	tests := []struct {
		name string
		args []string
		key  string
		port int
	}{
		{"plain", []string{"https://remote.mcp.server/sse"}, "2499d8b26827bb8c0b6efe76f75fcbe2", 12704},
		{"resource and headers", []string{"https://x/mcp", "--resource", "https://t1/", "--header", "B: 2", "--header", "A:1 <x>"}, "af4bee8e47dbbbfc99e6446c87c5cee4", 48210},
		{"authorize-param", []string{"https://x/mcp", "--authorize-param", "prompt=consent", "--authorize-param", "access_type=offline"}, "efdfd7849e88840ce053199b3e171431", 18926},
		{"authorize-param key trimmed, later wins", []string{"https://x/mcp", "--authorize-param", " audience =https://api.example.com/", "--authorize-param", "audience=second=2"}, "ffb26accb171b9e8492950234d8b6f64", 22977},
		{"authorize-param keys in UTF-16 order", []string{"https://x/mcp", "--authorize-param", "\uff71=1", "--authorize-param", "\U0001F600=2"}, "ef6e129c8f1ee44d61464c05ec8fab9d", 18813},
		{"authorize-param blank key", []string{"https://x/mcp", "--authorize-param", " =x"}, "9a278d6ad95a9deaf4b5c4d3ab5fe0a8", 42798},
		{"header-file", []string{"https://x/mcp", "--header-file", "/tmp/mrk/headers.txt"}, "1a9648602dfb96c99d65f4d91aa5b33b", 10141},
		{"header then header-file", []string{"https://x/mcp", "--header", "X-Team: red", "--header-file", "/tmp/mrk/headers.txt"}, "1a9648602dfb96c99d65f4d91aa5b33b", 10141},
		{"header-file then header", []string{"https://x/mcp", "--header-file", "/tmp/mrk/headers.txt", "--header", "X-Team: red"}, "53d1ad17dd8596c01ec4211c18b24a42", 24792},
		{"client-metadata-url", []string{"https://x/mcp", "--client-metadata-url", " https://client.example.com/meta.json "}, "bb56190923d9a0ee76a3349d4d201157", 5477},
		{"client-metadata-url without a path is ignored", []string{"https://x/mcp", "--client-metadata-url", "https://client.example.com"}, "8e2c56619f71f284638296445ed35357", 39731},
		{"token-endpoint", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "https://AS.Example.com:443/oauth/token"}, "e5a67343704d1a51b82c081b4ddd97e2", 16309},
		{"token-endpoint without a path", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "https://as.example.com"}, "2fc848f4a7806143a2330cd438d30af2", 15567},
		{"token-endpoint on loopback, port and dots", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "http://127.0.0.1:8080/a/../token?x=1"}, "89d4aadf0de21f3dfbed507650ccad03", 38619},
		{"token-endpoint, empty fragment", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "https://as.example.com/t#"}, "c4945daec09db551bc6a839fb394806c", 7843},
		{"token-endpoint, port 0443", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "https://as.example.com:0443/t"}, "c7c2ea3178b4307ec661a1c78a8a733f", 8657},
		{"disable-resource-parameter drops the resource", []string{"https://x/mcp", "--resource", "https://t1/", "--disable-resource-parameter"}, "8e2c56619f71f284638296445ed35357", 39731},
		{"empty resource", []string{"https://x/mcp", "--resource", "  "}, "8e2c56619f71f284638296445ed35357", 39731},
		{"first resource counts", []string{"https://x/mcp", "--resource", "https://t1/", "--resource", "https://t2/"}, "dcdf5387466a00fd83f1ae7f0dca6f15", 14062},
		{"header values JSON-escaped as JavaScript does", []string{"https://x/mcp", "--header", "X-Q: a \"q\" \\ \t <&> caf\u00e9 \U0001F600 \u0001", "--header", "X-Sep: a\u2028b", "--header", "__proto__: x", "--header", "Bad Name: y"}, "e85c2d7c55172db32d1007f16177c3a8", 17003},
		{"header blanks after the colon", []string{"https://x/mcp", "--header", "A:\u00a0\u3000 v "}, "28e770c022a198a4b221b849da6bf7df", 13806},
		{"--header=value is not mcp-remote's", []string{"https://x/mcp", "--header=A: b"}, "8e2c56619f71f284638296445ed35357", 39731},
		{"flags that do not enter the key", []string{"https://x/mcp", "--keep-alive", "--debug", "--transport", "sse-only", "--static-oauth-client-info", `{"client_id":"c"}`}, "8e2c56619f71f284638296445ed35357", 39731},
		{"everything", []string{"https://x/mcp", "--header", "B: 2", "--resource", "https://t1/", "--authorize-param", "prompt=consent", "--client-metadata-url", "https://client.example.com/meta.json", "--client-credentials", "--token-endpoint", "https://as.example.com/token"}, "7391446392005a95bba196f06c783941", 32920},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := FileKeys(tt.args, readTestFile)
			if err != nil {
				t.Fatal(err)
			}
			if k.Current != tt.key {
				t.Errorf("key %s, want %s", k.Current, tt.key)
			}
			if p := Port(k.Current); p != tt.port {
				t.Errorf("port %d, want %d", p, tt.port)
			}
		})
	}
}

// TestFileKeysRefused: the command lines mcp-remote 0.15.1 refuses to
// start with (it wrote no files for them), each with the error it gave.
func TestFileKeysRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"token-endpoint without client-credentials", []string{"https://x/mcp", "--token-endpoint", "https://as.example.com/token"}, "only be used with --client-credentials"},
		{"token-endpoint http elsewhere", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "http://as.example.com/token"}, "must use HTTPS"},
		{"token-endpoint with credentials", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "https://u:p@as.example.com/token"}, "must not contain credentials"},
		{"token-endpoint missing value", []string{"https://x/mcp", "--client-credentials", "--token-endpoint", "--debug"}, "requires an HTTPS URL"},
		{"authorize-param reserved", []string{"https://x/mcp", "--authorize-param", "state=x"}, `cannot set "state"`},
		{"authorize-param without =", []string{"https://x/mcp", "--authorize-param", "prompt"}, "want key=value"},
		{"authorize-param =x", []string{"https://x/mcp", "--authorize-param", "=x"}, "want key=value"},
		{"header-file missing", []string{"https://x/mcp", "--header-file", "/tmp/mrk/nope.txt"}, "--header-file"},
		{"resource not a URL", []string{"https://x/mcp", "--resource", "not a url"}, "absolute URI"},
		{"no URL", []string{"--header", "A: b"}, "no server URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FileKeys(tt.args, readTestFile)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestLegacyKeys: the releases before the v1 layout keyed by the URL,
// resource and headers alone; those keys are offered only for their own
// directories.
func TestLegacyKeys(t *testing.T) {
	plain, err := FileKeys([]string{"https://x/mcp"}, readTestFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Legacy) != 0 {
		t.Errorf("a plain command line has legacy keys %q besides its own", plain.Legacy)
	}
	k, err := FileKeys([]string{"https://x/mcp", "--resource", "https://t1/", "--authorize-param", "prompt=consent"}, readTestFile)
	if err != nil {
		t.Fatal(err)
	}
	withResource, _ := FileKeys([]string{"https://x/mcp", "--resource", "https://t1/"}, readTestFile)
	if len(k.Legacy) != 2 || k.Legacy[0] != withResource.Current || k.Legacy[1] != plain.Current {
		t.Errorf("legacy keys %q, want %s and %s", k.Legacy, withResource.Current, plain.Current)
	}
	if got := k.keysIn("/h/.mcp-auth/mcp-remote-v1"); len(got) != 1 || got[0] != k.Current {
		t.Errorf("keys looked for in mcp-remote-v1: %q, want only %s: the others are other command lines' keys there", got, k.Current)
	}
	if got := k.keysIn("/h/.mcp-auth/mcp-remote-0.1.29"); len(got) != 3 {
		t.Errorf("keys looked for in mcp-remote-0.1.29: %q, want all three", got)
	}
	v1, old := filepath.Join("h", "mcp-remote-v1"), filepath.Join("h", "mcp-remote-0.1.29")
	want := []string{filepath.Join(v1, k.Current+"_tokens.json"), filepath.Join(old, k.Current+"_tokens.json"),
		filepath.Join(old, k.Legacy[0]+"_tokens.json"), filepath.Join(old, k.Legacy[1]+"_tokens.json")}
	if got := k.TokensFiles([]string{v1, old}); !slices.Equal(got, want) {
		t.Errorf("tokens files %q, want %q", got, want)
	}
}

func TestJSString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        `"plain"`,
		"<a&b>":        `"<a&b>"`,
		"q\"\\":        `"q\"\\"`,
		"\b\f\n\r\t":   `"\b\f\n\r\t"`,
		"\x01\x1f":     `"\u0001\u001f"`,
		"\u2028\u2029": "\"\u2028\u2029\"",
		"é😀":           `"é😀"`,
	} {
		if got := jsString(in); got != want {
			t.Errorf("jsString(%q) = %s, want %s", in, got, want)
		}
	}
}
