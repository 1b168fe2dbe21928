package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestDoctorRedirectKeepsBearer pins issue 11, "doctor sends the stored
// bearer across a redirect", through the real binary: after a sign-in,
// the server redirects the MCP endpoint to another port. doctor's probe
// with the stored token follows a 302 without the token, and refuses a
// 307, which would resend the POST and its body; the other origin never
// sees the bearer. (The relay's rule, TestRedirectKeepsCredentialsOnOrigin.)
func TestDoctorRedirectKeepsBearer(t *testing.T) {
	var mu sync.Mutex
	var seen []string // Authorization headers the other origin received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "not here", http.StatusNotFound)
	}))
	defer other.Close()

	// A front server, the MCP URL the user gives, passes everything to the
	// demo until redirect is set.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front := "http://" + ln.Addr().String() + "/mcp"
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{ResourceOf: func(string) string { return front }})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	target, _ := url.Parse(demo.URL)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	var redirect atomic.Int32 // the status to redirect /mcp with, or 0
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := int(redirect.Load()); s != 0 && r.URL.Path == "/mcp" && r.Header.Get("Authorization") != "" {
			http.Redirect(w, r, other.URL+"/mcp", s)
			return
		}
		proxy.ServeHTTP(w, r)
	})}}
	srv.Start()
	defer srv.Close()

	home := t.TempDir()
	if _, stderr, code := runBinary(t, home, "login", front, "--token-store", "file", "--browser-command", approver()); code != exitOK {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	for _, tt := range []struct {
		status int
		want   string
	}{
		{http.StatusFound, ""},
		{http.StatusTemporaryRedirect, "refusing to resend a POST to another origin"},
	} {
		redirect.Store(int32(tt.status))
		stdout, stderr, _ := runBinary(t, home, "doctor", front, "--token-store", "file")
		if tt.want != "" && !strings.Contains(stdout, tt.want) {
			t.Errorf("doctor after a %d: want %q\n%s%s", tt.status, tt.want, stdout, stderr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("the other origin got no request: the redirect was not followed at all")
	}
	for _, a := range seen {
		if a != "" {
			t.Errorf("the other origin received Authorization %q", a)
		}
	}
}
