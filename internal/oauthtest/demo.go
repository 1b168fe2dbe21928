package oauthtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/demoserver"
)

// DemoOptions configures [StartProtectedDemo]. A nil *DemoOptions means the
// zero value.
type DemoOptions struct {
	// AuthServer configures the authorization server. If nil, the zero
	// [ASOptions]. With TLS set, the MCP server uses TLS too, with the same
	// certificate.
	AuthServer *ASOptions
	// Resource configures the protection of the MCP endpoint. If nil, the
	// zero [ResourceOptions]. StartProtectedDemo fills in Resource,
	// AuthorizationServers, Verifier and Now where they are empty.
	Resource *ResourceOptions
	// ResourceOf, if not nil, gives the resource identifier from the MCP
	// endpoint's URL, where Resource.Resource is empty: for a server whose
	// metadata describes its whole origin (RFC 9728 at the root).
	ResourceOf func(mcpURL string) string
	// Server configures the demo MCP server.
	Server *demoserver.Options
	// Handler, if not nil, is the MCP endpoint to protect instead of a new
	// demo server: a [demoserver.Server]'s Handler, so that the caller can
	// still make the server send notifications.
	Handler http.Handler
	// Legacy serves the MCP endpoint on the authorization server's origin
	// with no protected resource metadata, as MCP 2025-03-26 servers did
	// (see ResourceOptions.Legacy). AuthServer.IssuerPath must be empty and
	// AuthServer.Fallback is taken.
	Legacy bool
}

// A ProtectedDemo is the demo MCP server ([demoserver.Handler]) behind
// [Protect], with its [AuthServer], both on loopback ports.
type ProtectedDemo struct {
	// AuthServer is the authorization server.
	AuthServer *AuthServer
	// URL is the MCP endpoint, which is also the resource identifier.
	URL string
	// ResourceMetadataURL is the path-inserted protected resource metadata
	// URL; empty in Legacy mode.
	ResourceMetadataURL string

	mcp *httptest.Server // nil in Legacy mode
}

// StartProtectedDemo starts an authorization server and the demo MCP server
// protected by it, at /mcp. ctx is used only while starting; call
// [ProtectedDemo.Close] to stop both.
func StartProtectedDemo(ctx context.Context, opts *DemoOptions) (*ProtectedDemo, error) {
	if opts == nil {
		opts = &DemoOptions{}
	}
	asOpts := ASOptions{}
	if opts.AuthServer != nil {
		asOpts = *opts.AuthServer
	}
	resOpts := ResourceOptions{}
	if opts.Resource != nil {
		resOpts = *opts.Resource
	}
	if resOpts.Now == nil {
		resOpts.Now = asOpts.Now
	}
	mcpHandler := opts.Handler
	if mcpHandler == nil {
		mcpHandler = demoserver.Handler(opts.Server)
	}

	if opts.Legacy {
		if asOpts.IssuerPath != "" {
			return nil, errors.New("start protected demo: legacy mode needs an issuer without a path")
		}
		resOpts.Legacy = true
		mux := http.NewServeMux() // gets /mcp once the origin is known
		asOpts.Fallback = mux
		as, err := StartAuthServer(ctx, &asOpts)
		if err != nil {
			return nil, fmt.Errorf("start protected demo: %w", err)
		}
		d := &ProtectedDemo{AuthServer: as, URL: as.URL() + "/mcp"}
		h, err := protectDemo(mcpHandler, &resOpts, d, opts.ResourceOf)
		if err != nil {
			as.Close()
			return nil, err
		}
		mux.Handle("/mcp", h)
		return d, nil
	}

	as, err := StartAuthServer(ctx, &asOpts)
	if err != nil {
		return nil, fmt.Errorf("start protected demo: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		as.Close()
		return nil, fmt.Errorf("start protected demo: listen on loopback: %w", err)
	}
	scheme := "http"
	if asOpts.TLS {
		scheme = "https"
	}
	d := &ProtectedDemo{AuthServer: as, URL: scheme + "://" + ln.Addr().String() + "/mcp"}
	d.ResourceMetadataURL = ResourceMetadataURL(d.URL)
	h, err := protectDemo(mcpHandler, &resOpts, d, opts.ResourceOf)
	if err != nil {
		ln.Close()
		as.Close()
		return nil, err
	}
	d.mcp = &httptest.Server{Listener: ln, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	if asOpts.TLS {
		d.mcp.StartTLS()
	} else {
		d.mcp.Start()
	}
	return d, nil
}

func protectDemo(h http.Handler, opts *ResourceOptions, d *ProtectedDemo, resourceOf func(string) string) (http.Handler, error) {
	switch {
	case opts.Resource != "":
	case resourceOf != nil:
		opts.Resource = resourceOf(d.URL)
	default:
		opts.Resource = d.URL
	}
	if opts.AuthorizationServers == nil && opts.CurrentAuthorizationServers == nil {
		opts.AuthorizationServers = []string{d.AuthServer.Issuer()}
	}
	if opts.Verifier == nil {
		opts.Verifier = d.AuthServer.Verify
	}
	p, err := Protect(h, opts)
	if err != nil {
		return nil, fmt.Errorf("start protected demo: %w", err)
	}
	return p, nil
}

// Close stops both servers and closes their connections, open SSE streams
// included.
func (d *ProtectedDemo) Close() {
	if d.mcp != nil {
		d.mcp.CloseClientConnections()
		d.mcp.Close()
	}
	d.AuthServer.Close()
}
