package oauthtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// seen is what the handler behind Protect saw.
type seen struct {
	info *auth.TokenInfo
	body string
}

// startProtected starts a server with Protect in front of a handler that
// records what it sees; opts.Resource is set to the server's /mcp URL and,
// if empty, AuthorizationServers and Verifier come from a; a may be nil
// when both are set.
func startProtected(t *testing.T, a *AuthServer, opts ResourceOptions) (*httptest.Server, string, chan seen) {
	t.Helper()
	got := make(chan seen, 10)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{auth.TokenInfoFromContext(r.Context()), string(b)}
		_, _ = io.WriteString(w, "ok")
	})
	srv := httptest.NewUnstartedServer(nil)
	mcpURL := "http://" + srv.Listener.Addr().String() + "/mcp"
	opts.Resource = mcpURL
	if opts.AuthorizationServers == nil && !opts.Legacy {
		opts.AuthorizationServers = []string{a.Issuer()}
	}
	if opts.Verifier == nil {
		opts.Verifier = a.Verify
	}
	h, err := Protect(next, &opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, mcpURL, got
}

// machineToken gets a client_credentials token for the confidential client.
func machineToken(t *testing.T, a *AuthServer, res, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	if res != "" {
		form.Set("resource", res)
	}
	status, m := post(t, a, "/token", form, func(r *http.Request) { r.SetBasicAuth(confidential, secret) })
	if status != 200 {
		t.Fatalf("token: %d %v", status, m)
	}
	return m["access_token"].(string)
}

// call posts body to u with the bearer tok ("" for none) and returns the
// status and WWW-Authenticate header.
func call(t *testing.T, u, tok, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

const (
	toolsCall  = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"admin_tool","arguments":{}}}`
	otherCall  = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`
	batchCall  = `[{"jsonrpc":"2.0","method":"notifications/initialized"},` + toolsCall + `]`
	listParams = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1,2]}`
)

func TestProtect(t *testing.T) {
	a := startAS(t, nil)
	_, mcpURL, got := startProtected(t, a, ResourceOptions{Scopes: []string{"mcp:read"}, ToolScopes: map[string]string{"admin_tool": "mcp:admin"}})
	prm := ResourceMetadataURL(mcpURL)
	if !strings.HasSuffix(prm, "/.well-known/oauth-protected-resource/mcp") {
		t.Fatalf("ResourceMetadataURL = %s", prm)
	}

	tests := []struct {
		name       string
		tok        string
		body       string
		wantStatus int
		wantHeader string
	}{
		{"no token", "", otherCall, 401,
			`Bearer resource_metadata="` + prm + `", scope="mcp:read"`},
		{"unknown token", "nope", otherCall, 401,
			`Bearer error="invalid_token", resource_metadata="` + prm + `", scope="mcp:read", error_description="invalid token: unknown token"`},
		{"other audience", machineToken(t, a, "https://other.example.com/mcp", "mcp:read"), otherCall, 401,
			`Bearer error="invalid_token", resource_metadata="` + prm + `", scope="mcp:read", error_description="the token is not for ` + mcpURL + `"`},
		{"no audience", machineToken(t, a, "", "mcp:read"), otherCall, 401, ""},
		{"base scope missing", machineToken(t, a, mcpURL, "other"), otherCall, 403,
			`Bearer error="insufficient_scope", resource_metadata="` + prm + `", scope="other mcp:read", error_description="needs scope mcp:read"`},
		{"ok", machineToken(t, a, mcpURL, "mcp:read"), otherCall, 200, ""},
		{"ok, params not an object", machineToken(t, a, mcpURL, "mcp:read"), listParams, 200, ""},
		{"tool scope missing", machineToken(t, a, mcpURL, "mcp:read"), toolsCall, 403,
			`Bearer error="insufficient_scope", resource_metadata="` + prm + `", scope="mcp:read mcp:admin", error_description="needs scope mcp:admin"`},
		{"tool scope missing in batch", machineToken(t, a, mcpURL, "mcp:read"), batchCall, 403, ""},
		{"tool scope granted", machineToken(t, a, mcpURL, "mcp:read mcp:admin"), toolsCall, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header := call(t, mcpURL, tt.tok, tt.body)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d (WWW-Authenticate: %s)", status, tt.wantStatus, header)
			}
			if tt.wantHeader != "" && header != tt.wantHeader {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", header, tt.wantHeader)
			}
			if status != 200 {
				// The SDK's parser reads the challenge.
				cs, err := oauthex.ParseWWWAuthenticate([]string{header})
				if err != nil || len(cs) != 1 || cs[0].Params["resource_metadata"] != prm {
					t.Errorf("ParseWWWAuthenticate: %+v, %v", cs, err)
				}
				return
			}
			s := <-got
			if s.info == nil || s.info.Extra["aud"] != mcpURL || s.body != tt.body {
				t.Errorf("handler saw %+v", s)
			}
		})
	}

	// The metadata, at both places, and the SDK client accepts it.
	for _, u := range []string{prm, strings.TrimSuffix(prm, "/mcp")} {
		status, m := getJSON(t, http.DefaultClient, u)
		want := map[string]any{"resource": mcpURL, "authorization_servers": []any{a.Issuer()}, "scopes_supported": []any{"mcp:read"}}
		for k, v := range want {
			if diff := cmp.Diff(v, m[k]); status != 200 || diff != "" {
				t.Errorf("GET %s: %d, %s (-want +got):\n%s", u, status, k, diff)
			}
		}
	}
	if _, err := oauthex.GetProtectedResourceMetadata(t.Context(), prm, mcpURL, http.DefaultClient); err != nil {
		t.Errorf("GetProtectedResourceMetadata: %v", err)
	}
}

func TestProtectSwitches(t *testing.T) {
	tests := []struct {
		name       string
		opts       ResourceOptions
		wantPath   int // status of the path-inserted metadata
		wantRoot   int
		wantHeader string // with PRM for the path-inserted and ROOT for the root URL
		// sdkRefuses: the SDK's GetProtectedResourceMetadata refuses the
		// path-inserted document.
		sdkRefuses bool
	}{
		{"no path metadata", ResourceOptions{NoPathMetadata: true}, 404, 200, `Bearer resource_metadata="ROOT", scope="s1"`, true},
		{"no root metadata", ResourceOptions{NoRootMetadata: true}, 200, 404, `Bearer resource_metadata="PRM", scope="s1"`, false},
		{"no resource_metadata", ResourceOptions{NoResourceMetadataParam: true}, 200, 200, `Bearer scope="s1"`, false},
		{"no scope", ResourceOptions{NoScopeParam: true}, 200, 200, `Bearer resource_metadata="PRM"`, false},
		{"legacy", ResourceOptions{Legacy: true}, 404, 404, `Bearer scope="s1"`, true},
		{"legacy, no scope", ResourceOptions{Legacy: true, NoScopeParam: true}, 404, 404, `Bearer`, true},
		{"wrong resource", ResourceOptions{MetadataResource: "https://evil.example.com/mcp"}, 200, 200, `Bearer resource_metadata="PRM", scope="s1"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startAS(t, nil)
			tt.opts.Scopes = []string{"s1"}
			_, mcpURL, _ := startProtected(t, a, tt.opts)
			prm := ResourceMetadataURL(mcpURL)
			root := strings.TrimSuffix(prm, "/mcp")
			if status, _ := getJSON(t, http.DefaultClient, prm); status != tt.wantPath {
				t.Errorf("GET %s: %d, want %d", prm, status, tt.wantPath)
			}
			if status, _ := getJSON(t, http.DefaultClient, root); status != tt.wantRoot {
				t.Errorf("GET %s: %d, want %d", root, status, tt.wantRoot)
			}
			_, header := call(t, mcpURL, "", otherCall)
			want := strings.NewReplacer("PRM", prm, "ROOT", root).Replace(tt.wantHeader)
			if header != want {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", header, want)
			}
			_, err := oauthex.GetProtectedResourceMetadata(t.Context(), prm, mcpURL, http.DefaultClient)
			if (err != nil) != tt.sdkRefuses {
				t.Errorf("GetProtectedResourceMetadata: %v, want error: %t", err, tt.sdkRefuses)
			}
		})
	}
}

