package oauthclient_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// These tests pin the 2026-07-28 authorization rules that hold in every
// protocol era: client credentials bound to the authorization server that
// issued them (basic/authorization/client-registration, "Authorization
// Server Binding", SEP-2352), the registration order, application_type in
// dynamic registration (SEP-837) and the exact issuer of the metadata
// (authorization-server-discovery, SEP-2468).

// moving is a protected demo server whose protected resource metadata names
// one authorization server, then another: it takes only the tokens of the
// one it names now.
type moving struct {
	*env
	as2     *oauthtest.AuthServer
	log1    oauthtest.EventLog
	log2    oauthtest.EventLog
	current atomic.Pointer[oauthtest.AuthServer]
}

func setupMoving(t *testing.T, as *oauthtest.ASOptions) *moving {
	t.Helper()
	m := &moving{}
	c := oauthtest.NewClock()
	opts1, opts2 := *as, *as
	opts1.Now, opts2.Now = c.Now, c.Now
	opts1.AutoApprove, opts2.AutoApprove = true, true
	opts1.OnEvent, opts2.OnEvent = m.log1.Record, m.log2.Record
	as2, err := oauthtest.StartAuthServer(t.Context(), &opts2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(as2.Close)
	m.as2 = as2
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{
		AuthServer: &opts1,
		Resource: &oauthtest.ResourceOptions{
			CurrentAuthorizationServers: func() []string { return []string{m.current.Load().Issuer()} },
			Verifier: func(ctx context.Context, token string, r *http.Request) (*auth.TokenInfo, error) {
				return m.current.Load().Verify(ctx, token, r)
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	m.current.Store(demo.AuthServer)
	m.env = &env{demo: demo, store: &oauthclient.MemoryStore{}, clock: c}
	return m
}

// move makes the server name its second authorization server.
func (m *moving) move() { m.current.Store(m.as2) }

// handler returns a Handler whose browser follows the auto-approved
// authorization redirect, whichever server it comes from.
func (m *moving) handler(t *testing.T, edit func(*oauthclient.Config)) *oauthclient.Handler {
	t.Helper()
	return m.env.handler(t, func(c *oauthclient.Config) {
		c.OpenURL = func(_ context.Context, u string) error {
			go func() {
				resp, err := http.Get(u)
				if err != nil {
					t.Errorf("browser: %v", err)
					return
				}
				resp.Body.Close()
			}()
			return nil
		}
		if edit != nil {
			edit(c)
		}
	})
}

// signIn connects with h and makes a call, signing in at the first
// authorization server; the session closes with the test.
func (m *moving) signIn(t *testing.T, h *oauthclient.Handler) *mcp.ClientSession {
	t.Helper()
	s, err := m.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := echo(t.Context(), s, "at the first"); err != nil {
		t.Fatal(err)
	}
	return s
}

// clientsSeen lists the client IDs an authorization server saw at its
// authorization and token endpoints.
func clientsSeen(log *oauthtest.EventLog) []string {
	var ids []string
	for _, e := range log.All() {
		if (e.Kind == oauthtest.EventAuthorizationRequest || e.Kind == oauthtest.EventTokenIssued || e.Kind == oauthtest.EventRejected) &&
			e.ClientID != "" && !slices.Contains(ids, e.ClientID) {
			ids = append(ids, e.ClientID)
		}
	}
	return ids
}

// TestAuthorizationServerMigration (conformance auth/authorization-server-
// migration): the server moves to another authorization server while the
// bridge holds a token from the first. The refused token leads to the new
// server's metadata; the bridge registers there anew and signs in, and the
// first server's client never reaches the second. Before the binding, the
// bridge refreshed at the first server, sent the refreshed token, and gave
// up: "the server refused the token issued moments ago".
func TestAuthorizationServerMigration(t *testing.T) {
	m := setupMoving(t, &oauthtest.ASOptions{NoCIMD: true})
	h := m.handler(t, nil)
	ctx := t.Context()
	s := m.signIn(t, h)
	first := h.Credentials(ctx)
	m.move()
	if err := echo(ctx, s, "at the second"); err != nil {
		t.Fatalf("after the move: %v", err)
	}
	if n := len(m.log2.Of(oauthtest.EventRegistered)); n != 1 {
		t.Errorf("%d registrations at the new authorization server, want 1", n)
	}
	if seen := clientsSeen(&m.log2); slices.Contains(seen, first.Client.ID) {
		t.Errorf("the new authorization server saw the first one's client %s (it saw %q)", first.Client.ID, seen)
	}
	c := h.Credentials(ctx)
	if c.Issuer != m.as2.Issuer() || c.Client.ID == first.Client.ID || !strings.HasPrefix(c.TokenEndpoint, m.as2.Issuer()) {
		t.Errorf("credentials after the move: issuer %s, client %s, token endpoint %s; want the new server's", c.Issuer, c.Client.ID, c.TokenEndpoint)
	}
}

// TestPreregisteredBoundToIssuer: a pre-registered client belongs to the
// authorization server it was registered at. When the server names
// another, the bridge says so, naming both, and sends the client's secret
// nowhere new (client-registration, "Authorization Server Binding": SHOULD
// surface an error). Both paths: a refused token, and the next start with
// only the registration stored.
func TestPreregisteredBoundToIssuer(t *testing.T) {
	pre := oauthtest.Client{ID: "pre", Secret: "pre-secret", RedirectURIs: []string{"http://127.0.0.1/callback"}}
	m := setupMoving(t, &oauthtest.ASOptions{Clients: []oauthtest.Client{pre}, NoDCR: true, NoCIMD: true, NoRefreshTokens: true})
	preregistered := func(c *oauthclient.Config) { c.ClientID, c.ClientSecret = pre.ID, pre.Secret }
	h := m.handler(t, preregistered)
	ctx := t.Context()
	s := m.signIn(t, h)
	m.move()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, oauthclient.ErrAuthorizationServerChanged) ||
			!strings.Contains(err.Error(), m.demo.AuthServer.Issuer()) || !strings.Contains(err.Error(), m.as2.Issuer()) {
			t.Errorf("%s: err = %v, want ErrAuthorizationServerChanged naming both issuers", what, err)
		}
		if seen := clientsSeen(&m.log2); len(seen) != 0 {
			t.Errorf("%s: the new authorization server saw clients %q, want none", what, seen)
		}
	}
	check("refused token", echo(ctx, s, "at the second"))

	// The next start: the registration is stored, its token gone.
	c := h.Credentials(ctx)
	c.AccessToken = ""
	if err := m.store.Save(ctx, h.Key(), c); err != nil {
		t.Fatal(err)
	}
	_, err := m.connect(ctx, m.handler(t, preregistered))
	check("next start", err)
}

// TestPreregisteredBeforeMetadataDocument: with both a pre-registered
// client and a Client ID Metadata Document, the pre-registered client
// comes first (client-registration: "Use pre-registered client information
// for the server if the client has it available"), even where the
// authorization server takes metadata documents.
func TestPreregisteredBeforeMetadataDocument(t *testing.T) {
	var log oauthtest.EventLog
	e := setup(t, &oauthtest.ASOptions{
		Clients: []oauthtest.Client{{ID: "pre", RedirectURIs: []string{"http://127.0.0.1/callback"}}},
		OnEvent: log.Record,
		// Tests reach nothing beyond loopback: a fetch of the document fails.
		HTTPClient: &http.Client{Transport: failingTransport{}},
	}, nil)
	h := e.handler(t, func(c *oauthclient.Config) {
		c.ClientID = "pre"
		c.ClientMetadataURL = "https://client.example.com/mcp-bridge.json"
		c.LoginTimeout = 5 * time.Second
	})
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if seen := clientsSeen(&log); !slices.Equal(seen, []string{"pre"}) {
		t.Errorf("clients seen by the authorization server: %q, want only the pre-registered one", seen)
	}
	if n := e.demo.AuthServer.Stats().MetadataDocumentFetches; n != 0 {
		t.Errorf("%d metadata document fetches, want none", n)
	}
}

// TestRegistrationIsNative: a dynamic registration says application_type
// "native" (client-registration, "Application Type and Redirect URI
// Constraints": MUST specify one; a loopback client SHOULD say native).
func TestRegistrationIsNative(t *testing.T) {
	var log oauthtest.EventLog
	e := setup(t, &oauthtest.ASOptions{NoCIMD: true, OnEvent: log.Record}, nil)
	s, err := e.connect(t.Context(), e.handler(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	regs := log.Of(oauthtest.EventRegistered)
	if len(regs) != 1 || regs[0].ApplicationType != "native" {
		t.Errorf("registrations %v, want one with application_type native", regs)
	}
}

// TestMetadataIssuerExact: the metadata's issuer must be the very issuer
// its well-known URL was built from (authorization-server-discovery,
// "Authorization Server Metadata Discovery"; RFC 8414 section 3.3), so one
// with a trailing slash added is refused too, before any browser opens.
func TestMetadataIssuerExact(t *testing.T) {
	var issuer atomic.Value
	e := setup(t, &oauthtest.ASOptions{EditMetadata: func(m map[string]any) { m["issuer"] = issuer.Load().(string) + "/" }}, nil)
	issuer.Store(e.demo.AuthServer.Issuer())
	h := e.handler(t, func(c *oauthclient.Config) { c.LoginTimeout = 2 * time.Second })
	_, err := e.connect(t.Context(), h)
	if err == nil || !strings.Contains(err.Error(), "states issuer") {
		t.Errorf("err = %v, want the issuer refused", err)
	}
	if n := e.opens(); n != 0 {
		t.Errorf("the browser opened %d times, want 0", n)
	}
}

// failingTransport fails every request without touching the network.
type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("no network in this test: " + r.URL.Host)
}

// TestConfiguredClientIssuer: a client configured with its issuer is used
// only there, from the very first sign-in. With the client credentials
// grant, which needs no user, a server naming another authorization server
// would otherwise get the secret as HTTP Basic at once (issue 11).
func TestConfiguredClientIssuer(t *testing.T) {
	const id, secret = "m2m", "m2m-secret-value"
	e := setup(t, &oauthtest.ASOptions{
		Clients:                  []oauthtest.Client{{ID: id, Secret: secret, AuthMethod: oauthtest.AuthClientSecretBasic}},
		TokenEndpointAuthMethods: []string{oauthtest.AuthClientSecretBasic},
	}, nil)
	e.forbidBrowser(t)
	machine := func(issuer string) func(*oauthclient.Config) {
		return func(c *oauthclient.Config) {
			c.ClientID, c.ClientSecret, c.ClientCredentials, c.ClientIssuer = id, secret, true, issuer
		}
	}
	_, err := e.connect(t.Context(), e.handler(t, machine("https://login.example.com")))
	if !errors.Is(err, oauthclient.ErrAuthorizationServerChanged) || !strings.Contains(err.Error(), "https://login.example.com") ||
		!strings.Contains(err.Error(), e.demo.AuthServer.Issuer()) {
		t.Errorf("err = %v, want ErrAuthorizationServerChanged naming both issuers", err)
	}
	if st := e.demo.AuthServer.Stats(); st.TokenRequests["client_credentials"] != 0 {
		t.Errorf("%d token requests reached the other authorization server, want none", st.TokenRequests["client_credentials"])
	}
	s, err := e.connect(t.Context(), e.handler(t, machine(e.demo.AuthServer.Issuer())))
	if err != nil {
		t.Fatalf("with the right issuer: %v", err)
	}
	s.Close()
}
