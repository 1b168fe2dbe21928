package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// slowSignIn is an [auth.OAuthHandler] whose sign-in waits for the user
// until the test lets it complete, as a browser sign-in does: Authorize
// blocks until done is closed, and SignInPending tells of it meanwhile.
type slowSignIn struct {
	done    chan struct{}
	outcome error // what the sign-in ends with
	notice  bool  // Authorize returns at once, a PendingSignIn, as when no browser opens

	mu      sync.Mutex
	waiting bool
	token   string
	asked   int // SignInPending calls
}

// pendingErr is the [PendingSignIn] of a slowSignIn.
type pendingErr struct{ s *slowSignIn }

func (e pendingErr) Error() string {
	return "sign-in required (waiting for the sign-in in the browser): open https://as.example/authorize?x=1 in a browser, then retry"
}
func (e pendingErr) Elsewhere() (string, string) {
	return "https://as.example/authorize?x=1", "Sign in."
}
func (e pendingErr) Wait(ctx context.Context) error {
	select {
	case <-e.s.done:
		return e.s.outcome
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slowSignIn) TokenSource(context.Context) (oauth2.TokenSource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		if s.outcome == nil {
			s.token = "signed-in"
		}
	default:
	}
	if s.token == "" {
		return nil, nil
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: s.token, TokenType: "Bearer"}), nil
}

func (s *slowSignIn) Authorize(ctx context.Context, _ *http.Request, resp *http.Response) error {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s.mu.Lock()
	s.waiting = true
	s.mu.Unlock()
	if s.notice {
		return pendingErr{s} // the sign-in goes on; SignInPending keeps telling of it
	}
	defer func() {
		s.mu.Lock()
		s.waiting = false
		s.mu.Unlock()
	}()
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.outcome != nil {
		return s.outcome
	}
	s.mu.Lock()
	s.token = "signed-in"
	s.mu.Unlock()
	return nil
}

func (s *slowSignIn) SignInPending() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	if !s.waiting {
		return nil
	}
	return pendingErr{s}
}

// memInitCache is an in-memory [EraCache] and [InitializeCache].
type memInitCache struct{ memEraCache }

func (c *memInitCache) Initialize(key string) []byte            { return c.Era(key) }
func (c *memInitCache) SetInitialize(key string, result []byte) { c.SetEra(key, result) }

// signInServer is a Streamable HTTP server that answers 401 to requests
// without the bearer "signed-in", initialize with serverInfo "real", and
// tools/list; it records the method of each authorized message, and the
// id of each initialize.
type signInServer struct {
	*httptest.Server
	mu      sync.Mutex
	methods []string
	inits   []string
}

