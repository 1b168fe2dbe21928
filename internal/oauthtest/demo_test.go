package oauthtest

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

func startDemo(t *testing.T, opts *DemoOptions) *ProtectedDemo {
	t.Helper()
	d, err := StartProtectedDemo(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// sdkLogin returns an OAuth handler of the Go SDK that registers
// dynamically and uses d's authorization server as the browser.
func sdkLogin(t *testing.T, d *ProtectedDemo, hc *http.Client) auth.OAuthHandler {
	t.Helper()
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				ClientName:              "sdk test",
				RedirectURIs:            []string{"http://127.0.0.1:1/callback"},
				TokenEndpointAuthMethod: "none",
				GrantTypes:              []string{"authorization_code", "refresh_token"},
			},
		},
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			loc, err := d.AuthServer.Consent(ctx, args.URL, true)
			if err != nil {
				return nil, err
			}
			q := loc.Query()
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
		Client: hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func connect(t *testing.T, tr *mcp.StreamableClientTransport) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(t.Context(), tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, error) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", err
	}
	return res.Content[0].(*mcp.TextContent).Text, nil
}

// TestProtectedDemoWithSDKClient runs the Go SDK's own OAuth client against
// the demo: discovery, registration, PKCE, resource, iss, and step-up on
// insufficient_scope.
func TestProtectedDemoWithSDKClient(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			var rec EventLog
			d := startDemo(t, &DemoOptions{
				AuthServer: &ASOptions{TLS: tls, OnEvent: rec.Record},
				Resource:   &ResourceOptions{Scopes: []string{"demo:use"}, ToolScopes: map[string]string{"add": "demo:math"}},
			})
			if got := strings.HasPrefix(d.URL, "https://"); got != tls {
				t.Fatalf("URL %s", d.URL)
			}
			hc := d.AuthServer.Client() // trusts both servers with TLS
			cs := connect(t, &mcp.StreamableClientTransport{Endpoint: d.URL, HTTPClient: hc, OAuthHandler: sdkLogin(t, d, hc)})
			if text, err := callTool(t, cs, "echo", map[string]any{"text": "hi"}); err != nil || text != "hi" {
				t.Fatalf("echo: %q, %v", text, err)
			}
			if text, err := callTool(t, cs, "add", map[string]any{"a": 1, "b": 2}); err != nil || text != "3" {
				t.Fatalf("add after step-up: %q, %v", text, err)
			}
			s := d.AuthServer.Stats()
			// The SDK registers again for each authorization (docs/design.md, decision 4).
			if s.Registrations < 1 || s.AuthorizationRequests != 2 || s.Consents != 2 {
				t.Errorf("Stats %+v, want registrations and 2 authorizations (the second for step-up)", s)
			}
			var scopes []string
			for _, e := range rec.All() {
				if e.Kind == EventTokenIssued {
					scopes = append(scopes, e.Scope)
					if e.Resource != d.URL {
						t.Errorf("token for resource %q, want %s", e.Resource, d.URL)
					}
				}
			}
			if len(scopes) != 2 || scopes[0] != "demo:use" || !strings.Contains(scopes[1], "demo:math") {
				t.Errorf("granted scopes %q", scopes)
			}
		})
	}
}

func TestProtectedDemoRefusesWithoutToken(t *testing.T) {
	d := startDemo(t, &DemoOptions{
		AuthServer: &ASOptions{Clients: []Client{{ID: confidential, Secret: secret}}},
		Server:     &demoserver.Options{JSONResponse: true},
	})
	status, header := call(t, d.URL, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
	if status != 401 || header != `Bearer resource_metadata="`+d.ResourceMetadataURL+`"` {
		t.Errorf("%d %s", status, header)
	}
	status, m := getJSON(t, http.DefaultClient, d.ResourceMetadataURL)
	if status != 200 || m["resource"] != d.URL {
		t.Errorf("metadata: %d %v", status, m)
	}
	// A client_credentials token for the demo works.
	cs := connect(t, &mcp.StreamableClientTransport{Endpoint: d.URL, HTTPClient: bearerClient(machineToken(t, d.AuthServer, d.URL, ""))})
	if text, err := callTool(t, cs, "echo", map[string]any{"text": "m2m"}); err != nil || text != "m2m" {
		t.Errorf("echo: %q %v", text, err)
	}
}

// bearerClient returns an HTTP client that sends tok on every request.
func bearerClient(tok string) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestProtectedDemoLegacy(t *testing.T) {
	d := startDemo(t, &DemoOptions{Legacy: true, AuthServer: &ASOptions{AutoApprove: true}})
	if d.ResourceMetadataURL != "" || !strings.HasPrefix(d.URL, d.AuthServer.URL()) {
		t.Fatalf("URL %s, metadata %q", d.URL, d.ResourceMetadataURL)
	}
	status, header := call(t, d.URL, "", `{}`)
	if status != 401 || header != "Bearer" {
		t.Errorf("%d %q", status, header)
	}
	// The authorization server's metadata is at the MCP server's origin, and
	// there is no protected resource metadata.
	if status, m := getJSON(t, http.DefaultClient, d.AuthServer.URL()+"/.well-known/oauth-authorization-server"); status != 200 || m["issuer"] != d.AuthServer.URL() {
		t.Errorf("AS metadata: %d %v", status, m)
	}
	if status, _ := getJSON(t, http.DefaultClient, ResourceMetadataURL(d.URL)); status != 404 {
		t.Errorf("protected resource metadata: %d", status)
	}
	// An old client sends no resource; its token works.
	if err := d.AuthServer.AddClient(Client{ID: confidential, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, &mcp.StreamableClientTransport{Endpoint: d.URL, HTTPClient: bearerClient(machineToken(t, d.AuthServer, "", ""))})
	if text, err := callTool(t, cs, "echo", map[string]any{"text": "old"}); err != nil || text != "old" {
		t.Errorf("echo: %q %v", text, err)
	}

	if _, err := StartProtectedDemo(t.Context(), &DemoOptions{Legacy: true, AuthServer: &ASOptions{IssuerPath: "/x"}}); err == nil {
		t.Error("legacy with an issuer path accepted")
	}
}
