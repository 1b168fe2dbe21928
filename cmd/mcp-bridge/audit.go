package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/internal/audit"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// An auditor writes the --audit-log lines of one command: the calls the
// relay reports and the handler's sign-in events, each with who it ran as.
type auditor struct {
	log         *audit.Log
	server, url string
	handler     *oauthclient.Handler // set once wired

	mu      sync.Mutex // guards the last token decoded
	token   string
	subject string
	scopes  []string
}

// openAudit opens o's audit log, if it names one (nil if not), and
// reopens it on SIGHUP, after a rotation, until ctx ends.
func openAudit(ctx context.Context, o *bridgeOptions) (*auditor, error) {
	if o.auditLog == "" {
		return nil, nil
	}
	l, err := audit.Open(o.auditLog)
	if err != nil {
		return nil, err
	}
	a := &auditor{log: l, server: o.name, url: o.url}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-hup:
				l.Reopen()
			case <-ctx.Done():
				return
			}
		}
	}()
	return a, nil
}

// events returns the handler's event callback, or nil without a log.
func (a *auditor) events() func(oauthclient.Event) {
	if a == nil {
		return nil
	}
	return a.event
}

// call writes the line of a call the relay reports.
func (a *auditor) call(r *bridge.CallRecord) {
	line := &audit.Line{
		Time: r.Start, Event: audit.EventCall, Server: a.server, URL: a.url,
		Method: r.Method, Name: r.Name, Outcome: r.Outcome, Code: r.Code,
		DurationMS: ms(r.Duration), RequestID: r.ID, TraceID: r.TraceID,
	}
	a.identify(line)
	a.log.Write(line)
}

// event writes the line of a sign-in, step-up, refresh or logout.
func (a *auditor) event(e oauthclient.Event) {
	line := &audit.Line{Time: e.Start, Event: e.Kind, Server: a.server, URL: a.url, Outcome: "ok", DurationMS: ms(e.Duration), Issuer: e.Issuer}
	if e.Err != nil {
		line.Outcome, line.Error = "error", e.Err.Error()
	}
	if e.Kind != oauthclient.EventLogout {
		a.identify(line)
	}
	a.log.Write(line)
}

// identify adds who the line ran as: the issuer, and the subject and
// scopes the access token states if it is a JWT.
func (a *auditor) identify(l *audit.Line) {
	if a.handler == nil {
		return
	}
	c := a.handler.Credentials(context.Background())
	if c == nil {
		return
	}
	if l.Issuer == "" {
		l.Issuer = c.Issuer
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.AccessToken != a.token {
		a.token = c.AccessToken
		a.subject, a.scopes = audit.TokenClaims(c.AccessToken)
	}
	l.Subject, l.Scopes = a.subject, a.scopes
}

// close writes what is queued and closes the log.
func (a *auditor) close() {
	if a != nil {
		a.log.Close()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
