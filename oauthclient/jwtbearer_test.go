package oauthclient_test

import (
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

const workloadIss = "https://oidc.ci.example.com"

// workloadEnv is a protected demo server whose authorization server
// trusts wi's workload JWTs.
func workloadEnv(t *testing.T, as *oauthtest.ASOptions) (*env, *oauthtest.WorkloadIssuer) {
	t.Helper()
	wi := oauthtest.NewWorkloadIssuer(workloadIss)
	if as == nil {
		as = &oauthtest.ASOptions{}
	}
	if as.WorkloadIssuers == nil {
		as.WorkloadIssuers = map[string]crypto.PublicKey{workloadIss: wi.Public()}
	}
	e := setup(t, as, nil)
	wi.Now = e.clock.Now
	e.forbidBrowser(t)
	return e, wi
}

// writeAssertion writes jwt to a file in dir, replacing it as a platform
// that rotates it does (a new file renamed over the old).
func writeAssertion(t *testing.T, path, jwt string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(jwt+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestJWTBearer signs a workload in with its platform's JWT, from a file
// and from a command: one jwt-bearer token request with the resource, no
// registration, no browser, credentials under a key of their own.
func TestJWTBearer(t *testing.T) {
	for _, source := range []string{"file", "command"} {
		t.Run(source, func(t *testing.T) {
			e, wi := workloadEnv(t, nil)
			as := e.demo.AuthServer
			path := filepath.Join(t.TempDir(), "token")
			jwt := wi.Sign("system:serviceaccount:agents:router", as.TokenEndpoint(), 10*time.Minute)
			writeAssertion(t, path, jwt)
			w := &oauthclient.Workload{AssertionFile: path}
			if source == "command" {
				cat, err := exec.LookPath("cat")
				if err != nil {
					t.Skip("no cat to print the assertion")
				}
				w = &oauthclient.Workload{AssertionCommand: []string{cat, path}}
			}
			h := e.handler(t, func(c *oauthclient.Config) { c.Workload = w })
			s, err := e.connect(t.Context(), h)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := echo(t.Context(), s, "workload"); err != nil {
				t.Fatal(err)
			}
			st := as.Stats()
			if st.WorkloadGrants != 1 || st.TokenRequests[oauthtest.GrantJWTBearer] != 1 || st.Registrations != 0 || st.AuthorizationRequests != 0 {
				t.Errorf("stats %+v: want one jwt-bearer grant, no registration, no authorization request", st)
			}
			c, err := e.store.Load(t.Context(), h.Key())
			if err != nil {
				t.Fatal(err)
			}
			if c.Client.Kind != oauthclient.KindWorkload || c.Client.ID != "" || c.RefreshToken != "" || c.Resource != e.demo.URL {
				t.Errorf("stored credentials %+v: want a workload's, no client id, no refresh token, the resource", c)
			}
			info, err := as.Verify(t.Context(), c.AccessToken, nil)
			if err != nil || info.UserID != "system:serviceaccount:agents:router" {
				t.Errorf("the token: %+v, %v", info, err)
			}
			if raw, _ := json.Marshal(c); strings.Contains(string(raw), jwt) {
				t.Error("the stored credentials hold the assertion")
			}
			if user := oauthclient.StoreKey(e.demo.URL, e.demo.URL, "", ""); h.Key() == user {
				t.Error("the workload's credentials share the store key of a user's sign-in")
			}
		})
	}
}

// TestJWTBearerRenewal: a workload has no refresh token; a token about
// to expire is fetched again with the assertion read anew, so a rotated
// file's new JWT is the one presented.
func TestJWTBearerRenewal(t *testing.T) {
	e, wi := workloadEnv(t, &oauthtest.ASOptions{AccessTokenTTL: time.Minute})
	as := e.demo.AuthServer
	path := filepath.Join(t.TempDir(), "token")
	// The first JWT expires before the token does: only the rotated one
	// can renew it.
	writeAssertion(t, path, wi.Sign("pod", as.TokenEndpoint(), 30*time.Second))
	h := e.handler(t, func(c *oauthclient.Config) { c.Workload = &oauthclient.Workload{AssertionFile: path} })
	s, err := e.connect(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := echo(t.Context(), s, "one"); err != nil {
		t.Fatal(err)
	}
	first := h.Credentials(t.Context())

	// The platform rotates the file; the token nears its expiry.
	rotated := wi.Sign("pod", as.TokenEndpoint(), time.Hour)
	writeAssertion(t, path, rotated)
	e.clock.Advance(59 * time.Second)
	if err := echo(t.Context(), s, "two"); err != nil {
		t.Fatal(err)
	}
	second := h.Credentials(t.Context())
	if second.AccessToken == first.AccessToken {
		t.Fatal("the token about to expire was not renewed")
	}
	if _, err := as.Verify(t.Context(), second.AccessToken, nil); err != nil {
		t.Errorf("the renewed token: %v", err)
	}
	if st := as.Stats(); st.WorkloadGrants != 2 || st.Refreshes != 0 {
		t.Errorf("stats %+v: want two workload grants and no refresh", st)
	}
}

// TestJWTBearerRefused: an assertion the authorization server refuses is
// an error that names the cause and the file, after one token request:
// no retry, no other grant, no browser.
func TestJWTBearerRefused(t *testing.T) {
	other := oauthtest.NewWorkloadIssuer(workloadIss) // same issuer, another key
	untrusted := oauthtest.NewWorkloadIssuer("https://evil.example.com")
	tests := []struct {
		name string
		jwt  func(wi *oauthtest.WorkloadIssuer, tokenEndpoint string) string
		want string
	}{
		{"expired", func(wi *oauthtest.WorkloadIssuer, te string) string { return wi.Sign("pod", te, -time.Minute) }, "expired"},
		{"wrong audience", func(wi *oauthtest.WorkloadIssuer, te string) string {
			return wi.Sign("pod", "https://other.example.com/token", time.Hour)
		}, "audience"},
		{"wrong signature", func(_ *oauthtest.WorkloadIssuer, te string) string { return other.Sign("pod", te, time.Hour) }, "signature"},
		{"untrusted issuer", func(_ *oauthtest.WorkloadIssuer, te string) string { return untrusted.Sign("pod", te, time.Hour) }, "not trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, wi := workloadEnv(t, nil)
			as := e.demo.AuthServer
			path := filepath.Join(t.TempDir(), "token")
			writeAssertion(t, path, tt.jwt(wi, as.TokenEndpoint()))
			h := e.handler(t, func(c *oauthclient.Config) { c.Workload = &oauthclient.Workload{AssertionFile: path} })
			err := h.Login(t.Context())
			if !errors.Is(err, oauthclient.ErrAssertionRefused) {
				t.Fatalf("Login: %v; want ErrAssertionRefused", err)
			}
			for _, want := range []string{"invalid_grant", tt.want, path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error %q does not say %q", err, want)
				}
			}
			if st := as.Stats(); st.TokenRequests[oauthtest.GrantJWTBearer] != 1 || len(st.TokenRequests) != 1 || st.AuthorizationRequests != 0 {
				t.Errorf("stats %+v: want exactly one token request, a jwt-bearer one", st)
			}
			// Through a session too: the host gets the error, the server
			// gets no second request for the same answer.
			if s, err := e.connect(t.Context(), h); err == nil {
				s.Close()
				t.Fatal("connected with a refused assertion")
			} else if !strings.Contains(err.Error(), path) {
				t.Errorf("the session's error %q does not name the file", err)
			}
			if n := as.Stats().TokenRequests[oauthtest.GrantJWTBearer]; n != 2 {
				t.Errorf("%d jwt-bearer requests after a sign-in and a session; want 2", n)
			}
		})
	}
}

// TestJWTBearerUnusable: what is not a workload JWT, or no grant for it
// at the server, fails before any token request.
func TestJWTBearerUnusable(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("not a jwt at all\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	tests := []struct {
		name string
		as   *oauthtest.ASOptions
		w    *oauthclient.Workload
		want string
	}{
		{"missing file", nil, &oauthclient.Workload{AssertionFile: filepath.Join(dir, "none")}, "no such file"},
		{"empty file", nil, &oauthclient.Workload{AssertionFile: empty}, "is empty"},
		{"not a JWT", nil, &oauthclient.Workload{AssertionFile: garbage}, "does not hold a JWT"},
		{"failing command", nil, &oauthclient.Workload{AssertionCommand: []string{filepath.Join(dir, "no-such-command")}}, "the assertion command"},
		{"no jwt-bearer grant", &oauthtest.ASOptions{WorkloadIssuers: map[string]crypto.PublicKey{}}, &oauthclient.Workload{AssertionFile: garbage}, "does not support the jwt-bearer grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := workloadEnv(t, tt.as)
			h := e.handler(t, func(c *oauthclient.Config) { c.Workload = tt.w })
			err := h.Login(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Login: %v; want an error saying %q", err, tt.want)
			}
			if n := e.demo.AuthServer.Stats().TokenRequests[oauthtest.GrantJWTBearer]; n != 0 {
				t.Errorf("%d token requests; want none", n)
			}
		})
	}
}

// TestWorkloadConfig: a workload needs one source of its assertion and
// takes no client secret, key or other grant.
func TestWorkloadConfig(t *testing.T) {
	for name, cfg := range map[string]*oauthclient.Config{
		"no source":          {Workload: &oauthclient.Workload{}},
		"two sources":        {Workload: &oauthclient.Workload{AssertionFile: "f", AssertionCommand: []string{"c"}}},
		"client secret":      {Workload: &oauthclient.Workload{AssertionFile: "f"}, ClientSecret: "s"},
		"client credentials": {Workload: &oauthclient.Workload{AssertionFile: "f"}, ClientID: "c", ClientCredentials: true, ClientSecret: "s"},
	} {
		cfg.ServerURL = "https://mcp.example.com/mcp"
		if _, err := oauthclient.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// TestWorkloadDoctor: doctor checks a workload's assertion instead of
// PKCE, a registration and a callback port, and names an expired one.
func TestWorkloadDoctor(t *testing.T) {
	e, wi := workloadEnv(t, nil)
	path := filepath.Join(t.TempDir(), "token")
	h := e.handler(t, func(c *oauthclient.Config) { c.Workload = &oauthclient.Workload{AssertionFile: path} })
	steps := func() map[string]oauthclient.Check {
		m := map[string]oauthclient.Check{}
		for _, c := range h.Doctor(t.Context()) {
			m[c.Step] = c
		}
		return m
	}
	writeAssertion(t, path, wi.Sign("pod", e.demo.AuthServer.TokenEndpoint(), time.Hour))
	got := steps()
	if c := got["workload assertion"]; !c.OK || !strings.Contains(c.Detail, "expires in 59m") && !strings.Contains(c.Detail, "expires in 1h0m0s") || strings.Contains(c.Detail, "audience") {
		t.Errorf("workload assertion: %+v", c)
	}
	for _, step := range []string{"PKCE", "callback port"} {
		if c, ok := got[step]; ok {
			t.Errorf("a workload's doctor checks %s: %+v", step, c)
		}
	}
	if c := got["client registration"]; !c.OK || !strings.Contains(c.Detail, "workload") {
		t.Errorf("client registration: %+v", c)
	}
	writeAssertion(t, path, wi.Sign("pod", e.demo.AuthServer.TokenEndpoint(), -time.Minute))
	if c := steps()["workload assertion"]; c.OK || !strings.Contains(c.Detail, "expired 1m") || !strings.Contains(c.Detail, path) {
		t.Errorf("an expired assertion: %+v", c)
	}
}
