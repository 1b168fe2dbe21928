package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// The secret-leak tests run every OAuth scenario
// through the real binary at --log-level debug, with a --log-file too, and
// collect every secret value that crossed the wire: the bridge reaches the
// authorization server's endpoints through a recording reverse proxy (the
// metadata points there, see newLeakWorld), and the MCP server records the
// Authorization headers it receives. At the end of each scenario none of
// those values may appear in any byte the bridge or a command wrote:
// stderr, the log file, stdout (the JSON-RPC the host reads, errors
// included), and the output of login, logout, status and doctor.
//
// A match is any 16-byte window of a secret (so that a log line with half
// a token counts too), of the secret or of its URL-encoded form; for a JWT
// only windows of its signature, since its header and claims are not
// secret by themselves.

// leakWindow is the length of the substrings of a secret that must not
// appear in any output.
const leakWindow = 16

// A secretJar collects secret values by value, with what each one is.
type secretJar struct {
	mu   sync.Mutex // guards vals
	vals map[string]string
}

func (j *secretJar) add(kind, v string) {
	v = strings.TrimSpace(v)
	if len(v) < leakWindow {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.vals == nil {
		j.vals = make(map[string]string)
	}
	if _, ok := j.vals[v]; !ok {
		j.vals[v] = kind
	}
}

// kinds returns the kinds of secret collected, sorted, with counts.
func (j *secretJar) kinds() map[string]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	m := map[string]int{}
	for _, k := range j.vals {
		m[k]++
	}
	return m
}

// Form parameters of requests to the authorization server that carry a
// secret.
var secretParams = map[string]string{
	"code":             "authorization code",
	"code_verifier":    "PKCE verifier",
	"client_secret":    "client secret",
	"client_assertion": "client assertion (private_key_jwt)",
	"assertion":        "ID-JAG",
	"refresh_token":    "refresh token",
	"token":            "token (revocation)",
	"device_code":      "device code",
	"subject_token":    "ID token",
	"actor_token":      "actor token",
}

// Members of the authorization server's JSON answers that are secret.
var secretMembers = map[string]string{
	"access_token":              "access token",
	"refresh_token":             "refresh token",
	"id_token":                  "ID token",
	"client_secret":             "client secret",
	"registration_access_token": "registration access token",
	"device_code":               "device code",
	"code":                      "authorization code",
}

// fromAuthorization collects an Authorization header and what it carries.
func (j *secretJar) fromAuthorization(v string) {
	if v == "" {
		return
	}
	j.add("Authorization header", v)
	scheme, cred, _ := strings.Cut(v, " ")
	switch strings.ToLower(scheme) {
	case "bearer", "dpop":
		j.add("access token", cred)
	case "basic":
		j.add("Basic credentials", cred)
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, secret, ok := strings.Cut(string(raw), ":"); ok {
				j.add("client secret", secret)
				if s, err := url.QueryUnescape(secret); err == nil {
					j.add("client secret", s)
				}
			}
		}
	}
}

// fromRequest collects the secrets of a request to the authorization
// server.
func (j *secretJar) fromRequest(r *http.Request, body []byte) {
	j.fromAuthorization(r.Header.Get("Authorization"))
	j.add("DPoP proof", r.Header.Get("DPoP"))
	vals := r.URL.Query()
	if form, err := url.ParseQuery(string(body)); err == nil {
		for k, v := range form {
			vals[k] = append(vals[k], v...)
		}
	}
	for k, vs := range vals {
		if kind, ok := secretParams[k]; ok {
			for _, v := range vs {
				j.add(kind, v)
			}
		}
	}
}

// fromResponse collects the secrets of an answer from the authorization
// server: JSON or form members, and the code in a redirect.
func (j *secretJar) fromResponse(h http.Header, body []byte) {
	if loc := h.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			j.add("authorization code", u.Query().Get("code"))
		}
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for k, v := range m {
			if s, ok := v.(string); ok && secretMembers[k] != "" {
				j.add(secretMembers[k], s)
			}
		}
		return
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		for k, kind := range secretMembers {
			j.add(kind, form.Get(k))
		}
	}
}

// addDPoPKey collects a DPoP private key in the forms a log could show
// it: the stored raw scalar (base64url), its standard base64 and hex
// forms, and its PEM (SEC 1 and PKCS #8).
func (j *secretJar) addDPoPKey(raw string) {
	const kind = "DPoP private key"
	j.add(kind, raw)
	d, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		j.add(kind+" (damaged)", raw)
		return
	}
	j.add(kind, base64.StdEncoding.EncodeToString(d))
	j.add(kind, fmt.Sprintf("%x", d))
	if priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d); err == nil {
		if der, err := x509.MarshalECPrivateKey(priv); err == nil {
			j.addPEM(kind, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
		}
		if der, err := x509.MarshalPKCS8PrivateKey(priv); err == nil {
			j.addPEM(kind, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		}
	}
}

// addPEM collects private key material: the whole PEM text and each line
// of its body but the first, which holds the ASN.1 structure's header,
// the same for every key of a kind.
func (j *secretJar) addPEM(kind string, p []byte) {
	j.add(kind, string(p))
	lines := strings.Split(strings.TrimSpace(string(p)), "\n")
	for i, l := range lines {
		if i > 1 && !strings.HasPrefix(l, "-----") {
			j.add(kind, l)
		}
	}
}

// patterns returns every window that must not appear in an output, with
// the kind of the secret it belongs to.
func (j *secretJar) patterns() map[string]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	pats := map[string]string{}
	for v, kind := range j.vals {
		for _, form := range []string{v, url.QueryEscape(v)} {
			material := form
			if parts := strings.Split(form, "."); len(parts) == 3 && strings.HasPrefix(form, "eyJ") {
				material = parts[2] // a JWT: its signature
			}
			if len(material) < leakWindow {
				material = form
			}
			for i := 0; i+leakWindow <= len(material); i++ {
				pats[material[i:i+leakWindow]] = kind
			}
		}
	}
	return pats
}

