package oauthclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// codeSignIn runs the authorization code grant with PKCE S256 (RFC 7636),
// a state value, the RFC 9207 iss check and the RFC 8707 resource: through
// the user's browser and a loopback redirect (RFC 8252), or, in the paste
// mode, through a redirected URL the user pastes.
func (h *Handler) codeSignIn(ctx context.Context, p *pendingLogin, d *discovered, scopes []string) (*Credentials, error) {
	if !pkceS256(d.as.CodeChallengeMethodsSupported, h.cfg.AssumePKCE) {
		// basic/authorization, "Authorization Code Protection": without
		// advertised PKCE support the client must refuse to proceed.
		return nil, fmt.Errorf("the authorization server %s does not advertise PKCE with S256 (code_challenge_methods_supported: %q); refusing to sign in without it",
			d.as.Issuer, d.as.CodeChallengeMethodsSupported)
	}
	paste := h.cfg.Login == LoginPaste
	if paste && h.cfg.Input == nil {
		return nil, h.notice(p, &LoginRequiredError{
			Server:  h.cfg.ServerURL,
			Command: h.cfg.LoginCommand + " --login=paste",
			Reason:  "the paste sign-in needs a terminal",
		})
	}
	client, ln, redirectURI, err := h.registerWithListener(ctx, d, !paste)
	if err != nil {
		return nil, err
	}
	if ln != nil {
		defer ln.Close()
	}

	verifier, state := oauth2.GenerateVerifier(), randomState()
	cfg := h.oauthConfig(d, client, redirectURI, scopes)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if d.resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", d.resource))
	}
	for k, vs := range h.cfg.AuthorizeParams {
		for _, v := range vs {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	// Printed, quoted to the host and opened as re-serialised (issue 11).
	authURL, err := browserURL(cfg.AuthCodeURL(state, opts...))
	if err != nil {
		return nil, err
	}

	var code string
	if paste {
		code, err = h.readPasted(ctx, authURL, redirectURI, state, d)
	} else {
		code, err = h.browserCode(ctx, p, ln, authURL, redirectURI, state, d)
	}
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	}
	if d.resource != "" {
		form.Set("resource", d.resource)
	}
	t, err := h.tokenRequest(ctx, d.as.Issuer, d.as.TokenEndpoint, client, form, d.dpop)
	if err != nil {
		if isTokenError(err, "invalid_client") && client.Kind == KindDynamic {
			h.forgetRegistration(ctx)
		}
		return nil, fmt.Errorf("exchange the authorization code: %w", err)
	}
	return h.fromToken(d, client, scopes, t), nil
}

// notice tells waiting callers what the user must do, and returns err for
// the sign-in itself.
func (h *Handler) notice(p *pendingLogin, err error) error {
	p.note(err)
	return err
}

// browserCode opens authURL in the browser and waits for the redirect to
// the loopback listener. If no browser opens, the waiting requests learn
// the URL to open by hand, and the listener keeps waiting for it.
func (h *Handler) browserCode(ctx context.Context, p *pendingLogin, ln net.Listener, authURL, redirectURI, state string, d *discovered) (string, error) {
	ru, _ := url.Parse(redirectURI)
	results := make(chan callbackResult, 1)
	srv := &http.Server{
		Handler: &callback{path: ru.Path, state: state, as: d.as, server: h.cfg.ServerURL, results: results,
			received: func() { p.acted.Store(true) }},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	defer func() {
		// Let the browser have its page, briefly.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	h.log.Info("opening the browser to sign in", "authorization_endpoint", d.as.AuthorizationEndpoint, "redirect", redirectURI)
	p.show(authURL)
	open := h.cfg.OpenURL
	if open == nil {
		open = OpenBrowser
	}
	err := open(ctx, authURL)
	if h.cfg.OnSignInURL != nil {
		h.cfg.OnSignInURL(authURL, err == nil)
	}
	if err != nil {
		h.log.Warn("no browser could be opened; waiting for the sign-in URL to be opened by hand", "err", err)
		if h.cfg.Prompt != nil {
			fmt.Fprintf(h.cfg.Prompt, "No browser could be opened here (%v).\nOpen this URL in a browser to sign in:\n\n%s\n\n"+
				"Waiting for the sign-in, at most %v. The browser returns to %s: from another machine\n"+
				"(over SSH), forward that port or sign in with --login=paste or --login=device.\n",
				strings.ReplaceAll(err.Error(), "\n", "; "), authURL, h.cfg.LoginTimeout, ru.Host)
		}
		p.note(&LoginRequiredError{Server: h.cfg.ServerURL, URL: authURL, Command: h.cfg.LoginCommand, Reason: "no browser could be opened"})
	}
	select {
	case r := <-results:
		return r.code, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("no sign-in within %v: %w", h.cfg.LoginTimeout, ctx.Err())
	}
}

// readPasted prints authURL and reads the URL the browser was redirected
// to.
func (h *Handler) readPasted(ctx context.Context, authURL, redirectURI, state string, d *discovered) (string, error) {
	fmt.Fprintf(h.cfg.Prompt, "Open this URL in a browser and sign in:\n\n  %s\n\n"+
		"The browser then goes to %s..., which may fail to load: that is expected.\n"+
		"Paste the whole address from the browser's address bar here and press Enter:\n", authURL, redirectURI)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(h.cfg.Input)
		sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" {
				lines <- t
				return
			}
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			return "", errors.New("no redirected URL was pasted")
		}
		u, err := url.Parse(line)
		if err != nil {
			return "", fmt.Errorf("the pasted text is not a URL: %w", err)
		}
		return checkRedirect(u.Query(), state, d.as)
	case <-ctx.Done():
		return "", fmt.Errorf("no redirected URL pasted within %v: %w", h.cfg.LoginTimeout, ctx.Err())
	}
}

// checkRedirect reads the authorization response (RFC 6749 section 4.1.2)
// and checks its state and, per RFC 9207, its iss.
func checkRedirect(q url.Values, state string, as *asMeta) (string, error) {
	if q.Get("state") != state {
		return "", errors.New("the authorization response's state does not match this sign-in; it was not started here, or is stale")
	}
	iss := q.Get("iss")
	switch {
	case iss != "" && iss != as.Issuer:
		// RFC 9207 section 2.4: simple string comparison, no
		// normalization, not even of a trailing slash.
		return "", fmt.Errorf("the authorization response comes from issuer %s, not %s (RFC 9207): refusing it", quoteURL(iss), quoteURL(as.Issuer))
	case iss == "" && as.AuthorizationResponseIssParameterSupported:
		return "", fmt.Errorf("the authorization server %s promises an iss parameter (RFC 9207) but the response has none: refusing it", quoteURL(as.Issuer))
	}
	if e := q.Get("error"); e != "" {
		e = errorCode(e)
		if d := q.Get("error_description"); d != "" {
			e += ": " + asSaid(d)
		}
		return "", fmt.Errorf("the authorization server refused: %s", e)
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("the authorization response has no code")
	}
	return code, nil
}

// pkceS256 reports whether the authorization server takes PKCE S256: it
// lists S256, or, with assume, lists no method at all.
func pkceS256(methods []string, assume bool) bool {
	return slices.Contains(methods, "S256") || assume && len(methods) == 0
}
