package mcpremote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
)

// staticClientInfo reads --static-oauth-client-info: JSON, or @FILE. As
// mcp-remote does, ${VAR} in its values is taken from the environment. A
// secret written into the command line itself draws a warning: every
// process on the machine can read it.
func staticClientInfo(arg string, getenv func(string) (string, bool), readFile func(string) ([]byte, error), warn io.Writer) (id, secret string, err error) {
	data, err := readJSONArg("--static-oauth-client-info", arg, readFile)
	if err != nil {
		return "", "", err
	}
	var info struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return "", "", fmt.Errorf("--static-oauth-client-info: want a JSON object: %w", err)
	}
	if info.ClientID == "" {
		return "", "", errors.New("--static-oauth-client-info: no client_id")
	}
	if id, err = expandVars(info.ClientID, getenv); err != nil {
		return "", "", fmt.Errorf("--static-oauth-client-info: client_id: %w", err)
	}
	if secret, err = expandVars(info.ClientSecret, getenv); err != nil {
		return "", "", fmt.Errorf("--static-oauth-client-info: client_secret: %w", err)
	}
	if !strings.HasPrefix(arg, "@") && info.ClientSecret != "" && !envVar.MatchString(info.ClientSecret) {
		fmt.Fprintln(warn, "mcp-bridge: warning: the client secret in --static-oauth-client-info is visible to every process on this machine (ps);"+
			` keep it out of the command line: --client-secret-file FILE, --static-oauth-client-info @FILE, or "client_secret":"${VAR}" with VAR set in the host's env for this server`)
	}
	return id, secret, nil
}

// InlineSecret returns the client secret written into an mcp-remote
// command line's --static-oauth-client-info JSON itself (not @FILE, not
// ${VAR}), or "": text that must not be shown.
func InlineSecret(args []string) string {
	v, ok := valueOf(args, "--static-oauth-client-info")
	if !ok || strings.HasPrefix(v, "@") {
		return ""
	}
	var info struct {
		ClientSecret string `json:"client_secret"`
	}
	if json.Unmarshal([]byte(v), &info) != nil || envVar.MatchString(info.ClientSecret) {
		return ""
	}
	return info.ClientSecret
}

// Secrets returns the secrets written into a command line (mcp-remote's
// or ours) itself, which a report must not show: the value of each
// --header that names no ${VAR} (an API key, a bearer token), and the
// client secret of --static-oauth-client-info ([InlineSecret]). A value
// with a reference is the reference's name, not a secret.
func Secrets(args []string) []string {
	var out []string
	for i, a := range args {
		h, ok := strings.CutPrefix(a, "--header=")
		if !ok && a == "--header" && i+1 < len(args) {
			h, ok = args[i+1], true
		}
		if _, v, found := strings.Cut(h, ":"); ok && found {
			if v = strings.TrimSpace(v); v != "" && !envVar.MatchString(v) {
				out = append(out, v)
			}
		}
	}
	if s := InlineSecret(args); s != "" {
		out = append(out, s)
	}
	return out
}

// envVar is mcp-remote's ${NAME} reference to an environment variable.
var envVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// expandVars replaces each ${NAME} in s with the variable's value. Unlike
// mcp-remote, which sends an empty value, an unset variable is an error
// that names it: an empty client id or secret fails later, and less
// clearly.
func expandVars(s string, getenv func(string) (string, bool)) (string, error) {
	var missing []string
	out := envVar.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := getenv(m[2 : len(m)-1])
		if !ok {
			missing = append(missing, m[2:len(m)-1])
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// readJSONArg reads mcp-remote's "JSON or @file" argument.
func readJSONArg(flagName, arg string, readFile func(string) ([]byte, error)) (json.RawMessage, error) {
	data := []byte(arg)
	if path, ok := strings.CutPrefix(arg, "@"); ok {
		var err error
		if data, err = readFile(path); err != nil {
			return nil, fmt.Errorf("%s: %w", flagName, err)
		}
	}
	data = bytes.TrimSpace(data)
	if !json.Valid(data) || len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("%s: want a JSON object or @FILE holding one", flagName)
	}
	return data, nil
}

// caselessGlob turns an mcp-remote --ignore-tool pattern (only * is
// special; case is ignored) into a [path.Match] pattern of --deny-tool:
// each letter becomes [xX], and ?, [ and \ lose their meaning.
func caselessGlob(p string) string {
	var b strings.Builder
	for _, r := range p {
		lo, up := unicode.ToLower(r), unicode.ToUpper(r)
		switch {
		case r == '?' || r == '[' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case lo != up:
			b.WriteByte('[')
			b.WriteRune(lo)
			b.WriteRune(up)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
