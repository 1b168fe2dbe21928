// Package config reads mcp-bridge's configuration file: a versioned JSON
// document of named servers, by default os.UserConfigDir()/mcp-bridge/
// config.json. Each server's settings are those of the command line, and
// [Server.Args] turns them into exactly those flags, so that the file and
// the flags cannot drift apart. Unknown fields and bad values are errors
// that name the field and its line.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
)

// Version is the configuration format this package reads.
const Version = 1

// ErrNoConfig is returned when there is no configuration file: not the
// same as an invalid one.
var ErrNoConfig = errors.New("no configuration file")

// File is a configuration file.
type File struct {
	// Version must be [Version].
	Version int `json:"version"`
	// Servers are the named servers.
	Servers map[string]*Server `json:"servers"`
}

// Server is one named server. Each field is a command-line flag; see
// `mcp-bridge help`.
type Server struct {
	URL            string            `json:"url"`
	Transport      string            `json:"transport,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	HeaderFile     string            `json:"header_file,omitempty"`
	AllowHTTP      bool              `json:"allow_http,omitempty"`
	CAFile         string            `json:"ca_file,omitempty"`
	Proxy          string            `json:"proxy,omitempty"`
	Tools          Tools             `json:"tools,omitzero"`
	LogLevel       string            `json:"log_level,omitempty"`
	LogFile        string            `json:"log_file,omitempty"`
	AuditLog       string            `json:"audit_log,omitempty"`
	MaxMessageSize int               `json:"max_message_size,omitempty"`
	KeepAlive      string            `json:"keepalive,omitempty"`
	Auth           Auth              `json:"auth,omitzero"`
}

// Tools filters the server's tools: hidden tools vanish from tools/list
// and calls to them fail. Globs are those of path.Match.
type Tools struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// Auth holds the sign-in settings. A secret is never a value here: it is
// a reference, ${VAR} (an environment variable) or ${keychain:NAME} (an
// item set with `mcp-bridge secret set NAME`), or a file.
type Auth struct {
	Preset            string            `json:"preset,omitempty"`
	ClientID          string            `json:"client_id,omitempty"`
	Issuer            string            `json:"issuer,omitempty"`
	ClientSecret      string            `json:"client_secret,omitempty"`
	ClientSecretFile  string            `json:"client_secret_file,omitempty"`
	ClientMetadataURL string            `json:"client_metadata_url,omitempty"`
	ClientCredentials bool              `json:"client_credentials,omitempty"`
	PrivateKeyFile    string            `json:"private_key_file,omitempty"`
	KeyID             string            `json:"key_id,omitempty"`
	Scopes            []string          `json:"scopes,omitempty"`
	Resource          string            `json:"resource,omitempty"`
	NoResource        bool              `json:"no_resource,omitempty"`
	AuthorizeParams   map[string]string `json:"authorize_params,omitempty"`
	Login             string            `json:"login,omitempty"`
	LoginTimeout      string            `json:"login_timeout,omitempty"`
	CallbackPort      int               `json:"callback_port,omitempty"`
	BrowserCommand    string            `json:"browser_command,omitempty"`
	TokenStore        string            `json:"token_store,omitempty"`
	IDTokenFile       string            `json:"id_token_file,omitempty"`
	IdPIssuer         string            `json:"idp_issuer,omitempty"`
	IdPClientID       string            `json:"idp_client_id,omitempty"`
	AssertionFile     string            `json:"assertion_file,omitempty"`
	AssertionCommand  string            `json:"assertion_command,omitempty"`
	DPoP              string            `json:"dpop,omitempty"` // off, on or auto: sender-constrained tokens (RFC 9449)
}

// DefaultPath returns os.UserConfigDir()/mcp-bridge/config.json.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "mcp-bridge", "config.json"), nil
}

// Load reads and checks the file at path. It returns an error wrapping
// [ErrNoConfig] if there is none.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNoConfig)
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads and checks a configuration document; name prefixes errors.
func Parse(name string, data []byte) (*File, error) {
	pos := positions(data)
	// Servers are decoded one by one: a decoding error names the struct
	// fields of its path but not the map key it lies under.
	var top struct {
		Version int                        `json:"version"`
		Servers map[string]json.RawMessage `json:"servers"`
	}
	if err := strictDecode(data, &top); err != nil {
		return nil, decodeError(name, data, pos, "", err)
	}
	f := File{Version: top.Version, Servers: map[string]*Server{}}
	for n, raw := range top.Servers {
		var s *Server
		if err := strictDecode(raw, &s); err != nil {
			return nil, decodeError(name, data, pos, "servers."+n+".", err)
		}
		f.Servers[n] = s
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", name, pos.line(field), field, fmt.Sprintf(format, args...))
	}
	if f.Version != Version {
		return nil, bad("version", "want %d, got %d", Version, f.Version)
	}
	for n, s := range f.Servers {
		p := "servers." + n
		if s == nil {
			return nil, bad(p, "want an object")
		}
		if err := s.check(p, bad); err != nil {
			return nil, err
		}
	}
	return &f, nil
}

// strictDecode decodes one JSON value into v, refusing unknown fields
// and trailing data.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the configuration object")
	}
	return nil
}

// check checks a server's values; the bridge checks them again when it
// starts, but here the error can name the line.
func (s *Server) check(p string, bad func(field, format string, args ...any) error) error {
	if u, err := url.Parse(s.URL); s.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return bad(p+".url", "want an http or https URL, got %q", s.URL)
	}
	if !oneOf(s.Transport, "", "auto", "streamable", "sse") {
		return bad(p+".transport", "want auto, streamable or sse, got %q", s.Transport)
	}
	if !oneOf(s.LogLevel, "", "debug", "info", "warn", "error") {
		return bad(p+".log_level", "want debug, info, warn or error, got %q", s.LogLevel)
	}
	if s.MaxMessageSize < 0 {
		return bad(p+".max_message_size", "must not be negative")
	}
	if d, err := time.ParseDuration(s.KeepAlive); s.KeepAlive != "" && (err != nil || d < 0) {
		return bad(p+".keepalive", "%q is not a duration such as \"30s\"", s.KeepAlive)
	}
	if s.Proxy != "" {
		if u, err := url.Parse(s.Proxy); err != nil || u.Host == "" {
			return bad(p+".proxy", "want a proxy URL such as http://proxy:8080, got %q", s.Proxy)
		}
	}
	for k := range s.Headers {
		if strings.ContainsAny(k, " :\r\n") || k == "" {
			return bad(p+".headers", "%q is not a header name", k)
		}
	}
	for _, g := range append(slices.Clone(s.Tools.Allow), s.Tools.Deny...) {
		if _, err := path.Match(g, ""); err != nil {
			return bad(p+".tools", "bad glob %q", g)
		}
	}
	a := s.Auth
	ap := p + ".auth"
	if a.ClientSecret != "" && !secretref.IsReference(a.ClientSecret) {
		return bad(ap+".client_secret", "write a reference, ${VAR} or ${keychain:NAME}, not the secret itself")
	}
	if !oneOf(a.Login, "", "browser", "device", "paste") {
		return bad(ap+".login", "want browser, device or paste, got %q", a.Login)
	}
	if !oneOf(a.TokenStore, "", "auto", "keychain", "file", "memory") {
		return bad(ap+".token_store", "want auto, keychain, file or memory, got %q", a.TokenStore)
	}
	if d, err := time.ParseDuration(a.LoginTimeout); a.LoginTimeout != "" && (err != nil || d <= 0) {
		return bad(ap+".login_timeout", "%q is not a duration such as \"5m\"", a.LoginTimeout)
	}
	if a.CallbackPort < 0 || a.CallbackPort > 65535 {
		return bad(ap+".callback_port", "want a port number, got %d", a.CallbackPort)
	}
	if a.AssertionFile != "" && a.AssertionCommand != "" {
		return bad(ap+".assertion_command", "give assertion_file or assertion_command, not both")
	}
	if !oneOf(a.DPoP, "", "off", "on", "auto") {
		return bad(ap+".dpop", "want off, on or auto, got %q", a.DPoP)
	}
	if a.Preset != "" && !slices.Contains(Presets, a.Preset) {
		return bad(ap+".preset", "want one of %s, got %q", strings.Join(Presets, ", "), a.Preset)
	}
	return nil
}

// Presets are the identity-provider presets a server may name.
var Presets = []string{"entra", "google", "auth0", "okta", "keycloak", "github", "cognito"}

func oneOf(v string, set ...string) bool { return slices.Contains(set, v) }

// Args returns the command-line flags that mean the same as s, URL
// first, in a fixed order.
func (s *Server) Args() []string {
	args := []string{s.URL}
	str := func(flag, v string) {
		if v != "" {
			args = append(args, "--"+flag, v)
		}
	}
	num := func(flag string, v int) {
		if v != 0 {
			args = append(args, "--"+flag, strconv.Itoa(v))
		}
	}
	boolean := func(flag string, v bool) {
		if v {
			args = append(args, "--"+flag)
		}
	}
	str("transport", s.Transport)
	for _, k := range sortedKeys(s.Headers) {
		args = append(args, "--header", k+": "+s.Headers[k])
	}
	str("header-file", s.HeaderFile)
	boolean("allow-http", s.AllowHTTP)
	str("ca-file", s.CAFile)
	str("proxy", s.Proxy)
	for _, g := range s.Tools.Allow {
		args = append(args, "--allow-tool", g)
	}
	for _, g := range s.Tools.Deny {
		args = append(args, "--deny-tool", g)
	}
	str("log-level", s.LogLevel)
	str("log-file", s.LogFile)
	str("audit-log", s.AuditLog)
	num("max-message-size", s.MaxMessageSize)
	str("keepalive", s.KeepAlive)
	a := s.Auth
	str("preset", a.Preset)
	str("client-id", a.ClientID)
	str("issuer", a.Issuer)
	str("client-secret", a.ClientSecret)
	str("client-secret-file", a.ClientSecretFile)
	str("client-metadata-url", a.ClientMetadataURL)
	boolean("client-credentials", a.ClientCredentials)
	str("private-key-file", a.PrivateKeyFile)
	str("key-id", a.KeyID)
	if len(a.Scopes) > 0 {
		args = append(args, "--scope", strings.Join(a.Scopes, " "))
	}
	str("resource", a.Resource)
	boolean("no-resource", a.NoResource)
	for _, k := range sortedKeys(a.AuthorizeParams) {
		args = append(args, "--authorize-param", k+"="+a.AuthorizeParams[k])
	}
	str("login", a.Login)
	str("login-timeout", a.LoginTimeout)
	num("callback-port", a.CallbackPort)
	str("browser-command", a.BrowserCommand)
	str("token-store", a.TokenStore)
	str("id-token-file", a.IDTokenFile)
	str("idp-issuer", a.IdPIssuer)
	str("idp-client-id", a.IdPClientID)
	str("assertion-file", a.AssertionFile)
	str("assertion-command", a.AssertionCommand)
	str("dpop", a.DPoP)
	return args
}

// Diff returns the names of the fields that differ between a and b, as
// dotted paths: "url", "auth.scopes".
func Diff(a, b *Server) []string {
	return diff(reflect.ValueOf(*a), reflect.ValueOf(*b), "")
}

func diff(a, b reflect.Value, prefix string) []string {
	var fields []string
	for i := range a.NumField() {
		name, _, _ := strings.Cut(a.Type().Field(i).Tag.Get("json"), ",")
		fa, fb := a.Field(i), b.Field(i)
		if fa.Kind() == reflect.Struct {
			fields = append(fields, diff(fa, fb, prefix+name+".")...)
		} else if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			fields = append(fields, prefix+name)
		}
	}
	return fields
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