func newSignInServer(t *testing.T) *signInServer {
	s := &signInServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost {
			http.Error(w, "no", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Authorization") != "Bearer signed-in" {
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://example.com/.well-known/oauth-protected-resource"`)
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		m, err := ParseMessage(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.methods = append(s.methods, m.Method)
		if m.Method == "initialize" {
			s.inits = append(s.inits, string(m.ID))
		}
		s.mu.Unlock()
		if m.IsNotification() {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set(headerSessionID, "s1")
		w.Header().Set("Content-Type", "application/json")
		result := `{}`
		switch m.Method {
		case "initialize":
			result = `{"protocolVersion":"2025-06-18","capabilities":{"tools":{},"prompts":{}},"serverInfo":{"name":"real","version":"2"}}`
		case "tools/list":
			result = `{"tools":[{"name":"echo","inputSchema":{"type":"object"}}]}`
		}
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, m.ID, result)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *signInServer) seen() (methods, inits []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.methods...), append([]string(nil), s.inits...)
}

const (
	hostInit2025  = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	cachedInitRes = `{"protocolVersion":"2025-06-18","capabilities":{"tools":{},"prompts":{"listChanged":false},"logging":{}},"serverInfo":{"name":"cached","version":"1"}}`
)

// signInRelay starts a relay for srv whose era cache says legacy and whose
// initialize cache holds cached (if not empty).
func signInRelay(t *testing.T, srv *signInServer, oauth *slowSignIn, cached string) (*pipeHost, *memInitCache) {
	return signInRelayWait(t, srv, oauth, cached, 300*time.Millisecond)
}

func signInRelayWait(t *testing.T, srv *signInServer, oauth *slowSignIn, cached string, wait time.Duration) (*pipeHost, *memInitCache) {
	url := srv.URL + "/mcp"
	cache := &memInitCache{}
	cache.SetEra("era "+url+" ", []byte(`{"era":"legacy"}`))
	if cached != "" {
		cache.SetInitialize("initialize "+url+" ", []byte(cached))
	}
	h := runRelay(t, &Config{URL: url, Transport: TransportStreamable, OAuthHandler: oauth,
		EraCache: cache, InitializeCache: cache, SignInGrace: 50 * time.Millisecond, SignInWait: wait})
	return h, cache
}

// decode parses a line the host got.
func decode(t *testing.T, line string) (id, method string, result map[string]json.RawMessage, errMsg string) {
	t.Helper()
	var m struct {
		ID     json.RawMessage            `json:"id"`
		Method string                     `json:"method"`
		Result map[string]json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("decode %s: %v", line, err)
	}
	if m.Error != nil {
		errMsg = m.Error.Message
	}
	return string(m.ID), m.Method, m.Result, errMsg
}

// TestInitializeFromCache: while a sign-in waits for the user, the host's
// initialize is answered from the cached result with listChanged set; its
// ping is answered, its requests wait a bounded time and then say how to
// sign in; once signed in, the server gets one initialize (the relay's
// own id), then the held notifications/initialized, the host is told to
// list again and its tools/list succeeds; the cache takes the server's
// new result.
func TestInitializeFromCache(t *testing.T) {
	srv := newSignInServer(t)
	oauth := &slowSignIn{done: make(chan struct{})}
	h, cache := signInRelay(t, srv, oauth, cachedInitRes)

	h.send(hostInit2025)
	id, _, res, errMsg := decode(t, h.recv())
	if id != "0" || errMsg != "" {
		t.Fatalf("initialize: id %s, error %q", id, errMsg)
	}
	var caps map[string]map[string]any
	json.Unmarshal(res["capabilities"], &caps)
	want := map[string]map[string]any{"tools": {"listChanged": true}, "prompts": {"listChanged": true}, "logging": {}}
	if diff := cmp.Diff(want, caps); diff != "" {
		t.Errorf("capabilities answered from the cache (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(res["serverInfo"]), "cached") {
		t.Errorf("serverInfo %s, want the cached one", res["serverInfo"])
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	h.send(`{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	if id, _, _, errMsg := decode(t, h.recv()); id != `"p"` || errMsg != "" {
		t.Errorf("ping while signing in: id %s, error %q; want it answered at once", id, errMsg)
	}
	id, _, _, errMsg = decode(t, h.recv())
	if id != "1" || !strings.Contains(errMsg, "https://as.example/authorize?x=1") {
		t.Errorf("tools/list while signing in: id %s, error %q; want the sign-in URL", id, errMsg)
	}
	if methods, _ := srv.seen(); len(methods) != 0 {
		t.Errorf("the server got %q before the sign-in", methods)
	}

	close(oauth.done) // the user signs in
	var notes []string
	for range 2 {
		id, method, _, _ := decode(t, h.recv())
		if id != "" {
			t.Fatalf("after the sign-in the host got the answer to %s, want list_changed notifications", id)
		}
		notes = append(notes, method)
	}
	if diff := cmp.Diff([]string{"notifications/tools/list_changed", "notifications/prompts/list_changed"}, notes); diff != "" {
		t.Errorf("notifications after the sign-in (-want +got):\n%s", diff)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if id, _, res, errMsg := decode(t, h.recv()); id != "2" || errMsg != "" || !strings.Contains(string(res["tools"]), "echo") {
		t.Errorf("tools/list after the sign-in: id %s, error %q, result %v", id, errMsg, res)
	}
	methods, inits := srv.seen()
	if diff := cmp.Diff([]string{"initialize", "notifications/initialized", "tools/list"}, methods); diff != "" {
		t.Errorf("what the server got (-want +got):\n%s", diff)
	}
	if len(inits) != 1 || !strings.HasPrefix(inits[0], `"mcp-bridge-`) {
		t.Errorf("initialize ids at the server %q, want one of the relay's own", inits)
	}
	if got := string(cache.Initialize("initialize " + srv.URL + "/mcp ")); !strings.Contains(got, `"real"`) || strings.Contains(got, "listChanged") {
		t.Errorf("the cache holds %s, want the server's new result as it was", got)
	}
}

// TestInitializeWithoutCache: with no cached result, or one of another
// protocol revision, initialize waits for the sign-in, and the host gets
// the server's own answer, as before.
func TestInitializeWithoutCache(t *testing.T) {
	for name, cached := range map[string]string{
		"none":          "",
		"other version": strings.Replace(cachedInitRes, "2025-06-18", "2025-03-26", 1),
	} {
		t.Run(name, func(t *testing.T) {
			srv := newSignInServer(t)
			oauth := &slowSignIn{done: make(chan struct{})}
			h, _ := signInRelay(t, srv, oauth, cached)
			h.send(hostInit2025)
			// The user takes longer than the grace and a poll: from the
			// cache, the host would be answered before.
			time.AfterFunc(time.Second, func() { close(oauth.done) })
			id, _, res, errMsg := decode(t, h.recv())
			if id != "0" || errMsg != "" || !strings.Contains(string(res["serverInfo"]), "real") {
				t.Errorf("initialize: id %s, error %q, result %v; want the server's", id, errMsg, res)
			}
			oauth.mu.Lock()
			asked := oauth.asked
			oauth.mu.Unlock()
			if asked != 0 {
				t.Errorf("the relay asked %d times whether a sign-in is pending, with nothing to answer from", asked)
			}
		})
	}
}

// TestInitializeFromCacheSignInFails: when the sign-in fails after the
// host was answered from the cache, its requests say so, and the next one
// starts the server's session again.
func TestInitializeFromCacheSignInFails(t *testing.T) {
	srv := newSignInServer(t)
	oauth := &slowSignIn{done: make(chan struct{}), outcome: errors.New("the user closed the tab")}
	h, _ := signInRelay(t, srv, oauth, cachedInitRes)
	h.send(hostInit2025)
	if id, _, _, errMsg := decode(t, h.recv()); id != "0" || errMsg != "" {
		t.Fatalf("initialize: id %s, error %q", id, errMsg)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	close(oauth.done)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	id, _, _, errMsg := decode(t, h.recv())
	if id != "1" || !strings.Contains(errMsg, "the user closed the tab") {
		t.Errorf("tools/list after the failed sign-in: id %s, error %q", id, errMsg)
	}
	// The user signs in some other way (a terminal): the next request
	// sets the session up.
	oauth.mu.Lock()
	oauth.token = "signed-in"
	oauth.mu.Unlock()
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	for {
		id, method, res, errMsg := decode(t, h.recv())
		if method != "" {
			continue // list_changed
		}
		if id != "2" || errMsg != "" || !strings.Contains(string(res["tools"]), "echo") {
			t.Errorf("tools/list once signed in: id %s, error %q, result %v", id, errMsg, res)
		}
		break
	}
	if methods, _ := srv.seen(); !cmp.Equal([]string{"initialize", "notifications/initialized", "tools/list"}, methods) {
		t.Errorf("the server got %q", methods)
	}
}

// TestInitializeFromCacheNoBrowser: when the sign-in tells at once that
// the user must open its URL by hand (no browser could open), the host's
// initialize is answered from the cache all the same, and its requests
// are answered at once with the URL rather than after SignInWait; once
// the user has signed in, the session is set up and the host lists again.
func TestInitializeFromCacheNoBrowser(t *testing.T) {
	srv := newSignInServer(t)
	oauth := &slowSignIn{done: make(chan struct{}), notice: true}
	h, _ := signInRelayWait(t, srv, oauth, cachedInitRes, time.Hour)
	h.send(hostInit2025)
	if id, _, res, errMsg := decode(t, h.recv()); id != "0" || errMsg != "" || !strings.Contains(string(res["serverInfo"]), "cached") {
		t.Fatalf("initialize: id %s, error %q, result %v; want the cached one", id, errMsg, res)
	}
	h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if id, _, _, errMsg := decode(t, h.recv()); id != "1" || !strings.Contains(errMsg, "https://as.example/authorize?x=1") {
		t.Errorf("tools/list while the URL waits to be opened: id %s, error %q; want the URL at once", id, errMsg)
	}
	close(oauth.done)
	for range 2 {
		if id, method, _, _ := decode(t, h.recv()); id != "" || !strings.HasSuffix(method, "/list_changed") {
			t.Fatalf("after the sign-in: id %s method %s, want list_changed", id, method)
		}
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if id, _, res, errMsg := decode(t, h.recv()); id != "2" || errMsg != "" || !strings.Contains(string(res["tools"]), "echo") {
		t.Errorf("tools/list after the sign-in: id %s, error %q, result %v", id, errMsg, res)
	}
}
