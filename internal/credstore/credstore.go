// Package credstore owns the format of mcp-bridge's stored credentials:
// how an [oauthclient.Credentials] is kept in a [tokenstore.Store] (the
// client item and the tokens item), the non-secret index line that lets
// `mcp-bridge status` list servers without reading a secret, and the
// namespace of the secrets that ${keychain:NAME} references name.
//
// The format is what users' keychains hold: a change to it must read what
// earlier versions wrote. The golden test pins the stored JSON.
//
// For a store key KEY (see [oauthclient.StoreKey]):
//
//   - KEY.client: the client registration and the authorization server's
//     endpoints ([clientItem]), which outlive the tokens.
//   - KEY.tokens: the scopes and tokens ([tokensItem]), and the DPoP key
//     the tokens are bound to (RFC 9449), apart because an item of the
//     Windows Credential Manager holds at most 2560 bytes.
//   - the index entry KEY: what status shows, plus the registration
//     without its secret, so that a start with a public client reads one
//     keychain item, not two. The index is a plain file, so the tokens
//     item holds a digest of that registration: an index that names
//     another token or revocation endpoint (whoever can write the file
//     could redirect the refresh token there) does not match, and the
//     registration is read from KEY.client instead.
//   - secret.NAME: a secret set with `mcp-bridge secret set NAME`.
package credstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// A Store keeps oauthclient credentials in a tokenstore.Store. It
// implements [oauthclient.Store] and [oauthclient.Locker], and is safe for
// concurrent use.
type Store struct {
	s *tokenstore.Store
}

// New returns a Store that keeps credentials in s.
func New(s *tokenstore.Store) *Store { return &Store{s: s} }

// Open opens the token store of the given kind (see [tokenstore.Open]) in
// the user's config directory, mcp-bridge/credentials; memory needs no
// directory. A nil log discards.
func Open(kind string, log *slog.Logger) (*Store, error) {
	dir := ""
	if kind != tokenstore.KindMemory {
		cfg, err := os.UserConfigDir()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(cfg, "mcp-bridge", "credentials")
	}
	s, err := tokenstore.Open(kind, dir, log)
	if err != nil {
		return nil, err
	}
	return New(s), nil
}

// Tokens returns the underlying token store.
func (s *Store) Tokens() *tokenstore.Store { return s.s }

// clientItem is the part of oauthclient.Credentials kept in KEY.client.
type clientItem struct {
	Server             string             `json:"server"`
	Client             oauthclient.Client `json:"client"`
	Issuer             string             `json:"issuer"`
	TokenEndpoint      string             `json:"token_endpoint"`
	RevocationEndpoint string             `json:"revocation_endpoint,omitempty"`
	Resource           string             `json:"resource,omitempty"`
}

