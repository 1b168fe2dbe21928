package oauthclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcp-bridge/mcp-bridge/internal/redact"
)

// callbackPath is the path of the loopback redirect URI the bridge
// registers.
const callbackPath = "/callback"

// registerWithListener returns the client to sign in with at d's
// authorization server and, if listen is set, the loopback listener its
// redirect URI names. basic/authorization/client-registration, in its
// priority order: the pre-registered client, else a Client ID Metadata
// Document where the server supports it, else dynamic registration (RFC
// 7591), whose result is kept and reused until the server forgets it or
// names another authorization server.
func (h *Handler) registerWithListener(ctx context.Context, d *discovered, listen bool) (Client, net.Listener, string, error) {
	switch {
	case h.cfg.ClientID != "":
		// A registered client with neither secret nor key is public: it
		// names itself, whatever methods the server lists (Entra refuses
		// an empty secret from a public client, AADSTS700025).
		method := "none"
		if h.cfg.ClientSecret != "" || h.cfg.PrivateKey != nil {
			method = authMethod(d.as.TokenEndpointAuthMethodsSupported, h.cfg.ClientSecret != "", h.cfg.PrivateKey != nil)
		}
		c := Client{ID: h.cfg.ClientID, Secret: h.cfg.ClientSecret, Kind: KindPreregistered, AuthMethod: method}
		ln, redirect, err := h.listen(h.cfg.CallbackPort, "", listen)
		h.log.Info("using the pre-registered client", "client_id", c.ID)
		return c, ln, redirect, err
	case h.cfg.ClientMetadataURL != "" && d.as.ClientIDMetadataDocumentSupported:
		c := Client{ID: h.cfg.ClientMetadataURL, Kind: KindMetadataDocument, AuthMethod: "none"}
		ln, redirect, err := h.listen(h.cfg.CallbackPort, "", listen)
		h.log.Info("using the client ID metadata document", "client_id", c.ID)
		return c, ln, redirect, err
	case d.as.RegistrationEndpoint == "":
		return Client{}, nil, "", fmt.Errorf("the authorization server %s offers no dynamic client registration; register a client there and pass --client-id", quoteURL(d.as.Issuer))
	}

	// Reuse the registration made at this authorization server before, on
	// its redirect URI's port if that port is free.
	h.mu.Lock()
	prev := h.creds.clone()
	h.mu.Unlock()
	if prev != nil && prev.Client.Kind == KindDynamic && sameIssuer(prev.Issuer, d.as.Issuer) && prev.Client.RedirectURI != "" {
		if ru, err := url.Parse(prev.Client.RedirectURI); err == nil {
			port, _ := strconv.Atoi(ru.Port())
			if ln, redirect, err := h.listen(port, ru.Hostname(), listen); err == nil {
				if kept := keptRedirect(prev.Client.RedirectURI, port); kept != "" {
					redirect = kept // as registered: the path may differ from ours
				}
				h.log.Info("using the client registered before", "client_id", prev.Client.ID)
				return prev.Client, ln, redirect, nil
			}
			h.log.Info("the registered redirect port is taken; registering again", "port", port)
		}
	}

	ln, redirect, err := h.listen(h.cfg.CallbackPort, "", true)
	if err != nil {
		return Client{}, nil, "", err
	}
	method := authMethod(d.as.TokenEndpointAuthMethodsSupported, false, false)
	grants := []string{"authorization_code", "refresh_token"}
	if h.cfg.Login == LoginDevice {
		grants = append(grants, "urn:ietf:params:oauth:grant-type:device_code")
	}
	meta := &oauthex.ClientRegistrationMetadata{
		ClientName:              "mcp-bridge",
		ClientURI:               "https://github.com/mcp-bridge/mcp-bridge",
		RedirectURIs:            []string{redirect},
		GrantTypes:              grants,
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: method,
		ApplicationType:         "native",
	}
	if err := h.applyRegistrationMetadata(meta); err != nil {
		ln.Close()
		return Client{}, nil, "", err
	}
	if meta.TokenEndpointAuthMethod != "" {
		method = meta.TokenEndpointAuthMethod
	}
	resp, err := h.registerClient(ctx, d.as.RegistrationEndpoint, meta)
	if err != nil {
		ln.Close()
		return Client{}, nil, "", fmt.Errorf("register a client at %s: %w", quoteURL(d.as.RegistrationEndpoint), err)
	}
	if resp.TokenEndpointAuthMethod != "" {
		method = resp.TokenEndpointAuthMethod
	}
	if method == "none" && resp.ClientSecret != "" {
		method = "client_secret_basic"
	}
	c := Client{ID: resp.ClientID, Secret: resp.ClientSecret, Kind: KindDynamic, AuthMethod: method, RedirectURI: redirect}
	h.log.Info("registered a client (RFC 7591)", "client_id", c.ID, "token_endpoint_auth_method", method)
	// Keep the registration now, whatever becomes of the sign-in: the
	// Go SDK registers on every sign-in, which authorization servers
	// accumulate.
	keep := &Credentials{Server: h.cfg.ServerURL, Client: c, Issuer: d.as.Issuer, TokenEndpoint: d.as.TokenEndpoint,
		RevocationEndpoint: d.as.RevocationEndpoint, Resource: d.resource}
	if err := h.save(ctx, keep); err != nil {
		h.log.Warn("keeping the client registration failed", "err", err)
	}
	if !listen {
		ln.Close()
		ln = nil
	}
	return c, ln, redirect, nil
}

