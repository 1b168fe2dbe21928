package oauthclient

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestRedirectKeepsBearer: doctor's probe with the stored token, redirected
// by the server to another port, must not carry the bearer there (issue 11:
// the relay did not, doctor did); a 307, which would resend the POST and
// its body, is refused outright.
func TestRedirectKeepsBearer(t *testing.T) {
	var mu sync.Mutex
	var seen []string // Authorization headers the other origin received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer other.Close()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusFound
		if strings.HasSuffix(r.URL.Path, "/307") {
			status = http.StatusTemporaryRedirect
		}
		http.Redirect(w, r, other.URL+"/elsewhere", status)
	}))
	defer server.Close()

	for _, tt := range []struct{ path, wantErr string }{{"/mcp", ""}, {"/mcp/307", "refusing to resend a POST"}} {
		h, err := New(&Config{ServerURL: server.URL + tt.path})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.probeResponse(t.Context(), "stored-bearer-value")
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.path, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err = %v, want %q", tt.path, err, tt.wantErr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "" {
		t.Errorf("the other origin got %d requests with Authorization %q; want one, without", len(seen), seen)
	}
}
