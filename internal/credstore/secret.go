package credstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// secretPrefix starts the store keys of the secrets that ${keychain:NAME}
// references name.
const secretPrefix = "secret."

// Secret returns the secret set under name with `mcp-bridge secret set`.
// A missing secret is an error that says how to set it.
func (s *Store) Secret(ctx context.Context, name string) (string, error) {
	v, err := s.s.Get(ctx, secretPrefix+name)
	if errors.Is(err, tokenstore.ErrNotFound) {
		return "", fmt.Errorf("${keychain:%s}: no such secret in %s; set it with: mcp-bridge secret set %s", name, s.SecretLocation(name), name)
	}
	if err != nil {
		return "", fmt.Errorf("${keychain:%s}: %w", name, err)
	}
	return string(v), nil
}

// SetSecret keeps value under name.
func (s *Store) SetSecret(ctx context.Context, name, value string) error {
	if !secretref.ValidName(name) {
		return fmt.Errorf("%q is not a secret name: letters, digits, '.', '-' and '_'", name)
	}
	return s.s.Set(ctx, secretPrefix+name, []byte(value))
}

// DeleteSecret removes the secret under name; a missing one is not an
// error.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	return s.s.Delete(ctx, secretPrefix+name)
}

// SecretLocation says where the secret under name is kept, for a person
// to find it.
func (s *Store) SecretLocation(name string) string { return s.s.Location(secretPrefix + name) }
