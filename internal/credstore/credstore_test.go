package credstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from what Save writes")

const key = "0123456789abcdef0123456789abcdef"

func memory(t *testing.T) *Store {
	t.Helper()
	s, err := tokenstore.Open(tokenstore.KindMemory, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return New(s)
}

// credentials are a confidential client's, signed in.
func credentials() *oauthclient.Credentials {
	return &oauthclient.Credentials{
		Server: "https://mcp.example.com/mcp",
		Client: oauthclient.Client{ID: "client-1", Secret: "client-secret-1", Kind: "dynamic",
			AuthMethod: "client_secret_basic", RedirectURI: "http://127.0.0.1:33418/callback"},
		Issuer:             "https://auth.example.com",
		TokenEndpoint:      "https://auth.example.com/token",
		RevocationEndpoint: "https://auth.example.com/revoke",
		Resource:           "https://mcp.example.com/mcp",
		Scopes:             []string{"read", "write"},
		AccessToken:        "access-1",
		RefreshToken:       "refresh-1",
		TokenType:          "Bearer",
		Expiry:             time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC),
		Obtained:           time.Date(2026, 7, 28, 11, 0, 0, 0, time.UTC),
	}
}

// stored returns what s holds under key: the items and the index line,
// as the keychain (or the files) hold them.
func stored(t *testing.T, s *Store) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for _, item := range []string{key + ".client", key + ".tokens"} {
		v, err := s.s.Get(t.Context(), item)
		if errors.Is(err, tokenstore.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[item] = v
	}
	idx, err := s.s.Index()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := idx[key]; ok {
		out["index"] = v
	}
	return out
}

// restore returns a store holding the items of a testdata file.
func restore(t *testing.T, data []byte) *Store {
	t.Helper()
	var items map[string]json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		t.Fatal(err)
	}
	s := memory(t)
	for k, v := range items {
		var err error
		if k == "index" {
			err = s.s.SetIndex(t.Context(), key, v)
		} else {
			err = s.s.Set(t.Context(), k, v)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestStoredFormat pins the JSON in users' keychains: what Save writes, and
// that Load reads it back. A change here must still read what earlier
// versions wrote (the files in testdata/ are what they wrote).
func TestStoredFormat(t *testing.T) {
	public := credentials()
	public.Client.Secret, public.Client.AuthMethod = "", "none"
	registered := credentials()
	registered.Scopes, registered.AccessToken, registered.RefreshToken, registered.TokenType = nil, "", "", ""
	registered.Expiry, registered.Obtained = time.Time{}, time.Time{}
	for _, tt := range []struct {
		name string
		c    *oauthclient.Credentials
	}{
		{"confidential", credentials()},
		{"public", public},
		{"registered-only", registered},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := memory(t)
			if err := s.Save(t.Context(), key, tt.c); err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(stored(t, s), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(bytes.TrimSpace(want)), string(got)); diff != "" {
				t.Errorf("stored JSON (-want +got):\n%s", diff)
			}

			// What earlier versions wrote reads back as it was saved.
			back, err := restore(t, want).Load(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.c, back); diff != "" {
				t.Errorf("Load (-saved +loaded):\n%s", diff)
			}
		})
	}
}

// TestPublicClientReadsOneItem checks that a public client's start reads
// the tokens alone: its registration is in the index.
func TestPublicClientReadsOneItem(t *testing.T) {
	s := memory(t)
	c := credentials()
	c.Client.Secret = ""
	if err := s.Save(t.Context(), key, c); err != nil {
		t.Fatal(err)
	}
	if err := s.s.Delete(t.Context(), key+".client"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(t.Context(), key); err != nil || got.Client.ID != "client-1" || got.AccessToken != "access-1" {
		t.Errorf("Load without the client item = %+v, %v; want the index's registration and the tokens", got, err)
	}
	// A confidential client's secret is never in the index: it needs the
	// client item.
	if err := s.Save(t.Context(), key, credentials()); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored(t, s)["index"], []byte("client-secret-1")) {
		t.Error("the index holds the client secret")
	}
	if err := s.s.Delete(t.Context(), key+".client"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context(), key); !errors.Is(err, oauthclient.ErrNotFound) {
		t.Errorf("Load of a confidential client without its client item: %v, want ErrNotFound", err)
	}
}