// A leakWorld is one scenario's servers: the authorization server behind
// its recording proxy, the protected demo MCP server, and what the
// processes of the scenario wrote.
type leakWorld struct {
	t       *testing.T
	jar     *secretJar
	clock   *oauthtest.Clock
	as      *oauthtest.AuthServer
	proxy   *httptest.Server // in front of as: every endpoint but the metadata
	mcp     *httptest.Server
	url     string // the MCP endpoint
	home    string
	env     []string
	logFile string

	mu       sync.Mutex // guards the fields below
	faults   []leakFault
	asEchoes map[string]int                 // by path: answer with this status and the request
	asEdits  map[string]func([]byte) []byte // by path: change the answer
	outputs  []leakOutput
	hosts    []*leakHost
}

// A leakOutput is what one process wrote to one stream.
type leakOutput struct {
	name string
	data func() []byte // read once the process has ended
}

// A leakFault replaces the MCP server's answer to one tools/call.
type leakFault struct {
	status int
	header map[string]string
	// body is sent as is, but for {{AUTHORIZATION}}, which becomes the
	// request's Authorization header, as a server that echoes the request
	// in its error page does.
	body string
}

// newLeakWorld starts the servers of a scenario. as and res may be nil;
// res.Verifier, if set, replaces the authorization server's.
//
// The authorization server's metadata names the recording proxy as the
// base of every endpoint (ASOptions.EndpointBase), while the issuer stays
// the server's own: issuer checks, RFC 9207 iss and the audience of
// private_key_jwt assertions are unaffected, and every request that
// carries a secret (registration, authorization, token, device
// authorization, revocation) goes through the proxy.
func newLeakWorld(t *testing.T, as *oauthtest.ASOptions, res *oauthtest.ResourceOptions) *leakWorld {
	t.Helper()
	w := &leakWorld{t: t, jar: &secretJar{}, clock: oauthtest.NewClock(), home: t.TempDir()}
	w.logFile = filepath.Join(w.home, "bridge.log")
	w.env = append(homeEnv(w.home), "MCP_BRIDGE_TEST_AS_MAIN=1")

	// The proxy's and the MCP server's addresses come first: the
	// authorization server's metadata names the one, the resource metadata
	// the other.
	proxyLn, mcpLn := leakListen(t), leakListen(t)
	proxyURL := "http://" + proxyLn.Addr().String()
	w.url = "http://" + mcpLn.Addr().String() + "/mcp"

	opts := oauthtest.ASOptions{}
	if as != nil {
		opts = *as
	}
	opts.EndpointBase = proxyURL
	opts.Now = w.clock.Now
	a, err := oauthtest.StartAuthServer(t.Context(), &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	w.as = a

	target, _ := url.Parse(a.URL())
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			w.jar.fromResponse(resp.Header, body)
			w.mu.Lock()
			edit := w.asEdits[resp.Request.URL.Path]
			w.mu.Unlock()
			if edit != nil {
				body = edit(body)
				resp.Header.Del("Content-Length")
				resp.ContentLength = int64(len(body))
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return err
		},
	}
	w.proxy = &httptest.Server{Listener: proxyLn, Config: &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.jar.fromRequest(r, body)
		w.mu.Lock()
		status := w.asEchoes[r.URL.Path]
		w.mu.Unlock()
		if status != 0 {
			// An error page that shows the request it could not handle.
			rw.Header().Set("Content-Type", "text/html")
			rw.WriteHeader(status)
			fmt.Fprintf(rw, "<html><body><h1>Error</h1><pre>%s %s\nAuthorization: %s\n\n%s</pre></body></html>",
				r.Method, r.URL.Path, r.Header.Get("Authorization"), body)
			return
		}
		rp.ServeHTTP(rw, r)
	})}}
	w.proxy.Start()
	t.Cleanup(w.proxy.Close)

	ro := oauthtest.ResourceOptions{}
	if res != nil {
		ro = *res
	}
	ro.Resource, ro.AuthorizationServers, ro.Now = w.url, []string{a.Issuer()}, w.clock.Now
	if ro.Verifier == nil {
		ro.Verifier = a.Verify
	}
	protected, err := oauthtest.Protect(demoserver.Handler(nil), &ro)
	if err != nil {
		t.Fatal(err)
	}
	w.mcp = &httptest.Server{Listener: mcpLn, Config: &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.jar.fromAuthorization(r.Header.Get("Authorization"))
		w.jar.add("DPoP proof", r.Header.Get("DPoP"))
		if f, ok := w.takeFault(r); ok {
			for k, v := range f.header {
				rw.Header().Set(k, v)
			}
			rw.WriteHeader(f.status)
			io.WriteString(rw, strings.ReplaceAll(f.body, "{{AUTHORIZATION}}", r.Header.Get("Authorization")))
			return
		}
		protected.ServeHTTP(rw, r)
	})}}
	w.mcp.Start()
	t.Cleanup(w.mcp.Close)
	t.Cleanup(w.check) // after the bridges' own cleanups: they have exited
	return w
}

// fault makes the MCP server answer the next tools/call with f.
func (w *leakWorld) fault(f leakFault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = append(w.faults, f)
}

