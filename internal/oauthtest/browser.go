package oauthtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// requestField finds the pending request id in the consent page.
var requestField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`name="request" value="([^"]+)"`) })

// Consent acts as the user's browser: it opens authURL (an authorization
// request to a), answers the consent page, if one is shown, with Approve or
// Deny, and returns the URL the server redirects to, without following it.
// The caller reads code, state and iss (or error) from its query, or GETs
// it to deliver the response to a loopback listener.
//
// A page that is not a redirect or the consent page (such as the error page
// for an unknown client or redirect URI) is an error.
func (a *AuthServer) Consent(ctx context.Context, authURL string, approve bool) (*url.URL, error) {
	return ConsentWith(ctx, a.Client(), authURL, approve)
}

// ConsentWith is [AuthServer.Consent] for an authorization server in
// another process, reached with client: what `mcp-bridge demo` uses as the
// browser of the bridges it starts.
func ConsentWith(ctx context.Context, client *http.Client, authURL string, approve bool) (*url.URL, error) {
	hc := *client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("consent: %w", err)
	}
	for range 2 {
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("consent: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("consent: %w", err)
		}
		if loc, err := resp.Location(); err == nil {
			return loc, nil
		}
		m := requestField().FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			return nil, fmt.Errorf("consent: %s: %s", resp.Status, body)
		}
		action := "deny"
		if approve {
			action = "approve"
		}
		form := url.Values{"request": {string(m[1])}, "action": {action}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, req.URL.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, fmt.Errorf("consent: %w", err)
		}
		req.URL.RawQuery = ""
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, errors.New("consent: no redirect after the consent page")
}

// A Browser is the fake user's browser of tests and of `mcp-bridge demo`:
// asked to open an authorization URL, it answers the consent page (see
// [ConsentWith]) and follows the redirect to the client's loopback
// listener, as a user's browser would. It records what it was asked to
// open and why a visit failed. The zero value approves with
// [http.DefaultClient]. Its methods are safe for concurrent use; set the
// fields before the first Open, and change its behaviour with [Browser.Deny],
// [Browser.Refuse] and [Browser.Forbid] at any time.
type Browser struct {
	// Client reaches the authorization server. If nil, http.DefaultClient.
	Client *http.Client
	// LoopbackOnly refuses authorization URLs and redirects that do not go
	// to a loopback address.
	LoopbackOnly bool

	mu      sync.Mutex
	opened  []string         // guarded by mu
	errs    []error          // guarded by mu: why visits failed
	deny    bool             // guarded by mu
	refuse  bool             // guarded by mu
	forbid  func(url string) // guarded by mu
	pending sync.WaitGroup
}

// Open is an OpenURL function (see oauthclient.Config.OpenURL): it records
// url and visits it in the background, unless the browser refuses or is
// forbidden to open anything.
func (b *Browser) Open(ctx context.Context, url string) error {
	b.mu.Lock()
	b.opened = append(b.opened, url)
	refuse, forbid := b.refuse, b.forbid
	b.mu.Unlock()
	if forbid != nil {
		forbid(url)
		return errors.New("no browser may open here")
	}
	if refuse {
		return errors.New("no graphical session")
	}
	b.pending.Go(func() { b.Visit(context.WithoutCancel(ctx), url) })
	return nil
}

// Visit opens url now, as a user who opens it by hand: it answers the
// consent page and follows the redirect. A failure is returned and
// recorded (see [Browser.Err]).
func (b *Browser) Visit(ctx context.Context, authURL string) error {
	err := b.visit(ctx, authURL)
	if err != nil {
		b.mu.Lock()
		b.errs = append(b.errs, err)
		b.mu.Unlock()
	}
	return err
}

func (b *Browser) visit(ctx context.Context, authURL string) error {
	client := b.Client
	if client == nil {
		client = http.DefaultClient
	}
	if err := b.allowed(authURL); err != nil {
		return err
	}
	b.mu.Lock()
	approve := !b.deny
	b.mu.Unlock()
	redirect, err := ConsentWith(ctx, client, authURL, approve)
	if err != nil {
		return err
	}
	if err := b.allowed(redirect.String()); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, redirect.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req) // the loopback listener
	if err != nil {
		return fmt.Errorf("follow the redirect: %w", err)
	}
	resp.Body.Close()
	return nil
}

// allowed checks raw against LoopbackOnly.
func (b *Browser) allowed(raw string) error {
	if !b.LoopbackOnly {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s is not a loopback address", u.Host)
	}
	return nil
}

// Deny makes the browser press Deny on the consent page from now on (or,
// with false, Approve again).
func (b *Browser) Deny(deny bool) {
	b.mu.Lock()
	b.deny = deny
	b.mu.Unlock()
}

// Refuse makes Open fail from now on (or, with false, work again), as on a
// machine where no browser can open.
func (b *Browser) Refuse(refuse bool) {
	b.mu.Lock()
	b.refuse = refuse
	b.mu.Unlock()
}

// Forbid makes Open call fn with the URL and fail, from now on: for a test
// in which nothing may need a browser, fn fails the test. A nil fn lets
// Open work again.
func (b *Browser) Forbid(fn func(url string)) {
	b.mu.Lock()
	b.forbid = fn
	b.mu.Unlock()
}

// Opened returns the URLs Open was asked to open, in order.
func (b *Browser) Opened() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.opened)
}

// Err waits for the visits Open started and returns why those that failed
// did (an error page instead of the consent page, say), joined; nil if
// none failed.
func (b *Browser) Err() error {
	b.pending.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return errors.Join(b.errs...)
}
