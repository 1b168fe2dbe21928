package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// credStore keeps oauthclient credentials in a tokenstore: the client
// registration and the tokens as separate items (KEY.client and
// KEY.tokens; Windows caps an item at 2560 bytes, and the registration
// outlives the tokens), plus a non-secret line in the store's index for
// `mcp-bridge status`. It implements oauthclient.Store and
// oauthclient.Locker.
type credStore struct {
	store *tokenstore.Store
}

// The parts of oauthclient.Credentials kept in each item.
type clientItem struct {
	Server             string             `json:"server"`
	Client             oauthclient.Client `json:"client"`
	Issuer             string             `json:"issuer"`
	TokenEndpoint      string             `json:"token_endpoint"`
	RevocationEndpoint string             `json:"revocation_endpoint,omitempty"`
	Resource           string             `json:"resource,omitempty"`
}

type tokensItem struct {
	Scopes       []string  `json:"scopes,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	Obtained     time.Time `json:"obtained,omitzero"`
}

// indexEntry is what `mcp-bridge status` shows of a server, and the
// registration without its secret: no secrets.
type indexEntry struct {
	// The client item without its secret, so that a start with a public
	// client reads one keychain item, not two.
	Registered *clientItem `json:"registered,omitempty"`
	HasSecret  bool        `json:"has_secret,omitempty"`

	Server       string    `json:"server"`
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id"`
	Registration string    `json:"registration"`
	Scopes       []string  `json:"scopes,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	RefreshToken bool      `json:"refresh_token"`
	LastRefresh  time.Time `json:"last_refresh,omitzero"`
	Store        string    `json:"store"`
	Location     string    `json:"location"`
}

func (s credStore) Load(ctx context.Context, key string) (*oauthclient.Credentials, error) {
	// The index, a small file, says whether there is anything to read, and
	// holds the registration of a public client: a server that needs no
	// sign-in costs no keychain round trip at start, and a signed-in one
	// costs one. (Were index.json lost, the server would ask for a sign-in,
	// which overwrites the items: nothing is exposed.)
	var entry indexEntry
	if idx, err := s.store.Index(); err == nil {
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
		data, err := s.store.Get(ctx, key+".tokens")
		tokens <- result{data, err}
	}()
	ci := entry.Registered
	if ci == nil || entry.HasSecret {
		data, err := s.store.Get(ctx, key+".client")
		if errors.Is(err, tokenstore.ErrNotFound) {
			<-tokens
			return nil, oauthclient.ErrNotFound
		}
		if err != nil {
			<-tokens
			return nil, err
		}
		ci = new(clientItem)
		if err := json.Unmarshal(data, ci); err != nil {
			<-tokens
			return nil, fmt.Errorf("the stored client registration is damaged: %w", err)
		}
	}
	c := &oauthclient.Credentials{Server: ci.Server, Client: ci.Client, Issuer: ci.Issuer,
		TokenEndpoint: ci.TokenEndpoint, RevocationEndpoint: ci.RevocationEndpoint, Resource: ci.Resource}
	t := <-tokens
	switch {
	case errors.Is(t.err, tokenstore.ErrNotFound):
		return c, nil // registered, not signed in
	case t.err != nil:
		return nil, t.err
	}
	var ti tokensItem
	if err := json.Unmarshal(t.data, &ti); err != nil {
		return nil, fmt.Errorf("the stored tokens are damaged: %w", err)
	}
	c.Scopes, c.AccessToken, c.RefreshToken, c.TokenType, c.Expiry, c.Obtained =
		ti.Scopes, ti.AccessToken, ti.RefreshToken, ti.TokenType, ti.Expiry, ti.Obtained
	return c, nil
}

// Save writes the registration, then the tokens: a reader never sees
// tokens without the client they belong to.
func (s credStore) Save(ctx context.Context, key string, c *oauthclient.Credentials) error {
	if c == nil {
		err := errors.Join(s.store.Delete(ctx, key+".tokens"), s.store.Delete(ctx, key+".client"))
		return errors.Join(err, s.store.SetIndex(ctx, key, nil))
	}
	reg := clientItem{Server: c.Server, Client: c.Client, Issuer: c.Issuer,
		TokenEndpoint: c.TokenEndpoint, RevocationEndpoint: c.RevocationEndpoint, Resource: c.Resource}
	ci, _ := json.Marshal(reg)
	if err := s.store.Set(ctx, key+".client", ci); err != nil {
		return err
	}
	public := reg
	public.Client.Secret = ""
	if c.AccessToken == "" && c.RefreshToken == "" {
		if err := s.store.Delete(ctx, key+".tokens"); err != nil {
			return err
		}
	} else {
		ti, _ := json.Marshal(tokensItem{Scopes: c.Scopes, AccessToken: c.AccessToken, RefreshToken: c.RefreshToken,
			TokenType: c.TokenType, Expiry: c.Expiry, Obtained: c.Obtained})
		if err := s.store.Set(ctx, key+".tokens", ti); err != nil {
			return err
		}
	}
	entry, _ := json.Marshal(indexEntry{Registered: &public, HasSecret: c.Client.Secret != "",
		Server: c.Server, Issuer: c.Issuer, ClientID: c.Client.ID,
		Registration: c.Client.Kind, Scopes: c.Scopes, Expiry: c.Expiry, RefreshToken: c.RefreshToken != "",
		LastRefresh: c.Obtained, Store: s.store.Kind(), Location: s.store.Location(key + ".tokens")})
	return s.store.SetIndex(ctx, key, entry)
}

// Lock implements oauthclient.Locker.
func (s credStore) Lock(ctx context.Context, key string) (func(), error) {
	return s.store.Lock(ctx, key)
}

// watch calls fn whenever another process changes the tokens under key.
func (s credStore) watch(ctx context.Context, key string, fn func()) (func(), error) {
	return s.store.Watch(ctx, key+".tokens", fn)
}

// check describes the token store for doctor: which one, and whether the
// OS keychain answered.
func (s credStore) check(key string) oauthclient.Check {
	c := oauthclient.Check{Step: "credential store", OK: true}
	switch kind := s.store.Kind(); {
	case s.store.FellBack() != nil:
		c.Detail = fmt.Sprintf("%v: credentials go to plaintext files (mode 0600) under %s", s.store.FellBack(), s.store.Dir())
	case kind == tokenstore.KindKeychain:
		c.Detail = "the OS keychain answers: " + s.store.Location(key+".tokens")
	case kind == tokenstore.KindMemory:
		c.Detail = "memory: credentials are not kept after the bridge exits"
	default:
		c.Detail = "files (mode 0600): " + s.store.Location(key+".tokens")
	}
	return c
}