// tokensItem is the part of oauthclient.Credentials kept in KEY.tokens.
type tokensItem struct {
	Scopes       []string  `json:"scopes,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Obtained     time.Time `json:"obtained,omitzero"`

	// DPoPKey is the private key the tokens are bound to (RFC 9449), the
	// raw P-256 scalar in base64url: a secret, so here beside the refresh
	// token and never in the index.
	DPoPKey string `json:"dpop_key,omitempty"`

	// Registration is the digest of the registration the index holds
	// (see [registrationDigest]); empty in what versions before it wrote.
	Registration string `json:"registration,omitempty"`
}

// registrationDigest is the digest the tokens item keeps of the index's
// copy of the registration, ci without its secret.
func registrationDigest(ci *clientItem) string {
	public := *ci
	public.Client.Secret = ""
	data, _ := json.Marshal(public)
	sum := sha256.Sum256(data)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// indexEntry is a server's line in the index: no secrets.
type indexEntry struct {
	// The client item without its secret, so that a start with a public
	// client reads one keychain item, not two.
	Registered *clientItem `json:"registered,omitempty"`
	HasSecret  bool        `json:"has_secret,omitempty"`

	Entry
}

func clientKey(key string) string { return key + ".client" }
func tokensKey(key string) string { return key + ".tokens" }

// Load implements [oauthclient.Store].
func (s *Store) Load(ctx context.Context, key string) (*oauthclient.Credentials, error) {
	// The index, a small file, says whether there is anything to read, and
	// holds the registration of a public client: a server that needs no
	// sign-in costs no keychain round trip at start, and a signed-in one
	// costs one. (Were index.json lost, the server would ask for a sign-in,
	// which overwrites the items: nothing is exposed.)
	var entry indexEntry
	if idx, err := s.s.Index(); err == nil {
		raw, ok := idx[key]
		if !ok {
			return nil, oauthclient.ErrNotFound
		}
		json.Unmarshal(raw, &entry)
	}
	type result struct {
		data []byte
		err  error
	}
	tokens := make(chan result, 1)
	go func() {
		data, err := s.s.Get(ctx, tokensKey(key))
		tokens <- result{data, err}
	}()
	ci := entry.Registered
	if ci == nil || entry.HasSecret {
		var err error
		if ci, err = s.loadClient(ctx, key); err != nil {
			<-tokens
			return nil, err
		}
	}
	t := <-tokens
	var ti tokensItem
	switch {
	case errors.Is(t.err, tokenstore.ErrNotFound):
		// Registered, not signed in: nothing secret goes to the stored
		// endpoints (a sign-in uses the discovered ones).
	case t.err != nil:
		return nil, t.err
	default:
		if err := json.Unmarshal(t.data, &ti); err != nil {
			return nil, fmt.Errorf("the stored tokens are damaged: %w", err)
		}
		if ci == entry.Registered && registrationDigest(ci) != ti.Registration {
			// The index does not say what the tokens were saved with (or
			// predates the digest): the keychain's copy decides.
			var err error
			if ci, err = s.loadClient(ctx, key); err != nil {
				return nil, err
			}
		}
	}
	c := &oauthclient.Credentials{Server: ci.Server, Client: ci.Client, Issuer: ci.Issuer,
		TokenEndpoint: ci.TokenEndpoint, RevocationEndpoint: ci.RevocationEndpoint, Resource: ci.Resource}
	if t.err != nil {
		return c, nil
	}
	c.Scopes, c.AccessToken, c.RefreshToken, c.TokenType, c.Expiry, c.Obtained, c.DPoPKey =
		ti.Scopes, ti.AccessToken, ti.RefreshToken, ti.TokenType, ti.Expiry, ti.Obtained, ti.DPoPKey
	return c, nil
}

// loadClient reads KEY.client.
func (s *Store) loadClient(ctx context.Context, key string) (*clientItem, error) {
	data, err := s.s.Get(ctx, clientKey(key))
	if errors.Is(err, tokenstore.ErrNotFound) {
		return nil, oauthclient.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	ci := new(clientItem)
	if err := json.Unmarshal(data, ci); err != nil {
		return nil, fmt.Errorf("the stored client registration is damaged: %w", err)
	}
	return ci, nil
}

// Save implements [oauthclient.Store]. It writes the registration, then
// the tokens, then the index: a reader never sees tokens without the
// client they belong to. Nil credentials remove all three.
func (s *Store) Save(ctx context.Context, key string, c *oauthclient.Credentials) error {
	if c == nil {
		err := errors.Join(s.s.Delete(ctx, tokensKey(key)), s.s.Delete(ctx, clientKey(key)))
		return errors.Join(err, s.s.SetIndex(ctx, key, nil))
	}
	reg := clientItem{Server: c.Server, Client: c.Client, Issuer: c.Issuer,
		TokenEndpoint: c.TokenEndpoint, RevocationEndpoint: c.RevocationEndpoint, Resource: c.Resource}
	ci, _ := json.Marshal(reg)
	if err := s.s.Set(ctx, clientKey(key), ci); err != nil {
		return err
	}
	if c.AccessToken == "" && c.RefreshToken == "" && c.DPoPKey == "" {
		if err := s.s.Delete(ctx, tokensKey(key)); err != nil {
			return err
		}
	} else {
		ti, _ := json.Marshal(tokensItem{Scopes: c.Scopes, AccessToken: c.AccessToken, RefreshToken: c.RefreshToken,
			TokenType: c.TokenType, Expiry: c.Expiry, Obtained: c.Obtained, DPoPKey: c.DPoPKey, Registration: registrationDigest(&reg)})
		if err := s.s.Set(ctx, tokensKey(key), ti); err != nil {
			return err
		}
	}
	public := reg
	public.Client.Secret = ""
	entry, _ := json.Marshal(indexEntry{Registered: &public, HasSecret: c.Client.Secret != "", Entry: Entry{
		Server: c.Server, Issuer: c.Issuer, ClientID: c.Client.ID,
		Registration: c.Client.Kind, Scopes: c.Scopes, AccessToken: new(c.AccessToken != ""), Expiry: c.Expiry, RefreshToken: c.RefreshToken != "",
		LastRefresh: c.Obtained, Store: s.s.Kind(), Location: s.s.Location(tokensKey(key)), DPoP: c.SenderConstrained()}})
	return s.s.SetIndex(ctx, key, entry)
}

// Lock implements [oauthclient.Locker].
func (s *Store) Lock(ctx context.Context, key string) (func(), error) {
	return s.s.Lock(ctx, key)
}

// Watch calls fn whenever another process changes the tokens under key,
// until stop is called.
func (s *Store) Watch(ctx context.Context, key string, fn func()) (stop func(), err error) {
	return s.s.Watch(ctx, tokensKey(key), fn)
}

// Check describes the store for `mcp-bridge doctor`: which one, and
// whether the OS keychain answered.
func (s *Store) Check(key string) oauthclient.Check {
	c := oauthclient.Check{Step: "credential store", OK: true}
	switch kind := s.s.Kind(); {
	case s.s.FellBack() != nil:
		c.Detail = fmt.Sprintf("%v: credentials go to plaintext files (mode 0600) under %s", s.s.FellBack(), s.s.Dir())
		c.Fix = s.s.Advice() + " (which also silences the warning)"
	case kind == tokenstore.KindKeychain:
		c.Detail = "the OS keychain answers: " + s.s.Location(tokensKey(key))
	case kind == tokenstore.KindMemory:
		c.Detail = "memory: credentials are not kept after the bridge exits"
	default:
		c.Detail = "files (mode 0600): " + s.s.Location(tokensKey(key))
	}
	return c
}