func (w *leakWorld) takeFault(r *http.Request) (leakFault, bool) {
	if r.Method != http.MethodPost {
		return leakFault{}, false
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.faults) == 0 || !bytes.Contains(body, []byte(`"tools/call"`)) {
		return leakFault{}, false
	}
	f := w.faults[0]
	w.faults = w.faults[1:]
	return f, true
}

// echoAS makes the authorization server's endpoint at path answer every
// request with an error page of the given status that shows the request,
// form and Authorization header included.
func (w *leakWorld) echoAS(path string, status int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.asEchoes == nil {
		w.asEchoes = map[string]int{}
	}
	w.asEchoes[path] = status
}

// editAS changes the answers of the authorization server's endpoint at
// path.
func (w *leakWorld) editAS(path string, edit func([]byte) []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.asEdits == nil {
		w.asEdits = map[string]func([]byte) []byte{}
	}
	w.asEdits[path] = edit
}

// output records a stream to check at the end.
func (w *leakWorld) output(name string, data func() []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.outputs = append(w.outputs, leakOutput{name, data})
}

// debugArgs are the flags every process of a scenario gets: the most
// verbose logs, on stderr and in the log file, and the file token store
// (the same for every process of the scenario).
func (w *leakWorld) debugArgs() []string {
	return []string{"--log-level", "debug", "--log-file", w.logFile, "--token-store", "file"}
}

// A leakHost is a host driving a bridge of the scenario; it keeps every
// line the bridge wrote to stdout.
type leakHost struct {
	*testHost
	w    *leakWorld
	mu   sync.Mutex // guards out
	out  bytes.Buffer
	next int // the last request id
}

// bridge starts a bridge for the scenario's server with the debug flags
// and args.
// deniedSignIn starts a bridge named name where no browser opens: the
// host learns the sign-in's URL, and the user, who opens it, denies. It
// returns the bridge once it has said that the sign-in failed.
func (w *leakWorld) deniedSignIn(t *testing.T, name string) *leakHost {
	t.Helper()
	h := w.bridge(name, nil, "--browser-command", filepath.Join(w.home, "no-such-browser"), "--login-timeout", "10s")
	m := h.initialize()
	if m.Error == nil {
		t.Fatal("initialize succeeded without a sign-in")
	}
	u := urlToOpen.FindStringSubmatch(m.Error.Message)
	if u == nil {
		t.Fatalf("the error names no URL: %s", m.Error.Message)
	}
	redirect, err := w.as.Consent(t.Context(), u[1], false)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(redirect.String()); err == nil {
		resp.Body.Close()
	}
	h.waitStderr("sign-in failed", 1)
	return h
}

func (w *leakWorld) bridge(name string, extraEnv []string, args ...string) *leakHost {
	w.t.Helper()
	th := startBridgeEnv(w.t, append(slices.Clone(w.env), extraEnv...), append(append([]string{w.url}, w.debugArgs()...), args...)...)
	h := &leakHost{testHost: th, w: w}
	w.mu.Lock()
	w.hosts = append(w.hosts, h)
	w.mu.Unlock()
	w.output(name+" stderr", func() []byte { return []byte(th.stderr.String()) })
	w.output(name+" stdout", func() []byte {
		h.mu.Lock()
		defer h.mu.Unlock()
		return bytes.Clone(h.out.Bytes())
	})
	return h
}

func (h *leakHost) keep(line []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.out.Write(line)
	h.out.WriteByte('\n')
}

// request sends a request and returns its answer, keeping every line read
// on the way.
func (h *leakHost) request(method, params string) msg {
	h.t.Helper()
	h.next++
	id := strconv.Itoa(h.next)
	h.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`)
	for {
		line := h.recv()
		h.keep(line)
		var m msg
		if err := json.Unmarshal(line, &m); err != nil {
			h.t.Fatalf("decode %s: %v", clip(line), err)
		}
		if string(m.ID) == id {
			return m
		}
	}
}

// initialize runs the handshake and returns the answer to initialize,
// which may be an error.
func (h *leakHost) initialize() msg {
	h.t.Helper()
	m := h.request("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"leak-host","version":"1"}}`)
	if m.Error == nil {
		h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	}
	return m
}

// call calls a tool and returns the answer.
func (h *leakHost) call(tool, args string) msg {
	h.t.Helper()
	return h.request("tools/call", `{"name":"`+tool+`","arguments":`+args+`}`)
}

// mustCall calls a tool and fails the test unless it answers without error.
func (h *leakHost) mustCall(tool, args string) {
	h.t.Helper()
	if m := h.call(tool, args); m.Error != nil || m.Result == nil {
		h.t.Fatalf("tools/call %s: %+v; stderr:\n%s", tool, m, h.stderr.String())
	}
}

// finish closes the bridge's stdin, waits for it to exit and keeps what
// was left on its stdout.
func (h *leakHost) finish() {
	h.stdin.Close()
	select {
	case <-h.exited:
	case <-time.After(recvTimeout):
		h.cmd.Process.Kill()
		<-h.exited
	}
	for line := range h.lines {
		h.keep(line)
	}
}

// command runs `mcp-bridge args...` with the debug flags to its end, with
// stdin as its input, and returns its stdout and exit code.
func (w *leakWorld) command(name, stdin string, args ...string) (string, int) {
	w.t.Helper()
	c := w.start(name, args...)
	io.WriteString(c.stdin, stdin)
	c.stdin.Close()
	return c.wait()
}

// A leakCommand is a running mcp-bridge command.
type leakCommand struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{}
}

