package oauthclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/redact"
	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
)

// maxUserCode bounds a device grant's user_code: RFC 8628 section 6.1
// has the user type it, and suggests eight characters.
const maxUserCode = 64

// deviceGrantType is RFC 8628's grant type.
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// deviceAuth is the device authorization response (RFC 8628 section 3.2).
type deviceAuth struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	VerificationURL string `json:"verification_url"` // Google's older name
	ExpiresIn       int64  `json:"expires_in"`
	Interval        int64  `json:"interval"`
}

// deviceSignIn runs the device authorization grant (RFC 8628): the user
// opens a page on any device and enters a code while the bridge polls.
// The host's waiting request learns the page and the code at once; the
// polling goes on in the background. Both requests authenticate the
// client as every token request does (x/oauth2 sends no secret with the
// device authorization request).
func (h *Handler) deviceSignIn(ctx context.Context, p *pendingLogin, d *discovered, scopes []string) (*Credentials, error) {
	if d.as.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("the authorization server %s does not offer the device grant (no device_authorization_endpoint); use --login=browser or --login=paste", quoteURL(d.as.Issuer))
	}
	client, _, _, err := h.registerWithListener(ctx, d, false)
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if d.resource != "" {
		form.Set("resource", d.resource)
	}
	da, err := h.deviceAuthorization(ctx, d, client, form)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	verify, err := browserURL(da.VerificationURI)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	h.log.Info("waiting for the user to enter the device code", "verification_uri", verify, "user_code", da.UserCode)
	if h.cfg.Prompt != nil {
		fmt.Fprintf(h.cfg.Prompt, "To sign in to %s, open\n\n  %s\n\nand enter the code\n\n  %s\n\n", h.cfg.ServerURL, verify, da.UserCode)
	}
	p.note(&LoginRequiredError{Server: h.cfg.ServerURL, URL: verify, Code: da.UserCode, Reason: "waiting for the device code"})

	// RFC 8628 section 3.2: 5 s unless the server says; an hour between
	// polls is as good as never.
	interval := 5 * time.Second
	if da.Interval > 0 && da.Interval <= 3600 {
		interval = time.Duration(da.Interval) * time.Second
	}
	if da.ExpiresIn > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(min(da.ExpiresIn, maxExpiresIn))*time.Second)
		defer cancel()
	}
	form.Del("scope")
	form.Set("grant_type", deviceGrantType)
	form.Set("device_code", da.DeviceCode)
	for {
		wait := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, fmt.Errorf("device grant: the code was not entered in time: %w", ctx.Err())
		case <-wait.C:
		}
		t, err := h.tokenRequest(ctx, d.as.Issuer, d.as.TokenEndpoint, client, form, d.dpop)
		switch {
		case err == nil:
			return h.fromToken(d, client, scopes, t), nil
		case isTokenError(err, "authorization_pending"):
		case isTokenError(err, "slow_down"):
			interval += 5 * time.Second // section 3.5
		default:
			return nil, fmt.Errorf("device grant: %w", err)
		}
	}
}

// deviceAuthorization asks for a device code and a user code.
func (h *Handler) deviceAuthorization(ctx context.Context, d *discovered, client Client, form url.Values) (*deviceAuth, error) {
	req, err := h.clientRequest(ctx, d.as.Issuer, d.as.DeviceAuthorizationEndpoint, client, form)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, boundURL(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	secrets := sentSecrets(req, client, form)
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode}
		if json.Unmarshal(body, te) != nil || te.Code == "" {
			te.Code, te.Description = "server_error", excerpt(redact.String(string(body), secrets...))
		}
		te.Description = redact.String(te.Description, secrets...)
		return nil, te
	}
	var da deviceAuth
	if err := json.Unmarshal(body, &da); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %s", redact.String(err.Error(), secrets...))
	}
	if da.VerificationURI == "" {
		da.VerificationURI = da.VerificationURL
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, fmt.Errorf("the answer lacks device_code, user_code or verification_uri")
	}
	if !safetext.Plain(da.UserCode, maxUserCode) {
		// The user reads it in a terminal and the host's model in an
		// error, and types it: plain text or nothing (issue 11).
		return nil, fmt.Errorf("the user_code %s is not short plain text (at most %d printable characters, one line, no control or bidi characters); refusing it",
			safetext.Quote(da.UserCode, maxUserCode), maxUserCode)
	}
	return &da, nil
}
