package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestIssuerFlag: with --issuer, a configured client and its secret go to
// that authorization server alone. A server that names another one gets
// no token request, and the user an error naming both (issue: secrets
// follow the server's choice of authorization server); with the right
// issuer the same sign-in succeeds.
func TestIssuerFlag(t *testing.T) {
	const id, secret = "m2m", "m2m-secret-value-for-the-test"
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
		Clients:                  []oauthtest.Client{{ID: id, Secret: secret, AuthMethod: oauthtest.AuthClientSecretBasic}},
		TokenEndpointAuthMethods: []string{oauthtest.AuthClientSecretBasic},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	for _, kv := range homeEnv(t.TempDir()) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret), 0o600)
	login := func(issuer string) (string, int) {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		code := run(ctx, []string{"login", demo.URL, "--token-store", "file", "--client-credentials", "--client-id", id,
			"--client-secret-file", secretFile, "--issuer", issuer}, strings.NewReader(""), &stdout, &stderr)
		return stdout.String() + stderr.String(), code
	}
	out, code := login("https://login.example.com")
	if code == exitOK || !strings.Contains(out, "https://login.example.com") || !strings.Contains(out, demo.AuthServer.Issuer()) {
		t.Errorf("login with another issuer: exit %d, %s; want a failure naming both issuers", code, out)
	}
	if n := demo.AuthServer.Stats().TokenRequests["client_credentials"]; n != 0 {
		t.Errorf("%d token requests reached the server's authorization server with the secret", n)
	}
	if out, code := login(demo.AuthServer.Issuer()); code != exitOK {
		t.Errorf("login with the right issuer: exit %d, %s", code, out)
	}
}

// TestClientBoundToFirstIssuer pins issue 11 for a configured client
// without --issuer, through the real binary: its credentials are bound to
// the authorization server it is first used at (trust on first use).
// When the server then names another one, which knows the same client,
// login is refused with an error naming both, and the new one gets no
// token request, so never the secret; doctor names the binding.
func TestClientBoundToFirstIssuer(t *testing.T) {
	const id, secret = "m2m", "m2m-secret-value-for-the-test"
	opts := func() *oauthtest.ASOptions {
		return &oauthtest.ASOptions{
			Clients:                  []oauthtest.Client{{ID: id, Secret: secret, AuthMethod: oauthtest.AuthClientSecretBasic}},
			TokenEndpointAuthMethods: []string{oauthtest.AuthClientSecretBasic},
		}
	}
	other, err := oauthtest.StartAuthServer(t.Context(), opts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	var current atomic.Pointer[oauthtest.AuthServer] // the one the server names
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: opts(), Resource: &oauthtest.ResourceOptions{
		CurrentAuthorizationServers: func() []string { return []string{current.Load().Issuer()} },
		Verifier: func(ctx context.Context, token string, r *http.Request) (*auth.TokenInfo, error) {
			return current.Load().Verify(ctx, token, r)
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	current.Store(demo.AuthServer)
	home := t.TempDir()
	secretFile := filepath.Join(home, "secret")
	os.WriteFile(secretFile, []byte(secret), 0o600)
	args := []string{demo.URL, "--token-store", "file", "--client-credentials", "--client-id", id, "--client-secret-file", secretFile}
	if _, stderr, code := runBinary(t, home, append([]string{"login"}, args...)...); code != exitOK {
		t.Fatalf("the first login: exit %d\n%s", code, stderr)
	}
	if out, _, _ := runBinary(t, home, append([]string{"doctor"}, args...)...); !strings.Contains(out, `bound to "`+demo.AuthServer.Issuer()+`", where it was first used`) {
		t.Errorf("doctor does not name the binding:\n%s", out)
	}

	current.Store(other)
	stdout, stderr, code := runBinary(t, home, append([]string{"login"}, args...)...)
	out := strings.ReplaceAll(stdout+stderr, `\"`, `"`) // the log quotes the error
	if code == exitOK || !strings.Contains(out, `is registered at "`+demo.AuthServer.Issuer()+`"`) || !strings.Contains(out, `now names "`+other.Issuer()+`"`) {
		t.Errorf("login after the move: exit %d, %s; want a refusal naming both issuers", code, out)
	}
	if n := other.Stats().TokenRequests["client_credentials"]; n != 0 {
		t.Errorf("%d token requests, with the secret, reached the authorization server the server moved to", n)
	}
}
