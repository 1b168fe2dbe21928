package oauthclient_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// These tests pin fixes from the authorization hardening review (issue
// 11) that live in oauthclient.

// TestBasicCredentialsRedacted: a token endpoint whose error quotes the
// request's Authorization header hands back the client's Basic
// credentials, base64 and all. Neither the error the host sees nor the
// log may carry them. Before the fix the base64 value, not being the
// secret itself nor behind an "Authorization:" label, went through.
func TestBasicCredentialsRedacted(t *testing.T) {
	const id, secret = "m2m", "wrong-secret-value"
	e := setup(t, &oauthtest.ASOptions{
		Clients:                       []oauthtest.Client{{ID: id, Secret: "right-secret-value", AuthMethod: oauthtest.AuthClientSecretBasic}},
		TokenEndpointAuthMethods:      []string{oauthtest.AuthClientSecretBasic},
		EchoAuthorizationOnTokenError: true,
	}, nil)
	e.forbidBrowser(t)
	var logs bytes.Buffer
	h := e.handler(t, func(c *oauthclient.Config) {
		c.ClientID, c.ClientSecret, c.ClientCredentials = id, secret, true
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err := e.connect(t.Context(), h)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("err = %v, want the token endpoint's invalid_client", err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
	for what, text := range map[string]string{"the error": err.Error(), "the log": logs.String()} {
		if strings.Contains(text, basic) || strings.Contains(text, secret) {
			t.Errorf("%s carries the client's credentials: %s", what, text)
		}
	}
}

// TestFailedSignInKeepsRegistration: a sign-in that fails (the user
// denies it) keeps the client it registered, and the next one reuses it:
// no orphaned registration per failed attempt (issue 11).
func TestFailedSignInKeepsRegistration(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{NoCIMD: true}, nil)
	e.browser.Deny(true)
	h := e.handler(t, nil)
	if _, err := e.connect(t.Context(), h); err == nil {
		t.Fatal("connected though the user denied the sign-in")
	}
	e.browser.Deny(false)
	s, err := e.connect(t.Context(), e.handler(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := e.demo.AuthServer.Stats(); st.Registrations != 1 || st.AuthorizationRequests != 2 {
		t.Errorf("%d registrations for %d sign-ins, want 1 for 2", st.Registrations, st.AuthorizationRequests)
	}
}

// TestHydraRegistration: Ory Hydra answers a dynamic registration with
// "jwks": {} and "contacts": null. The Go SDK's oauthex types jwks as a
// string, so its RegisterClient failed to parse the answer and every
// sign-in to Hydra failed (issue 11); the bridge reads only the members
// it uses.
func TestHydraRegistration(t *testing.T) {
	e := setup(t, &oauthtest.ASOptions{NoCIMD: true, HydraRegistrationAnswers: true}, nil)
	h := e.handler(t, nil)
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(t.Context(), s, "hydra"); err != nil {
		t.Fatal(err)
	}
	if c := h.Credentials(t.Context()); c.Client.Kind != oauthclient.KindDynamic || !strings.HasPrefix(c.Client.ID, "dcr-") {
		t.Errorf("client %s of kind %s, want the one Hydra registered", c.Client.ID, c.Client.Kind)
	}
}

// recordingTransport passes requests to loopback hosts on and fails the
// others without touching the network, noting every host asked for.
type recordingTransport struct {
	next  http.RoundTripper
	mu    sync.Mutex
	hosts []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.hosts = append(rt.hosts, r.URL.Host)
	rt.mu.Unlock()
	if h := r.URL.Hostname(); h != "127.0.0.1" && h != "localhost" {
		return nil, errors.New("no network in this test: " + r.URL.Host)
	}
	return rt.next.RoundTrip(r)
}

func (rt *recordingTransport) asked() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.hosts)
}

// TestMetadataRedirectChecked: the authorization server's metadata URL
// redirects to plain http on a link-local address (a cloud metadata
// service). The redirect is checked as the endpoint itself would be, and
// not followed; before, it was followed and its target quoted back to the
// host (issue 11).
func TestMetadataRedirectChecked(t *testing.T) {
	const target = "http://169.254.169.254/latest/meta-data/"
	e := setup(t, &oauthtest.ASOptions{RedirectMetadata: target}, nil)
	rt := &recordingTransport{next: e.demo.AuthServer.Client().Transport}
	h := e.handler(t, func(c *oauthclient.Config) {
		c.HTTPClient = &http.Client{Transport: rt}
		c.LoginTimeout = 5 * time.Second
	})
	_, err := e.connect(t.Context(), h)
	if err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("err = %v, want the redirect refused as plain http", err)
	}
	if asked := rt.asked(); slices.Contains(asked, "169.254.169.254") {
		t.Errorf("the redirect was followed: hosts asked %q", asked)
	}
	if n := e.opens(); n != 0 {
		t.Errorf("the browser opened %d times, want 0", n)
	}
}

// TestFetchTimeout: an authorization server that stalls on its metadata
// fails the sign-in after the per-fetch timeout, not after the whole
// sign-in's (issue 11: every OAuth fetch bounded on its own).
func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	e := setup(t, &oauthtest.ASOptions{BeforeMetadataResponse: func() { <-release }}, nil)
	t.Cleanup(func() { close(release) }) // before the servers close
	h := e.handler(t, func(c *oauthclient.Config) {
		c.FetchTimeout = 200 * time.Millisecond
		c.LoginTimeout = time.Minute
	})
	_, err := e.connect(t.Context(), h)
	if err == nil || !strings.Contains(err.Error(), "Client.Timeout") {
		t.Errorf("err = %v, want the metadata fetch's own timeout", err)
	}
}
