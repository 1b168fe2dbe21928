package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/internal/credstore"
	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// A wiring is what a command that talks to a server builds from its
// options. [wire] is the one place that builds it, for the bridge, login,
// logout, doctor, status, secret and migrate alike, so that a flag means
// the same to each of them.
type wiring struct {
	// client sends every request: through --proxy, trusting --ca-file,
	// and with the static headers on requests to the server's origin.
	client *http.Client
	// headers are the static headers (--header, --header-file), which a
	// configuration change may replace; nil without a server.
	headers *httpclient.Headers
	// store keeps the credentials (--token-store).
	store *credstore.Store
	// refs resolve ${VAR} and ${keychain:NAME}.
	refs secretref.Lookups
	// handler authorizes requests to the server; nil without a server.
	handler *oauthclient.Handler
}

// process is what a command takes from its process rather than from its
// flags.
type process struct {
	log    *slog.Logger
	stderr io.Writer // receives the browser command's output; nil: discarded
	// prompt and input are the terminal a sign-in may ask on (login,
	// logout, doctor). nil: no terminal, as for the bridge a host
	// launched; a sign-in that needs one says so in its error.
	prompt io.Writer
	input  io.Reader
	getenv func(string) (string, bool) // resolves ${VAR} (migrate: the entry's env first); nil: os.LookupEnv
	store  *credstore.Store            // nil: open the one o names
	events func(oauthclient.Event)     // told of sign-ins, refreshes, step-ups and logouts (--audit-log); nil: none
}

// wire builds the wiring for the server at o.url, or, if o.url is empty,
// the store and references alone. It does not change o.
func wire(o *bridgeOptions, p process) (*wiring, error) {
	client, err := httpclient.New(httpclient.Options{CAFile: o.caFile, Proxy: o.proxy})
	if err != nil {
		return nil, err
	}
	// The relay tunes its client's transport only when it is a bare
	// *http.Transport (keep-alive probes, HTTP/2 health checks, reads and
	// writes that wake no thread), and this one reaches it wrapped in the
	// static headers.
	bridge.TuneTransport(client.Transport.(*http.Transport))
	w := &wiring{client: client, store: p.store}
	if w.store == nil {
		if w.store, err = o.auth.store(p.log); err != nil {
			return nil, err
		}
	}
	getenv := p.getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	w.refs = storeLookups(getenv, w.store)
	if o.url == "" {
		return w, nil
	}
	header, err := parseHeaders(o.headers, o.headerFile, w.refs)
	if err != nil {
		return nil, err
	}
	// Static headers go to the server's origin alone, and a reload may
	// replace them.
	if w.headers, err = httpclient.NewHeaders(client.Transport, o.url, header); err != nil {
		return nil, err
	}
	client.Transport = w.headers
	stderr := p.stderr
	if stderr == nil {
		stderr = io.Discard
	}
	if w.handler, err = o.auth.handler(o.url, client, w.store, w.refs, p.log, stderr, p.prompt, p.input, p.events); err != nil {
		return nil, err
	}
	return w, nil
}

// storeLookups resolve ${VAR} with getenv and ${keychain:NAME} with the
// secrets in store.
func storeLookups(getenv func(string) (string, bool), store *credstore.Store) secretref.Lookups {
	return secretref.Lookups{Env: getenv, Secret: func(name string) (string, error) {
		return store.Secret(context.Background(), name)
	}}
}

// storeError wraps an error opening the token store.
func storeError(kind string, err error) error {
	return fmt.Errorf("--token-store %s: %w", kind, err)
}
