package oauthclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// The fuzz tests feed what servers send (WWW-Authenticate challenges,
// protected resource and authorization server metadata, token endpoint
// answers) and what users paste to a Handler, through its exported
// methods, with a fake authorization server on a loopback port. Every
// iteration must end, without a panic, within a few seconds, and every URL
// the Handler calls, opens in the browser or shows the user must be https,
// or http to a loopback address, without credentials (issue 5, "Hostile
// metadata and redirects"). Nothing is ever sent beyond the fake server:
// the Handler's HTTP client refuses every other address.
//
// In every document the fake server serves, {{BASE}} stands for its URL,
// so that the fuzzer can reach past the issuer checks.
//
// Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzMetadata$' -fuzztime 60s ./oauthclient/

// Healthy answers of the fake server.
const (
	fuzzPRM = `{"resource":"{{BASE}}/mcp","authorization_servers":["{{BASE}}"],"scopes_supported":["read"]}`
	fuzzASM = `{"issuer":"{{BASE}}","authorization_endpoint":"{{BASE}}/authorize","token_endpoint":"{{BASE}}/token",` +
		`"registration_endpoint":"{{BASE}}/register","revocation_endpoint":"{{BASE}}/revoke",` +
		`"device_authorization_endpoint":"{{BASE}}/device_authorization","code_challenge_methods_supported":["S256"],` +
		`"response_types_supported":["code"],"authorization_response_iss_parameter_supported":true,` +
		`"token_endpoint_auth_methods_supported":["none","client_secret_basic"]}`
	fuzzDevice = `{"device_code":"fuzz-device-code","user_code":"ABCD-EFGH","verification_uri":"{{BASE}}/device","expires_in":60,"interval":1}`
	fuzzToken  = `{"access_token":"fuzz-access","token_type":"Bearer","expires_in":3600,"refresh_token":"fuzz-refresh"}`
)

// fuzzServer is a fake MCP server and authorization server whose answers
// each iteration sets. Iterations run one at a time in a fuzzing process.
type fuzzServer struct {
	srv  *httptest.Server
	base string

	mu        sync.Mutex // guards the fields below
	status    int        // of the MCP endpoint: 401 or 403
	challenge []string   // its WWW-Authenticate values
	prm, asm  string     // the metadata documents
	device    string     // the device authorization answer
	tokenCode int        // the token endpoint's status, content type and body
	tokenType string
	token     string
	grant     bool // the authorization endpoint approves, rather than denies
}

