package credstore

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// An Entry is what the store says of a server it holds credentials for,
// without a secret: what `mcp-bridge status` shows.
type Entry struct {
	// Key is the store key of the server's credentials (not stored: it is
	// the index's key).
	Key string `json:"-"`

	Server       string    `json:"server"`
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id"`
	Registration string    `json:"registration"` // the client's oauthclient.Client.Kind
	Scopes       []string  `json:"scopes,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	RefreshToken bool      `json:"refresh_token"` // whether there is one
	LastRefresh  time.Time `json:"last_refresh,omitzero"`
	Store        string    `json:"store"`    // the store's kind
	Location     string    `json:"location"` // where the tokens are, for a person to find

	// AccessToken says whether there is an access token (a registered
	// client that never signed in has none); nil on an index line written
	// before it was recorded.
	AccessToken *bool `json:"access_token,omitempty"`

	// DPoP says whether the tokens are sender-constrained: bound to a key
	// kept beside them (RFC 9449). The key is never in the index.
	DPoP bool `json:"dpop,omitempty"`
}

// List returns an entry per server with stored credentials, sorted by
// server URL, then key. An index line it cannot read is left out.
func (s *Store) List() ([]Entry, error) {
	raw, err := s.s.Index()
	if err != nil {
		return nil, err
	}
	var list []Entry
	for k, v := range raw {
		var e indexEntry
		if json.Unmarshal(v, &e) == nil {
			e.Entry.Key = k
			list = append(list, e.Entry)
		}
	}
	slices.SortFunc(list, func(a, b Entry) int { return cmp.Or(cmp.Compare(a.Server, b.Server), cmp.Compare(a.Key, b.Key)) })
	return list, nil
}

// Kind is the kind of the store (see [tokenstore.Store.Kind]).
func (s *Store) Kind() string { return s.s.Kind() }
