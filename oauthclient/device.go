package oauthclient

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/oauth2"
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
		return nil, fmt.Errorf("device authorization: %w", err)
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
	tok, err := cfg.DeviceAccessToken(ctx, da, opts...)
	if err != nil {
		return nil, fmt.Errorf("device grant: %w", err)
	}
	t := &tokenResponse{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken}
	if s, ok := tok.Extra("scope").(string); ok {
		t.Scope = s
	}
	c := h.fromToken(d, client, scopes, t)
	c.Expiry = tok.Expiry
	if t.Scope != "" {
		c.Scopes = strings.Fields(t.Scope)
	}
	return c, nil
}
