package oauthtest

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

func TestMetadataLocations(t *testing.T) {
	const (
		oauth    = "/.well-known/oauth-authorization-server/tenant1"
		inserted = "/.well-known/openid-configuration/tenant1"
		appended = "/tenant1/.well-known/openid-configuration"
		root     = "/.well-known/oauth-authorization-server"
	)
	tests := []struct {
		name string
		opts ASOptions
		want map[string]int // path → status
	}{
		{"all", ASOptions{}, map[string]int{oauth: 200, inserted: 200, appended: 200, root: 404}},
		{"no oauth", ASOptions{NoOAuthMetadata: true}, map[string]int{oauth: 404, inserted: 200, appended: 200}},
		{"no openid", ASOptions{NoOpenIDConfiguration: true}, map[string]int{oauth: 200, inserted: 404, appended: 404}},
		{"keycloak", ASOptions{NoOAuthMetadata: true, OpenIDAppendedOnly: true}, map[string]int{oauth: 404, inserted: 404, appended: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.IssuerPath = "/tenant1"
			a := startAS(t, &tt.opts)
			if !strings.HasSuffix(a.Issuer(), "/tenant1") {
				t.Fatalf("Issuer() = %q", a.Issuer())
			}
			for p, want := range tt.want {
				status, m := getJSON(t, a.Client(), a.URL()+p)
				if status != want {
					t.Errorf("GET %s: %d, want %d", p, status, want)
				}
				if status == 200 && m["issuer"] != a.Issuer() {
					t.Errorf("GET %s: issuer %v, want %s", p, m["issuer"], a.Issuer())
				}
			}
		})
	}
}

