package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcp-bridge/mcp-bridge/internal/audit"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

// An auditor is the --audit-log of one command: the log, reopened on
// SIGHUP, and what writes its lines.
type auditor struct {
	*audit.Recorder
	log *audit.Log
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
	return &auditor{Recorder: audit.NewRecorder(l, o.name, o.url), log: l}, nil
}

// events returns the handler's event callback, or nil without a log.
func (a *auditor) events() func(oauthclient.Event) {
	if a == nil {
		return nil
	}
	return a.Event
}

// identify has the lines name who h signs in as.
func (a *auditor) identify(h *oauthclient.Handler) {
	if a == nil || h == nil {
		return
	}
	a.Identity = func() (string, string) {
		c := h.Credentials(context.Background())
		if c == nil {
			return "", ""
		}
		return c.Issuer, c.AccessToken
	}
}

// close writes what is queued and closes the log.
func (a *auditor) close() {
	if a != nil {
		a.log.Close()
	}
}
