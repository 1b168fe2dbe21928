package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
