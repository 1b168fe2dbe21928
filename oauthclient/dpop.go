package oauthclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DPoP modes, for [Config.DPoP] (RFC 9449; the MCP authorization extension
// SEP-1932).
const (
	// DPoPOff asks for Bearer tokens: no proofs are sent.
	DPoPOff = "off"
	// DPoPOn binds the tokens to a key of the bridge's at every
	// authorization server: token requests carry a DPoP proof.
	DPoPOn = "on"
	// DPoPAuto binds the tokens where the authorization server's metadata
	// lists ES256 in dpop_signing_alg_values_supported, and asks for
	// Bearer tokens elsewhere.
	DPoPAuto = "auto"
)

// dpopAlg is the one signing algorithm of the bridge's proofs.
const dpopAlg = "ES256"

// A dpopKey is the ES256 (P-256) key a server entry's tokens are bound to
// (RFC 9449). What does not change between proofs, the header with the
// public key, is encoded once. It is safe for concurrent use.
type dpopKey struct {
	priv   *ecdsa.PrivateKey
	raw    string // base64url of the private scalar: what the store keeps; a secret
	header string // base64url of the JOSE header, ending with "."
	jkt    string // the RFC 7638 thumbprint of the public key
}

// newDPoPKey creates a key.
func newDPoPKey() (*dpopKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create a DPoP key: %w", err)
	}
	return makeDPoPKey(priv)
}

// parseDPoPKey reads a key stored as [Credentials.DPoPKey]. Its error does
// not quote the key.
func parseDPoPKey(raw string) (*dpopKey, error) {
	d, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, errors.New("the stored DPoP key is damaged: not base64url")
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, errors.New("the stored DPoP key is damaged: not a P-256 private key")
	}
	return makeDPoPKey(priv)
}

func makeDPoPKey(priv *ecdsa.PrivateKey) (*dpopKey, error) {
	d, err := priv.Bytes()
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %w", err)
	}
	pub, err := priv.PublicKey.Bytes() // 0x04 || x || y
	if err != nil || len(pub) != 65 {
		return nil, errors.New("DPoP key: not a P-256 key")
	}
	b64 := base64.RawURLEncoding.EncodeToString
	// The members in lexicographic order, no white space: this is also
	// the input of the thumbprint (RFC 7638 section 3.2).
	jwk := `{"crv":"P-256","kty":"EC","x":"` + b64(pub[1:33]) + `","y":"` + b64(pub[33:]) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return &dpopKey{
		priv:   priv,
		raw:    b64(d),
		header: b64([]byte(`{"typ":"dpop+jwt","alg":"`+dpopAlg+`","jwk":`+jwk+`}`)) + ".",
		jkt:    b64(sum[:]),
	}, nil
}

// dpopClaims are the claims of a proof (RFC 9449 section 4.2).
type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// proof signs a DPoP proof for a request of method to htu (see [htu]),
// with the hash of the access token it carries, if any, and the server's
// nonce, if known.
func (k *dpopKey) proof(method, htu, accessToken, nonce string, now time.Time) (string, error) {
	c := dpopClaims{JTI: rand.Text(), HTM: method, HTU: htu, IAT: now.Unix(), Nonce: nonce}
	if accessToken != "" {
		c.ATH = tokenHash(accessToken)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	n := len(k.header) + base64.RawURLEncoding.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+86)
	buf = append(buf, k.header...)
	buf = base64.RawURLEncoding.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign the DPoP proof: %w", err)
	}
	// JWS wants r||s, each 32 bytes, not ASN.1 (RFC 7518 section 3.4).
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	buf = append(buf, '.')
	buf = base64.RawURLEncoding.AppendEncode(buf, sig[:])
	return string(buf), nil
}

