package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// fakeOAuth is an [auth.OAuthHandler] that counts its calls: each
// Authorize hands out the next token, "token-1", "token-2", ...
type fakeOAuth struct {
	fail error // what Authorize returns, if not nil

	mu         sync.Mutex
	authorized []string // the WWW-Authenticate of each Authorize call
	token      string
}

func (f *fakeOAuth) TokenSource(context.Context) (oauth2.TokenSource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.token == "" {
		return nil, nil
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: f.token, TokenType: "Bearer"}), nil
}

func (f *fakeOAuth) Authorize(_ context.Context, _ *http.Request, resp *http.Response) error {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authorized = append(f.authorized, resp.Header.Get("WWW-Authenticate"))
	if f.fail != nil {
		return f.fail
	}
	f.token = fmt.Sprint("token-", len(f.authorized))
	return nil
}

func (f *fakeOAuth) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.authorized...)
}

// An answer is how the server answers one tools/call.
type answer struct {
	status int    // 0: 200 with a result
	auth   string // WWW-Authenticate
}

// authServer is a [pingServer] that answers tools/call with answers in
// turn, then with a result; it records the Authorization header of each
// tools/call.
type authServer struct {
	*httptest.Server
	mu      sync.Mutex
	answers []answer    // guarded by mu
	bearers chan string // the Authorization header of each tools/call
}

func newAuthServer(t *testing.T, answers []answer) *authServer {
	s := &authServer{answers: answers, bearers: make(chan string, 10)}
	next := newPingServer(t).Config.Handler
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if m, err := ParseMessage(body); err == nil && m.Method == "tools/call" {
			s.bearers <- r.Header.Get("Authorization")
			s.mu.Lock()
			a := answer{}
			if len(s.answers) > 0 {
				a, s.answers = s.answers[0], s.answers[1:]
			}
			s.mu.Unlock()
			if a.status != 0 {
				w.Header().Set("WWW-Authenticate", a.auth)
				http.Error(w, http.StatusText(a.status), a.status)
				return
			}
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// seen returns the Authorization headers of the tools/calls so far.
func (s *authServer) seen() []string {
	var got []string
	for len(s.bearers) > 0 {
		got = append(got, <-s.bearers)
	}
	return got
}

// TestAuthorization drives the relay's authorization rules with a fake
// handler: a 401 runs one authorization and one retry, with the new token;
// a second 401 does not run a second; a failed authorization is the host's
// error, with no retry; a 403 insufficient_scope is a step-up, authorized
// like a 401; any other 403 reaches the host as an error, with no
// authorization.
func TestAuthorization(t *testing.T) {
	const (
		challenge = `Bearer resource_metadata="https://example.com/.well-known/oauth-protected-resource"`
		stepUp    = `Bearer error="insufficient_scope", scope="admin"`
	)
	tests := []struct {
		name       string
		answers    []answer
		authorized []string // WWW-Authenticate of each Authorize call
		bearers    []string // Authorization of each tools/call
		ok         bool     // the host gets a result
		status     string   // else what its error says
		fail       error    // what Authorize returns
	}{
		{name: "no challenge", answers: nil, bearers: []string{""}, ok: true},
		{name: "401, then authorized", answers: []answer{{401, challenge}},
			authorized: []string{challenge}, bearers: []string{"", "Bearer token-1"}, ok: true},
		{name: "401 twice", answers: []answer{{401, challenge}, {401, challenge}},
			authorized: []string{challenge}, bearers: []string{"", "Bearer token-1"}, status: "401"},
		{name: "401, and the sign-in fails", answers: []answer{{401, challenge}}, fail: errors.New("the user closed the tab"),
			authorized: []string{challenge}, bearers: []string{""}, status: "the user closed the tab"},
		{name: "403 insufficient_scope, then stepped up", answers: []answer{{403, stepUp}},
			authorized: []string{stepUp}, bearers: []string{"", "Bearer token-1"}, ok: true},
		{name: "403 for another reason", answers: []answer{{403, `Bearer error="invalid_token"`}},
			bearers: []string{""}, status: "403"},
		{name: "403 without a challenge", answers: []answer{{403, ""}}, bearers: []string{""}, status: "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAuthServer(t, tt.answers)
			oauth := &fakeOAuth{fail: tt.fail}
			h := runRelay(t, &Config{URL: srv.URL + "/mcp", Transport: TransportStreamable, OAuthHandler: oauth})
			h.initialize()
			h.send(`{"jsonrpc":"2.0","id":"call","method":"tools/call","params":{"name":"x"}}`)
			got := h.recv()
			if isResult := strings.Contains(got, `"result"`); isResult != tt.ok || !strings.Contains(got, `"id":"call"`) {
				t.Errorf("the host got %s; want a result: %v", got, tt.ok)
			}
			if !tt.ok && !strings.Contains(got, tt.status) {
				t.Errorf("the host's error %s does not say %q", got, tt.status)
			}
			if diff := cmp.Diff(tt.authorized, oauth.calls()); diff != "" {
				t.Errorf("Authorize calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.bearers, srv.seen()); diff != "" {
				t.Errorf("tools/call requests' Authorization (-want +got):\n%s", diff)
			}
		})
	}
}