// start starts `mcp-bridge args...` with the debug flags.
func (w *leakWorld) start(name string, args ...string) *leakCommand {
	w.t.Helper()
	full := slices.Clone(args)
	if args[0] != "status" {
		full = append(full, w.url)
		full = append(full, w.debugArgs()...)
	} else {
		full = append(full, "--token-store", "file") // status takes no log flags: it logs nothing
	}
	cmd := exec.Command(os.Args[0], full...)
	cmd.Env = append(os.Environ(), w.env...)
	c := &leakCommand{t: w.t, cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		w.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { cmd.Wait(); close(c.done) }()
	w.t.Cleanup(func() {
		c.stdin.Close()
		select {
		case <-c.done:
		case <-time.After(recvTimeout):
			cmd.Process.Kill()
			<-c.done
		}
	})
	w.output(name+" stdout", func() []byte { return []byte(c.stdout.String()) })
	w.output(name+" stderr", func() []byte { return []byte(c.stderr.String()) })
	return c
}

// waitStderr waits until the command's stderr matches re and returns the
// submatches.
func (c *leakCommand) waitStderr(re *regexp.Regexp) []string {
	c.t.Helper()
	deadline := time.Now().Add(recvTimeout)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(c.stderr.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("no %v on stderr within %v:\n%s", re, recvTimeout, c.stderr.String())
	return nil
}

// wait waits for the command to end and returns its stdout and exit code.
func (c *leakCommand) wait() (string, int) {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(2 * recvTimeout):
		c.cmd.Process.Kill()
		<-c.done
		c.t.Errorf("the command did not end; stderr:\n%s", c.stderr.String())
	}
	return c.stdout.String(), c.cmd.ProcessState.ExitCode()
}

// mustCommand is command for a command that must succeed.
func (w *leakWorld) mustCommand(name, stdin string, args ...string) string {
	w.t.Helper()
	out, code := w.command(name, stdin, args...)
	if code != exitOK {
		w.t.Fatalf("%s: exit %d\n%s", name, code, out)
	}
	return out
}

// secretFile writes a secret to a file of the scenario and returns its
// path.
func (w *leakWorld) secretFile(name, kind string, data []byte) string {
	p := filepath.Join(w.home, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		w.t.Fatal(err)
	}
	w.jar.add(kind, string(data))
	return p
}

// storeFiles returns the token store's files, concatenated.
func (w *leakWorld) storeFiles() []byte {
	var all []byte
	filepath.WalkDir(filepath.Join(w.home, "config"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			all = append(all, b...)
		}
		return nil
	})
	return all
}

// find returns, for each kind of secret with a window in data, where the
// first one is.
func find(data []byte, pats map[string]string) map[string]int {
	found := map[string]int{}
	for i := 0; i+leakWindow <= len(data); i++ {
		if k, ok := pats[string(data[i:i+leakWindow])]; ok {
			if _, seen := found[k]; !seen {
				found[k] = i
			}
		}
	}
	return found
}

// check waits for every bridge of the scenario and looks for the secrets
// in everything the processes wrote.
func (w *leakWorld) check() {
	w.mu.Lock()
	hosts := slices.Clone(w.hosts)
	w.mu.Unlock()
	for _, h := range hosts {
		h.finish()
	}
	pats := w.jar.patterns()
	outputs := slices.Clone(w.outputs)
	outputs = append(outputs, leakOutput{"--log-file", func() []byte { b, _ := os.ReadFile(w.logFile); return b }})
	for _, o := range outputs {
		data := o.data()
		for kind, i := range find(data, pats) {
			lo, hi := max(0, i-200), min(len(data), i+200)
			w.t.Errorf("secret in %s: %s:\n…%s…", o.name, kind, data[lo:hi])
		}
	}
	w.t.Logf("checked %d outputs against %d secrets (%v)", len(outputs), len(w.jar.vals), w.jar.kinds())
}

// requireKinds fails the test unless the jar holds each kind: the
// scenario did what it is meant to, and the recorder saw it.
func (w *leakWorld) requireKinds(kinds ...string) {
	w.t.Helper()
	have := w.jar.kinds()
	for _, k := range kinds {
		if have[k] == 0 {
			w.t.Errorf("the scenario collected no %s (have %v)", k, have)
		}
	}
}

var (
	urlToOpen  = regexp.MustCompile(`open (http\S+) in a browser`)
	deviceCode = regexp.MustCompile(`enter the code ([A-Z0-9-]+)`)
)

