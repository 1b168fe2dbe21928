package oauthtest

import (
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// An authRequest is a validated authorization request waiting for consent.
type authRequest struct {
	grant
	clientName  string
	redirectURI string
	state       string
	challenge   string // PKCE S256 code_challenge
	expiry      time.Time
}

// An authCode is an issued authorization code.
type authCode struct {
	authRequest
	used bool
}

// handleAuthorize is the authorization endpoint (RFC 6749 §4.1.1, RFC 7636
// §4.3, RFC 8707 §2). Until client and redirect URI are known good, errors
// go on a page; after that they go back to the client (RFC 6749 §4.1.2.1).
func (a *AuthServer) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID := q.Get("client_id")
	a.count(func(s *Stats) { s.AuthorizationRequests++ })
	a.emit(Event{Kind: EventAuthorizationRequest, Endpoint: r.URL.Path, ClientID: clientID, Scope: q.Get("scope"), Resource: q.Get("resource")})

	c, err := a.lookupClient(r.Context(), clientID)
	if err != nil {
		a.errorPage(w, r, clientID, err)
		return
	}
	ru := q.Get("redirect_uri")
	if ru == "" || !a.redirectURIAllowed(c, ru) {
		a.errorPage(w, r, clientID, errorf("invalid_request", "redirect_uri %q is not registered for this client", ru))
		return
	}
	req := &authRequest{clientName: c.name(), redirectURI: ru, state: q.Get("state"), expiry: a.now().Add(codeTTL)}
	if err := a.checkAuthorizationRequest(c, q, req); err != nil {
		e := asOAuthError(err)
		a.redirect(w, r, req, url.Values{"error": {e.Code}, "error_description": {e.Description}})
		a.emit(Event{Kind: EventRejected, Endpoint: r.URL.Path, ClientID: clientID, Error: e.Code, Description: e.Description})
		return
	}
	id := rand.Text()
	a.mu.Lock()
	a.pending[id] = req
	a.mu.Unlock()
	if a.opts.AutoApprove {
		a.decide(w, r, id, true)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	redirect, _ := url.Parse(ru)
	_ = consentPage().Execute(w, map[string]any{
		"Client":   req.clientName,
		"ClientID": clientID,
		"Host":     redirect.Host,
		"Loopback": isLoopbackHost(redirect.Hostname()),
		"Scopes":   req.scopes,
		"Resource": req.resource,
		"Action":   r.URL.Path,
		"Request":  id,
	})
}

// checkAuthorizationRequest checks the parameters after client_id and
// redirect_uri and fills in req.
func (a *AuthServer) checkAuthorizationRequest(c *client, q url.Values, req *authRequest) error {
	if rt := q.Get("response_type"); rt != "code" {
		return errorf("unsupported_response_type", "response_type %q: only code is supported", rt)
	}
	if err := c.mayUse(grantAuthorizationCode); err != nil {
		return err
	}
	req.challenge = q.Get("code_challenge")
	switch m := q.Get("code_challenge_method"); {
	case req.challenge == "":
		return errorf("invalid_request", "code_challenge required (PKCE)")
	case m != "S256":
		return errorf("invalid_request", "code_challenge_method %q: transform algorithm not supported, use S256", m)
	}
	scopes, err := a.parseScopes(q.Get("scope"))
	if err != nil {
		return err
	}
	res, err := a.boundResource(q, scopes)
	if err != nil {
		return err
	}
	if a.opts.Audience != "" && a.opts.ThirdPartyDynamicClients && c.dynamic && res == "" {
		return errorf("access_denied", "The userinfo audience is not allowed for third party clients. Please specify a valid API audience.")
	}
	req.grant = grant{
		id:       rand.Text(),
		clientID: c.ID,
		subject:  a.opts.Subject,
		scopes:   scopes,
		resource: res,
		offline:  q.Get("access_type") == "offline" && q.Get("prompt") == "consent",
	}
	return nil
}

// redirectURIAllowed reports whether c may use the redirect URI ru: one
// registered, or a loopback one with another port unless
// ASOptions.ExactRedirectURIs is set.
func (a *AuthServer) redirectURIAllowed(c *client, ru string) bool {
	if a.opts.ExactRedirectURIs {
		return slices.Contains(c.RedirectURIs, ru)
	}
	return redirectURIMatches(c.RedirectURIs, ru)
}

// handleConsent takes the consent page's answer.
func (a *AuthServer) handleConsent(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.errorPage(w, r, "", errorf("invalid_request", "form: %v", err))
		return
	}
	a.decide(w, r, r.PostForm.Get("request"), r.PostForm.Get("action") == "approve")
}

// decide approves or denies the pending request id and redirects to the
// client.
func (a *AuthServer) decide(w http.ResponseWriter, r *http.Request, id string, approve bool) {
	a.mu.Lock()
	req, ok := a.pending[id]
	delete(a.pending, id)
	if ok && !a.now().Before(req.expiry) {
		ok = false
	}
	var code string
	switch {
	case !ok:
	case approve:
		a.stats.Consents++
		code = newSecret()
		a.codes[code] = &authCode{authRequest: *req}
	default:
		a.stats.Denials++
	}
	a.mu.Unlock()
	switch {
	case !ok:
		a.errorPage(w, r, "", errorf("invalid_request", "unknown or expired authorization request"))
	case approve:
		a.redirect(w, r, req, url.Values{"code": {code}})
		a.emit(Event{Kind: EventConsent, Endpoint: r.URL.Path, ClientID: req.clientID, Scope: strings.Join(req.scopes, " "), Resource: req.resource})
	default:
		a.redirect(w, r, req, url.Values{"error": {"access_denied"}, "error_description": {"the user denied the request"}})
		a.emit(Event{Kind: EventDenied, Endpoint: r.URL.Path, ClientID: req.clientID})
	}
}

// redirect sends the authorization response params to the client's redirect
// URI, with state and iss (RFC 9207) unless switched off.
func (a *AuthServer) redirect(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	u, _ := url.Parse(req.redirectURI) // checked when registered
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if s := a.opts.RedirectState; s != "" {
		q.Set("state", s)
	} else if req.state != "" {
		q.Set("state", req.state)
	}
	if !a.opts.OmitIss {
		iss := a.issuer
		if a.opts.RedirectIss != "" {
			iss = a.opts.RedirectIss
		}
		q.Set("iss", iss)
	}
	u.RawQuery = q.Encode()
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), status)
}

// errorPage shows an error to the user, for errors that must not be sent to
// an unverified redirect URI.
func (a *AuthServer) errorPage(w http.ResponseWriter, r *http.Request, clientID string, err error) {
	e := asOAuthError(err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage().Execute(w, e)
	a.emit(Event{Kind: EventRejected, Endpoint: r.URL.Path, ClientID: clientID, Error: e.Code, Description: e.Description})
}

var consentPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize {{.Client}}</title></head>
<body>
<h1>Authorize {{.Client}}?</h1>
<p>Client <code>{{.ClientID}}</code> asks for access{{if .Resource}} to <code>{{.Resource}}</code>{{end}}.</p>
{{if .Scopes}}<p>Scopes:{{range .Scopes}} <code>{{.}}</code>{{end}}</p>{{end}}
<p>You will be sent back to <strong>{{.Host}}</strong>.{{if .Loopback}} This is a program on your own computer; approve only if you just started it.{{end}}</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}">
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
</body></html>
`))
})

var errorPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("error").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><h1>Authorization error</h1><p><code>{{.Code}}</code>: {{.Description}}</p></body></html>
`))
})
