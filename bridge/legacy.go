package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
)

// legacySSE is the remote leg over the HTTP+SSE transport of MCP revision
// 2024-11-05 (basic/transports, "HTTP with SSE"): a GET opens an event
// stream whose first event, "endpoint", names the URL to POST messages to;
// every message from the server, responses included, arrives on that stream.
type legacySSE struct {
	httpLeg

	ctx    context.Context // lives until Close: the event stream
	cancel context.CancelFunc
	wg     sync.WaitGroup

	postURL string // from the endpoint event; set before Send is called

	broken atomic.Bool // the event stream ended, and the session with it
}

// errNotLegacy means the server did not answer the GET with an event stream
// that starts with an endpoint event.
var errNotLegacy = errors.New("not an HTTP+SSE server")

// dialLegacy opens the event stream and waits for the endpoint event.
func dialLegacy(ctx context.Context, h httpLeg) (*legacySSE, error) {
	lctx, cancel := context.WithCancel(context.Background())
	l := &legacySSE{httpLeg: h, ctx: lctx, cancel: cancel}
	stop := context.AfterFunc(ctx, cancel) // the dial is bounded by ctx
	defer stop()

	resp, err := l.do(lctx, true, false, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(lctx, http.MethodGet, l.endpoint, nil)
		if err == nil {
			req.Header.Set("Accept", "text/event-stream")
		}
		return req, err
	})
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || mediaType(resp.Header.Get("Content-Type")) != "text/event-stream" {
		cancel()
		return nil, fmt.Errorf("%w: %w", errNotLegacy, statusError(resp))
	}
	er := newEventReader(resp.Body, l.maxSize)
	ev, err := er.next()
	if err != nil || ev.name != "endpoint" {
		er.release()
		resp.Body.Close()
		cancel()
		if err == nil {
			err = fmt.Errorf("first event is %q", ev.name)
		}
		return nil, fmt.Errorf("%w: no endpoint event: %v", errNotLegacy, err)
	}
	post, err := endpointURL(l.endpoint, string(ev.data))
	if err != nil {
		er.release()
		resp.Body.Close()
		cancel()
		return nil, err
	}
	l.postURL = post
	l.wg.Go(func() { l.read(resp, er) })
	return l, nil
}

// endpointURL resolves the endpoint event's URI against the stream's URL.
// It must stay on the same origin: the bearer token and headers go with
// every POST.
func endpointURL(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u, err := b.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("the server's endpoint event holds a malformed URL: %w", err)
	}
	if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil {
		return "", fmt.Errorf("the server's endpoint event points to another origin (%s); refusing to send messages there", u.Redacted())
	}
	return u.String(), nil
}

// read delivers the stream's messages until it ends; its end loses the
// session, and with it the responses still to come.
func (l *legacySSE) read(resp *http.Response, er *eventReader) {
	defer resp.Body.Close()
	defer er.release()
	err := readEvents(er, func(m *Message) bool {
		l.deliver(m)
		return true
	})
	if l.ctx.Err() != nil {
		return
	}
	if err == nil {
		err = errors.New("the server closed the event stream")
	}
	l.broken.Store(true)
	l.lost(fmt.Errorf("HTTP+SSE connection lost: %w", describe(err)))
}

// Send posts m to the endpoint. The response, if any, arrives on the stream.
func (l *legacySSE) Send(ctx context.Context, m *Message) error {
	if l.ctx.Err() != nil {
		return errors.New("the HTTP+SSE connection is closed")
	}
	if l.broken.Load() {
		// The session lived as long as its stream: the relay may start
		// another.
		return fmt.Errorf("%w: its HTTP+SSE event stream ended", ErrSessionExpired)
	}
	resp, err := l.do(ctx, true, safeToRepeat(m), func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.postURL, bytes.NewReader(m.Raw))
		if err == nil {
			m.setPostHeader(req.Header)
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		// The server no longer knows the session id in the endpoint URL.
		resp.Body.Close()
		return ErrSessionExpired
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp)
	}
	resp.Body.Close()
	return nil
}

// Close closes the event stream, which ends the session.
func (l *legacySSE) Close(context.Context) error {
	l.cancel()
	l.wg.Wait()
	return nil
}

func (l *legacySSE) abandon() { l.cancel() }