// TestNoSecretLeaks runs each OAuth scenario at debug level and checks
// that no secret the authorization server issued or accepted appears in
// any output.
func TestNoSecretLeaks(t *testing.T) {
	t.Run("browser sign-in with DCR, doctor, status, logout", func(t *testing.T) {
		// Only confidential clients: the registration comes with a secret.
		w := newLeakWorld(t, &oauthtest.ASOptions{TokenEndpointAuthMethods: []string{oauthtest.AuthClientSecretBasic}}, nil)
		h := w.bridge("bridge", nil, "--browser-command", approver())
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		h.mustCall("echo", `{"text":"hello"}`)
		h.finish()
		w.mustCommand("status", "", "status")
		w.mustCommand("status --json", "", "status", "--json")
		w.mustCommand("doctor", "", "doctor")
		w.mustCommand("doctor --json", "", "doctor", "--json")
		// The positive control: the store holds the tokens, and the
		// check finds them there.
		if len(find(w.storeFiles(), w.jar.patterns())) == 0 {
			t.Error("the token store holds none of the collected secrets: the check would find nothing anywhere")
		}
		w.mustCommand("logout", "", "logout")
		if st := w.as.Stats(); st.Revocations == 0 {
			t.Errorf("logout revoked nothing: %+v", st)
		}
		w.requireKinds("access token", "refresh token", "authorization code", "PKCE verifier", "client secret", "Authorization header")
	})

	t.Run("login in a terminal, then refreshes with rotation", func(t *testing.T) {
		w := newLeakWorld(t, &oauthtest.ASOptions{AccessTokenTTL: time.Hour}, nil)
		w.mustCommand("login", "", "login", "--browser-command", approver())
		h := w.bridge("bridge", nil, "--browser-command", "false", "--login-timeout", "5s")
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		h.mustCall("echo", `{"text":"one"}`)
		for range 2 {
			// The server's clock passes the token's hour: the next call is
			// refused, and the bridge refreshes, rotating the refresh token.
			w.clock.Advance(61 * time.Minute)
			h.mustCall("echo", `{"text":"after a refresh"}`)
		}
		if st := w.as.Stats(); st.Refreshes < 2 {
			t.Errorf("%d refreshes, want 2", st.Refreshes)
		}
		h.finish()
		w.mustCommand("status", "", "status")
		w.requireKinds("access token", "refresh token", "authorization code", "PKCE verifier")
	})

	t.Run("step-up", func(t *testing.T) {
		w := newLeakWorld(t, nil, &oauthtest.ResourceOptions{ToolScopes: map[string]string{"add": "calc:write"}})
		h := w.bridge("bridge", nil, "--browser-command", approver())
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		h.mustCall("echo", `{"text":"before"}`)
		h.mustCall("add", `{"a":1,"b":2}`) // 403 insufficient_scope, a second sign-in
		if st := w.as.Stats(); st.AuthorizationRequests != 2 {
			t.Errorf("%d authorization requests, want 2 (the sign-in and the step-up)", st.AuthorizationRequests)
		}
		w.requireKinds("access token", "authorization code", "PKCE verifier")
	})

	t.Run("device grant from the host", func(t *testing.T) {
		w := newLeakWorld(t, &oauthtest.ASOptions{DevicePollInterval: time.Second}, nil)
		h := w.bridge("bridge", nil, "--login", "device")
		m := h.initialize()
		if m.Error == nil {
			t.Fatal("initialize succeeded without a sign-in")
		}
		code := deviceCode.FindStringSubmatch(m.Error.Message)
		if code == nil {
			t.Fatalf("the error names no device code: %s", m.Error.Message)
		}
		if err := w.as.ApproveDevice(code[1]); err != nil {
			t.Fatal(err)
		}
		h.waitStderr("signed in", 1)
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize after the device sign-in: %+v", m.Error)
		}
		h.mustCall("echo", `{"text":"device"}`)
		w.requireKinds("access token", "refresh token", "device code")
	})

	t.Run("device grant in a terminal", func(t *testing.T) {
		w := newLeakWorld(t, &oauthtest.ASOptions{DevicePollInterval: time.Second}, nil)
		c := w.start("login --login=device", "login", "--login", "device")
		code := c.waitStderr(regexp.MustCompile(`enter the code\s+(\S+)`))
		if err := w.as.ApproveDevice(code[1]); err != nil {
			t.Fatal(err)
		}
		c.stdin.Close()
		if out, code := c.wait(); code != exitOK {
			t.Fatalf("login: exit %d\n%s", code, out)
		}
		w.mustCommand("logout", "", "logout")
		if st := w.as.Stats(); st.Revocations == 0 {
			t.Errorf("logout revoked nothing: %+v", st)
		}
		w.requireKinds("access token", "refresh token", "device code")
	})

	t.Run("paste", func(t *testing.T) {
		w := newLeakWorld(t, nil, nil)
		c := w.start("login --login=paste", "login", "--login", "paste")
		authURL := c.waitStderr(regexp.MustCompile(`sign in:\s+(http\S+)`))
		redirect, err := w.as.Consent(t.Context(), authURL[1], true)
		if err != nil {
			t.Fatal(err)
		}
		// As pasted from a browser's address bar: the code is in it.
		fmt.Fprintf(c.stdin, "%s\n", redirect)
		c.stdin.Close()
		if out, code := c.wait(); code != exitOK {
			t.Fatalf("login: exit %d\n%s", code, out)
		}
		h := w.bridge("bridge", nil, "--browser-command", "false", "--login-timeout", "5s")
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		h.mustCall("echo", `{"text":"pasted"}`)
		w.requireKinds("access token", "authorization code", "PKCE verifier")
	})

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	for _, tt := range []struct {
		name   string
		client oauthtest.Client
		key    []byte // PEM, for private_key_jwt
		env    bool   // the secret in MCP_BRIDGE_CLIENT_SECRET, not a file
	}{
		{name: "client_secret_basic", client: oauthtest.Client{AuthMethod: oauthtest.AuthClientSecretBasic}},
		{name: "client_secret_post", client: oauthtest.Client{AuthMethod: oauthtest.AuthClientSecretPost}, env: true},
		{name: "private_key_jwt RS256", client: oauthtest.Client{PublicKey: &rsaKey.PublicKey},
			key: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})},
		{name: "private_key_jwt ES256", client: oauthtest.Client{PublicKey: &ecKey.PublicKey},
			key: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})},
	} {
		t.Run("client credentials "+tt.name, func(t *testing.T) {
			c := tt.client
			c.ID = "machine-1"
			method := c.AuthMethod
			if tt.key == nil {
				c.Secret = rand.Text() + rand.Text()
			} else {
				method = oauthtest.AuthPrivateKeyJWT
			}
			w := newLeakWorld(t, &oauthtest.ASOptions{Clients: []oauthtest.Client{c}, TokenEndpointAuthMethods: []string{method}}, nil)
			args := []string{"--client-credentials", "--client-id", c.ID}
			switch {
			case tt.key != nil:
				w.jar.addPEM("private key", tt.key)
				args = append(args, "--private-key-file", w.secretFile("key.pem", "private key", tt.key), "--key-id", "k1")
			case tt.env:
				w.jar.add("client secret", c.Secret)
				w.env = append(w.env, clientSecretEnv+"="+c.Secret)
			default:
				args = append(args, "--client-secret-file", w.secretFile("secret", "client secret", []byte(c.Secret+"\n")))
			}
			h := w.bridge("bridge", nil, args...)
			if m := h.initialize(); m.Error != nil {
				t.Fatalf("initialize: %+v", m.Error)
			}
			h.mustCall("echo", `{"text":"machine"}`)
			h.finish()
			// A second start with nothing stored makes a second grant.
			h = w.bridge("second bridge", nil, append(args, "--token-store", "memory")...)
			if m := h.initialize(); m.Error != nil {
				t.Fatalf("initialize: %+v", m.Error)
			}
			h.mustCall("echo", `{"text":"machine again"}`)
			h.finish()
			if n := w.as.Stats().TokenRequests["client_credentials"]; n != 2 {
				t.Errorf("%d client_credentials grants, want 2", n)
			}
			w.mustCommand("doctor", "", append([]string{"doctor"}, args...)...)
			w.mustCommand("status", "", "status")
			if tt.key == nil {
				w.requireKinds("access token", "client secret")
			} else {
				w.requireKinds("access token", "client assertion (private_key_jwt)", "private key")
			}
		})
	}

	t.Run("pre-registered client with a secret file", func(t *testing.T) {
		c := oauthtest.Client{ID: "desktop-app", Secret: rand.Text() + rand.Text(), RedirectURIs: []string{"http://127.0.0.1/callback"}}
		w := newLeakWorld(t, &oauthtest.ASOptions{Clients: []oauthtest.Client{c}}, nil)
		args := []string{"--client-id", c.ID, "--client-secret-file", w.secretFile("secret", "client secret", []byte(c.Secret))}
		w.mustCommand("login", "", append([]string{"login", "--browser-command", approver()}, args...)...)
		h := w.bridge("bridge", nil, append(args, "--browser-command", "false", "--login-timeout", "5s")...)
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		w.clock.Advance(61 * time.Minute)
		h.mustCall("echo", `{"text":"refreshed"}`)
		h.finish()
		w.mustCommand("doctor", "", append([]string{"doctor"}, args...)...)
		w.mustCommand("logout", "", append([]string{"logout"}, args...)...)
		w.requireKinds("access token", "refresh token", "authorization code", "PKCE verifier", "client secret", "Basic credentials")
	})

	t.Run("server answers 401, 403 and 500 with bodies", func(t *testing.T) {
		w := newLeakWorld(t, nil, nil)
		// A static header with a secret of its own, which the bridge must
		// not log either.
		apiKey := "apikey-" + rand.Text()
		w.jar.add("API key (--header)", apiKey)
		h := w.bridge("bridge", []string{"MCP_BRIDGE_TEST_API_KEY=" + apiKey}, "--browser-command", approver(),
			"--header", "X-Api-Key: ${MCP_BRIDGE_TEST_API_KEY}")
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		h.mustCall("echo", `{"text":"signed in"}`)
		w.fault(leakFault{status: 500, header: map[string]string{"Content-Type": "text/html"},
			body: "<html><body><h1>500 Internal Server Error</h1><p>upstream timed out</p></body></html>"})
		if m := h.call("echo", `{"text":"x"}`); m.Error == nil {
			t.Errorf("a 500 answered %+v", m)
		}
		w.fault(leakFault{status: 403, header: map[string]string{"Content-Type": "application/json",
			"WWW-Authenticate": `Bearer error="invalid_request", error_description="this client may not call tools"`},
			body: `{"error":"forbidden","detail":"tools are off for this tenant"}`})
		if m := h.call("echo", `{"text":"x"}`); m.Error == nil {
			t.Errorf("a 403 answered %+v", m)
		}
		// A 401 for a token the server has dropped: the bridge refreshes
		// and replays.
		w.fault(leakFault{status: 401, header: map[string]string{"Content-Type": "text/plain",
			"WWW-Authenticate": `Bearer error="invalid_token", error_description="the token was revoked"`},
			body: "token revoked; please sign in again"})
		h.mustCall("echo", `{"text":"after a 401"}`)
		w.requireKinds("access token", "refresh token", "API key (--header)")
	})

	t.Run("denied consent", func(t *testing.T) {
		// A confidential client: the registration's secret is the one
		// secret of a sign-in that ends before any token.
		w := newLeakWorld(t, &oauthtest.ASOptions{TokenEndpointAuthMethods: []string{oauthtest.AuthClientSecretBasic}}, nil)
		// No browser opens: the host learns the URL, and the user, who
		// opens it, denies.
		h := w.deniedSignIn(t, "bridge")
		if m := h.initialize(); m.Error == nil {
			t.Error("initialize succeeded after a denied sign-in")
		}
		// The bridge waits for this second sign-in, holding the
		// credentials' lock, which the terminal's login would wait for.
		h.finish()
		// And in a terminal, pasting the refusal.
		c := w.start("login --login=paste", "login", "--login", "paste")
		authURL := c.waitStderr(regexp.MustCompile(`sign in:\s+(http\S+)`))
		redirect, err := w.as.Consent(t.Context(), authURL[1], false)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c.stdin, "%s\n", redirect)
		c.stdin.Close()
		if _, code := c.wait(); code == exitOK {
			t.Error("login succeeded after the user denied")
		}
		if st := w.as.Stats(); st.Denials != 2 {
			t.Errorf("%d denials, want 2", st.Denials)
		}
		w.requireKinds("client secret")
	})

	t.Run("enterprise-managed authorization (ID-JAG)", func(t *testing.T) {
		idpKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		idpLn := leakListen(t)
		idpURL := "http://" + idpLn.Addr().String()
		c := oauthtest.Client{ID: "enterprise-app", Secret: rand.Text() + rand.Text(), AuthMethod: oauthtest.AuthClientSecretBasic}
		w := newLeakWorld(t, &oauthtest.ASOptions{Clients: []oauthtest.Client{c},
			IDJAGIssuers: map[string]crypto.PublicKey{idpURL: &idpKey.PublicKey}}, nil)
		idp := &httptest.Server{Listener: idpLn, Config: &http.Server{Handler: fakeIdP(t, w, idpURL, idpKey, c.ID)}}
		idp.Start()
		defer idp.Close()
		idToken, err := oauthtest.SignJWT(idpKey, "JWT", "", map[string]any{
			"iss": idpURL, "sub": "alice", "aud": "idp-client", "iat": w.clock.Now().Unix(), "exp": w.clock.Now().Add(time.Hour).Unix(), "nonce": rand.Text()})
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"--client-id", c.ID, "--client-secret-file", w.secretFile("secret", "client secret", []byte(c.Secret)),
			"--id-token-file", w.secretFile("id-token", "ID token", []byte(idToken)), "--idp-issuer", idpURL, "--idp-client-id", "idp-client"}
		h := w.bridge("bridge", nil, args...)
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		h.mustCall("echo", `{"text":"enterprise"}`)
		h.finish()
		w.mustCommand("doctor", "", append([]string{"doctor"}, args...)...)
		w.requireKinds("access token", "ID token", "ID-JAG", "client secret")
	})

	t.Run("panic", func(t *testing.T) {
		// A device authorization answer with a negative interval makes
		// golang.org/x/oauth2's DeviceAccessToken panic (time.NewTicker),
		// in the sign-in's goroutine, which ends the process: whatever the
		// panic prints must hold no secret either.
		w := newLeakWorld(t, &oauthtest.ASOptions{DevicePollInterval: time.Second}, nil)
		w.editAS("/device_authorization", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"interval":1`), []byte(`"interval":-1`), 1)
		})
		h := w.bridge("bridge", nil, "--login", "device")
		h.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"leak-host","version":"1"}}}`)
		select {
		case <-h.exited:
		case <-time.After(3 * time.Second): // it did not panic
		}
		h.finish()
		if strings.Contains(h.stderr.String(), "panic:") {
			t.Logf("the bridge panicked (exit %d); its panic output was checked", h.exit)
		}
		w.requireKinds("device code")
	})

	t.Run("crash dump (SIGQUIT)", func(t *testing.T) {
		// SIGQUIT makes the Go runtime print what a panic prints, every
		// goroutine's stack, while the bridge holds its tokens.
		w := newLeakWorld(t, nil, nil)
		h := w.bridge("bridge", []string{"GOTRACEBACK=all"}, "--browser-command", approver())
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		w.clock.Advance(61 * time.Minute)
		h.mustCall("echo", `{"text":"refreshed"}`)
		h.cmd.Process.Signal(syscall.SIGQUIT)
		<-h.exited
		if !strings.Contains(h.stderr.String(), "goroutine ") {
			t.Errorf("no stack dump on stderr:\n%s", h.stderr.String())
		}
		w.requireKinds("access token", "refresh token")
	})
}