// TestIndexCannotRedirectTokens checks that the plain index file cannot
// say where the refresh token goes: an index whose registration names
// another token endpoint than the one the tokens were saved with loses to
// the keychain's client item.
func TestIndexCannotRedirectTokens(t *testing.T) {
	s := memory(t)
	c := credentials()
	c.Client.Secret = ""
	if err := s.Save(t.Context(), key, c); err != nil {
		t.Fatal(err)
	}
	idx, err := s.s.Index()
	if err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	if err := json.Unmarshal(idx[key], &entry); err != nil {
		t.Fatal(err)
	}
	reg := entry["registered"].(map[string]any)
	reg["token_endpoint"], reg["revocation_endpoint"], reg["issuer"] = "https://evil.example/token", "https://evil.example/revoke", "https://evil.example"
	forged, _ := json.Marshal(entry)
	if err := s.s.SetIndex(t.Context(), key, forged); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if got.TokenEndpoint != c.TokenEndpoint || got.RevocationEndpoint != c.RevocationEndpoint || got.Issuer != c.Issuer {
		t.Errorf("Load with a forged index = token %s, revocation %s, issuer %s; want the saved %s, %s, %s",
			got.TokenEndpoint, got.RevocationEndpoint, got.Issuer, c.TokenEndpoint, c.RevocationEndpoint, c.Issuer)
	}
	if got.RefreshToken != "refresh-1" {
		t.Errorf("refresh token = %q, want the stored one", got.RefreshToken)
	}

	// With the client item gone too, the forged index is not believed.
	if err := s.s.Delete(t.Context(), key+".client"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(t.Context(), key); err == nil && got.TokenEndpoint != c.TokenEndpoint {
		t.Errorf("Load with a forged index and no client item sends tokens to %s", got.TokenEndpoint)
	}
}

// TestLoadBeforeDigest reads a public client saved before the tokens
// item held the registration's digest: the client item is read as well.
func TestLoadBeforeDigest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "public-before-digest.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := credentials()
	want.Client.Secret, want.Client.AuthMethod = "", "none"
	got, err := restore(t, data).Load(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoadMissingAndRemoved(t *testing.T) {
	s := memory(t)
	if _, err := s.Load(t.Context(), key); !errors.Is(err, oauthclient.ErrNotFound) {
		t.Errorf("Load of nothing: %v, want ErrNotFound", err)
	}
	if err := s.Save(t.Context(), key, credentials()); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(t.Context(), key, nil); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, s); len(got) != 0 {
		t.Errorf("after Save(nil) the store holds %v", got)
	}
	if _, err := s.Load(t.Context(), key); !errors.Is(err, oauthclient.ErrNotFound) {
		t.Errorf("Load after Save(nil): %v, want ErrNotFound", err)
	}
}

func TestList(t *testing.T) {
	s := memory(t)
	b := credentials()
	b.Server = "https://b.example.com/mcp"
	a := credentials()
	a.Server, a.RefreshToken = "https://a.example.com/mcp", ""
	for k, c := range map[string]*oauthclient.Credentials{"k-b": b, "k-a": a} {
		if err := s.Save(t.Context(), k, c); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Key: "k-a", Server: "https://a.example.com/mcp", Issuer: "https://auth.example.com", ClientID: "client-1", Registration: "dynamic",
			Scopes: []string{"read", "write"}, Expiry: a.Expiry, RefreshToken: false, LastRefresh: a.Obtained, Store: "memory", Location: s.s.Location("k-a.tokens"), AccessToken: new(true)},
		{Key: "k-b", Server: "https://b.example.com/mcp", Issuer: "https://auth.example.com", ClientID: "client-1", Registration: "dynamic",
			Scopes: []string{"read", "write"}, Expiry: b.Expiry, RefreshToken: true, LastRefresh: b.Obtained, Store: "memory", Location: s.s.Location("k-b.tokens"), AccessToken: new(true)},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestSecrets(t *testing.T) {
	s := memory(t)
	if _, err := s.Secret(t.Context(), "api"); err == nil {
		t.Error("a missing secret read without an error")
	}
	if err := s.SetSecret(t.Context(), "api", "k3y"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Secret(t.Context(), "api"); err != nil || v != "k3y" {
		t.Errorf("Secret = %q, %v", v, err)
	}
	// The secret namespace: secret.NAME, never a credentials key.
	if v, err := s.s.Get(t.Context(), "secret.api"); err != nil || string(v) != "k3y" {
		t.Errorf("secret.api = %q, %v", v, err)
	}
	if err := s.SetSecret(t.Context(), "a/b", "x"); err == nil {
		t.Error("SetSecret took an invalid name")
	}
	if err := s.DeleteSecret(t.Context(), "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secret(t.Context(), "api"); err == nil {
		t.Error("a deleted secret still reads")
	}
}

// TestDPoPKey: the DPoP key is kept in the tokens item, beside the
// refresh token it is bound to, never in the index, which says only that
// the tokens are sender-constrained; it is read back, kept when the
// tokens are dropped (a sign-in reuses it), and removed with the rest.
func TestDPoPKey(t *testing.T) {
	s := memory(t)
	c := credentials()
	c.TokenType, c.DPoPKey = "DPoP", "dpop-private-scalar-1"
	if err := s.Save(t.Context(), key, c); err != nil {
		t.Fatal(err)
	}
	got := stored(t, s)
	if !bytes.Contains(got[key+".tokens"], []byte(`"dpop_key":"dpop-private-scalar-1"`)) {
		t.Errorf("the tokens item %s lacks the key", got[key+".tokens"])
	}
	for _, item := range []string{"index", key + ".client"} {
		if bytes.Contains(got[item], []byte("dpop-private-scalar-1")) {
			t.Errorf("the key is in %s: %s", item, got[item])
		}
	}
	if !bytes.Contains(got["index"], []byte(`"dpop":true`)) {
		t.Errorf("the index %s does not say DPoP", got["index"])
	}
	back, err := s.Load(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	list, _ := s.List()
	if len(list) != 1 || !list[0].DPoP {
		t.Errorf("List: %+v, want DPoP", list)
	}

	dropped := *c
	dropped.AccessToken, dropped.RefreshToken = "", ""
	if err := s.Save(t.Context(), key, &dropped); err != nil {
		t.Fatal(err)
	}
	if back, err := s.Load(t.Context(), key); err != nil || back.DPoPKey != c.DPoPKey {
		t.Errorf("after the tokens were dropped: %v, key kept %v", err, back != nil && back.DPoPKey == c.DPoPKey)
	}
	if err := s.Save(t.Context(), key, nil); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, s); len(got) != 0 {
		t.Errorf("after Save(nil) the store holds %v", got)
	}
}