func newFuzzServer(f interface{ Cleanup(func()) }) *fuzzServer {
	s := &fuzzServer{}
	s.reset()
	mux := http.NewServeMux()
	doc := func(pick func() string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, s.expand(pick()))
		}
	}
	mux.HandleFunc("POST /mcp", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		status, challenge := s.status, s.challenge
		s.mu.Unlock()
		for _, c := range challenge {
			w.Header().Add("WWW-Authenticate", s.expand(c))
		}
		w.WriteHeader(status)
	})
	prm := doc(func() string { s.mu.Lock(); defer s.mu.Unlock(); return s.prm })
	mux.HandleFunc("GET /.well-known/oauth-protected-resource/mcp", prm)
	mux.HandleFunc("GET /.well-known/oauth-protected-resource", prm)
	asm := doc(func() string { s.mu.Lock(); defer s.mu.Unlock(); return s.asm })
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", asm)
	mux.HandleFunc("GET /.well-known/openid-configuration", asm)
	mux.HandleFunc("POST /device_authorization", doc(func() string { s.mu.Lock(); defer s.mu.Unlock(); return s.device }))
	mux.HandleFunc("POST /register", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"client_id":"fuzz-client","token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1/callback"]}`)
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		// The user answers at once: the sign-in ends without waiting.
		q := r.URL.Query()
		ru, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || !fuzzLoopback(ru.Hostname()) {
			http.Error(w, "bad redirect_uri", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		grant := s.grant
		s.mu.Unlock()
		v := url.Values{"state": {q.Get("state")}, "iss": {s.base}}
		if grant {
			v.Set("code", "fuzz-code")
		} else {
			v.Set("error", "access_denied")
		}
		ru.RawQuery = v.Encode()
		http.Redirect(w, r, ru.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		code, typ, body := s.tokenCode, s.tokenType, s.token
		s.mu.Unlock()
		if typ != "" {
			w.Header().Set("Content-Type", typ)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {})
	s.srv = httptest.NewServer(mux)
	s.base = s.srv.URL
	f.Cleanup(s.srv.Close)
	return s
}

// reset sets the healthy answers.
func (s *fuzzServer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.challenge = http.StatusUnauthorized, []string{`Bearer resource_metadata="{{BASE}}/.well-known/oauth-protected-resource/mcp"`}
	s.prm, s.asm, s.device = fuzzPRM, fuzzASM, fuzzDevice
	s.tokenCode, s.tokenType, s.token = http.StatusOK, "application/json", fuzzToken
	s.grant = false
}

func (s *fuzzServer) set(f func(s *fuzzServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *fuzzServer) expand(doc string) string { return strings.ReplaceAll(doc, "{{BASE}}", s.base) }

// fuzzLoopback reports whether host is a loopback address or localhost.
func fuzzLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// safeURL says what is wrong with a URL the Handler calls, opens or shows,
// or "" if it is https, or http to loopback, with no credentials and no
// fragment.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a URL"
	case u.User != nil:
		return "carries credentials"
	case u.Fragment != "":
		return "has a fragment"
	case u.Host == "":
		return "has no host"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && fuzzLoopback(u.Hostname()):
		return ""
	}
	return "is neither https nor http to loopback"
}

// A fuzzRun is one iteration's Handler, with what it did.
type fuzzRun struct {
	s *fuzzServer

	mu     sync.Mutex // guards bad and opened
	bad    []string   // URLs that broke the rules, and how
	opened []string   // URLs given to the browser
}

func (r *fuzzRun) report(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, fmt.Sprintf(format, args...))
}

// errNoNetwork is how the Handler's client refuses to leave the fake
// server.
var errNoNetwork = errors.New("fuzz: only the fake server is reachable")

// guard is the Handler's transport: it checks every URL and lets only
// those of the fake server (or, for the browser, of loopback) through.
type guard struct {
	r       *fuzzRun
	browser bool
}

var fuzzTransport = &http.Transport{MaxIdleConnsPerHost: 16}

func (g guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if why := safeURL(req.URL.String()); why != "" {
		g.r.report("%s %s %s", req.Method, req.URL, why)
		return nil, errNoNetwork
	}
	if req.URL.Host != strings.TrimPrefix(g.r.s.base, "http://") && !(g.browser && fuzzLoopback(req.URL.Hostname())) {
		return nil, errNoNetwork
	}
	return fuzzTransport.RoundTrip(req)
}

// open is the browser: it checks the URL and, if it is the fake server's,
// follows it to the Handler's loopback listener, which ends the sign-in.
func (r *fuzzRun) open(ctx context.Context, u string) error {
	r.mu.Lock()
	r.opened = append(r.opened, u)
	r.mu.Unlock()
	if why := safeURL(u); why != "" {
		r.report("the browser was given %q, which %s", u, why)
		return errors.New("refused")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	c := &http.Client{Transport: guard{r: r, browser: true}, Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// handler returns a Handler for the fake server's MCP endpoint.
func (r *fuzzRun) handler(t *testing.T, edit func(*oauthclient.Config)) *oauthclient.Handler {
	t.Helper()
	cfg := &oauthclient.Config{
		ServerURL:    r.s.base + "/mcp",
		HTTPClient:   &http.Client{Transport: guard{r: r}, Timeout: 2 * time.Second},
		Store:        &oauthclient.MemoryStore{},
		OpenURL:      r.open,
		LoginTimeout: 300 * time.Millisecond,
	}
	if edit != nil {
		edit(cfg)
	}
	h, err := oauthclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// within runs f, failing the test if it does not return within limit: it
// would hang the host.
func within(t *testing.T, what string, limit time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s did not return within %v", what, limit)
	}
}

// finish fails the test for every URL that broke the rules.
func (r *fuzzRun) finish(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bad {
		t.Error(b)
	}
}

// checkShown checks the URLs an error tells the user to open.
func (r *fuzzRun) checkShown(err error) {
	if lre, ok := errors.AsType[*oauthclient.LoginRequiredError](err); ok && lre.URL != "" {
		if why := safeURL(lre.URL); why != "" {
			r.report("the user is told to open %q, which %s", lre.URL, why)
		}
	}
}

// FuzzWWWAuthenticate feeds WWW-Authenticate values (one per line) to
// Handler.Authorize, as in a 401 or 403 answer, and to Doctor, which
// draws them from the fake server. A stored token takes Authorize down the
// refresh path first.
func FuzzWWWAuthenticate(f *testing.F) {
	for _, c := range []string{
		`Bearer resource_metadata="{{BASE}}/.well-known/oauth-protected-resource/mcp"`,
		`Bearer error="invalid_token", error_description="expired", resource_metadata="{{BASE}}/.well-known/oauth-protected-resource/mcp", scope="read write"`,
		`Bearer error="insufficient_scope", scope="read admin"`,
		`Bearer realm="x", error="insufficient_scope", scope=""`,
		`Basic realm="x"` + "\n" + `Bearer scope="a"`,
		`Bearer resource_metadata="http://evil.example.com/meta"`,
		`Bearer resource_metadata="javascript:alert(1)"`,
		`Bearer resource_metadata="https://user:pass@example.com/m#frag"`,
		`Bearer resource_metadata="{{BASE}}/.well-known/oauth-protected-resource/mcp#x"`,
		`Bearer, Basic`,
		`Bearer error=insufficient_scope,scope=read`,
		`Bearer error="\"quoted\\\"", scope="a\\b"`,
		`bearer RESOURCE_METADATA="{{BASE}}"`,
		`Bearer error="invalid_token", error_description="` + strings.Repeat("x", 300) + `"`,
		`Negotiate abcdef==, Bearer`,
		``,
		`Bearer =`,
		`Bearer a="`,
		"Bearer \x00\xff",
	} {
		f.Add(c, false, false)
		f.Add(c, true, true)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, header string, forbidden, signedIn bool) {
		values := strings.Split(header, "\n")
		// As the SDK's parser sees it, on its own.
		oauthex.ParseWWWAuthenticate(values)

		s.reset()
		status := http.StatusUnauthorized
		if forbidden {
			status = http.StatusForbidden
		}
		s.set(func(s *fuzzServer) { s.status, s.challenge = status, values })
		// A refresh fails: the sign-in follows.
		s.set(func(s *fuzzServer) { s.tokenCode, s.token = http.StatusBadRequest, `{"error":"invalid_grant"}` })
		r := &fuzzRun{s: s}
		store := &oauthclient.MemoryStore{}
		h := r.handler(t, func(c *oauthclient.Config) { c.Store = store })
		if signedIn {
			store.Save(t.Context(), h.Key(), &oauthclient.Credentials{
				Server: s.base + "/mcp", Issuer: s.base, TokenEndpoint: s.base + "/token",
				Client:      oauthclient.Client{ID: "fuzz-client", Kind: oauthclient.KindDynamic, AuthMethod: "none"},
				AccessToken: "fuzz-old-access", RefreshToken: "fuzz-old-refresh", Obtained: time.Now(), Expiry: time.Now().Add(time.Hour),
			})
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()

		within(t, "Authorize", 5*time.Second, func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/mcp", nil)
			if signedIn {
				req.Header.Set("Authorization", "Bearer fuzz-old-access")
			}
			resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("denied")), Request: req}
			for _, v := range values {
				resp.Header.Add("WWW-Authenticate", s.expand(v))
			}
			r.checkShown(h.Authorize(ctx, req, resp))
		})
		within(t, "Doctor", 5*time.Second, func() {
			doctor := r.handler(t, nil)
			for _, c := range doctor.Doctor(ctx) {
				if c.Step == "" {
					t.Errorf("a check without a step: %+v", c)
				}
			}
		})
		r.finish(t)
	})
}

