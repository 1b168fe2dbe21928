package oauthclient

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrNotFound is returned by a [Store] that holds nothing under a key.
var ErrNotFound = errors.New("no stored credentials")

// A Store keeps credentials between runs. Implementations must be safe for
// concurrent use and must not log what they store.
type Store interface {
	// Load returns the credentials saved under key, or ErrNotFound.
	Load(ctx context.Context, key string) (*Credentials, error)
	// Save replaces the credentials under key. A nil c deletes them.
	Save(ctx context.Context, key string, c *Credentials) error
}

// A Locker is a Store that can also lock a key across processes: several
// bridges started for one server then sign in once, and refresh a
// rotating refresh token once. The Handler holds the lock around sign-in
// and refresh, and reads the store again once it has it.
type Locker interface {
	// Lock blocks until it holds the lock for key, or ctx is done. The
	// returned function releases it. A process that dies releases its
	// locks.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Credentials are what a login leaves behind: the client registration, the
// authorization server it belongs to, and the tokens it issued.
type Credentials struct {
	// Server is the MCP server's URL, as configured.
	Server string `json:"server"`

	// Client is the registration used at the authorization server.
	Client Client `json:"client"`

	// Issuer and the endpoints of the authorization server, so that a
	// refresh needs no discovery.
	Issuer             string `json:"issuer"`
	TokenEndpoint      string `json:"token_endpoint"`
	RevocationEndpoint string `json:"revocation_endpoint,omitempty"`

	// Resource is the RFC 8707 resource the tokens are bound to, or "" if
	// the resource parameter was left out.
	Resource string `json:"resource,omitempty"`

	// Scopes are those requested and granted.
	Scopes []string `json:"scopes,omitempty"`

	// AccessToken, RefreshToken, TokenType and Expiry are the tokens; they
	// are empty when only the registration is known.
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`

	// Obtained is when the access token was issued or last refreshed.
	Obtained time.Time `json:"obtained,omitzero"`

	// DPoPKey is the private key the tokens are bound to (DPoP, RFC 9449),
	// the raw P-256 scalar in base64url, or "" for Bearer tokens. It is a
	// secret, kept with the refresh token, which the authorization server
	// may bind to it.
	DPoPKey string `json:"dpop_key,omitempty"`
}

// Client is a client registration at an authorization server.
type Client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret,omitempty"`

	// Kind says how the client was registered: "metadata-document" (a
	// Client ID Metadata Document URL), "preregistered" or "dynamic" (RFC
	// 7591).
	Kind string `json:"kind"`

	// AuthMethod is the token endpoint authentication method: "none",
	// "client_secret_basic", "client_secret_post" or "private_key_jwt".
	AuthMethod string `json:"token_endpoint_auth_method,omitempty"`

	// RedirectURI is the loopback redirect URI registered, for dynamic
	// registrations.
	RedirectURI string `json:"redirect_uri,omitempty"`
}

// Registration kinds, for [Client.Kind].
const (
	KindMetadataDocument = "metadata-document"
	KindPreregistered    = "preregistered"
	KindDynamic          = "dynamic"
)

func (c *Credentials) clone() *Credentials {
	if c == nil {
		return nil
	}
	cc := *c
	cc.Scopes = slices.Clone(c.Scopes)
	return &cc
}

// HasToken reports whether c holds an access or refresh token, expired
// or not. Nil holds none.
func (c *Credentials) HasToken() bool {
	return c != nil && (c.AccessToken != "" || c.RefreshToken != "")
}

// MemoryStore is a [Store] that keeps credentials in memory: for tests, and
// for users who want nothing written to disk.
type MemoryStore struct {
	mu sync.Mutex // guards m
	m  map[string]*Credentials
}

// Load implements [Store].
func (s *MemoryStore) Load(_ context.Context, key string) (*Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return c.clone(), nil
}

// Save implements [Store].
func (s *MemoryStore) Save(_ context.Context, key string, c *Credentials) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		delete(s.m, key)
		return nil
	}
	if s.m == nil {
		s.m = map[string]*Credentials{}
	}
	s.m[key] = c.clone()
	return nil
}