// TestDeviceGrantConfidentialClient signs in with the device grant as a
// confidential client: one whose dynamic registration came with a secret
// (the authorization server supports no public clients), and a
// pre-registered one with a secret file. RFC 8628 section 3.1: the device
// authorization request authenticates the client like a token request
// does (RFC 6749 section 3.2.1).
func TestDeviceGrantConfidentialClient(t *testing.T) {
	for _, preregistered := range []bool{false, true} {
		t.Run(fmt.Sprintf("preregistered=%v", preregistered), func(t *testing.T) {
			c := oauthtest.Client{ID: "tv-app", Secret: rand.Text() + rand.Text(), AuthMethod: oauthtest.AuthClientSecretBasic}
			w := newLeakWorld(t, &oauthtest.ASOptions{DevicePollInterval: time.Second, Clients: []oauthtest.Client{c},
				TokenEndpointAuthMethods: []string{oauthtest.AuthClientSecretBasic}}, nil)
			args := []string{"login", "--login", "device"}
			if preregistered {
				args = append(args, "--client-id", c.ID, "--client-secret-file", w.secretFile("secret", "client secret", []byte(c.Secret)))
			}
			cmd := w.start("login --login=device", args...)
			code := cmd.waitStderr(regexp.MustCompile(`enter the code\s+(\S+)|sign-in failed.*`))
			if code[1] == "" {
				t.Fatalf("no device code: %s", code[0])
			}
			if err := w.as.ApproveDevice(code[1]); err != nil {
				t.Fatal(err)
			}
			cmd.stdin.Close()
			if out, code := cmd.wait(); code != exitOK {
				t.Fatalf("login: exit %d\n%s", code, out)
			}
		})
	}
}

