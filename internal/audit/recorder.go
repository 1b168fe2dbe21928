package audit

import (
	"sync"
	"time"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// A Recorder writes the lines of one server's bridge or command: the calls
// the relay reports ([bridge.Config.Audit]) and the sign-in events of its
// handler ([oauthclient.Config.OnEvent]), each with who it ran as.
type Recorder struct {
	log         *Log
	server, url string
	// Identity, if not nil, returns the issuer and the access token the
	// calls now run with ("" for none); it must not block long.
	Identity func() (issuer, accessToken string)

	mu      sync.Mutex // guards the last token decoded
	token   string
	subject string
	scopes  []string
}

// NewRecorder returns a Recorder that writes to l for the server named
// server (may be "") at url.
func NewRecorder(l *Log, server, url string) *Recorder {
	return &Recorder{log: l, server: server, url: url}
}

// Call writes the line of a call the relay reports.
func (r *Recorder) Call(c *bridge.CallRecord) {
	line := &Line{
		Time: c.Start, Event: EventCall, Server: r.server, URL: r.url,
		Method: c.Method, Name: c.Name, Outcome: c.Outcome, Code: c.Code,
		DurationMS: ms(c.Duration), RequestID: c.ID, TraceID: c.TraceID,
	}
	r.identify(line)
	r.log.Write(line)
}

// Event writes the line of a sign-in, step-up, refresh or logout.
func (r *Recorder) Event(e oauthclient.Event) {
	line := &Line{Time: e.Start, Event: e.Kind, Server: r.server, URL: r.url, Outcome: "ok", DurationMS: ms(e.Duration), Issuer: e.Issuer}
	if e.Err != nil {
		line.Outcome, line.Error = "error", e.Err.Error()
	}
	if e.Kind != oauthclient.EventLogout {
		r.identify(line)
	}
	r.log.Write(line)
}

// identify adds who the line ran as: the issuer, and the subject and
// scopes the access token states if it is a JWT.
func (r *Recorder) identify(l *Line) {
	if r.Identity == nil {
		return
	}
	issuer, token := r.Identity()
	if l.Issuer == "" {
		l.Issuer = issuer
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if token != r.token {
		r.token = token
		r.subject, r.scopes = TokenClaims(token)
	}
	l.Subject, l.Scopes = r.subject, r.scopes
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
