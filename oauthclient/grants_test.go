package oauthclient_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// TestClientCredentials signs a machine in with each client authentication
// method: no browser, a token for the resource.
func TestClientCredentials(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name   string
		client oauthtest.Client
		edit   func(*oauthclient.Config)
	}{
		{"client_secret_basic", oauthtest.Client{ID: "m1", Secret: "s1", AuthMethod: oauthtest.AuthClientSecretBasic},
			func(c *oauthclient.Config) { c.ClientSecret = "s1" }},
		{"client_secret_post", oauthtest.Client{ID: "m1", Secret: "s1", AuthMethod: oauthtest.AuthClientSecretPost},
			func(c *oauthclient.Config) { c.ClientSecret = "s1" }},
		{"private_key_jwt RS256", oauthtest.Client{ID: "m1", PublicKey: &rsaKey.PublicKey},
			func(c *oauthclient.Config) { c.PrivateKey = rsaKey }},
		{"private_key_jwt ES256", oauthtest.Client{ID: "m1", PublicKey: &ecKey.PublicKey},
			func(c *oauthclient.Config) { c.PrivateKey = ecKey }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			methods := []string{tt.client.AuthMethod}
			if tt.client.AuthMethod == "" {
				methods = []string{oauthtest.AuthPrivateKeyJWT}
			}
			e := setup(t, &oauthtest.ASOptions{Clients: []oauthtest.Client{tt.client}, TokenEndpointAuthMethods: methods}, nil)
			e.forbidBrowser(t)
			h := e.handler(t, func(c *oauthclient.Config) {
				c.ClientID, c.ClientCredentials = "m1", true
				tt.edit(c)
			})
			s, err := e.connect(t.Context(), h)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := echo(t.Context(), s, "machine"); err != nil {
				t.Fatal(err)
			}
			if st := e.demo.AuthServer.Stats(); st.TokenRequests["client_credentials"] != 1 || st.AuthorizationRequests != 0 {
				t.Errorf("stats %+v: want one client_credentials token request and no authorization request", st)
			}
		})
	}
}

// TestDeviceGrant signs in with a code entered "on another device": the
// login command prints the page and the code, the user approves it, and
// the command ends signed in.
func TestDeviceGrant(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{DevicePollInterval: 1}, nil)
	e.forbidBrowser(t)
	pr, pw := io.Pipe()
	h := e.handler(t, func(c *oauthclient.Config) { c.Login, c.Prompt = oauthclient.LoginDevice, pw })
	done := make(chan error, 1)
	go func() { done <- h.Login(t.Context()); pw.Close() }()

	prompt := readUntil(t, pr, regexp.MustCompile(`enter the code\s+(\S+)`))
	if err := e.demo.AuthServer.ApproveDevice(prompt[1]); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := h.Credentials(t.Context()); c == nil || c.AccessToken == "" || c.Resource != e.demo.URL {
		t.Fatalf("credentials after the device grant = %+v", c)
	}
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestDeviceGrantFromHost: a host-launched bridge with --login=device
// answers the request at once with the page and the code, and polls on.
func TestDeviceGrantFromHost(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{DevicePollInterval: 1}, nil)
	h := e.handler(t, func(c *oauthclient.Config) { c.Login = oauthclient.LoginDevice })
	_, err := e.connect(t.Context(), h)
	var lre *oauthclient.LoginRequiredError
	if !errors.As(err, &lre) || lre.Code == "" || lre.URL == "" {
		t.Fatalf("err = %v, want the page and the code to enter", err)
	}
	if err := e.demo.AuthServer.ApproveDevice(lre.Code); err != nil {
		t.Fatal(err)
	}
	// The user retries once they have entered the code: the polling
	// sign-in is joined, then the call goes through.
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestPaste signs in by pasting the URL the browser was redirected to.
func TestPaste(t *testing.T) {
	e := setup(t, nil, nil)
	e.forbidBrowser(t)
	pr, pw := io.Pipe()
	ir, iw := io.Pipe()
	h := e.handler(t, func(c *oauthclient.Config) { c.Login, c.Prompt, c.Input = oauthclient.LoginPaste, pw, ir })
	done := make(chan error, 1)
	go func() { done <- h.Login(t.Context()); pw.Close() }()

	m := readUntil(t, pr, regexp.MustCompile(`\n  (http\S+)\n`))
	go io.Copy(io.Discard, pr)
	redirect, err := e.demo.AuthServer.Consent(t.Context(), m[1], true)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(iw, "\n  %s  \n", redirect) // as pasted, with stray spaces
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := h.Credentials(t.Context()); c == nil || c.AccessToken == "" {
		t.Fatal("no token after the paste sign-in")
	}
}

