package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// credStore stores oauthclient credentials as JSON in a tokenstore.
type credStore struct {
	store interface {
		Get(ctx context.Context, key string) ([]byte, error)
		Set(ctx context.Context, key string, value []byte) error
		Delete(ctx context.Context, key string) error
	}
}

func (s credStore) Load(ctx context.Context, key string) (*oauthclient.Credentials, error) {
	data, err := s.store.Get(ctx, key)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return nil, oauthclient.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var c oauthclient.Credentials
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("stored credentials are damaged: %w", err)
	}
	return &c, nil
}

func (s credStore) Save(ctx context.Context, key string, c *oauthclient.Credentials) error {
	if c == nil {
		return s.store.Delete(ctx, key)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.store.Set(ctx, key, data)
}
