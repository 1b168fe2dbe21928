package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/mcp-bridge/mcp-bridge/internal/redact"
)

// deviceSignIn runs the device authorization grant (RFC 8628): the user
// opens a page on any device and enters a code while the bridge polls.
// The host's waiting request learns the page and the code at once; the
// polling goes on in the background.
func (h *Handler) deviceSignIn(ctx context.Context, p *pendingLogin, d *discovered, scopes []string) (*Credentials, error) {
	if d.as.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("the authorization server %s does not offer the device grant (no device_authorization_endpoint); use --login=browser or --login=paste", d.as.Issuer)
	}
	client, _, _, err := h.registerWithListener(ctx, d, false)
	if err != nil {
		return nil, err
	}
	cfg := h.oauthConfig(d, client, "", scopes)
	var opts []oauth2.AuthCodeOption
	if h.resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", h.resource))
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, h.client)
	da, err := cfg.DeviceAuth(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", deviceError(err, client.Secret))
	}
	// x/oauth2 polls with a ticker, which panics on a negative interval;
	// RFC 8628 section 3.2 makes 5 s the default, and an hour between
	// polls is as good as never.
	if da.Interval < 0 || da.Interval > 3600 {
		da.Interval = 0
	}
	verify := da.VerificationURI
	if err := checkBrowserURL(verify); err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	h.log.Info("waiting for the user to enter the device code", "verification_uri", verify, "user_code", da.UserCode)
	if h.cfg.Prompt != nil {
		fmt.Fprintf(h.cfg.Prompt, "To sign in to %s, open\n\n  %s\n\nand enter the code\n\n  %s\n\n", h.cfg.ServerURL, verify, da.UserCode)
	}
	p.note(&LoginRequiredError{Server: h.cfg.ServerURL, URL: verify, Code: da.UserCode, Reason: "waiting for the device code"})
	for k, vs := range h.cfg.TokenParams {
		for _, v := range vs {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	tok, err := cfg.DeviceAccessToken(ctx, da, opts...)
	if err != nil {
		return nil, fmt.Errorf("device grant: %w", deviceError(err, client.Secret, da.DeviceCode))
	}
	t := &tokenResponse{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, ExpiresIn: tok.ExpiresIn}
	if s, ok := tok.Extra("scope").(string); ok {
		t.Scope = s
	}
	c := h.fromToken(d, client, scopes, t)
	if t.Scope != "" {
		c.Scopes = strings.Fields(t.Scope)
	}
	return c, nil
}

// deviceError turns x/oauth2's error, whose text holds the whole answer
// (an error page may echo the request, device code and secret included),
// into a TokenError with the secrets taken out.
func deviceError(err error, secrets ...string) error {
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok {
		return errors.New(redact.String(err.Error(), secrets...))
	}
	te := &TokenError{Code: re.ErrorCode, Description: re.ErrorDescription}
	if re.Response != nil {
		te.Status = re.Response.StatusCode
	}
	if te.Code == "" {
		te.Code, te.Description = "server_error", excerpt(redact.String(string(re.Body), secrets...))
	}
	te.Description = redact.String(te.Description, secrets...)
	return te
}
