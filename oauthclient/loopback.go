package oauthclient

import (
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
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

var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>mcp-bridge: {{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:15vh auto;padding:0 1em;color:#222}
h1{font-size:1.4em}.ok{color:#176f2c}.fail{color:#a11}</style></head>
<body><h1 class="{{if .OK}}ok{{else}}fail{{end}}" id="title">{{.Title}}</h1><p id="message">{{.Message}}</p></body></html>
`))
})

// page writes a small self-contained HTML page: no scripts, no external
// resources.
func page(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	pageTemplate().Execute(w, struct {
		Title, Message string
		OK             bool
	}{title, message, status == http.StatusOK})
}

// listenLoopback binds the redirect listener on 127.0.0.1:port (0: any).
// With localhost set, the redirect URI names localhost, which a browser
// may resolve to ::1 first (RFC 8252 section 8.3): then [::1] at the same
// port is bound too, so that whatever the browser tries reaches this
// process and nothing else. Where ::1 cannot be bound and nobody answers
// there (no IPv6), 127.0.0.1 alone serves; where another program holds
// it, another port is tried if any will do, else the sign-in is refused.
func listenLoopback(port int, localhost bool) (net.Listener, error) {
	for try := 0; ; try++ {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("listen for the sign-in redirect on 127.0.0.1:%d: %w", port, err)
		}
		if !localhost {
			return ln, nil
		}
		bound := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		v6, err := net.Listen("tcp6", net.JoinHostPort("::1", bound))
		if err == nil {
			return newPairListener(ln, v6), nil
		}
		c, dialErr := net.DialTimeout("tcp6", net.JoinHostPort("::1", bound), time.Second)
		if dialErr != nil {
			return ln, nil // no IPv6 loopback: nobody else has it either
		}
		c.Close()
		ln.Close()
		if port != 0 || try == 4 {
			return nil, fmt.Errorf("listen for the sign-in redirect on localhost:%s: another program listens on [::1]:%s, where the browser may go instead", bound, bound)
		}
	}
}

// A pairListener accepts on two listeners: 127.0.0.1, whose address it
// reports, and [::1] at the same port.
type pairListener struct {
	net.Listener
	v6       net.Listener
	accepted chan acceptResult
	done     chan struct{}
	close    sync.Once
}

type acceptResult struct {
	c   net.Conn
	err error
}

func newPairListener(v4, v6 net.Listener) *pairListener {
	l := &pairListener{Listener: v4, v6: v6, accepted: make(chan acceptResult), done: make(chan struct{})}
	go l.pump(v4)
	go l.pump(v6)
	return l
}

func (l *pairListener) pump(ln net.Listener) {
	for {
		c, err := ln.Accept()
		select {
		case l.accepted <- acceptResult{c, err}:
		case <-l.done:
			if c != nil {
				c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Accept returns the next connection to either address.
func (l *pairListener) Accept() (net.Conn, error) {
	select {
	case r := <-l.accepted:
		return r.c, r.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes both listeners.
func (l *pairListener) Close() error {
	var err error
	l.close.Do(func() {
		close(l.done)
		err = errors.Join(l.Listener.Close(), l.v6.Close())
	})
	return err
}
