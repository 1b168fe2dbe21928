package oauthtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// requestField finds the pending request id in the consent page.
var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

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
		m := requestField.FindSubmatch(body)
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
