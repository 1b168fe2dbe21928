package oauthtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDPoPWindow is how far a DPoP proof's iat may be from the
// server's clock, either way, when ASOptions.DPoPWindow or
// ResourceOptions.DPoPWindow is zero: the ±5 minutes servers commonly
// allow.
const DefaultDPoPWindow = 5 * time.Minute

// DPoP error codes (RFC 9449 sections 5 to 9, 12.2).
const (
	errInvalidDPoPProof = "invalid_dpop_proof"
	errUseDPoPNonce     = "use_dpop_nonce"
)

// DPoPClaims are the claims of a DPoP proof (RFC 9449 section 4.2).
type DPoPClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// A DPoPKey is a client's ES256 key for DPoP proofs, for tests that send
// proofs of their own making (a replayed jti, a wrong ath, another key).
type DPoPKey struct {
	priv *ecdsa.PrivateKey
}

// NewDPoPKey returns a new P-256 key.
func NewDPoPKey() *DPoPKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return &DPoPKey{priv: priv}
}

// Thumbprint returns the RFC 7638 thumbprint of the public key: the jkt
// of the tokens bound to it.
func (k *DPoPKey) Thumbprint() string { return thumbprint(&k.priv.PublicKey) }

// Proof signs a proof with claims c; typ, if not empty, replaces
// "dpop+jwt" in the header.
func (k *DPoPKey) Proof(c DPoPClaims, typ string) string {
	if typ == "" {
		typ = "dpop+jwt"
	}
	pub, _ := k.priv.PublicKey.Bytes()
	header, _ := json.Marshal(map[string]any{"typ": typ, "alg": "ES256", "jwk": map[string]string{
		"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(pub[1:33]), "y": b64.EncodeToString(pub[33:])}})
	payload, _ := json.Marshal(c)
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

// TokenHash returns the ath of a proof for accessToken.
func TokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64.EncodeToString(sum[:])
}

// thumbprint is the RFC 7638 thumbprint of a P-256 public key.
func thumbprint(pub *ecdsa.PublicKey) string {
	b, _ := pub.Bytes()
	jwk := `{"crv":"P-256","kty":"EC","x":"` + b64.EncodeToString(b[1:33]) + `","y":"` + b64.EncodeToString(b[33:]) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return b64.EncodeToString(sum[:])
}

// A dpopError is a refused proof: invalid_dpop_proof, or use_dpop_nonce
// with the nonce to use.
type dpopError struct {
	code, desc string
}

func (e *dpopError) Error() string { return e.code + ": " + e.desc }

// A dpopChecker verifies DPoP proofs (RFC 9449 section 4.3) and remembers
// their jti until they are too old to be accepted anyway.
type dpopChecker struct {
	now    func() time.Time
	window time.Duration
	nonce  string // required when not empty

	mu     sync.Mutex           // guards seen and pruned
	seen   map[string]time.Time // jti → when it may be forgotten
	pruned time.Time            // when seen was last rid of what it may forget

	ath atomic.Pointer[[2]string] // the access token last checked and its ath

	keysMu sync.Mutex                  // guards keys
	keys   map[string]*dpopProofHeader // a proof's header segment, as sent → what it says
}

// A dpopProofHeader is a proof's JOSE header once checked: typ dpop+jwt,
// alg ES256 and a P-256 public key, decoded, with its thumbprint.
type dpopProofHeader struct {
	pub *ecdsa.PublicKey
	jkt string
}

// maxDPoPKeys bounds dpopChecker.keys: a client's proofs all carry the
// same header, so a handful of clients fill a few entries; past the bound
// the map starts again.
const maxDPoPKeys = 64

func newDPoPChecker(now func() time.Time, window time.Duration, nonce string) *dpopChecker {
	if window <= 0 {
		window = DefaultDPoPWindow
	}
	if now == nil {
		now = time.Now
	}
	return &dpopChecker{now: now, window: window, nonce: nonce, seen: map[string]time.Time{}, keys: map[string]*dpopProofHeader{}}
}

// requestURL is the htu a request to this server must have: its URL
// without query and fragment.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

// header returns what the header segment seg of a proof says, checked.
// A client sends the same header with each of its proofs: it is decoded,
// checked and its key's thumbprint computed once, and kept by its exact
// bytes. What depends on the proof, the signature above all, is checked
// by the caller on every proof.
func (d *dpopChecker) header(seg string) (*dpopProofHeader, error) {
	d.keysMu.Lock()
	h := d.keys[seg]
	d.keysMu.Unlock()
	if h != nil {
		return h, nil
	}
	hb, err := b64.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("base64: %v", err)
	}
	var header struct {
		Typ string   `json:"typ"`
		Alg string   `json:"alg"`
		JWK *jwkJSON `json:"jwk"`
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	key := header.JWK
	switch {
	case key == nil || key.N != "":
		return nil, errors.New("no public EC jwk in the header")
	case header.Typ != "dpop+jwt":
		return nil, fmt.Errorf("typ %q, want dpop+jwt", header.Typ)
	case header.Alg != "ES256":
		return nil, fmt.Errorf("alg %q, want ES256", header.Alg)
	case key.Kty != "EC" || key.Crv != "P-256":
		return nil, errors.New("jwk is not a P-256 key")
	}
	x, err1 := b64.DecodeString(key.X)
	y, err2 := b64.DecodeString(key.Y)
	if errors.Join(err1, err2) != nil || len(x) != 32 || len(y) != 32 {
		return nil, errors.New("jwk coordinates")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, fmt.Errorf("jwk: %v", err)
	}
	h = &dpopProofHeader{pub: pub, jkt: thumbprint(pub)}
	d.keysMu.Lock()
	if len(d.keys) >= maxDPoPKeys {
		clear(d.keys)
	}
	d.keys[strings.Clone(seg)] = h // not a slice of the request's header
	d.keysMu.Unlock()
	return h, nil
}

// tokenHash returns the ath of accessToken, kept for the token last
// asked for: a client sends the same one until it is refreshed.
func (d *dpopChecker) tokenHash(accessToken string) string {
	if m := d.ath.Load(); m != nil && m[0] == accessToken {
		return m[1]
	}
	m := &[2]string{accessToken, TokenHash(accessToken)}
	d.ath.Store(m)
	return m[1]
}

// check verifies the one DPoP header of r, a request to the URL htu,
// carrying accessToken (empty at the token endpoint), and returns the
// thumbprint of its key.
func (d *dpopChecker) check(r *http.Request, htu, accessToken string) (string, error) {
	vs := r.Header.Values("DPoP")
	if len(vs) != 1 {
		return "", &dpopError{errInvalidDPoPProof, fmt.Sprintf("want one DPoP header, got %d", len(vs))}
	}
	bad := func(format string, args ...any) (string, error) {
		return "", &dpopError{errInvalidDPoPProof, fmt.Sprintf(format, args...)}
	}
	proof := vs[0]
	hseg, rest, ok1 := strings.Cut(proof, ".")
	cseg, sseg, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sseg, ".") {
		return bad("not a compact JWS")
	}
	h, err := d.header(hseg)
	if err != nil {
		return bad("%v", err)
	}
	cb, err1 := b64.DecodeString(cseg)
	var sig [64]byte
	var err2 error
	if b64.DecodedLen(len(sseg)) != len(sig) {
		err2 = errors.New("the signature is not 64 bytes")
	} else {
		_, err2 = b64.Decode(sig[:], []byte(sseg))
	}
	if err := errors.Join(err1, err2); err != nil {
		return bad("base64: %v", err)
	}
	var claims DPoPClaims
	if err := json.Unmarshal(cb, &claims); err != nil {
		return bad("claims: %v", err)
	}
	digest := sha256.Sum256([]byte(proof[:len(hseg)+1+len(cseg)]))
	if !ecdsa.Verify(h.pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return bad("the signature does not verify")
	}
	now := d.now()
	iat := time.Unix(claims.IAT, 0)
	switch {
	case claims.JTI == "":
		return bad("no jti")
	case claims.HTM != r.Method:
		return bad("htm %q, want %q", claims.HTM, r.Method)
	case claims.HTU != htu:
		return bad("htu %q, want %q", claims.HTU, htu)
	case iat.Before(now.Add(-d.window)) || iat.After(now.Add(d.window)):
		return bad("iat %v is not within %v of %v", iat.UTC(), d.window, now.UTC())
	case accessToken == "" && claims.ATH != "":
		return bad("ath in a proof without an access token")
	case accessToken != "" && claims.ATH != d.tokenHash(accessToken):
		return bad("ath does not match the access token")
	case d.nonce != "" && claims.Nonce != d.nonce:
		return "", &dpopError{errUseDPoPNonce, "a DPoP nonce is required"}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// Forgetting is a walk of every jti kept: once a second, not on every
	// proof, which a benchmark of thousands of calls would pay for.
	if now.Sub(d.pruned) >= time.Second || now.Before(d.pruned) {
		d.pruned = now
		for j, until := range d.seen {
			if now.After(until) {
				delete(d.seen, j)
			}
		}
	}
	if _, ok := d.seen[claims.JTI]; ok {
		return bad("jti %q replayed", claims.JTI)
	}
	d.seen[claims.JTI] = iat.Add(d.window)
	return h.jkt, nil
}