// fakeIdP is an enterprise identity provider for SEP-990: OpenID Connect
// discovery, and a token endpoint that exchanges an ID token (RFC 8693)
// for an ID-JAG for clientID, signed with key. It records the ID tokens it
// accepts and the ID-JAGs it issues as secrets.
func fakeIdP(t *testing.T, w *leakWorld, issuer string, key crypto.Signer, clientID string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"issuer": issuer, "token_endpoint": issuer + "/token",
			"grant_types_supported": []string{"urn:ietf:params:oauth:grant-type:token-exchange"}})
	})
	mux.HandleFunc("POST /token", func(rw http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.jar.add("ID token", r.PostForm.Get("subject_token"))
		now := w.clock.Now()
		jag, err := oauthtest.SignJWT(key, "oauth-id-jag+jwt", "", map[string]any{
			"iss": issuer, "sub": "alice", "aud": r.PostForm.Get("audience"), "client_id": clientID,
			"resource": r.PostForm.Get("resource"), "scope": r.PostForm.Get("scope"), "jti": rand.Text(),
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
		if err != nil {
			t.Error(err)
			http.Error(rw, err.Error(), 500)
			return
		}
		w.jar.add("ID-JAG", jag)
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"access_token": jag, "token_type": "N_A", "expires_in": 300,
			"issued_token_type": "urn:ietf:params:oauth:token-type:id-jag"})
	})
	return mux
}

