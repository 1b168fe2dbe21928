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

	mu sync.Mutex // held while the first message chooses the transport

	// cur is the transport in use, nil until the first message has chosen
	// one. A new session replaces it (see [switchRemote.swap]): the pointer
	// then tells a session from the one before, which is how a failed
	// request knows whether a new session has started since it was sent.
	cur atomic.Pointer[upstream]

	using atomic.Value // string: the transport being tried or used, for logs
}

// An upstream is one transport instance, holding one MCP session.
type upstream struct{ remote }

// current returns the transport in use, or nil before the first message.
func (s *switchRemote) current() *upstream { return s.cur.Load() }

func (s *switchRemote) Send(ctx context.Context, m *Message) error {
	if cur := s.cur.Load(); cur != nil {
		return cur.Send(ctx, m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.cur.Load(); cur != nil {
		return cur.Send(ctx, m)
	}
	return s.first(ctx, m)
}

// adopt makes r, a Streamable HTTP transport that has sent nothing but
// the era probe, the transport in use if none is yet. It reports whether
// it did.
func (s *switchRemote) adopt(r remote) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Load() != nil {
		return false
	}
	s.using.Store(streamableName)
	s.set(r)
	return true
}

// stateless returns the transport in use, making a new Streamable HTTP
// one the transport in use if there is none yet: a modern server has no
// session to set up, and an era remembered from the last start needs no
// probe.
func (s *switchRemote) stateless() *upstream {
	if cur := s.cur.Load(); cur != nil {
		return cur
	}
	st := newStreamable(s.leg)
	if !s.adopt(st) {
		st.abandon()
	}
	return s.cur.Load()
}

// set makes r the transport in use.
func (s *switchRemote) set(r remote) { s.cur.Store(&upstream{r}) }

// first sends the first message and sets s.cur. s.mu is held.
func (s *switchRemote) first(ctx context.Context, m *Message) error {
	switch s.mode {
	case TransportStreamable:
		s.using.Store(streamableName)
		st := newStreamable(s.leg)
		s.set(st)
		return st.Send(ctx, m)
	case TransportSSE:
		s.using.Store(legacyName)
		l, err := dialLegacy(ctx, s.leg)
		if err != nil {
			return err
		}
		s.set(l)
		return l.Send(ctx, m)
	}

	isInit := m.Method == "initialize"
	if isInit && s.remembered() == TransportSSE {
		s.using.Store(legacyName)
		l, err := dialLegacy(ctx, s.leg)
		if err == nil {
			s.set(l)
			return l.Send(ctx, m)
		}
		s.log.Info("the server no longer speaks HTTP+SSE; trying Streamable HTTP", "err", err)
	}
	s.using.Store(streamableName)
	st := newStreamable(s.leg)
	err := st.Send(ctx, m)
	if se, ok := errors.AsType[*StatusError](err); ok && isInit && fallsBack(se.Status) && !modernRefusal(err) {
		s.using.Store(legacyName)
		l, lerr := dialLegacy(ctx, s.leg)
		if lerr == nil {
			s.log.Info("the server speaks the legacy HTTP+SSE transport", "post", se.Status)
			s.set(l)
			s.remember(TransportSSE)
			return l.Send(ctx, m)
		}
		s.log.Debug("HTTP+SSE fallback failed", "err", lerr)
		s.using.Store(streamableName)
		if !errors.Is(lerr, errNotLegacy) {
			err = errors.Join(err, lerr)
		}
	}
	s.set(st)
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

// fresh returns a new transport of the kind in use, with no session yet:
// the first message it sends must be initialize. For HTTP+SSE it opens
// the event stream.
func (s *switchRemote) fresh(ctx context.Context, cur *upstream) (remote, error) {
	if _, ok := cur.remote.(*legacySSE); ok {
		return dialLegacy(ctx, s.leg)
	}
	return newStreamable(s.leg), nil
}

// swap makes next the transport in use in place of old, and abandons old:
// its session is gone. It reports false, closing next, if old is no longer
// the one in use.
func (s *switchRemote) swap(old *upstream, next remote) bool {
	if !s.cur.CompareAndSwap(old, &upstream{next}) {
		next.abandon()
		return false
	}
	old.abandon()
	return true
}

func (s *switchRemote) Close(ctx context.Context) error {
	cur := s.cur.Load()
	if cur == nil {
		return nil
	}
	return cur.Close(ctx)
}
