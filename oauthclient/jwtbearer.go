package oauthclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/jwtclaims"
	"github.com/mcp-bridge/mcp-bridge/internal/safetext"
	"golang.org/x/oauth2"
)

// GrantJWTBearer is the RFC 7523 section 2.1 grant type: a JWT as an
// authorization grant.
const GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// KindWorkload is the [Client.Kind] of credentials obtained with a
// workload's assertion: there is no client registration at all.
const KindWorkload = "workload"

// Workload configures workload identity federation (SEP-1933, the
// ext-auth extension io.modelcontextprotocol/auth/wif,
// specification/draft/workload-identity-federation.mdx): the bridge runs
// as a workload (a Kubernetes pod, a CI job) that holds a JWT from its
// platform, and trades that JWT for an access token with the RFC 7523
// jwt-bearer grant. No client registration, no client_id, no browser:
// a refused assertion is an error, never a fallback to another grant.
//
// The assertion is read afresh before every token request, since
// platforms rotate it (a projected service-account token is replaced
// long before it expires). There is no refresh token: a token about to
// expire is fetched again with the assertion read anew.
type Workload struct {
	// AssertionFile holds the JWT, surrounding white space ignored.
	AssertionFile string

	// AssertionCommand, if AssertionFile is empty, is run (no shell) and
	// prints the JWT on its standard output.
	AssertionCommand []string

	// Stderr receives the command's standard error. If nil, it is
	// discarded.
	Stderr io.Writer
}

// ErrAssertionRefused is wrapped by the error a workload sign-in returns
// when the authorization server refuses the assertion: another attempt
// with the same assertion would fail the same way.
var ErrAssertionRefused = errors.New("workload assertion refused")

// maxAssertion bounds what is read as an assertion.
const maxAssertion = 64 << 10

// assertionTimeout bounds the assertion command.
const assertionTimeout = 30 * time.Second

// source names where the assertion comes from, for messages: never the
// assertion itself.
func (w *Workload) source() string {
	if w.AssertionFile != "" {
		return "the assertion file " + w.AssertionFile
	}
	return fmt.Sprintf("the assertion command %q", strings.Join(w.AssertionCommand, " "))
}

func (w *Workload) check() error {
	switch {
	case w.AssertionFile != "" && len(w.AssertionCommand) > 0:
		return errors.New("workload sign-in: give an assertion file or an assertion command, not both")
	case w.AssertionFile == "" && len(w.AssertionCommand) == 0:
		return errors.New("workload sign-in needs an assertion file or an assertion command")
	}
	return nil
}

// read returns the assertion as it is now.
func (w *Workload) read(ctx context.Context) (string, error) {
	var raw []byte
	if w.AssertionFile != "" {
		f, err := os.Open(w.AssertionFile)
		if err != nil {
			return "", fmt.Errorf("read the workload assertion: %w", err)
		}
		raw, err = io.ReadAll(io.LimitReader(f, maxAssertion+1))
		f.Close()
		if err != nil {
			return "", fmt.Errorf("read the workload assertion: %w", err)
		}
	} else {
		ctx, cancel := context.WithTimeout(ctx, assertionTimeout)
		defer cancel()
		argv := w.AssertionCommand
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		var out bytes.Buffer
		cmd.Stdout = &limitedWriter{w: &out, n: maxAssertion + 1}
		cmd.Stderr = w.Stderr
		if cmd.Stderr == nil {
			cmd.Stderr = io.Discard
		}
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s failed: %w", w.source(), err)
		}
		raw = out.Bytes()
	}
	if len(raw) > maxAssertion {
		return "", fmt.Errorf("%s holds more than %d bytes: not a workload JWT", w.source(), maxAssertion)
	}
	a := strings.TrimSpace(string(raw))
	switch {
	case a == "":
		return "", fmt.Errorf("%s is empty", w.source())
	case strings.Count(a, ".") != 2 || strings.ContainsAny(a, " \t\r\n"):
		// Say what it is not, never what it is: it may be a secret.
		return "", fmt.Errorf("%s does not hold a JWT (three dot-separated parts)", w.source())
	}
	return a, nil
}

