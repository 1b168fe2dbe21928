package bridge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
)

// switchRemote chooses the transport when the first message goes out and
// then forwards to it. In auto mode it follows the specification's
// backwards-compatibility procedure (basic/transports, "Backwards
// Compatibility"): POST the initialize request; on 400, 404 or 405, GET the
// URL and expect an HTTP+SSE endpoint event.
type switchRemote struct {
	leg   httpLeg
	mode  string
	cache TransportCache // may be nil
	log   *slog.Logger

	mu  sync.Mutex // guards cur; held while the first message chooses it
	cur remote

	using atomic.Value // string: the transport being tried or used, for logs
}

func (s *switchRemote) Send(ctx context.Context, m *Message) error {
	s.mu.Lock()
	if cur := s.cur; cur != nil {
		s.mu.Unlock()
		return cur.Send(ctx, m)
	}
	defer s.mu.Unlock()
	return s.first(ctx, m)
}

// first sends the first message and sets s.cur. s.mu is held.
func (s *switchRemote) first(ctx context.Context, m *Message) error {
	switch s.mode {
	case TransportStreamable:
		s.using.Store(streamableName)
		s.cur = newStreamable(s.leg)
		return s.cur.Send(ctx, m)
	case TransportSSE:
		s.using.Store(legacyName)
		l, err := dialLegacy(ctx, s.leg)
		if err != nil {
			return err
		}
		s.cur = l
		return l.Send(ctx, m)
	}

	isInit := m.Method == "initialize"
	if isInit && s.remembered() == TransportSSE {
		s.using.Store(legacyName)
		l, err := dialLegacy(ctx, s.leg)
		if err == nil {
			s.cur = l
			return l.Send(ctx, m)
		}
		s.log.Info("the server no longer speaks HTTP+SSE; trying Streamable HTTP", "err", err)
	}
	s.using.Store(streamableName)
	st := newStreamable(s.leg)
	err := st.Send(ctx, m)
	if se, ok := errors.AsType[*StatusError](err); ok && isInit && fallsBack(se.Status) {
		s.using.Store(legacyName)
		l, lerr := dialLegacy(ctx, s.leg)
		if lerr == nil {
			s.log.Info("the server speaks the legacy HTTP+SSE transport", "post", se.Status)
			s.cur = l
			s.remember(TransportSSE)
			return l.Send(ctx, m)
		}
		s.log.Debug("HTTP+SSE fallback failed", "err", lerr)
		s.using.Store(streamableName)
		if !errors.Is(lerr, errNotLegacy) {
			err = errors.Join(err, lerr)
		}
	}
	s.cur = st
	if err == nil && isInit {
		s.remember(TransportStreamable)
	}
	return err
}

// fallsBack reports whether an HTTP status in answer to the initialize POST
// calls for the HTTP+SSE fallback.
func fallsBack(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusMethodNotAllowed
}

func (s *switchRemote) remembered() string {
	if s.cache == nil {
		return ""
	}
	return s.cache.Transport(s.leg.endpoint)
}

func (s *switchRemote) remember(t string) {
	if s.cache != nil && s.remembered() != t {
		s.cache.SetTransport(s.leg.endpoint, t)
	}
}

const (
	streamableName = "streamable HTTP"
	legacyName     = "HTTP+SSE"
)

// name describes the transport in use, for logs. It does not take s.mu:
// it is called while the first message is on its way.
func (s *switchRemote) name() string {
	name, _ := s.using.Load().(string)
	return name
}

func (s *switchRemote) Close(ctx context.Context) error {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	if cur == nil {
		return nil
	}
	return cur.Close(ctx)
}
