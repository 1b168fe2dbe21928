package httpclient

import (
	"net/http"
	"net/url"
	"sync/atomic"
)

// Headers is a RoundTripper that adds a set of headers, which may be
// replaced at any time, to requests to one origin, and to no other: a
// redirect elsewhere, or a request to an authorization server, does not
// carry them. A header the request already has (the bearer token, the
// User-Agent) is left as it is.
type Headers struct {
	next   http.RoundTripper
	origin string
	h      atomic.Pointer[http.Header]
}

// NewHeaders returns a RoundTripper that adds h to next's requests to the
// origin of serverURL.
func NewHeaders(next http.RoundTripper, serverURL string, h http.Header) (*Headers, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, err
	}
	if next == nil {
		next = http.DefaultTransport
	}
	t := &Headers{next: next, origin: u.Scheme + "://" + u.Host}
	t.Set(h)
	return t, nil
}

// Set replaces the headers; requests already sent keep the old ones.
func (t *Headers) Set(h http.Header) { t.h.Store(&h) }

// Get returns the headers.
func (t *Headers) Get() http.Header { return *t.h.Load() }

// Unwrap returns the RoundTripper t sends its requests with.
func (t *Headers) Unwrap() http.RoundTripper { return t.next }

// RoundTrip implements http.RoundTripper.
func (t *Headers) RoundTrip(req *http.Request) (*http.Response, error) {
	h := *t.h.Load()
	if len(h) == 0 || req.URL.Scheme+"://"+req.URL.Host != t.origin {
		return t.next.RoundTrip(req)
	}
	// A RoundTripper must not change the request it is given.
	r := req.Clone(req.Context())
	for k, v := range h {
		if _, ok := r.Header[k]; !ok {
			r.Header[k] = v
		}
	}
	return t.next.RoundTrip(r)
}
