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

// redirectURI returns the loopback redirect URI for port:
// http://HOST:PORT/PATH with [Config.CallbackHost] and
// [Config.CallbackPath], or 127.0.0.1 and /callback. The listener binds
// 127.0.0.1 whatever the host says: a host other than a loopback name is
// for a redirect that some proxy brings back here, as mcp-remote's --host
// allows.
func (h *Handler) redirectURI(port int) string {
	host, path := h.cfg.CallbackHost, h.cfg.CallbackPath
	if host == "" {
		host = "127.0.0.1"
	}
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
