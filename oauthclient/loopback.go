package oauthclient

import (
	"html/template"
	"net/http"
	"sync/atomic"
)

// callbackResult is what the loopback redirect brings: a code, or why not.
type callbackResult struct {
	code string
	err  error
}

// callback serves the loopback redirect URI (RFC 8252 section 7.3). It
// answers the browser with a page that says plainly what happened, and
// passes the first valid response on. A response with a wrong state is
// refused without ending the wait: it does not belong to this sign-in.
type callback struct {
	path     string
	state    string
	as       *asMeta
	server   string
	results  chan<- callbackResult // buffered, one
	answered atomic.Bool           // a response has been taken

	// received, if not nil, is called when a response for this sign-in
	// arrives, before the browser gets its page.
	received func()
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != c.path || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	code, err := checkRedirect(q, c.state, c.as)
	if err != nil && q.Get("state") != c.state {
		page(w, http.StatusBadRequest, "This sign-in link is not current",
			"It does not belong to the sign-in mcp-bridge is waiting for. Close this tab and use the newest sign-in link.")
		return
	}
	if !c.answered.CompareAndSwap(false, true) {
		page(w, http.StatusConflict, "Already handled", "mcp-bridge already has an answer for this sign-in. You can close this tab.")
		return
	}
	if c.received != nil {
		c.received()
	}
	// The page goes out before the sign-in hears of the answer: once it
	// has, it closes this server.
	if err != nil {
		page(w, http.StatusBadRequest, "Sign-in failed", "mcp-bridge could not sign in to "+c.server+": "+err.Error()+". You can close this tab.")
	} else {
		page(w, http.StatusOK, "Signed in", "mcp-bridge is signed in to "+c.server+". You can close this tab and go back to your app.")
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	c.results <- callbackResult{code, err}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>mcp-bridge: {{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:15vh auto;padding:0 1em;color:#222}
h1{font-size:1.4em}.ok{color:#176f2c}.fail{color:#a11}</style></head>
<body><h1 class="{{if .OK}}ok{{else}}fail{{end}}" id="title">{{.Title}}</h1><p id="message">{{.Message}}</p></body></html>
`))

// page writes a small self-contained HTML page: no scripts, no external
// resources.
func page(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	pageTemplate.Execute(w, struct {
		Title, Message string
		OK             bool
	}{title, message, status == http.StatusOK})
}
