package main

import (
	"net/http"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/internal/httpclient"
	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
)

// listFlag collects a repeatable flag's values.
type listFlag []string

func (h *listFlag) String() string     { return strings.Join(*h, ", ") }
func (h *listFlag) Set(v string) error { *h = append(*h, v); return nil }

// parseHeaders builds the static headers from --header values and the
// lines of --header-file, expanding references (see
// [httpclient.ParseHeaders]).
func parseHeaders(values []string, file string, refs secretref.Lookups) (http.Header, error) {
	return httpclient.ParseHeaders(values, file, refs.Expand)
}