// registration is what the bridge uses of a registration answer (RFC
// 7591 section 3.2.1). Only these members are read: the Go SDK's
// oauthex.ClientRegistrationResponse types jwks as a string, where RFC
// 7591 section 2 has a JWK Set object, so its RegisterClient cannot read
// Ory Hydra's "jwks": {} and every sign-in to Hydra failed (issue 11).
type registration struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
}

// maxRegistration bounds a registration answer.
const maxRegistration = 64 << 10

// registerClient posts meta to the registration endpoint (RFC 7591
// section 3.1) and reads the answer tolerantly: members it does not use
// may hold any JSON value, or null.
func (h *Handler) registerClient(ctx context.Context, endpoint string, meta *oauthex.ClientRegistrationMetadata) (*registration, error) {
	body, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, boundURL(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, boundURL(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxRegistration+1))
	switch {
	case err != nil:
		return nil, err
	case len(answer) > maxRegistration:
		return nil, fmt.Errorf("the answer is larger than %d bytes", maxRegistration)
	case resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK:
		// RFC 7591 section 3.2.2; the answer may quote the request, or
		// hold a registration_access_token.
		var e struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(answer, &e) == nil && e.Code != "" {
			return nil, fmt.Errorf("%s (HTTP %d): %s", errorCode(e.Code), resp.StatusCode, asSaid(redact.String(e.Description)))
		}
		// resp.Status holds the server's reason phrase: only the code.
		return nil, fmt.Errorf("HTTP %d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), asSaid(redact.String(string(answer))))
	}
	var r registration
	if err := json.Unmarshal(answer, &r); err != nil {
		return nil, fmt.Errorf("the answer is not a registration: %s", redact.String(err.Error()))
	}
	if r.ClientID == "" {
		return nil, errors.New("the answer has no client_id")
	}
	return &r, nil
}

// listen binds the loopback redirect listener on port (0: any) and returns
// it with its redirect URI, whose host is host, or the configured one if
// empty. If listen is false, it only checks the port can be named and
// returns no listener.
func (h *Handler) listen(port int, host string, listen bool) (net.Listener, string, error) {
	if host == "" {
		host = h.callbackHost()
	}
	if !listen && port != 0 {
		return nil, h.redirectURI(host, port), nil
	}
	ln, err := listenLoopback(port, host == "localhost")
	if err != nil {
		return nil, "", err
	}
	redirect := h.redirectURI(host, ln.Addr().(*net.TCPAddr).Port)
	if !listen {
		ln.Close()
		ln = nil
	}
	return ln, redirect, nil
}

// forgetRegistration drops a dynamic registration the authorization
// server no longer knows, so that the next sign-in registers anew.
func (h *Handler) forgetRegistration(ctx context.Context) {
	h.mu.Lock()
	c := h.creds.clone()
	h.mu.Unlock()
	if c == nil || c.Client.Kind != KindDynamic {
		return
	}
	h.log.Info("the authorization server no longer knows the client; it will be registered again", "client_id", c.Client.ID)
	if err := h.store.Save(ctx, h.key, nil); err != nil {
		h.log.Warn("forgetting the client registration failed", "err", err)
	}
	h.mu.Lock()
	h.creds = nil
	h.mu.Unlock()
}

// authMethod picks the token endpoint authentication method from those the
// authorization server supports (RFC 8414 token_endpoint_auth_methods_
// supported; absent means client_secret_basic).
func authMethod(supported []string, secret, key bool) string {
	switch {
	case key:
		return "private_key_jwt"
	case !secret && (len(supported) == 0 || slices.Contains(supported, "none")):
		return "none"
	case slices.Contains(supported, "client_secret_basic") || len(supported) == 0:
		return "client_secret_basic"
	case slices.Contains(supported, "client_secret_post"):
		return "client_secret_post"
	case !secret:
		return "none"
	}
	return "client_secret_basic"
}

// authStyle maps a token endpoint authentication method to x/oauth2's.
func authStyle(method string) oauth2.AuthStyle {
	if method == "client_secret_basic" {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}
