// Package httpclient builds the HTTP client mcp-bridge talks to servers
// with: proxies from the environment (HTTPS_PROXY, NO_PROXY) or one named, the operating
// system's trust store plus an optional CA file, TLS 1.2 or later, HTTP/2,
// and a connection pool sized for many requests in flight to one server.
// It also owns the static headers (an API key, say): [ParseHeaders] reads
// them from "Name: value" lines (RFC 9110 field names; none the bridge
// sets itself), and [Headers] adds them to requests to the server's
// origin and no other.
package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
)

// Options configure [New].
type Options struct {
	// CAFile names a PEM file of certificate authorities to trust in
	// addition to the system's. Empty means the system's alone.
	CAFile string
	// Proxy is the URL of a proxy for every request, in place of the
	// environment's (HTTPS_PROXY, NO_PROXY). Empty means the environment's.
	Proxy string
}

// New returns a client configured by opts. It sets no overall timeout:
// event streams stay open for hours, so callers bound requests with
// contexts.
func New(opts Options) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128 // a host may have many calls in flight
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.Proxy != "" {
		u, err := url.Parse(opts.Proxy)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
			return nil, fmt.Errorf("proxy %q: want a URL such as http://proxy.example.com:8080", opts.Proxy)
		}
		t.Proxy = http.ProxyURL(u)
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates in it", opts.CAFile)
		}
		t.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: t}, nil
}
