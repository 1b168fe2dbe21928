package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// pageSignIn is a PendingSignIn whose sign-in the test ends.
type pageSignIn struct {
	done chan struct{}
	err  error
}

func (p *pageSignIn) Error() string { return "sign-in required: open https://as.example/authorize?x=1" }
func (p *pageSignIn) Elsewhere() (string, string) {
	return "https://as.example/authorize?x=1", "Sign in to the server to continue."
}
func (p *pageSignIn) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pageHandler is an OAuthHandler whose sign-in waits at a page: Authorize
// returns the pending sign-in until it is over.
type pageHandler struct {
	mu      sync.Mutex
	token   string
	pending *pageSignIn
}

func (h *pageHandler) TokenSource(context.Context) (oauth2.TokenSource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.token == "" {
		return nil, nil
	}
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token}), nil
}

func (h *pageHandler) Authorize(context.Context, *http.Request, *http.Response) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.token != "" {
		return nil
	}
	return h.pending
}

func (h *pageHandler) finish() {
	h.mu.Lock()
	h.token = "t1"
	h.mu.Unlock()
	close(h.pending.done)
}

// TestSignInAtHost: a host that declares URL-mode elicitation is asked to
// show the page where the sign-in waits; once signed in it is told the
// elicitation is complete, and its call is answered. A host that declares
// none gets the sign-in's error.
func TestSignInAtHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m, err := ParseMessage(body)
		switch {
		case err != nil || r.Method != http.MethodPost || m.IsNotification():
			w.WriteHeader(http.StatusAccepted)
		case m.Method == "server/discover": // a 2025 server that lets anyone connect
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}`, m.ID)
		case m.Method == "initialize":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{}}}`, m.ID)
		case r.Header.Get("Authorization") != "Bearer t1":
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="https://x/.well-known/oauth-protected-resource"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[]}}`, m.ID)
		}
	}))
	defer srv.Close()
	for _, url := range []bool{true, false} {
		t.Run(fmt.Sprintf("url=%v", url), func(t *testing.T) {
			oauth := &pageHandler{pending: &pageSignIn{done: make(chan struct{})}}
			h := runRelay(t, &Config{URL: srv.URL, OAuthHandler: oauth})
			caps := `{}`
			if url {
				caps = `{"elicitation":{"url":{}}}`
			}
			h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":` + caps + `,"clientInfo":{"name":"t","version":"1"}}}`)
			if l := h.recv(); !strings.Contains(l, `"result"`) {
				t.Fatalf("initialize: %s", l)
			}
			h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`)
			l := h.recv()
			if !url {
				if !strings.Contains(l, `"id":1`) || !strings.Contains(l, "https://as.example/authorize") || !strings.Contains(l, `"error"`) {
					t.Errorf("a host without URL elicitation got %s, want the sign-in's error", l)
				}
				return
			}
			var ask struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params struct {
					Mode, URL, ElicitationID string
				} `json:"params"`
			}
			json.Unmarshal([]byte(l), &ask)
			if ask.Method != "elicitation/create" || ask.Params.Mode != "url" || ask.Params.URL != "https://as.example/authorize?x=1" || ask.Params.ElicitationID == "" {
				t.Fatalf("want the sign-in page as a URL elicitation, got %s", l)
			}
			h.send(`{"jsonrpc":"2.0","id":` + string(ask.ID) + `,"result":{"action":"accept"}}`)
			oauth.finish()
			if l := h.recv(); !strings.Contains(l, `"notifications/elicitation/complete"`) || !strings.Contains(l, ask.Params.ElicitationID) {
				t.Errorf("after the sign-in: %s, want the elicitation completed", l)
			}
			if l := h.recv(); !strings.Contains(l, `"id":1`) || !strings.Contains(l, `"result"`) {
				t.Errorf("the call after the sign-in: %s", l)
			}
		})
	}
}

// TestInitializeFromCacheURLHost: after an initialize answered from the
// cache, a host that declares URL-mode elicitation is shown the sign-in
// page rather than an error: at once when no browser opened, after
// [Config.SignInWait] when one did. Once signed in it is told the
// elicitation is complete, and its request is answered with the server's
// session set up. Before, the host got the sign-in's error.
func TestInitializeFromCacheURLHost(t *testing.T) {
	for _, notice := range []bool{true, false} {
		t.Run(map[bool]string{true: "no browser", false: "browser"}[notice], func(t *testing.T) {
			srv := newSignInServer(t)
			oauth := &slowSignIn{done: make(chan struct{}), notice: notice}
			h, _ := signInRelay(t, srv, oauth, strings.Replace(cachedInitRes, "2025-06-18", "2025-11-25", 1))
			h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"url":{}}},"clientInfo":{"name":"t","version":"1"}}}`)
			if id, _, _, errMsg := decode(t, h.recv()); id != "0" || errMsg != "" {
				t.Fatalf("initialize: id %s, error %q", id, errMsg)
			}
			h.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
			l := h.recv()
			var ask struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params struct{ Mode, URL, ElicitationID string }
			}
			json.Unmarshal([]byte(l), &ask)
			if ask.Method != "elicitation/create" || ask.Params.Mode != "url" || ask.Params.URL != "https://as.example/authorize?x=1" {
				t.Fatalf("tools/list while signing in: %s, want the sign-in page as a URL elicitation", l)
			}
			h.send(`{"jsonrpc":"2.0","id":` + string(ask.ID) + `,"result":{"action":"accept"}}`)
			close(oauth.done)
			completed := false
			for {
				id, method, res, errMsg := decode(t, h.recv())
				if method == "notifications/elicitation/complete" {
					completed = true
					continue
				}
				if id == "" {
					continue // list_changed
				}
				if id != "1" || errMsg != "" || !strings.Contains(string(res["tools"]), "echo") || !completed {
					t.Errorf("tools/list after the sign-in: id %s, error %q, result %v, elicitation completed before: %v", id, errMsg, res, completed)
				}
				break
			}
			if methods, inits := srv.seen(); len(inits) != 1 || !slices.Contains(methods, "tools/list") {
				t.Errorf("the server got %q, want one initialize and the tools/list", methods)
			}
		})
	}
}

// TestResumeSignIn: while a sign-in is parked for a 2026 host's retry,
// a retry with the server's own requestState goes on as it is, and the
// bridge's goes without its requestState and inputResponses once the
// sign-in is over, once only.
func TestResumeSignIn(t *testing.T) {
	r := &Relay{log: slog.New(slog.DiscardHandler)}
	p := &pageSignIn{done: make(chan struct{})}
	s := r.parkSignIn(p, p, "https://as.example/authorize?x=1", "Sign in.").(*signInInput)
	retry := func(state string) *Message {
		m, err := ParseMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t","inputResponses":{%q:{"action":"accept"}},"requestState":%q}}`, signInInputKey, state))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	server := retry("the server's")
	if got, err := r.resumeSignIn(t.Context(), server); got != server || err != nil {
		t.Errorf("a retry with the server's requestState: %v, %v; want it as it is", got, err)
	}
	close(p.done)
	got, err := r.resumeSignIn(t.Context(), retry(s.state))
	if err != nil || string(got.ID) != "7" || string(got.Params()) != `{"name":"t"}` {
		t.Fatalf("the bridge's retry: %v, %v; want the request without the two members", got, err)
	}
	again := retry(s.state)
	if got, err := r.resumeSignIn(t.Context(), again); got != again || err != nil {
		t.Errorf("the bridge's requestState a second time: %v, %v; want it passed on, unknown", got, err)
	}
}