// FuzzMetadata serves fuzzed protected resource and authorization server
// metadata, and device authorization answers, to Doctor and to a sign-in
// in each mode (browser, device, paste): every endpoint the Handler calls
// and every page it opens or shows must pass the rules.
func FuzzMetadata(f *testing.F) {
	prmSeeds := []string{
		fuzzPRM,
		`{"resource":"{{BASE}}/mcp","authorization_servers":[]}`,
		`{"resource":"{{BASE}}/mcp","authorization_servers":["http://evil.example.com"]}`,
		`{"resource":"{{BASE}}/mcp","authorization_servers":["javascript:alert(1)//"]}`,
		`{"resource":"{{BASE}}/mcp","authorization_servers":["https://u:p@example.com"]}`,
		`{"resource":"https://other.example.com/mcp","authorization_servers":["{{BASE}}"]}`,
		`{"resource":"{{BASE}}","authorization_servers":["{{BASE}}/"],"scopes_supported":null}`,
		`{"resource":"{{BASE}}/mcp","authorization_servers":"{{BASE}}"}`,
		`{"resource":1}`,
		`[]`,
		`null`,
		``,
		`{"resource":"{{BASE}}/mcp","authorization_servers":["{{BASE}}/tenant"]}`,
	}
	asSeeds := []string{
		fuzzASM,
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/authorize"`, `"javascript:alert(1)//authorize"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/authorize"`, `"http://evil.example.com/authorize"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/authorize"`, `"file:///etc/passwd"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/authorize"`, `"https://u:p@example.com/authorize"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/authorize"`, `"{{BASE}}/authorize#frag"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/authorize"`, `"//evil.example.com/authorize"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/authorize"`, `"/authorize"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/token"`, `"http://evil.example.com/token"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/register"`, `"data:text/html,x"`),
		strings.ReplaceAll(fuzzASM, `"{{BASE}}/device_authorization"`, `"http://10.0.0.1/device"`),
		strings.ReplaceAll(fuzzASM, `["S256"]`, `["plain"]`),
		strings.ReplaceAll(fuzzASM, `"issuer":"{{BASE}}"`, `"issuer":"https://other.example.com"`),
		strings.ReplaceAll(fuzzASM, `"issuer":"{{BASE}}"`, `"issuer":"{{BASE}}/"`),
		`{"issuer":"{{BASE}}","token_endpoint":"{{BASE}}/token"}`,
		`{"issuer":"{{BASE}}","authorization_endpoint":7}`,
		`{}`,
		`not json`,
	}
	deviceSeeds := []string{
		fuzzDevice,
		strings.ReplaceAll(fuzzDevice, `"{{BASE}}/device"`, `"javascript:alert(1)"`),
		strings.ReplaceAll(fuzzDevice, `"{{BASE}}/device"`, `"http://evil.example.com/device"`),
		`{"device_code":"x","user_code":"y","verification_uri":"{{BASE}}/device","verification_uri_complete":"javascript:alert(1)","interval":-1}`,
		`{"error":"invalid_client"}`,
	}
	for i, p := range prmSeeds {
		f.Add(p, fuzzASM, fuzzDevice, uint8(i))
	}
	for i, a := range asSeeds {
		f.Add(fuzzPRM, a, fuzzDevice, uint8(i))
	}
	for i, d := range deviceSeeds {
		f.Add(fuzzPRM, fuzzASM, d, uint8(3*i+1))
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, prm, asm, device string, mode uint8) {
		s.reset()
		s.set(func(s *fuzzServer) { s.prm, s.asm, s.device = prm, asm, device })
		r := &fuzzRun{s: s}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		within(t, "Doctor", 5*time.Second, func() { r.handler(t, nil).Doctor(ctx) })

		login := []string{oauthclient.LoginBrowser, oauthclient.LoginDevice, oauthclient.LoginPaste}[mode%3]
		var prompt strings.Builder
		var mu sync.Mutex
		h := r.handler(t, func(c *oauthclient.Config) {
			c.Login = login
			c.Prompt = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return prompt.Write(p) })
			c.Input = strings.NewReader("http://127.0.0.1/callback?error=access_denied\n")
		})
		within(t, "Login", 5*time.Second, func() { r.checkShown(h.Login(ctx)) })
		// The host's path: Authorize answers with what the user must do.
		within(t, "Authorize", 5*time.Second, func() {
			h := r.handler(t, func(c *oauthclient.Config) { c.Login = login })
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/mcp", nil)
			resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{}, Body: http.NoBody, Request: req}
			r.checkShown(h.Authorize(ctx, req, resp))
		})
		mu.Lock()
		shown := prompt.String()
		mu.Unlock()
		for _, m := range promptURL.FindAllStringSubmatch(shown, -1) {
			if why := safeURL(m[1]); why != "" {
				r.report("the prompt shows %q, which %s", m[1], why)
			}
		}
		r.finish(t)
	})
}