// limitedWriter keeps the first n bytes written and discards the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		l.w.Write(p[:k])
	}
	return len(p), nil
}

// workloadStoreKey is the store key of a workload's credentials: apart
// from those of a user's sign-in to the same server, and of another
// assertion source.
func workloadStoreKey(serverURL, resource string, w *Workload) string {
	src := w.AssertionFile
	if src == "" {
		src = strings.Join(w.AssertionCommand, "\x01")
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{"workload", serverURL, resource, src}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// workloadSignIn obtains a token with the workload's assertion at d's
// authorization server.
func (h *Handler) workloadSignIn(ctx context.Context, d *discovered, scopes []string) (*Credentials, error) {
	if g := d.as.GrantTypesSupported; len(g) > 0 && !slices.Contains(g, GrantJWTBearer) {
		return nil, fmt.Errorf("the authorization server %s does not support the jwt-bearer grant (its grant_types_supported does not list %s): it cannot take a workload assertion",
			d.as.Issuer, GrantJWTBearer)
	}
	c := &Credentials{
		Server:             h.cfg.ServerURL,
		Client:             h.workloadClient(),
		Issuer:             d.as.Issuer,
		TokenEndpoint:      d.as.TokenEndpoint,
		RevocationEndpoint: d.as.RevocationEndpoint,
		Resource:           d.resource,
		Scopes:             scopes,
	}
	if d.dpop != nil {
		c.DPoPKey = d.dpop.raw
	}
	h.log.Info("requesting a token with the workload's assertion (jwt-bearer grant)", "source", h.cfg.Workload.source())
	return h.jwtBearer(ctx, c)
}

// workloadClient is the client a workload presents: none, or the
// client_id the user configured for an authorization server that wants
// one.
func (h *Handler) workloadClient() Client {
	return Client{ID: h.cfg.ClientID, Kind: KindWorkload, AuthMethod: "none"}
}

// jwtBearer reads the assertion and redeems it at c's token endpoint
// (RFC 7523 section 2.1) for c's resource and scopes; it returns c with
// the new token.
func (h *Handler) jwtBearer(ctx context.Context, c *Credentials) (*Credentials, error) {
	w := h.cfg.Workload
	assertion, err := w.read(ctx)
	if err != nil {
		return nil, err
	}
	form := c.renewal(url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}})
	key, err := h.dpopKey(c)
	if err != nil {
		return nil, err
	}
	t, err := h.tokenRequest(ctx, c.Issuer, c.TokenEndpoint, c.Client, form, key)
	if te, ok := errors.AsType[*TokenError](err); ok {
		return nil, fmt.Errorf("%w: %s refused the assertion from %s: %w%s", ErrAssertionRefused, quoteURL(c.Issuer), w.source(), te, refusalHint(te.Code, c.TokenEndpoint))
	}
	if err != nil {
		return nil, fmt.Errorf("jwt-bearer grant: %w", err)
	}
	// A workload renews with its assertion: a refresh token is not kept.
	fresh := c.withToken(t, h.now())
	fresh.RefreshToken = ""
	return fresh, nil
}

// refusalHint says what usually makes an authorization server refuse a
// workload assertion with code.
func refusalHint(code, tokenEndpoint string) string {
	switch code {
	case "invalid_grant":
		return "; the assertion may have expired, be meant for another audience (it must be " + quoteURL(tokenEndpoint) +
			" or the server's issuer), or come from an issuer the server does not trust"
	case "unauthorized_client", "access_denied":
		return "; the server does not let this workload have a token for this server"
	case "invalid_scope":
		return "; the server does not grant this workload the scopes asked for"
	case "unsupported_grant_type":
		return "; the server does not take the jwt-bearer grant"
	}
	return ""
}

