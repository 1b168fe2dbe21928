package oauthtest

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

func register(t *testing.T, a *AuthServer, metadata any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(metadata)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.Issuer()+"/register", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, a.Client(), req)
}

func TestDynamicClientRegistration(t *testing.T) {
	var rec EventLog
	a := startAS(t, &ASOptions{AutoApprove: true, OnEvent: rec.Record})

	// A public client, as MCP clients register.
	status, m := register(t, a, map[string]any{
		"client_name":                "Bridge",
		"redirect_uris":              []string{"http://127.0.0.1/callback"},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"software_id":                "mcp-bridge",
	})
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, m)
	}
	id, _ := m["client_id"].(string)
	if id == "" || m["client_secret"] != nil || m["client_name"] != "Bridge" || m["software_id"] != "mcp-bridge" || m["client_id_issued_at"] == nil {
		t.Errorf("registration response %v", m)
	}
	cfg := config(a)
	cfg.ClientID = id
	tok := login(t, a, cfg)
	status, m = refresh(t, a, tok.RefreshToken, url.Values{"client_id": {id}})
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, m)
	}
	// Another client cannot use its refresh token.
	status, m = refresh(t, a, m["refresh_token"].(string), nil)
	wantError(t, status, m, http.StatusBadRequest, "invalid_grant")

	// The default method is client_secret_basic, with a secret; the SDK's
	// RegisterClient understands the answer.
	resp, err := oauthex.RegisterClient(t.Context(), a.Issuer()+"/register", &oauthex.ClientRegistrationMetadata{
		RedirectURIs: []string{"http://localhost/cb"}, ClientName: "SDK",
	}, a.Client())
	if err != nil {
		t.Fatal(err)
	}
	if resp.ClientSecret == "" || resp.TokenEndpointAuthMethod != "client_secret_basic" {
		t.Errorf("SDK registration %+v", resp)
	}
	cfg = config(a)
	cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL = resp.ClientID, resp.ClientSecret, "http://localhost:9999/cb"
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	login(t, a, cfg)

	if s := a.Stats(); s.Registrations != 2 {
		t.Errorf("Registrations = %d", s.Registrations)
	}
	if e := rec.All()[0]; e.Kind != EventRegistered || e.ClientID != id || e.String() != "registered client "+id {
		t.Errorf("first event %v", e)
	}
}

func TestRegistrationErrors(t *testing.T) {
	a := startAS(t, &ASOptions{TokenEndpointAuthMethods: []string{AuthNone, AuthClientSecretBasic, AuthPrivateKeyJWT}})
	tests := []struct {
		name     string
		metadata any
		want     string
	}{
		{"no redirect", map[string]any{"token_endpoint_auth_method": "none"}, "invalid_redirect_uri"},
		{"http off loopback", map[string]any{"redirect_uris": []string{"http://app.example.com/cb"}}, "invalid_redirect_uri"},
		{"javascript", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "invalid_redirect_uri"},
		{"fragment", map[string]any{"redirect_uris": []string{"https://app.example.com/cb#x"}}, "invalid_redirect_uri"},
		{"relative", map[string]any{"redirect_uris": []string{"/cb"}}, "invalid_redirect_uri"},
		{"unsupported method", map[string]any{"redirect_uris": []string{callback}, "token_endpoint_auth_method": "client_secret_post"}, "invalid_client_metadata"},
		{"private_key_jwt without keys", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
		{"bad jwks", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{}}}, "invalid_client_metadata"},
		{"not JSON", "just a string", "invalid_client_metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := register(t, a, tt.metadata)
			wantError(t, status, m, http.StatusBadRequest, tt.want)
		})
	}
	if s := a.Stats(); s.Registrations != 0 {
		t.Errorf("Registrations = %d", s.Registrations)
	}
	// Private-use schemes (RFC 8252 §7.1) and https are fine.
	status, m := register(t, a, map[string]any{"redirect_uris": []string{"com.example.app:/cb", "https://app.example.com/cb"}, "token_endpoint_auth_method": "none"})
	if status != http.StatusCreated {
		t.Errorf("%d %v", status, m)
	}
}

func TestRegisterPrivateKeyJWT(t *testing.T) {
	_, ek := keys(t)
	jwks, err := JWKS("k1", &ek.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	a := startAS(t, nil)
	status, m := register(t, a, map[string]any{
		"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks,
	})
	if status != http.StatusCreated || m["client_secret"] != nil {
		t.Fatalf("register: %d %v", status, m)
	}
	id := m["client_id"].(string)
	status, m = post(t, a, "/token", url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion(t, ek, id, a.Issuer()+"/token", time.Now(), nil)},
	})
	if status != 200 {
		t.Errorf("client_credentials: %d %v", status, m)
	}
}