func TestMetadataContent(t *testing.T) {
	a := startAS(t, &ASOptions{Scopes: []string{"read", "write"}, OfflineAccess: true})
	status, m := getJSON(t, a.Client(), a.MetadataURL())
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	want := map[string]any{
		"issuer":                                         a.Issuer(),
		"authorization_endpoint":                         a.Issuer() + "/authorize",
		"token_endpoint":                                 a.Issuer() + "/token",
		"registration_endpoint":                          a.Issuer() + "/register",
		"revocation_endpoint":                            a.Issuer() + "/revoke",
		"device_authorization_endpoint":                  a.Issuer() + "/device_authorization",
		"code_challenge_methods_supported":               []any{"S256"},
		"authorization_response_iss_parameter_supported": true,
		"client_id_metadata_document_supported":          true,
		"scopes_supported":                               []any{"read", "write", "offline_access"},
	}
	for k, v := range want {
		if diff := cmp.Diff(v, m[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	// The SDK's client-side checks accept it.
	if _, err := oauthex.GetAuthServerMeta(t.Context(), a.MetadataURL(), a.Issuer(), a.Client()); err != nil {
		t.Errorf("GetAuthServerMeta: %v", err)
	}
}

func TestMetadataSwitches(t *testing.T) {
	tests := []struct {
		name  string
		opts  ASOptions
		check func(t *testing.T, m map[string]any)
		// sdkRefuses: the SDK's GetAuthServerMeta must refuse the document.
		sdkRefuses bool
	}{
		{"wrong issuer", ASOptions{MetadataIssuer: "https://evil.example.com"}, func(t *testing.T, m map[string]any) {
			if m["issuer"] != "https://evil.example.com" {
				t.Errorf("issuer %v", m["issuer"])
			}
		}, true},
		{"no PKCE", ASOptions{OmitCodeChallengeMethods: true}, func(t *testing.T, m map[string]any) {
			if _, ok := m["code_challenge_methods_supported"]; ok {
				t.Error("code_challenge_methods_supported present")
			}
		}, true},
		{"plain only", ASOptions{CodeChallengeMethods: []string{"plain"}}, func(t *testing.T, m map[string]any) {
			if diff := cmp.Diff([]any{"plain"}, m["code_challenge_methods_supported"]); diff != "" {
				t.Error(diff)
			}
		}, false},
		{"http endpoints", ASOptions{EndpointBase: "http://auth.example.com"}, func(t *testing.T, m map[string]any) {
			if m["token_endpoint"] != "http://auth.example.com/token" {
				t.Errorf("token_endpoint %v", m["token_endpoint"])
			}
		}, true},
		{"javascript endpoints", ASOptions{EndpointBase: "javascript:alert(1)//"}, func(t *testing.T, m map[string]any) {
			if !strings.HasPrefix(m["authorization_endpoint"].(string), "javascript:") {
				t.Errorf("authorization_endpoint %v", m["authorization_endpoint"])
			}
		}, true},
		{"file endpoints", ASOptions{EndpointBase: "file://"}, func(t *testing.T, m map[string]any) {
			if m["authorization_endpoint"] != "file:///authorize" {
				t.Errorf("authorization_endpoint %v", m["authorization_endpoint"])
			}
		}, true},
		{"no iss supported", ASOptions{OmitIssSupported: true}, func(t *testing.T, m map[string]any) {
			if _, ok := m["authorization_response_iss_parameter_supported"]; ok {
				t.Error("authorization_response_iss_parameter_supported present")
			}
		}, false},
		{"no DCR no CIMD", ASOptions{NoDCR: true, NoCIMD: true}, func(t *testing.T, m map[string]any) {
			if _, ok := m["registration_endpoint"]; ok {
				t.Error("registration_endpoint present")
			}
			if _, ok := m["client_id_metadata_document_supported"]; ok {
				t.Error("client_id_metadata_document_supported present")
			}
		}, false},
		{"no offline_access, no refresh", ASOptions{Scopes: []string{"read"}, NoRefreshTokens: true}, func(t *testing.T, m map[string]any) {
			if diff := cmp.Diff([]any{"read"}, m["scopes_supported"]); diff != "" {
				t.Error(diff)
			}
			if slices.Contains(m["grant_types_supported"].([]any), any("refresh_token")) {
				t.Error("refresh_token in grant_types_supported")
			}
		}, false},
		{"auth methods", ASOptions{TokenEndpointAuthMethods: []string{AuthClientSecretPost}}, func(t *testing.T, m map[string]any) {
			if diff := cmp.Diff([]any{"client_secret_post"}, m["token_endpoint_auth_methods_supported"]); diff != "" {
				t.Error(diff)
			}
			if _, ok := m["token_endpoint_auth_signing_alg_values_supported"]; ok {
				t.Error("signing algs advertised without private_key_jwt")
			}
		}, false},
		{"edit", ASOptions{EditMetadata: func(m map[string]any) { delete(m, "token_endpoint") }}, func(t *testing.T, m map[string]any) {
			if _, ok := m["token_endpoint"]; ok {
				t.Error("token_endpoint present")
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startAS(t, &tt.opts)
			status, m := getJSON(t, a.Client(), a.MetadataURL())
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			tt.check(t, m)
			_, err := oauthex.GetAuthServerMeta(t.Context(), a.MetadataURL(), a.Issuer(), a.Client())
			if got := err != nil; got != tt.sdkRefuses {
				t.Errorf("GetAuthServerMeta error = %v, want error: %t", err, tt.sdkRefuses)
			}
		})
	}
	t.Run("no DCR endpoint", func(t *testing.T) {
		a := startAS(t, &ASOptions{NoDCR: true})
		status, _ := post(t, a, "/register", nil)
		if status != http.StatusNotFound {
			t.Errorf("POST /register: %d, want 404", status)
		}
	})
}

func TestTLS(t *testing.T) {
	a := startAS(t, &ASOptions{TLS: true})
	if !strings.HasPrefix(a.Issuer(), "https://127.0.0.1:") {
		t.Fatalf("Issuer() = %q", a.Issuer())
	}
	if a.CertPool() == nil || !strings.Contains(string(a.CertificatePEM()), "BEGIN CERTIFICATE") {
		t.Fatal("no certificate")
	}
	// A client that does not trust the certificate fails; one with the pool works.
	if _, err := http.Get(a.MetadataURL()); err == nil {
		t.Error("GET with the default client succeeded")
	}
	if status, m := getJSON(t, a.Client(), a.MetadataURL()); status != 200 || m["issuer"] != a.Issuer() {
		t.Errorf("GET with a.Client(): %d %v", status, m)
	}
}

func TestStartAuthServerErrors(t *testing.T) {
	for _, opts := range []*ASOptions{
		{IssuerPath: "tenant"},
		{IssuerPath: "/tenant/"},
		{Clients: []Client{{Name: "no id"}}},
	} {
		if a, err := StartAuthServer(t.Context(), opts); err == nil {
			a.Close()
			t.Errorf("StartAuthServer(%+v) succeeded", opts)
		}
	}
}