// renewWorkload fetches a new token for c with the assertion read anew:
// a workload has no refresh token. Concurrent calls share one request,
// and a token another process obtained meanwhile is used instead.
func (h *Handler) renewWorkload(ctx context.Context, c *Credentials) (*Credentials, error) {
	v, err, _ := h.refreshes.Do("workload", func() (any, error) {
		unlock, err := h.lock(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
		cur := h.reread(ctx)
		if cur != nil && cur.AccessToken != "" && cur.AccessToken != c.AccessToken && !h.expiring(cur) {
			return cur, nil
		}
		if cur != nil && cur.TokenEndpoint != "" {
			c = cur
		}
		start := h.now()
		fresh, err := h.jwtBearer(ctx, c)
		if err != nil {
			h.event(EventRefresh, start, err)
			return nil, err
		}
		if err := h.save(ctx, fresh); err != nil {
			return nil, err
		}
		h.log.Info("token renewed with the workload's assertion", "expires_in", expiresIn(fresh, fresh.Obtained))
		h.event(EventRefresh, start, nil)
		return fresh, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Credentials), nil
}

// workloadToken is [Handler.Token] for a workload whose token is about
// to expire: a new one, fetched with the assertion read anew. A refused
// assertion is an error the host sees, not a bare request whose 401
// would only present it again.
func (h *Handler) workloadToken(c *Credentials) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fresh, err := h.renewWorkload(ctx, c)
	switch {
	case err == nil:
		return fresh.token(), nil
	case c.AccessToken != "" && h.now().Before(c.Expiry):
		h.log.Warn("renewing the workload's token failed; using it until it expires", "err", err)
		return c.token(), nil
	case errors.Is(err, ErrAssertionRefused):
		return nil, err
	case unreachable(err):
		h.log.Warn("the authorization server that issued the token cannot be reached; asking the server which one to use", "err", err)
		return nil, nil
	default:
		return nil, err
	}
}

// workloadCheck is doctor's step for a workload: the authorization
// server takes the jwt-bearer grant, and the assertion can be read and
// is a JWT that has not expired. Its claims are read unverified, for
// advice only; the signature, the one secret part, is never shown.
func (h *Handler) workloadCheck(ctx context.Context, as *asMeta) Check {
	const step = "workload assertion"
	w := h.cfg.Workload
	if g := as.GrantTypesSupported; len(g) > 0 && !slices.Contains(g, GrantJWTBearer) {
		return Check{Step: step, Detail: "the authorization server's grant_types_supported does not list " + GrantJWTBearer,
			Fix: "ask the server's operator to enable workload identity federation (the jwt-bearer grant) and to trust your platform's issuer"}
	}
	a, err := w.read(ctx)
	if err != nil {
		return Check{Step: step, Detail: err.Error(), Fix: "check that the platform provides the JWT there (a projected service-account token, a CI job's OIDC token)"}
	}
	var claims struct {
		Iss string             `json:"iss"`
		Sub string             `json:"sub"`
		Aud jwtclaims.Audience `json:"aud"`
		Exp int64              `json:"exp"`
	}
	if !jwtclaims.Decode(a, &claims) {
		return Check{Step: step, Detail: w.source() + " does not hold a readable JWT", Fix: "check what the platform writes there"}
	}
	detail := fmt.Sprintf("%s holds a JWT from %s for %s", w.source(), safetext.Quote(claims.Iss, safetext.MaxQuote), safetext.Quote(claims.Sub, safetext.MaxQuote))
	if claims.Exp != 0 {
		left := time.Unix(claims.Exp, 0).Sub(h.now())
		if left <= 0 {
			return Check{Step: step, Detail: detail + ", expired " + (-left).Round(time.Second).String() + " ago",
				Fix: "the platform should have rotated it: check what writes " + w.source()}
		}
		detail += ", expires in " + left.Round(time.Second).String()
	}
	meant := false
	for _, aud := range claims.Aud {
		aud = strings.TrimSuffix(aud, "/")
		meant = meant || aud == strings.TrimSuffix(as.TokenEndpoint, "/") || aud == strings.TrimSuffix(as.Issuer, "/")
	}
	if !meant {
		detail += fmt.Sprintf("; its audience %s is neither the token endpoint %s nor the issuer, which the server may refuse",
			safetext.Quote(strings.Join(claims.Aud, " "), safetext.MaxQuote), quoteURL(as.TokenEndpoint))
	}
	return Check{Step: step, OK: true, Detail: detail}
}