func TestForgetClient(t *testing.T) {
	a := startAS(t, &ASOptions{AutoApprove: true})
	status, m := register(t, a, map[string]any{"redirect_uris": []string{callback}, "token_endpoint_auth_method": "none"})
	if status != http.StatusCreated {
		t.Fatal(status, m)
	}
	id := m["client_id"].(string)
	cfg := config(a)
	cfg.ClientID = id
	tok := login(t, a, cfg)

	if !a.ForgetClient(id) || a.ForgetClient(id) {
		t.Fatal("ForgetClient: want true then false")
	}
	status, m = post(t, a, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {id}})
	wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
	if _, err := a.Verify(t.Context(), tok.AccessToken, nil); err == nil {
		t.Error("token of a forgotten client still valid")
	}
	_, err := a.Consent(t.Context(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), true)
	if err == nil || !strings.Contains(err.Error(), "unknown client") {
		t.Errorf("authorize with a forgotten client: %v", err)
	}
	// Registering again works.
	if status, _ := register(t, a, map[string]any{"redirect_uris": []string{callback}, "token_endpoint_auth_method": "none"}); status != http.StatusCreated {
		t.Errorf("re-registration: %d", status)
	}
}

// serveDocument serves a Client ID Metadata Document at /client.json of a
// TLS server and returns the server and the document's URL. extra, if not
// nil, serves the rest.
func serveDocument(t *testing.T, doc func(id string) any, extra ...http.Handler) (*httptest.Server, string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the AS refuses
	srv.StartTLS()
	t.Cleanup(srv.Close)
	id := srv.URL + "/client.json"
	mux.HandleFunc("/client.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc(id))
	})
	if len(extra) > 0 {
		mux.Handle("/", extra[0])
	}
	return srv, id
}

func TestClientIDMetadataDocument(t *testing.T) {
	good := func(id string) map[string]any {
		return map[string]any{
			"client_id":                  id,
			"client_name":                "Metadata Client",
			"redirect_uris":              []string{"http://127.0.0.1/callback"},
			"token_endpoint_auth_method": "none",
		}
	}
	srv, id := serveDocument(t, func(id string) any { return good(id) })
	a := startAS(t, &ASOptions{HTTPClient: srv.Client()})
	cfg := config(a)
	cfg.ClientID = id

	resp, err := a.Client().Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(page.String(), "Metadata Client") {
		t.Errorf("consent page does not name the client:\n%s", page.String())
	}
	tok := login(t, a, cfg)
	if info, err := a.Verify(t.Context(), tok.AccessToken, nil); err != nil || info.Extra["client_id"] != id {
		t.Errorf("Verify: %+v %v", info, err)
	}
	// Fetched for the page, the authorization and the token request.
	if n := a.Stats().MetadataDocumentFetches; n != 3 {
		t.Errorf("MetadataDocumentFetches = %d, want 3", n)
	}

	tests := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"client_id mismatch", func(m map[string]any) { m["client_id"] = "https://other.example.com/client.json" }},
		{"no redirect_uris", func(m map[string]any) { delete(m, "redirect_uris") }},
		{"no client_name", func(m map[string]any) { delete(m, "client_name") }},
		{"secret", func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_basic" }},
		{"bad redirect", func(m map[string]any) { m["redirect_uris"] = []string{"http://evil.example.com/cb"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, id := serveDocument(t, func(id string) any { m := good(id); tt.edit(m); return m })
			a := startAS(t, &ASOptions{HTTPClient: srv.Client()})
			cfg := config(a)
			cfg.ClientID = id
			_, err := a.Consent(t.Context(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), true)
			if err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Errorf("got %v, want an invalid_client page", err)
			}
		})
	}

	t.Run("redirect not in document", func(t *testing.T) {
		cfg := config(a)
		cfg.ClientID, cfg.RedirectURL = id, "http://127.0.0.1:5555/elsewhere"
		if _, err := a.Consent(t.Context(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), true); err == nil {
			t.Error("unregistered redirect_uri accepted")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		a := startAS(t, &ASOptions{HTTPClient: srv.Client(), NoCIMD: true})
		status, m := post(t, a, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {id}})
		wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
		if n := a.Stats().MetadataDocumentFetches; n != 0 {
			t.Errorf("fetched %d documents", n)
		}
	})
	t.Run("URL without path", func(t *testing.T) {
		status, m := post(t, a, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {srv.URL}})
		wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		a := startAS(t, nil) // the default client does not trust srv
		status, m := post(t, a, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {id}})
		wantError(t, status, m, http.StatusUnauthorized, "invalid_client")
	})
}

func TestClientIDMetadataDocumentPrivateKeyJWT(t *testing.T) {
	rk, _ := keys(t)
	jwks, err := JWKS("k1", &rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	jwksHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jwks) })
	srv, id := serveDocument(t, func(id string) any {
		base := strings.TrimSuffix(id, "/client.json")
		return map[string]any{
			"client_id": id, "client_name": "Keyed", "redirect_uris": []string{callback},
			"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "private_key_jwt",
			"jwks_uri": base + "/jwks.json",
		}
	}, jwksHandler)
	a := startAS(t, &ASOptions{HTTPClient: srv.Client()})
	status, m := post(t, a, "/token", url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion(t, rk, id, a.Issuer()+"/token", time.Now(), nil)},
		"resource":              {resource},
	})
	if status != 200 {
		t.Fatalf("%d %v", status, m)
	}
}
