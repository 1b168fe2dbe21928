package bridge

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// A legacy host learns of list changes and resource updates from
// notifications a 2025 server sends on its standalone GET stream. A modern
// server sends them only on the stream of a subscriptions/listen request,
// and only those asked for (basic/patterns/subscriptions). For a legacy
// host the bridge keeps one listen open, asking for the list changes the
// server declared and the resources the host subscribed to, and opens it
// again when it ends or the host's subscriptions change.

// longListen is how long a listen stream must have lasted for its end to
// count as ordinary (a server or proxy closing it) rather than a failure.
const longListen = 30 * time.Second

// startListen starts the listen loop, or makes it open a new listen with
// the current filter.
func (e *eraStage) startListen() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.listening {
		if e.stopListen != nil {
			e.stopListen()
		}
		select {
		case e.kick <- struct{}{}:
		default:
		}
		return
	}
	e.listening = true
	e.r.background.Add(1)
	go e.listenLoop()
}

// listenFilter returns the notifications member of the listen request, or
// nil when there is nothing to listen for.
func (e *eraStage) listenFilter() json.RawMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	var d struct {
		Capabilities struct {
			Tools, Prompts *struct {
				ListChanged bool `json:"listChanged"`
			}
			Resources *struct {
				ListChanged bool `json:"listChanged"`
				Subscribe   bool `json:"subscribe"`
			}
		} `json:"capabilities"`
	}
	json.Unmarshal(e.discover, &d)
	f := map[string]any{}
	c := d.Capabilities
	if c.Tools != nil && c.Tools.ListChanged {
		f["toolsListChanged"] = true
	}
	if c.Prompts != nil && c.Prompts.ListChanged {
		f["promptsListChanged"] = true
	}
	if c.Resources != nil && c.Resources.ListChanged {
		f["resourcesListChanged"] = true
	}
	if len(e.subs) > 0 {
		uris := make([]string, 0, len(e.subs))
		for u := range e.subs {
			uris = append(uris, u)
		}
		slices.Sort(uris)
		f["resourceSubscriptions"] = uris
	}
	if len(f) == 0 {
		return nil
	}
	return mustMarshal(f)
}

// listenLoop keeps a listen open until the relay stops. Its notifications
// reach the host through the relay like any other (see [eraStage.ToHost]);
// its final result, if the server ends it gracefully, is dropped.
func (e *eraStage) listenLoop() {
	defer e.r.background.Done()
	failures := 0
	for {
		filter := e.listenFilter()
		if filter == nil {
			select {
			case <-e.kick:
				continue
			case <-e.r.life.Done():
				return
			}
		}
		ctx, cancel := context.WithCancel(e.r.life)
		e.mu.Lock()
		e.stopListen = cancel
		e.mu.Unlock()
		req := e.r.request("subscriptions/listen", paramsWithMeta(setMember(nil, "notifications", filter), e.meta()))
		req.header = modernHeaders("subscriptions/listen", modernVersion, &reqFields{}, nil)
		start := time.Now()
		err := e.r.remote.stateless().Send(ctx, req)
		changed := ctx.Err() != nil
		cancel()
		switch {
		case e.r.life.Err() != nil:
			return
		case changed:
			failures = 0
			select {
			case <-e.kick: // the kick that ended it
			default:
			}
			continue
		case time.Since(start) >= longListen:
			failures = 0
		default:
			failures++
		}
		delay := retryDelay(0, failures)
		e.r.log.Debug("the listen stream ended; opening it again", "in", delay.Round(time.Millisecond), "err", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-e.kick:
		case <-e.r.life.Done():
			t.Stop()
			return
		}
		t.Stop()
	}
}