// promptURL finds the URLs the device and paste prompts show.
var promptURL = regexp.MustCompile(`(?s)(?:open|sign in:)\n\n  (.*?)\n\n`)

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// FuzzPastedURL signs in with the paste mode, feeding the fuzzed text as
// what the user pasted. In it, {{STATE}} stands for the sign-in's state
// and {{BASE}} for the server's URL (its issuer). A sign-in may succeed
// only if the pasted URL carries the state.
func FuzzPastedURL(f *testing.F) {
	for _, p := range []string{
		"http://127.0.0.1:1/callback?code=c&state={{STATE}}&iss={{BASE}}",
		"  http://127.0.0.1:1/callback?code=c&state={{STATE}}&iss={{BASE}}  ",
		"\n\nhttp://127.0.0.1:1/callback?state={{STATE}}&iss={{BASE}}&code=c&code=d",
		"http://127.0.0.1:1/callback?code=c&state={{STATE}}",
		"http://127.0.0.1:1/callback?code=c&state={{STATE}}&iss=https://evil.example.com",
		"http://127.0.0.1:1/callback?error=access_denied&error_description=no&state={{STATE}}&iss={{BASE}}",
		"http://127.0.0.1:1/callback?code=c&state=wrong&iss={{BASE}}",
		"http://127.0.0.1:1/callback?state={{STATE}}&iss={{BASE}}",
		"code=c&state={{STATE}}&iss={{BASE}}",
		"?code=c&state={{STATE}}&iss={{BASE}}",
		"%zz",
		"http://[::1",
		"",
		strings.Repeat("a", 70000),
	} {
		f.Add(p, true)
		f.Add(p, false)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, pasted string, tokenOK bool) {
		s.reset()
		if !tokenOK {
			s.set(func(s *fuzzServer) { s.tokenCode, s.token = http.StatusBadRequest, `{"error":"invalid_grant"}` })
		}
		r := &fuzzRun{s: s}
		in, inw := io.Pipe()
		defer inw.Close()
		var state string
		var once sync.Once
		var prompt strings.Builder
		h := r.handler(t, func(c *oauthclient.Config) {
			c.Login = oauthclient.LoginPaste
			c.Input = in
			c.Prompt = writerFunc(func(p []byte) (int, error) {
				prompt.Write(p)
				m := promptURL.FindStringSubmatch(prompt.String())
				if m == nil {
					return len(p), nil
				}
				once.Do(func() {
					if u, err := url.Parse(m[1]); err == nil {
						state = u.Query().Get("state")
					}
					text := strings.NewReplacer("{{STATE}}", state, "{{BASE}}", s.base).Replace(pasted)
					go func() { io.WriteString(inw, text+"\n"); inw.Close() }()
				})
				return len(p), nil
			})
		})
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		var err error
		within(t, "Login", 5*time.Second, func() { err = h.Login(ctx) })
		if err == nil {
			if state == "" || !strings.Contains(pasted, "{{STATE}}") {
				t.Errorf("signed in with %q, which does not carry the sign-in's state", pasted)
			}
			if c := h.Credentials(ctx); c == nil || c.AccessToken == "" {
				t.Errorf("signed in with no token: %+v", c)
			}
		}
		r.finish(t)
	})
}

