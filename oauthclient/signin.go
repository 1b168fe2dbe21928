package oauthclient

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

// ErrLoginRequired is wrapped by the errors that ask the user to sign in
// some other way: open a URL, enter a device code, or run the login
// command in a terminal.
var ErrLoginRequired = errors.New("sign-in required")

// A LoginRequiredError tells the user how to finish signing in. The host
// shows it as the answer to the request that needed the sign-in, so it is
// written for a person.
type LoginRequiredError struct {
	// Server is the MCP server's URL.
	Server string
	// URL is the page to open, if any; Code is the code to enter there, for
	// the device grant.
	URL, Code string
	// Command is the terminal command that signs in instead.
	Command string
	// Reason says why the bridge could not finish on its own.
	Reason string

	pending *pendingLogin // the sign-in that waits on the user, if any
}

func (e *LoginRequiredError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sign-in to %s required", e.Server)
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, ": open %s and enter the code %s, then retry", e.URL, e.Code)
	case e.URL != "":
		fmt.Fprintf(&b, ": open %s in a browser, then retry", e.URL)
	}
	if e.Command != "" {
		sep := "; or"
		if e.URL == "" {
			sep = ":"
		}
		fmt.Fprintf(&b, "%s run `%s` in a terminal", sep, e.Command)
	}
	return b.String()
}

func (e *LoginRequiredError) Unwrap() error { return ErrLoginRequired }

// SignInAdvice returns the error that tells the user how to sign in to
// the server without a sign-in started: its login command. It implements
// the bridge's SignInAdvisor.
func (h *Handler) SignInAdvice() error {
	return &LoginRequiredError{Server: h.cfg.ServerURL, Command: h.cfg.LoginCommand}
}

// Elsewhere returns, when the sign-in goes on while it waits for the user
// at a page (a browser that did not open, a device code), that page and a
// sentence to show with it; else "", "".
func (e *LoginRequiredError) Elsewhere() (url, message string) {
	if e.pending == nil || e.URL == "" {
		return "", ""
	}
	message = "Sign in to " + e.Server + " to continue."
	if e.Code != "" {
		message = "Sign in to " + e.Server + " with the code " + e.Code + " to continue."
	}
	return e.URL, message
}