// TestPasteFromHost: the paste mode needs a terminal; a host-launched
// bridge says which command to run.
func TestPasteFromHost(t *testing.T) {
	e := setup(t, nil, nil)
	e.forbidBrowser(t)
	h := e.handler(t, func(c *oauthclient.Config) { c.Login, c.LoginCommand = oauthclient.LoginPaste, "mcp-bridge login demo" })
	_, err := e.connect(t.Context(), h)
	if err == nil || !strings.Contains(err.Error(), "`mcp-bridge login demo --login=paste`") {
		t.Fatalf("err = %v, want the login command with --login=paste", err)
	}
}

// TestLegacyServer signs in to a 2025-03-26 server: no resource metadata,
// the server's origin as the authorization server.
func TestLegacyServer(t *testing.T) {
	c := oauthtest.NewClock()
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{Legacy: true, AuthServer: &oauthtest.ASOptions{Now: c.Now}})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	e := &env{demo: demo, browser: newBrowser(t, demo.AuthServer), store: &oauthclient.MemoryStore{}, clock: c}
	s, err := e.connect(t.Context(), e.handler(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if e.opens() != 1 {
		t.Errorf("browser opened %d times, want 1", e.opens())
	}
}

// TestNoResource: an authorization server that rejects the resource
// parameter (as Entra v2 does) refuses the sign-in with the reason, and
// --no-resource gets through.
func TestNoResource(t *testing.T) {
	legacy := func() *env {
		c := oauthtest.NewClock()
		demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{Legacy: true,
			AuthServer: &oauthtest.ASOptions{RejectResource: true, Now: c.Now}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(demo.Close)
		return &env{demo: demo, browser: newBrowser(t, demo.AuthServer), store: &oauthclient.MemoryStore{}, clock: c}
	}
	e := legacy()
	_, err := e.connect(t.Context(), e.handler(t, func(c *oauthclient.Config) { c.LoginTimeout = 2 * time.Second }))
	if err == nil {
		t.Fatal("signed in with a resource the authorization server rejects")
	}
	e = legacy()
	s, err := e.connect(t.Context(), e.handler(t, func(c *oauthclient.Config) { c.NoResource = true }))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestForgottenClientRegistersAgain: when the authorization server no
// longer knows the dynamically registered client, the next sign-in
// registers anew instead of failing for good.
func TestForgottenClientRegistersAgain(t *testing.T) {
	e := setup(t, nil, nil)
	h := e.handler(t, nil)
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	c := h.Credentials(t.Context())
	e.demo.AuthServer.ForgetClient(c.Client.ID)
	// The token is gone with the client: the next start's first request
	// gets a 401; the refresh is refused with invalid_client; a new
	// registration and sign-in follow.
	s, err = e.connect(t.Context(), e.handler(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if st := e.demo.AuthServer.Stats(); st.Registrations != 2 {
		t.Errorf("%d registrations, want 2", st.Registrations)
	}
}

// readUntil reads r until re matches what was read, and returns the match.
func readUntil(t *testing.T, r io.Reader, re *regexp.Regexp) []string {
	t.Helper()
	var got []byte
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if m := re.FindStringSubmatch(string(got)); m != nil {
			return m
		}
		if err != nil {
			t.Fatalf("read %q, then %v; want a match for %s", got, err, re)
		}
	}
}
