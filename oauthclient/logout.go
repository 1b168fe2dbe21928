package oauthclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// LogoutResult says what [Handler.Logout] did.
type LogoutResult struct {
	// Found is set if there were credentials to remove.
	Found bool
	// Revoked lists the token types revoked at the authorization server
	// ("refresh_token", "access_token").
	Revoked []string
	// RevokeError is why revocation failed, if it did; the credentials are
	// removed all the same.
	RevokeError error
}

// Logout removes the stored credentials for the server and, when the
// authorization server advertises a revocation endpoint, revokes the
// tokens there first (RFC 7009): the refresh token, which revokes the
// access token too at most servers, then the access token.
func (h *Handler) Logout(ctx context.Context) (*LogoutResult, error) {
	start := h.now()
	h.load(ctx)
	// A bridge may hold the lock for minutes while its user signs in:
	// removing credentials needs no lock, so do not wait long for it.
	lockCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	unlock, err := h.lock(lockCtx)
	cancel()
	if err == nil {
		defer unlock()
	}
	c := h.reread(ctx)
	res := &LogoutResult{Found: c != nil}
	if c == nil {
		return res, nil
	}
	if c.RevocationEndpoint != "" {
		for _, t := range []struct{ kind, value string }{{"refresh_token", c.RefreshToken}, {"access_token", c.AccessToken}} {
			if t.value == "" {
				continue
			}
			if err := h.revoke(ctx, c, t.kind, t.value); err != nil {
				res.RevokeError = err
				break
			}
			res.Revoked = append(res.Revoked, t.kind)
		}
	}
	if err := h.store.Save(ctx, h.key, nil); err != nil {
		err = fmt.Errorf("remove the credentials: %w", err)
		h.event(EventLogout, start, err)
		return res, err
	}
	h.event(EventLogout, start, res.RevokeError)
	h.mu.Lock()
	h.creds = nil
	h.mu.Unlock()
	return res, nil
}

// revoke posts one token to the revocation endpoint, authenticating as the
// token's client.
func (h *Handler) revoke(ctx context.Context, c *Credentials, kind, token string) error {
	if err := checkEndpoint("revocation_endpoint", c.RevocationEndpoint); err != nil {
		return err
	}
	form := url.Values{"token": {token}, "token_type_hint": {kind}}
	req, err := h.clientRequest(ctx, c.Issuer, c.RevocationEndpoint, c.Client, form)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("revoke the %s: %w", kind, boundURL(err))
	}
	resp.Body.Close()
	// RFC 7009 section 2.2: 200 whether or not the token was valid.
	if resp.StatusCode != http.StatusOK {
		// resp.Status holds the server's reason phrase: only the code.
		return fmt.Errorf("revoke the %s: HTTP %d %s", kind, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}