func TestProtectLegacyAcceptsTokensWithoutAudience(t *testing.T) {
	a := startAS(t, nil)
	_, mcpURL, got := startProtected(t, a, ResourceOptions{Legacy: true})
	if status, h := call(t, mcpURL, machineToken(t, a, "", ""), otherCall); status != 200 {
		t.Fatalf("%d %s", status, h)
	}
	<-got
	if status, _ := call(t, mcpURL, machineToken(t, a, "https://other.example.com/mcp", ""), otherCall); status != 401 {
		t.Errorf("token for another resource: %d", status)
	}
}

func TestProtectClock(t *testing.T) {
	// A fake clock well before the real time: tokens valid by it pass the
	// SDK's real-time expiry check, and expire by it.
	c := &Clock{t: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := startAS(t, &ASOptions{Now: c.Now, AccessTokenTTL: time.Minute})
	_, mcpURL, got := startProtected(t, a, ResourceOptions{Now: c.Now})
	tok := machineToken(t, a, mcpURL, "")
	if status, h := call(t, mcpURL, tok, otherCall); status != 200 {
		t.Fatalf("%d %s", status, h)
	}
	if s := <-got; time.Until(s.info.Expiration) < 59*time.Second {
		t.Errorf("handler saw expiration %v, want about a minute from now", s.info.Expiration)
	}
	c.Advance(time.Minute)
	if status, h := call(t, mcpURL, tok, otherCall); status != 401 || !strings.Contains(h, "token expired") {
		t.Errorf("expired token: %d %s", status, h)
	}
}

func TestProtectCustomVerifier(t *testing.T) {
	// A verifier that gives no expiry, and the audience as a list.
	var mcpURL string // set before the first request
	verify := func(_ context.Context, tok string, _ *http.Request) (*auth.TokenInfo, error) {
		if tok != "good" {
			return nil, fmt.Errorf("%w: not good", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{UserID: "u", Extra: map[string]any{"aud": []any{"https://a.example.com", mcpURL}}}, nil
	}
	_, mcpURL, got := startProtected(t, nil, ResourceOptions{AuthorizationServers: []string{"https://as.example.com"}, Verifier: verify})
	if status, h := call(t, mcpURL, "good", otherCall); status != 200 {
		t.Fatalf("%d %s", status, h)
	}
	if s := <-got; s.info.UserID != "u" {
		t.Errorf("handler saw %+v", s.info)
	}
	if status, h := call(t, mcpURL, "bad", otherCall); status != 401 || !strings.Contains(h, `error="invalid_token"`) {
		t.Errorf("bad token: %d %s", status, h)
	}
}

func TestProtectErrors(t *testing.T) {
	a := startAS(t, nil)
	next := http.NotFoundHandler()
	for _, opts := range []*ResourceOptions{
		nil,
		{Resource: "https://x.example.com/mcp", AuthorizationServers: []string{a.Issuer()}},
		{Resource: "/mcp", AuthorizationServers: []string{a.Issuer()}, Verifier: a.Verify},
		{Resource: "https://x.example.com/mcp", Verifier: a.Verify},
	} {
		if _, err := Protect(next, opts); err == nil {
			t.Errorf("Protect(%+v) succeeded", opts)
		}
	}
}