// tokenHash is a proof's ath: the base64url SHA-256 of the access token
// (RFC 9449 section 4.2).
func tokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// htu is a proof's htu for a request to u: the URL without its query and
// fragment (RFC 9449 section 4.2).
func htu(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// dpopOrigin is the key of a server's nonce: scheme, host and port, the
// default port spelled out, so that the authorization server and the MCP
// server never share one unless they share an origin.
func dpopOrigin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// wantsDPoP reports whether a sign-in at the authorization server as binds
// its tokens to a key, by [Config.DPoP].
func (h *Handler) wantsDPoP(as *asMeta) bool {
	switch h.cfg.DPoP {
	case DPoPOn:
		return true
	case DPoPAuto:
		return slices.Contains(as.DPoPSigningAlgValuesSupported, dpopAlg)
	}
	return false
}

// signInKey returns the key a sign-in at the authorization server as binds
// the tokens to, or nil for Bearer tokens: the key of the stored
// credentials c if they have one (one key per server entry), else a new
// one.
func (h *Handler) signInKey(as *asMeta, c *Credentials) (*dpopKey, error) {
	if !h.wantsDPoP(as) {
		return nil, nil
	}
	if c != nil && c.DPoPKey != "" {
		if k, err := h.dpopKey(c); err == nil {
			return k, nil
		}
		h.log.Warn("the stored DPoP key is damaged; signing in with a new one")
	}
	k, err := newDPoPKey()
	if err != nil {
		return nil, err
	}
	h.log.Info("binding the tokens to a new DPoP key (RFC 9449)", "jkt", k.jkt)
	return k, nil
}

// dpopKey returns the key c's tokens are bound to, or nil if they are
// Bearer tokens. The last key parsed is kept: a proof costs a signature,
// not a key's decoding.
func (h *Handler) dpopKey(c *Credentials) (*dpopKey, error) {
	if c == nil {
		return nil, nil
	}
	return h.keyOf(c.DPoPKey)
}

// keyOf returns the key stored as raw, or nil if raw is empty.
func (h *Handler) keyOf(raw string) (*dpopKey, error) {
	if raw == "" {
		return nil, nil
	}
	if k := h.dpopCache.Load(); k != nil && k.raw == raw {
		return k, nil
	}
	k, err := parseDPoPKey(raw)
	if err != nil {
		return nil, err
	}
	h.dpopCache.Store(k)
	return k, nil
}

// nonce returns the newest DPoP-Nonce the origin of u sent, or "".
func (h *Handler) nonce(u *url.URL) string {
	v, _ := h.nonces.Load(dpopOrigin(u))
	s, _ := v.(string)
	return s
}

// ObserveDPoPNonce keeps nonce, the DPoP-Nonce header of a response from
// u's origin, for the next proofs sent there (RFC 9449 section 8): the
// newest one is kept, per origin. An empty nonce changes nothing. Safe for
// concurrent use.
func (h *Handler) ObserveDPoPNonce(u *url.URL, nonce string) {
	if nonce == "" || u == nil {
		return
	}
	// A nonce is a token68-like string (RFC 9449 section 8.1); anything
	// else is not echoed back.
	if len(nonce) > 512 || strings.ContainsFunc(nonce, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
		h.log.Debug("ignoring a malformed DPoP-Nonce")
		return
	}
	h.nonces.Store(dpopOrigin(u), nonce)
}

// DPoPProof returns the DPoP proof (RFC 9449 section 7) for a request of
// method to u that carries accessToken in an Authorization: DPoP header:
// signed with the key the handler's tokens are bound to, with the ath of
// accessToken and the newest nonce of u's origin. It fails if the tokens
// are bound to no key. Safe for concurrent use.
//
// The signature is mostly off the request's path: each call also signs,
// on a goroutine of its own that runs while the request is on its way, a
// spare proof for the next request like it, which that request takes if
// nothing it depends on has changed (see [Handler.takeSpare]).
func (h *Handler) DPoPProof(method string, u *url.URL, accessToken string) (string, error) {
	h.mu.Lock()
	raw := ""
	if h.creds != nil {
		raw = h.creds.DPoPKey
	}
	h.mu.Unlock()
	k, err := h.keyOf(raw)
	if err != nil {
		return "", err
	}
	if k == nil {
		return "", errors.New("the token is DPoP-bound, but no DPoP key is stored with it")
	}
	want := spareProof{key: k, method: method, htu: htu(u), token: accessToken, nonce: h.nonce(u)}
	now := h.now()
	jws, ok := h.takeSpare(&want, now)
	if h.spareSigning.CompareAndSwap(false, true) {
		go h.signSpare(want)
	}
	if ok {
		return jws, nil
	}
	return k.proof(want.method, want.htu, want.token, want.nonce, now)
}

// A spareProof is a proof signed ahead of the request that will carry it,
// with what it was signed for.
type spareProof struct {
	key                       *dpopKey
	method, htu, token, nonce string
	iat                       int64
	jws                       string
}

// signSpare signs a proof for a request like want and keeps it as the
// spare, replacing the one before. h.spareSigning is set: one spare is
// signed at a time.
func (h *Handler) signSpare(want spareProof) {
	defer h.spareSigning.Store(false)
	now := h.now()
	jws, err := want.key.proof(want.method, want.htu, want.token, want.nonce, now)
	if err != nil {
		return // the request signs its own, and reports the error
	}
	want.iat, want.jws = now.Unix(), jws
	h.spare.Store(&want)
}

// takeSpare takes the spare proof, if it was signed for a request like
// want, with the same key, access token and nonce, in the second that now
// falls in: its iat is then the iat a proof signed now would have, and
// nothing a server checks tells it from one. A spare is taken once: its
// jti is never sent twice.
func (h *Handler) takeSpare(want *spareProof, now time.Time) (string, bool) {
	p := h.spare.Load()
	if p == nil || p.key.raw != want.key.raw || p.method != want.method || p.htu != want.htu ||
		p.token != want.token || p.nonce != want.nonce || p.iat != now.Unix() {
		return "", false
	}
	if !h.spare.CompareAndSwap(p, nil) {
		return "", false // another request took it
	}
	return p.jws, true
}

// setProof adds the DPoP header to a request to an authorization server.
func (h *Handler) setProof(req *http.Request, k *dpopKey) error {
	p, err := k.proof(req.Method, htu(req.URL), "", h.nonce(req.URL), h.now())
	if err != nil {
		return err
	}
	req.Header.Set("DPoP", p)
	return nil
}

// SenderConstrained reports whether c's tokens are bound to a key (DPoP,
// RFC 9449): a copy of them is useless without it.
func (c *Credentials) SenderConstrained() bool {
	return c != nil && c.DPoPKey != "" && strings.EqualFold(c.TokenType, "DPoP")
}
