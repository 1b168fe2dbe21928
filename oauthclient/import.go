package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Import makes credentials another client obtained (mcp-remote's, which
// `mcp-bridge migrate` reads) this handler's. c needs only its client and
// tokens: Import discovers the server's authorization server, as a
// sign-in would, and fills in the issuer, its endpoints and the resource.
// It saves them under the handler's key, holding the store's lock, then
// reads them back and compares: a nil error means the store holds them.
func (h *Handler) Import(ctx context.Context, c *Credentials) error {
	if c == nil || c.Client.ID == "" || !c.HasToken() {
		return errors.New("import credentials: want a client id and a token")
	}
	challenges, err := h.probe(ctx)
	if err != nil {
		return fmt.Errorf("import credentials: %w", err)
	}
	d, err := h.discover(ctx, challenges)
	if err != nil {
		return fmt.Errorf("import credentials: discover the authorization server: %w", err)
	}
	imp := c.clone()
	imp.Server = h.cfg.ServerURL
	imp.Issuer, imp.TokenEndpoint, imp.RevocationEndpoint = d.as.Issuer, d.as.TokenEndpoint, d.as.RevocationEndpoint
	imp.Resource = d.resource
	if imp.Client.AuthMethod == "" {
		imp.Client.AuthMethod = authMethod(d.as.TokenEndpointAuthMethodsSupported, imp.Client.Secret != "", false)
	}
	if imp.Client.Kind == "" {
		imp.Client.Kind = KindDynamic
	}
	if imp.Obtained.IsZero() {
		imp.Obtained = h.now()
	}

	unlock, err := h.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := h.store.Save(ctx, h.key, imp); err != nil {
		return fmt.Errorf("import credentials: save: %w", err)
	}
	got, err := h.store.Load(ctx, h.key)
	if err != nil {
		return fmt.Errorf("import credentials: read back: %w", err)
	}
	if !sameCredentials(got, imp) {
		return errors.New("import credentials: the store gave back something other than what was saved")
	}
	h.mu.Lock()
	h.creds, h.loaded = got, true
	h.mu.Unlock()
	h.log.Info("imported credentials", "issuer", imp.Issuer, "client_id", imp.Client.ID, "refresh_token", imp.RefreshToken != "")
	return nil
}

// sameCredentials compares what a store must keep exactly.
func sameCredentials(a, b *Credentials) bool {
	return a != nil && b != nil && a.Client == b.Client && a.Server == b.Server && a.Issuer == b.Issuer &&
		a.TokenEndpoint == b.TokenEndpoint && a.Resource == b.Resource && slices.Equal(a.Scopes, b.Scopes) &&
		a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken && a.Expiry.Equal(b.Expiry) &&
		a.DPoPKey == b.DPoPKey
}
