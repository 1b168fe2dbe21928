package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// More mcp-remote command lines through the real binary, each flag
// checked by its effect at the authorization server or the MCP server:
// --allow-http, --resource, --client-metadata-url, --authorize-param,
// --disable-resource-parameter, --device-code and
// --static-oauth-client-metadata. (mcpremote_e2e_test.go has the others.)

// TestMCPRemoteAllowHTTP: a plain-http server that is not on loopback
// (reached through a proxy on 127.0.0.1, so that no name is resolved) is
// refused without --allow-http and bridged with it.
func TestMCPRemoteAllowHTTP(t *testing.T) {
	srv := demo(t, nil)
	target, _ := url.Parse(srv.URL())
	var seen atomic.Value
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		seen.Store(r.In.Host)
		r.SetURL(target)
	}}
	ps := &http.Server{Handler: proxy}
	ln := listenLoopback(t)
	go ps.Serve(ln)
	t.Cleanup(func() { ps.Close() })
	const remote = "http://mcp.intranet.test/mcp"
	env := []string{"HTTP_PROXY=http://" + ln.Addr().String(), "http_proxy=http://" + ln.Addr().String(), "NO_PROXY=", "no_proxy="}

	out, errOut, code := runMigrateBinary(t, env, "mcp-remote", remote)
	if code != exitUsage || !strings.Contains(errOut, "http") || out != "" {
		t.Errorf("without --allow-http: exit %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
	if s, _ := seen.Load().(string); s != "" {
		t.Errorf("without --allow-http a request went out to %s", s)
	}

	h := startBridgeEnv(t, env, "-y", "mcp-remote", remote, "--allow-http")
	signedInCall(t, h, "over plain http")
	if s, _ := seen.Load().(string); s != "mcp.intranet.test" {
		t.Errorf("the proxy saw host %q, want mcp.intranet.test", s)
	}
}

// TestMCPRemoteResource: --resource names the resource the tokens are
// for; the MCP server takes only tokens for it (an audience other than
// its URL, as behind a gateway).
func TestMCPRemoteResource(t *testing.T) {
	const resource = "https://api.example.com/mcp"
	var ev oauthtest.EventLog
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{
		AuthServer: &oauthtest.ASOptions{OnEvent: ev.Record},
		Resource:   &oauthtest.ResourceOptions{Audience: resource},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridge(t, "mcp-remote", demo.URL, "--resource", resource, "--browser-command", approver(), "--token-store", "memory")
	signedInCall(t, h, "for the resource")
	for _, kind := range []oauthtest.EventKind{oauthtest.EventAuthorizationRequest, oauthtest.EventTokenIssued} {
		if got := ev.Of(kind); len(got) != 1 || got[0].Resource != resource {
			t.Errorf("%s events %v, want one for resource %s", kind, got, resource)
		}
	}
}

// TestMCPRemoteDisableResourceParameter: an authorization server that
// refuses the resource parameter (Entra ID v2's AADSTS9010010) signs the
// user in when --disable-resource-parameter leaves it out; the server is
// a 2025-03-26 one, which takes tokens bound to no resource.
func TestMCPRemoteDisableResourceParameter(t *testing.T) {
	var ev oauthtest.EventLog
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{
		AuthServer: &oauthtest.ASOptions{OnEvent: ev.Record, RejectResource: true},
		Legacy:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridge(t, "mcp-remote", demo.URL, "--disable-resource-parameter", "--browser-command", approver(), "--token-store", "memory")
	signedInCall(t, h, "no resource")
	if got := ev.Of(oauthtest.EventRejected); len(got) != 0 {
		t.Errorf("the authorization server refused requests: %v", got)
	}
	issued := ev.Of(oauthtest.EventTokenIssued)
	if len(issued) != 1 || issued[0].Resource != "" {
		t.Errorf("tokens issued: %v, want one bound to no resource", issued)
	}
}

// TestMCPRemoteClientMetadataURL: --client-metadata-url makes the
// document's URL the client id: the authorization server fetches it
// (through a client that serves it from memory: no network) and no
// client is registered. The document names mcp-remote's redirect URI.
func TestMCPRemoteClientMetadataURL(t *testing.T) {
	const docURL = "https://client.example.com/mcp-client.json"
	doc := `{"client_id":"` + docURL + `","client_name":"mcp-remote","redirect_uris":["http://localhost/oauth/callback"],"token_endpoint_auth_method":"none"}`
	var ev oauthtest.EventLog
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
		OnEvent: ev.Record,
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.String() != docURL {
				return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Request: r}, nil
			}
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(doc)), Request: r}, nil
		})},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridge(t, "mcp-remote", demo.URL, freePort(t), "--client-metadata-url", docURL, "--browser-command", approver(), "--token-store", "memory")
	signedInCall(t, h, "as a metadata document")
	st := demo.AuthServer.Stats()
	if st.MetadataDocumentFetches == 0 || st.Registrations != 0 {
		t.Errorf("%d document fetches and %d registrations, want some and none", st.MetadataDocumentFetches, st.Registrations)
	}
	if issued := ev.Of(oauthtest.EventTokenIssued); len(issued) != 1 || issued[0].ClientID != docURL {
		t.Errorf("tokens issued: %v, want one to %s", issued, docURL)
	}
}