// Wait waits for the sign-in that e tells of to end, and returns its
// outcome: nil once signed in. With none going on it returns e.
func (e *LoginRequiredError) Wait(ctx context.Context) error {
	if e.pending == nil {
		return e
	}
	select {
	case <-e.pending.done:
		return e.pending.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Storm guard: at most this many interactive sign-ins in this window.
const (
	maxSignIns    = 3 + maxStepUps
	signInsWindow = 10 * time.Minute
)

// pendingLogin is a sign-in under way. Callers that need it wait for it
// rather than start another: one browser tab, however many requests.
type pendingLogin struct {
	done chan struct{} // closed when the sign-in ends
	err  error         // its outcome, set before done is closed

	once   sync.Once
	notice chan struct{}          // closed when the user must act elsewhere
	noted  error                  // what to tell them, set before notice is closed
	acted  atomic.Bool            // the user has acted: the notice is out of date
	url    atomic.Pointer[string] // the page the user signs in at, once known
	agent  atomic.Bool            // a sign-in process does the sign-in, and tells of it itself
}

// show records the page where the sign-in waits for the user.
func (p *pendingLogin) show(url string) { p.url.Store(&url) }

// ErrNoSignInAgent is what a [Config.SignInAgent] returns when it runs no
// sign-in process: the sign-in runs in this one.
var ErrNoSignInAgent = errors.New("no sign-in process")

// SignInPending returns, while a sign-in that waits for the user is under
// way (a browser or device sign-in, in this process or in a sign-in
// process it joined), a [*LoginRequiredError] that tells how to finish it:
// its URL once known, and the login command. Otherwise it returns nil.
// Safe for concurrent use.
func (h *Handler) SignInPending() error {
	if !h.cfg.userSignIn() {
		return nil
	}
	h.mu.Lock()
	p := h.login
	h.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.notice:
		if e, ok := p.noted.(*LoginRequiredError); ok {
			return e // what the user was told: a device code, a browser that did not open
		}
	default:
	}
	e := &LoginRequiredError{Server: h.cfg.ServerURL, Command: h.cfg.LoginCommand, Reason: "waiting for the sign-in in the browser", pending: p}
	if u := p.url.Load(); u != nil {
		e.URL = *u
	}
	return e
}

func newPendingLogin() *pendingLogin {
	return &pendingLogin{done: make(chan struct{}), notice: make(chan struct{})}
}

// note publishes what the user must do; waiting callers return it at once
// while the sign-in goes on in the background.
func (p *pendingLogin) note(err error) {
	if e, ok := err.(*LoginRequiredError); ok {
		e.pending = p
	}
	p.once.Do(func() {
		p.noted = err
		close(p.notice)
	})
}

// joinGrace is how long a caller that joins a sign-in waiting on the user
// gives it to finish before it repeats what the user must do: a host
// retrying just after the user entered a device code should get through.
const joinGrace = 10 * time.Second

// wait waits for the sign-in to end, or, unless foreground is set, for a
// notice to the user; a caller that joins waits joinGrace longer.
func (p *pendingLogin) wait(ctx context.Context, foreground, joined bool) error {
	notice := p.notice
	if foreground {
		notice = nil
	}
	var grace <-chan time.Time
	for {
		select {
		case <-p.done:
			return p.err
		case <-notice:
			notice = nil
			switch {
			case p.acted.Load():
				// The user has answered: the end is near.
			case joined:
				t := time.NewTimer(joinGrace)
				defer t.Stop()
				grace = t.C
			default:
				return p.noted
			}
		case <-grace:
			return p.noted
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// signIn obtains new tokens, joining a sign-in already under way. scopes,
// if not nil, are requested (a step-up); otherwise the usual choice is
// made.
func (h *Handler) signIn(ctx context.Context, challenges []oauthex.Challenge, scopes []string) error {
	return h.startSignIn(ctx, challenges, scopes, false)
}

// Login signs in now, in the foreground, whether or not a token is held:
// the login command's sign-in. With the paste mode it reads the redirected
// URL from [Config.Input]. It does not log its failure: the caller reports
// the error it returns.
func (h *Handler) Login(ctx context.Context) error {
	h.load(ctx)
	challenges, err := h.probe(ctx)
	if err != nil {
		return err
	}
	return h.startSignIn(ctx, challenges, nil, true)
}

func (h *Handler) startSignIn(ctx context.Context, challenges []oauthex.Challenge, scopes []string, foreground bool) error {
	h.mu.Lock()
	if p := h.login; p != nil {
		h.mu.Unlock()
		return p.wait(ctx, foreground, true)
	}
	now := h.now()
	h.starts = slices.DeleteFunc(h.starts, func(t time.Time) bool { return now.Sub(t) > signInsWindow })
	if len(h.starts) >= maxSignIns {
		h.mu.Unlock()
		return fmt.Errorf("the server asked for %d sign-ins within %v; not opening another (restart the bridge to try again)", len(h.starts), signInsWindow)
	}
	h.starts = append(h.starts, now)
	p := newPendingLogin()
	h.login = p
	h.mu.Unlock()

	// The sign-in outlives the request that started it: the user may finish
	// it after the host has had its answer.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.LoginTimeout)
	go func() {
		defer cancel()
		start := h.now()
		err := h.runSignIn(bg, p, challenges, scopes)
		// A foreground sign-in's caller (Login) has the error and
		// reports it: said here too, it was said twice (issue 12).
		if err != nil && !foreground {
			h.log.Warn("sign-in failed", "err", err)
		}
		kind := EventSignIn
		if scopes != nil {
			kind = EventStepUp
		}
		if !p.agent.Load() || err != nil {
			h.event(kind, start, err)
		}
		h.mu.Lock()
		h.login = nil
		h.mu.Unlock()
		p.err = err
		close(p.done)
	}()
	return p.wait(ctx, foreground, false)
}

// runSignIn discovers, registers and signs in, then saves the tokens. It
// holds the store's cross-process lock throughout: a bridge started beside
// this one for the same server waits, then finds the tokens this one saved.
func (h *Handler) runSignIn(ctx context.Context, p *pendingLogin, challenges []oauthex.Challenge, scopes []string) error {
	h.mu.Lock()
	before := h.creds.clone()
	h.mu.Unlock()
	if h.cfg.SignInAgent != nil && scopes == nil && h.cfg.Login == LoginBrowser && h.cfg.userSignIn() {
		err := h.agentSignIn(ctx, p, before)
		if !errors.Is(err, ErrNoSignInAgent) {
			return err
		}
	}
	unlock, err := h.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if now := h.reread(ctx); now != nil && now.AccessToken != "" && (before == nil || now.AccessToken != before.AccessToken) && scopes == nil {
		h.log.Info("another process has signed in meanwhile; using its credentials")
		return nil
	}
	h.log.Info("authorization required: discovering the authorization server")
	d, err := h.discover(ctx, challenges)
	if err != nil {
		return fmt.Errorf("discover the authorization server: %w", err)
	}
	h.log.Info("authorization server found", "issuer", d.as.Issuer, "legacy", d.legacy)
	if err := h.checkBinding(h.Credentials(ctx), d.as.Issuer); err != nil {
		return err
	}
	scopes = h.chooseScopes(challenges, d, scopes)
	if d.dpop, err = h.signInKey(d.as, h.Credentials(ctx)); err != nil {
		return err
	}

	var c *Credentials
	switch {
	case h.cfg.ClientCredentials:
		c, err = h.clientCredentials(ctx, d, scopes)
	case h.cfg.Workload != nil:
		c, err = h.workloadSignIn(ctx, d, scopes)
	case h.cfg.Enterprise != nil:
		c, err = h.enterpriseSignIn(ctx, d, scopes)
	case h.cfg.Login == LoginDevice:
		c, err = h.deviceSignIn(ctx, p, d, scopes)
	default:
		c, err = h.codeSignIn(ctx, p, d, scopes)
	}
	if err != nil {
		return err
	}
	if err := h.save(ctx, c); err != nil {
		return err
	}
	h.mu.Lock()
	h.signed = h.now()
	h.mu.Unlock()
	h.log.Info("signed in", "issuer", c.Issuer, "client", c.Client.Kind, "scopes", strings.Join(c.Scopes, " "),
		"expires_in", expiresIn(c, h.now()), "refresh_token", c.RefreshToken != "")
	return nil
}

// agentSignIn has the sign-in process of [Config.SignInAgent] sign in,
// and takes up the tokens it saved. before are the credentials held when
// the sign-in was asked for.
func (h *Handler) agentSignIn(ctx context.Context, p *pendingLogin, before *Credentials) error {
	p.agent.Store(true)
	var once sync.Once
	err := h.cfg.SignInAgent(ctx, func(url string, opened bool) {
		once.Do(func() {
			p.show(url)
			h.log.Info("the sign-in process waits for the sign-in in the browser", "opened", opened)
			if h.cfg.Prompt != nil {
				fmt.Fprintf(h.cfg.Prompt, "Signing in in the browser. If no page opened, open this URL:\n\n%s\n\nWaiting for the sign-in, at most %v.\n", url, h.cfg.LoginTimeout)
			}
			if !opened && h.cfg.Prompt != nil {
				// A terminal (the login command) may have the browser
				// the sign-in process had not: the redirect goes to that
				// process's listener all the same.
				open := h.cfg.OpenURL
				if open == nil {
					open = OpenBrowser
				}
				if u, err := browserURL(url); err == nil && open(ctx, u) == nil {
					opened = true
				}
			}
			if !opened {
				p.note(&LoginRequiredError{Server: h.cfg.ServerURL, URL: url, Command: h.cfg.LoginCommand, Reason: "no browser could be opened"})
			}
		})
	})
	if errors.Is(err, ErrNoSignInAgent) {
		p.agent.Store(false)
		return err
	}
	now := h.reread(ctx)
	if now != nil && now.AccessToken != "" && (before == nil || now.AccessToken != before.AccessToken) {
		h.mu.Lock()
		h.signed = h.now()
		h.mu.Unlock()
		h.log.Info("signed in by the sign-in process", "issuer", now.Issuer, "expires_in", expiresIn(now, h.now()))
		return nil
	}
	if err != nil {
		return fmt.Errorf("the sign-in process: %w", err)
	}
	return errors.New("the sign-in process ended without a sign-in")
}

// expiresIn describes a token's remaining life for logs.
func expiresIn(c *Credentials, now time.Time) string {
	if c.Expiry.IsZero() {
		return "unknown"
	}
	return c.Expiry.Sub(now).Round(time.Second).String()
}

// chooseScopes applies basic/authorization's "Scope Selection Strategy":
// the challenge's scope, else the resource metadata's scopes_supported,
// else none; a step-up's or the user's own choice first. offline_access is
// added when the authorization server lists it, to get a refresh token.
func (h *Handler) chooseScopes(challenges []oauthex.Challenge, d *discovered, stepUp []string) []string {
	var s, want []string
	if p := h.scopes.Load(); p != nil {
		want = *p
	}
	switch {
	case len(want) > 0:
		s = slices.Clone(want)
		s = union(s, stepUp)
	case stepUp != nil:
		s = stepUp
	case challengeParam(challenges, "scope") != "":
		s = strings.Fields(challengeParam(challenges, "scope"))
	default:
		s = slices.Clone(d.scopesSupported)
	}
	if h.cfg.userSignIn() && slices.Contains(d.as.ScopesSupported, "offline_access") && !slices.Contains(s, "offline_access") {
		s = append(s, "offline_access")
	}
	return s
}

// probe sends the server a request without a token to draw its challenge,
// for a sign-in that no request has asked for yet.
func (h *Handler) probe(ctx context.Context) ([]oauthex.Challenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.ServerURL, strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"ping"}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reach %s: %w", h.cfg.ServerURL, boundURL(err))
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		h.log.Info("the server did not ask for a token; signing in with its published metadata", "status", resp.StatusCode)
		return nil, nil
	}
	return oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
}

// randomState returns an unguessable value for the state parameter.
func randomState() string { return rand.Text() }

// fromToken makes credentials out of a token response.
func (h *Handler) fromToken(d *discovered, client Client, scopes []string, t *tokenResponse) *Credentials {
	c := &Credentials{
		Server:             h.cfg.ServerURL,
		Client:             client,
		Issuer:             d.as.Issuer,
		TokenEndpoint:      d.as.TokenEndpoint,
		RevocationEndpoint: d.as.RevocationEndpoint,
		Resource:           d.resource,
		Scopes:             scopes,
	}
	c = c.withToken(t, h.now())
	if d.dpop != nil {
		c.DPoPKey = d.dpop.raw
	}
	return c
}

// oauthConfig returns the x/oauth2 configuration for a client at d's
// authorization server.
func (h *Handler) oauthConfig(d *discovered, client Client, redirectURI string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		Endpoint: oauth2.Endpoint{
			AuthURL:       d.as.AuthorizationEndpoint,
			TokenURL:      d.as.TokenEndpoint,
			DeviceAuthURL: d.as.DeviceAuthorizationEndpoint,
			AuthStyle:     authStyle(client.AuthMethod),
		},
		RedirectURL: redirectURI,
		Scopes:      scopes,
	}
}