// TestSecretsEchoedByServer: servers that echo what they were sent in an
// error page (debug pages of web frameworks, some proxies and WAFs do),
// or that answer in a form the bridge cannot decode, hand the bridge its
// own secrets back. The bridge puts an excerpt of such an answer in its
// logs and in the error the host sees; that excerpt must not carry them.
func TestSecretsEchoedByServer(t *testing.T) {
	confidential := &oauthtest.ASOptions{TokenEndpointAuthMethods: []string{oauthtest.AuthClientSecretBasic}, DevicePollInterval: time.Second}

	t.Run("the MCP server's 500 page shows the Authorization header", func(t *testing.T) {
		w := newLeakWorld(t, nil, nil)
		h := w.bridge("bridge", nil, "--browser-command", approver())
		if m := h.initialize(); m.Error != nil {
			t.Fatalf("initialize: %+v", m.Error)
		}
		w.fault(leakFault{status: 500, header: map[string]string{"Content-Type": "text/plain"},
			body: "Internal error. Request: POST /mcp\nAuthorization: {{AUTHORIZATION}}\n"})
		if m := h.call("echo", `{"text":"x"}`); m.Error == nil {
			t.Errorf("a 500 answered %+v", m)
		}
		w.requireKinds("access token")
	})

	t.Run("the token endpoint's error page shows the code exchange", func(t *testing.T) {
		w := newLeakWorld(t, confidential, nil)
		w.echoAS("/token", http.StatusInternalServerError)
		h := w.bridge("bridge", nil, "--browser-command", approver())
		if m := h.initialize(); m.Error == nil {
			t.Fatal("initialize succeeded with a broken token endpoint")
		}
		w.requireKinds("authorization code", "PKCE verifier", "client secret")
	})

	t.Run("the token endpoint's error page shows the device code poll", func(t *testing.T) {
		w := newLeakWorld(t, &oauthtest.ASOptions{DevicePollInterval: time.Second}, nil)
		w.echoAS("/token", http.StatusInternalServerError)
		c := w.start("login --login=device", "login", "--login", "device")
		code := c.waitStderr(regexp.MustCompile(`enter the code\s+(\S+)`))
		if err := w.as.ApproveDevice(code[1]); err != nil {
			t.Fatal(err)
		}
		c.stdin.Close()
		if _, code := c.wait(); code == exitOK {
			t.Error("login succeeded with a broken token endpoint")
		}
		w.requireKinds("device code")
	})

	t.Run("a registration answer the bridge cannot decode", func(t *testing.T) {
		// token_endpoint_auth_method as a list, not a string: a member
		// the bridge reads, so the answer cannot be used. The Go SDK's
		// RegisterClient put the whole answer, client_secret included, in
		// its error. (Members the bridge does not read may hold anything:
		// TestHydraRegistration in oauthclient.)
		w := newLeakWorld(t, confidential, nil)
		w.editAS("/register", func(b []byte) []byte {
			return regexp.MustCompile(`"token_endpoint_auth_method":("[^"]*")`).ReplaceAll(b, []byte(`"token_endpoint_auth_method":[$1]`))
		})
		h := w.bridge("bridge", nil, "--browser-command", approver())
		if m := h.initialize(); m.Error == nil {
			t.Fatal("initialize succeeded with an undecodable registration")
		}
		w.requireKinds("client secret")
	})
}

// leakListen listens on a free loopback port.
func leakListen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestLeakCheckSeesTokens is the positive control of the check every
// startBridge makes on the bridge's output: the file store of a bridge
// that signed in holds the access token, and issuedSecrets finds it there.
func TestLeakCheckSeesTokens(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
		Clients: []oauthtest.Client{{ID: "cc", Secret: "cc-secret", GrantTypes: []string{"client_credentials"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	home := t.TempDir()
	secretFile := filepath.Join(home, "secret")
	os.WriteFile(secretFile, []byte("cc-secret\n"), 0o600)
	h := startBridgeIn(t, home, demo.URL, "--client-credentials", "--client-id", "cc", "--client-secret-file", secretFile, "--token-store", "file")
	signedInCall(t, h, "signed in")
	h.closeAndWait()
	var stored []byte
	filepath.WalkDir(filepath.Join(home, "config", "mcp-bridge", "credentials"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(path)
			stored = append(stored, data...)
		}
		return nil
	})
	if len(issuedSecrets(stored)) == 0 {
		t.Errorf("the token store (%d bytes) holds no secret issuedSecrets finds: the check on every bridge's output would find nothing", len(stored))
	}
}
