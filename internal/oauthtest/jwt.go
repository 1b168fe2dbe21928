package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// This file holds the little of JWS (RFC 7515) and JWK (RFC 7517) the
// server needs: compact RS256 and ES256 signatures and their public keys.

var b64 = base64.RawURLEncoding

// A jwk is a public key with its key ID ("" if none).
type jwk struct {
	kid string
	key crypto.PublicKey
}

// jwkJSON is a JSON Web Key as far as RSA and EC P-256 public keys go.
type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS returns a JSON Web Key Set holding pub (an *rsa.PublicKey or a P-256
// *ecdsa.PublicKey) with key ID kid, for a client's jwks metadata.
func JWKS(kid string, pub crypto.PublicKey) (json.RawMessage, error) {
	k := jwkJSON{Kid: kid, Use: "sig"}
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		k.Kty, k.Alg = "RSA", "RS256"
		k.N = b64.EncodeToString(pub.N.Bytes())
		k.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, errors.New("JWKS: only P-256 EC keys are supported")
		}
		b, err := pub.Bytes() // 0x04 || x || y
		if err != nil {
			return nil, fmt.Errorf("JWKS: %w", err)
		}
		k.Kty, k.Alg, k.Crv = "EC", "ES256", "P-256"
		k.X, k.Y = b64.EncodeToString(b[1:33]), b64.EncodeToString(b[33:])
	default:
		return nil, fmt.Errorf("JWKS: unsupported key type %T", pub)
	}
	return json.Marshal(map[string]any{"keys": []jwkJSON{k}})
}

// parseJWKS parses the RSA and P-256 keys of a JSON Web Key Set, skipping
// other key types.
func parseJWKS(data []byte) ([]jwk, error) {
	var set struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, err
	}
	var keys []jwk
	for _, k := range set.Keys {
		switch {
		case k.Kty == "RSA":
			n, err1 := b64.DecodeString(k.N)
			e, err2 := b64.DecodeString(k.E)
			if err := errors.Join(err1, err2); err != nil || len(e) > 4 {
				return nil, fmt.Errorf("RSA key %q: bad n or e", k.Kid)
			}
			keys = append(keys, jwk{k.Kid, &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}})
		case k.Kty == "EC" && k.Crv == "P-256":
			x, err1 := b64.DecodeString(k.X)
			y, err2 := b64.DecodeString(k.Y)
			if err := errors.Join(err1, err2); err != nil || len(x) != 32 || len(y) != 32 {
				return nil, fmt.Errorf("EC key %q: bad x or y", k.Kid)
			}
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
			if err != nil {
				return nil, fmt.Errorf("EC key %q: %w", k.Kid, err)
			}
			keys = append(keys, jwk{k.Kid, pub})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable key")
	}
	return keys, nil
}

// SignJWT signs claims (marshalled to JSON) as a compact JWS: RS256 with an
// *rsa.PrivateKey, ES256 with a P-256 *ecdsa.PrivateKey. typ and kid, if
// non-empty, go in the header. Tests use it to make private_key_jwt client
// assertions and ID-JAGs.
func SignJWT(key crypto.Signer, typ, kid string, claims any) (string, error) {
	var alg string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		alg = "RS256"
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("SignJWT: only P-256 EC keys are supported")
		}
		alg = "ES256"
	default:
		return "", fmt.Errorf("SignJWT: unsupported key type %T", key)
	}
	header, err := json.Marshal(jwtHeader{Alg: alg, Typ: typ, Kid: kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("SignJWT: claims: %w", err)
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:]); err != nil {
			return "", fmt.Errorf("SignJWT: %w", err)
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			return "", fmt.Errorf("SignJWT: %w", err)
		}
		sig = make([]byte, 64) // JWS wants r || s, not ASN.1 (RFC 7518 §3.4)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	}
	return input + "." + b64.EncodeToString(sig), nil
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// jwtClaims are the claims the server reads.
type jwtClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      audience `json:"aud"`
	Exp      int64    `json:"exp"`
	Nbf      int64    `json:"nbf"`
	Jti      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Resource string   `json:"resource"`
	Scope    string   `json:"scope"`
}

// audience is the aud claim: one string or an array of them.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// parseJWT decodes a compact JWS without verifying it.
func parseJWT(s string) (*jwtHeader, *jwtClaims, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a compact JWS")
	}
	var h jwtHeader
	var c jwtClaims
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, fmt.Errorf("base64: %w", err)
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	if err := json.Unmarshal(cb, &c); err != nil {
		return nil, nil, fmt.Errorf("claims: %w", err)
	}
	return &h, &c, nil
}

// verifyJWT verifies the signature of s with one of keys (the one named by
// kid, if the header has one) and, if typ is non-empty, its typ header. It
// accepts only RS256 and ES256.
func verifyJWT(s string, keys []jwk, typ string) (*jwtClaims, error) {
	h, claims, err := parseJWT(s)
	if err != nil {
		return nil, err
	}
	if typ != "" && !strings.EqualFold(h.Typ, typ) {
		return nil, fmt.Errorf("typ %q, want %q", h.Typ, typ)
	}
	i := strings.LastIndexByte(s, '.')
	sig, err := b64.DecodeString(s[i+1:])
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	digest := sha256.Sum256([]byte(s[:i]))
	for _, k := range keys {
		if h.Kid != "" && k.kid != "" && h.Kid != k.kid {
			continue
		}
		switch pub := k.key.(type) {
		case *rsa.PublicKey:
			if h.Alg == "RS256" && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil {
				return claims, nil
			}
		case *ecdsa.PublicKey:
			if h.Alg == "ES256" && len(sig) == 64 &&
				ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
				return claims, nil
			}
		}
	}
	return nil, fmt.Errorf("no key verifies the %s signature", h.Alg)
}
