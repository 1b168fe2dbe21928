package oauthclient

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// callbackHost is [Config.CallbackHost], or 127.0.0.1.
func (h *Handler) callbackHost() string {
	if h.cfg.CallbackHost == "" {
		return "127.0.0.1"
	}
	return h.cfg.CallbackHost
}

// redirectURI returns the loopback redirect URI http://HOST:PORT/PATH,
// with [Config.CallbackPath] or /callback. The listener binds loopback
// whatever the host says (see [listenLoopback]): a host other than a
// loopback name is for a redirect that some proxy brings back here, as
// mcp-remote's --host allows.
func (h *Handler) redirectURI(host string, port int) string {
	path := h.cfg.CallbackPath
	if path == "" {
		path = callbackPath
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: path}).String()
}

// keptRedirect returns the redirect URI of a kept registration with its
// port replaced by the one bound, keeping the host and path it was
// registered with (which may be another client's, such as mcp-remote's
// http://localhost:PORT/oauth/callback after `mcp-bridge migrate`).
func keptRedirect(registered string, port int) string {
	u, err := url.Parse(registered)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" {
		return ""
	}
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	return u.String()
}

// applyRegistrationMetadata merges [Config.RegistrationMetadata] over the
// metadata of a dynamic registration. The redirect URIs stay the
// listener's: no other redirect could reach this process.
func (h *Handler) applyRegistrationMetadata(meta *oauthex.ClientRegistrationMetadata) error {
	if len(h.cfg.RegistrationMetadata) == 0 {
		return nil
	}
	redirects := slices.Clone(meta.RedirectURIs)
	if err := json.Unmarshal(h.cfg.RegistrationMetadata, meta); err != nil {
		return fmt.Errorf("registration metadata: %w", err)
	}
	meta.RedirectURIs = redirects
	return nil
}
