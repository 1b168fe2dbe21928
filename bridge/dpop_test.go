package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// fakeDPoP is a [DPoPSigner] whose token is DPoP-bound: its proofs name
// the method, the URL and the nonce they were made with.
type fakeDPoP struct {
	fakeOAuth
	nmu    sync.Mutex
	nonces []string // observed, in order
}

func (f *fakeDPoP) TokenSource(context.Context) (oauth2.TokenSource, error) {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "bound", TokenType: "DPoP"}), nil
}

func (f *fakeDPoP) DPoPProof(method string, u *url.URL, token string) (string, error) {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	nonce := ""
	if len(f.nonces) > 0 {
		nonce = f.nonces[len(f.nonces)-1]
	}
	return fmt.Sprintf("%s %s %s nonce=%s", method, u, token, nonce), nil
}

func (f *fakeDPoP) ObserveDPoPNonce(u *url.URL, nonce string) {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	f.nonces = append(f.nonces, nonce)
}

// TestDPoPRelay: a DPoP-bound token goes out as Authorization: DPoP with
// a fresh proof on every request; a 401 use_dpop_nonce challenge is
// answered by one retry whose proof has the nonce, with no sign-in; the
// nonce of any answer is handed on.
func TestDPoPRelay(t *testing.T) {
	type seenReq struct{ Auth, Proof string }
	var mu sync.Mutex
	var seen []seenReq
	asked := false
	next := newPingServer(t).Config.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if m, err := ParseMessage(body); err == nil && m.Method == "tools/call" {
			mu.Lock()
			seen = append(seen, seenReq{r.Header.Get("Authorization"), r.Header.Get("DPoP")})
			first := !asked
			asked = true
			mu.Unlock()
			if first {
				w.Header().Set("DPoP-Nonce", "n-1")
				w.Header().Set("WWW-Authenticate", `DPoP algs="ES256", error="use_dpop_nonce", error_description="nonce required"`)
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
			w.Header().Set("DPoP-Nonce", "n-2")
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	oauth := &fakeDPoP{}
	h := runRelay(t, &Config{URL: srv.URL + "/mcp?x=1", Transport: TransportStreamable, OAuthHandler: oauth})
	h.initialize()
	h.send(`{"jsonrpc":"2.0","id":"call","method":"tools/call","params":{"name":"x"}}`)
	if got := h.recv(); !strings.Contains(got, `"result"`) {
		t.Fatalf("the host got %s, want a result", got)
	}
	u := srv.URL + "/mcp?x=1"
	want := []seenReq{
		{"DPoP bound", "POST " + u + " bound nonce="},
		{"DPoP bound", "POST " + u + " bound nonce=n-1"},
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("tools/call requests (-want +got):\n%s", diff)
	}
	if calls := oauth.calls(); len(calls) != 0 {
		t.Errorf("Authorize was called: %q", calls)
	}
	oauth.nmu.Lock()
	defer oauth.nmu.Unlock()
	if n := oauth.nonces; len(n) < 2 || n[0] != "n-1" || n[1] != "n-2" {
		t.Errorf("nonces observed %q, want n-1, n-2", n)
	}
}