// TestMCPRemoteAuthorizeParam: Google issues a refresh token only to an
// authorization request with access_type=offline and prompt=consent,
// which --authorize-param adds.
func TestMCPRemoteAuthorizeParam(t *testing.T) {
	for _, withParams := range []bool{false, true} {
		var ev oauthtest.EventLog
		demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
			OnEvent: ev.Record, RequireOfflineAccessType: true,
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(demo.Close)
		args := []string{"mcp-remote", demo.URL, "--browser-command", approver(), "--token-store", "memory"}
		if withParams {
			args = append(args, "--authorize-param", "access_type=offline", "--authorize-param", "prompt=consent")
		}
		h := startBridge(t, args...)
		signedInCall(t, h, "offline")
		issued := ev.Of(oauthtest.EventTokenIssued)
		if len(issued) != 1 || issued[0].RefreshToken != withParams {
			t.Errorf("with the parameters %v: tokens issued %v, want a refresh token %v", withParams, issued, withParams)
		}
	}
}

// TestMCPRemoteStaticClientMetadata: the registration carries
// --static-oauth-client-metadata's fields, and mcp-remote asks for the
// scope it names.
func TestMCPRemoteStaticClientMetadata(t *testing.T) {
	var ev oauthtest.EventLog
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
		OnEvent: ev.Record, Scopes: []string{"read", "write"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridge(t, "mcp-remote", demo.URL, "--static-oauth-client-metadata", `{"scope":"read","client_name":"Team MCP"}`,
		"--browser-command", approver(), "--token-store", "memory")
	signedInCall(t, h, "scoped")
	if got := ev.Of(oauthtest.EventRegistered); len(got) != 1 {
		t.Errorf("registrations %v, want one", got)
	}
	if got := ev.Of(oauthtest.EventAuthorizationRequest); len(got) != 1 || got[0].Scope != "read" {
		t.Errorf("authorization requests %v, want one for scope read", got)
	}
	if got := ev.Of(oauthtest.EventTokenIssued); len(got) != 1 || got[0].Scope != "read" {
		t.Errorf("tokens issued %v, want one with scope read", got)
	}
}

// TestMCPRemoteDeviceCode: --device-code signs in with the device grant
// (RFC 8628): the host's first request is answered with the code to
// enter, and once it is approved the bridge serves.
func TestMCPRemoteDeviceCode(t *testing.T) {
	issued := make(chan struct{}, 1)
	var ev oauthtest.EventLog
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{AuthServer: &oauthtest.ASOptions{
		DevicePollInterval: 50 * time.Millisecond,
		OnEvent: func(e oauthtest.Event) {
			ev.Record(e)
			if e.Kind == oauthtest.EventTokenIssued && e.GrantType == "urn:ietf:params:oauth:grant-type:device_code" {
				issued <- struct{}{}
			}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridge(t, "mcp-remote", demo.URL, "--device-code", "--browser-command", "false", "--token-store", "memory")
	h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test-host","version":"1.0"}}}`)
	m := h.recvMsg()
	if m.Error == nil {
		t.Fatalf("initialize succeeded with no sign-in: %s", m.Result)
	}
	code := deviceCode.FindStringSubmatch(m.Error.Message)
	if code == nil {
		t.Fatalf("the error names no device code: %s", m.Error.Message)
	}
	if err := demo.AuthServer.ApproveDevice(code[1]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-issued:
	case <-time.After(recvTimeout):
		t.Fatal("no token issued for the device code")
	}
	signedInCall(t, h, "by device code")
	if got := ev.Of(oauthtest.EventDeviceAuthorization); len(got) != 1 {
		t.Errorf("device authorizations %v, want one", got)
	}
	if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 0 {
		t.Errorf("%d authorization code requests, want none", st.AuthorizationRequests)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// listenLoopback listens on a free loopback port until the test ends.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