// FuzzTokenResponse feeds token endpoint answers (status, content type and
// body) to a client credentials sign-in: JSON or form-encoded tokens,
// OAuth errors, HTML pages. A sign-in that succeeds holds a token whose
// expiry, if the answer gave one, is after it was obtained.
func FuzzTokenResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		typ    string
		body   string
	}{
		{200, "application/json", fuzzToken},
		{200, "application/json; charset=utf-8", `{"access_token":"a","token_type":"bearer","scope":"read write"}`},
		{200, "application/x-www-form-urlencoded", "access_token=a&token_type=bearer&expires_in=60&scope=read"},
		{200, "text/plain", "access_token=a&expires_in=x"},
		{200, "application/json", `{"access_token":"","token_type":"Bearer"}`},
		{200, "application/json", `{"access_token":"a","expires_in":-5}`},
		{200, "application/json", `{"access_token":"a","expires_in":"3600"}`},
		{200, "application/json", `{"access_token":"a","expires_in":1e300}`},
		// Seconds beyond what a time.Duration holds.
		{200, "application/json", `{"access_token":"a","expires_in":9300000000}`},
		{200, "application/x-www-form-urlencoded", "access_token=a&expires_in=9223372036854775807"},
		{200, "application/json", `{"error":"invalid_client"}`},
		{400, "application/json", `{"error":"invalid_client","error_description":"bad secret"}`},
		{401, "text/html", "<html><body>Unauthorized</body></html>"},
		{500, "", ""},
		{302, "", ""},
		{200, "application/json", `{"access_token":{"nested":true}}`},
	} {
		f.Add(uint16(seed.status), seed.typ, seed.body)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, status uint16, typ, body string) {
		if status < 200 || status > 599 {
			status = 200
		}
		s.reset()
		s.set(func(s *fuzzServer) { s.tokenCode, s.tokenType, s.token = int(status), typ, body })
		r := &fuzzRun{s: s}
		h := r.handler(t, func(c *oauthclient.Config) {
			c.ClientID, c.ClientSecret, c.ClientCredentials = "fuzz-machine", "fuzz-secret-value", true
		})
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		var err error
		within(t, "Login", 5*time.Second, func() { err = h.Login(ctx) })
		if err == nil {
			c := h.Credentials(ctx)
			if c == nil || c.AccessToken == "" {
				t.Fatalf("signed in with no token: %+v", c)
			}
			// An expiry before the token was obtained would have the
			// bridge refresh before every request.
			if !c.Expiry.IsZero() && !c.Expiry.After(c.Obtained) {
				t.Errorf("the token from %q expires at %v, before it was obtained (%v)", body, c.Expiry, c.Obtained)
			}
		} else if strings.Contains(err.Error(), "fuzz-secret-value") {
			t.Errorf("the error shows the client secret: %v", err)
		}
		r.finish(t)
	})
}

// TestDeviceTokenLifetime: the device grant's token answers are read by
// golang.org/x/oauth2, not by the Handler's token request, and x/oauth2
// computes the expiry itself: a negative expires_in, or one beyond what a
// time.Duration holds, gives an expiry before the token was obtained, and
// a bridge that refreshes before every request. (Not a fuzz target: each
// case waits for x/oauth2's first poll, a second.)
func TestDeviceTokenLifetime(t *testing.T) {
	for _, body := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":-5}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":9300000000}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			s := newFuzzServer(t)
			s.set(func(s *fuzzServer) { s.token = body })
			r := &fuzzRun{s: s}
			h := r.handler(t, func(c *oauthclient.Config) {
				c.Login, c.Prompt, c.LoginTimeout = oauthclient.LoginDevice, io.Discard, 5*time.Second
			})
			if err := h.Login(t.Context()); err != nil {
				t.Fatal(err)
			}
			if c := h.Credentials(t.Context()); !c.Expiry.IsZero() && !c.Expiry.After(c.Obtained) {
				t.Errorf("the token expires at %v, before it was obtained (%v)", c.Expiry, c.Obtained)
			}
			r.finish(t)
		})
	}
}
