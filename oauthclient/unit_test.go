package oauthclient

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
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

func TestCanonicalResource(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://MCP.Example.com/mcp", "https://mcp.example.com/mcp"},
		{"HTTPS://mcp.example.com/mcp/", "https://mcp.example.com/mcp"},
		{"https://mcp.example.com/", "https://mcp.example.com"},
		{"https://mcp.example.com", "https://mcp.example.com"},
		{"https://mcp.example.com:8443/a/b#frag", "https://mcp.example.com:8443/a/b"},
		{"https://mcp.example.com/mcp?tenant=1", "https://mcp.example.com/mcp?tenant=1"},
	}
	for _, tt := range tests {
		got, err := CanonicalResource(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CanonicalResource(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := CanonicalResource("mcp.example.com"); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}

func TestCovers(t *testing.T) {
	const server = "https://mcp.example.com/api/v1/mcp"
	for resource, want := range map[string]bool{
		server:                                 true,
		"HTTPS://MCP.example.com/api/v1/mcp/":  true, // canonical forms compared
		"https://mcp.example.com":              true, // the origin
		"https://mcp.example.com/":             true,
		"https://mcp.example.com/api":          true, // a parent path
		"https://mcp.example.com/api/v1/":      true,
		"https://mcp.example.com/ap":           false, // not at a segment boundary
		"https://mcp.example.com/api/v1/mcp/x": false, // a longer path
		"https://mcp.example.com/other":        false, // a sibling
		"https://evil.example.com/api/v1/mcp":  false, // another host
		"http://mcp.example.com/api/v1/mcp":    false, // another scheme
		"https://mcp.example.com:8443":         false, // another port
		"https://mcp.example.com/api?x=1":      false, // a query names another resource
		"mcp.example.com/api/v1/mcp":           false, // not absolute
		"":                                     false,
	} {
		if got := covers(resource, server); got != want {
			t.Errorf("covers(%q, %q) = %v, want %v", resource, server, got, want)
		}
	}
}

func TestAuthServerMetadataURLs(t *testing.T) {
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://auth.example.com", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server",
			"https://auth.example.com/.well-known/openid-configuration",
		}},
		{"https://auth.example.com/tenant1", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
			"https://auth.example.com/.well-known/openid-configuration/tenant1",
			"https://auth.example.com/tenant1/.well-known/openid-configuration",
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, authServerMetadataURLs(tt.issuer)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.issuer, diff)
		}
	}
}

// TestCheckEndpoint pins which URLs taken from servers are ever used: the
// browser is only given https, or http to loopback.
func TestCheckEndpoint(t *testing.T) {
	good := []string{
		"https://auth.example.com/authorize",
		"http://127.0.0.1:8080/authorize",
		"http://localhost/authorize",
		"http://[::1]:9/x",
	}
	bad := map[string]string{
		"javascript:alert(1)":                      "scheme",
		"file:///etc/passwd":                       "scheme",
		"data:text/html,<script>":                  "scheme",
		"http://auth.example.com/authorize":        "not loopback",
		"https://user:pw@auth.example.com/":        "credentials",
		"https://auth.example.com/a#frag":          "fragment",
		"/relative":                                "scheme",
		"https://auth.example.com/$(touch /tmp/x)": "",
	}
	for _, u := range good {
		if err := checkEndpoint("x", u); err != nil {
			t.Errorf("checkEndpoint(%q) = %v, want ok", u, err)
		}
	}
	for u, want := range bad {
		err := checkEndpoint("x", u)
		if want == "" {
			// Shell metacharacters are harmless without a shell: the URL
			// is valid https and is opened as one argument.
			if err != nil {
				t.Errorf("checkEndpoint(%q) = %v, want ok", u, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkEndpoint(%q) = %v, want an error about %s", u, err, want)
		}
	}
}

func TestCheckRedirect(t *testing.T) {
	as := &asMeta{AuthServerMeta: oauthex.AuthServerMeta{Issuer: "https://as.example"}}
	strict := &asMeta{AuthServerMeta: oauthex.AuthServerMeta{Issuer: "https://as.example", AuthorizationResponseIssParameterSupported: true}}
	tests := []struct {
		name    string
		query   string
		as      *asMeta
		want    string
		wantErr string
	}{
		{"code", "code=c1&state=s", as, "c1", ""},
		{"code with iss", "code=c1&state=s&iss=https://as.example", strict, "c1", ""},
		// RFC 9207 section 2.4 and SEP-2468: no normalization at all.
		{"iss with slash", "code=c1&state=s&iss=https://as.example/", strict, "", "refusing it"},
		{"iss in upper case", "code=c1&state=s&iss=https://AS.example", strict, "", "refusing it"},
		{"iss with the default port", "code=c1&state=s&iss=https://as.example:443", strict, "", "refusing it"},
		{"wrong state", "code=c1&state=other", as, "", "state does not match"},
		{"no state", "code=c1", as, "", "state does not match"},
		{"wrong iss", "code=c1&state=s&iss=https://evil.example", as, "", "not \"https://as.example\""},
		{"missing promised iss", "code=c1&state=s", strict, "", "promises an iss"},
		{"denied", "error=access_denied&error_description=no&state=s", as, "", `access_denied: the authorization server said: "no"`},
		{"no code", "state=s", as, "", "no code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := checkRedirect(q, "s", tt.as)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAuthMethod(t *testing.T) {
	tests := []struct {
		supported   []string
		secret, key bool
		want        string
	}{
		{nil, false, false, "none"},
		{[]string{"none", "client_secret_basic"}, false, false, "none"},
		{[]string{"client_secret_post"}, false, false, "client_secret_post"},
		{[]string{"client_secret_basic", "client_secret_post"}, true, false, "client_secret_basic"},
		{[]string{"client_secret_post"}, true, false, "client_secret_post"},
		{nil, true, false, "client_secret_basic"},
		{[]string{"private_key_jwt"}, false, true, "private_key_jwt"},
	}
	for _, tt := range tests {
		if got := authMethod(tt.supported, tt.secret, tt.key); got != tt.want {
			t.Errorf("authMethod(%q, secret=%v, key=%v) = %q, want %q", tt.supported, tt.secret, tt.key, got, tt.want)
		}
	}
}

func TestLoginRequiredError(t *testing.T) {
	tests := []struct {
		err  *LoginRequiredError
		want string
	}{
		{&LoginRequiredError{Server: "https://s/mcp", URL: "https://as/authorize?x", Command: "mcp-bridge login https://s/mcp", Reason: "no browser could be opened"},
			"sign-in to https://s/mcp required (no browser could be opened): open https://as/authorize?x in a browser, then retry; or run `mcp-bridge login https://s/mcp` in a terminal"},
		{&LoginRequiredError{Server: "https://s/mcp", URL: "https://as/device", Code: "ABCD-EFGH"},
			"sign-in to https://s/mcp required: open https://as/device and enter the code ABCD-EFGH, then retry"},
		{&LoginRequiredError{Server: "https://s/mcp", Command: "mcp-bridge login https://s/mcp --login=paste", Reason: "the paste sign-in needs a terminal"},
			"sign-in to https://s/mcp required (the paste sign-in needs a terminal): run `mcp-bridge login https://s/mcp --login=paste` in a terminal"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		if !errors.Is(tt.err, ErrLoginRequired) {
			t.Error("does not wrap ErrLoginRequired")
		}
	}
}

func TestExpiring(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	h := &Handler{now: func() time.Time { return now }}
	tests := []struct {
		obtained, expiry time.Duration // relative to now
		want             bool
	}{
		{-time.Minute, time.Hour, false},
		{-time.Hour, 30 * time.Second, true},         // within the minute
		{-20 * time.Second, 10 * time.Second, false}, // 30 s life: margin 6 s
		{-25 * time.Second, 5 * time.Second, true},
		{0, -time.Second, true},
	}
	for _, tt := range tests {
		c := &Credentials{Obtained: now.Add(tt.obtained), Expiry: now.Add(tt.expiry)}
		if got := h.expiring(c); got != tt.want {
			t.Errorf("obtained %v, expiry %v: expiring = %v, want %v", tt.obtained, tt.expiry, got, tt.want)
		}
	}
	if h.expiring(&Credentials{}) {
		t.Error("a token with no expiry is expiring")
	}
}

func TestChooseScopes(t *testing.T) {
	withOffline := &discovered{scopesSupported: []string{"read", "write"},
		as: &asMeta{AuthServerMeta: oauthex.AuthServerMeta{ScopesSupported: []string{"read", "offline_access"}}}}
	without := &discovered{scopesSupported: []string{"read"}, as: &asMeta{}}
	challenge := []oauthex.Challenge{{Scheme: "bearer", Params: map[string]string{"scope": "files:read"}}}
	tests := []struct {
		name       string
		cfg        Config
		challenges []oauthex.Challenge
		d          *discovered
		stepUp     []string
		want       []string
	}{
		{"challenge first", Config{}, challenge, without, nil, []string{"files:read"}},
		{"then scopes_supported", Config{}, nil, without, nil, []string{"read"}},
		{"none at all", Config{}, nil, &discovered{as: &asMeta{}}, nil, nil},
		{"offline_access when listed", Config{}, nil, withOffline, nil, []string{"read", "write", "offline_access"}},
		{"step-up", Config{}, challenge, without, []string{"a", "b"}, []string{"a", "b"}},
		{"user's choice", Config{Scopes: []string{"x"}}, challenge, without, nil, []string{"x"}},
		{"no offline_access for machines", Config{ClientCredentials: true}, nil, withOffline, nil, []string{"read", "write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{cfg: tt.cfg}
			h.SetScopes(tt.cfg.Scopes)
			if diff := cmp.Diff(tt.want, h.chooseScopes(tt.challenges, tt.d, tt.stepUp)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestClientAssertion checks the private_key_jwt assertion's claims and
// that its signature verifies with the public key, for RSA and P-256.
func TestClientAssertion(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	for _, key := range []crypto.Signer{rsaKey, ecKey} {
		h := &Handler{cfg: Config{PrivateKey: key, KeyID: "k1"}, now: func() time.Time { return now }}
		jwt, err := h.clientAssertion("client-1", "https://as.example/token")
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(jwt, ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWS: %s", jwt)
		}
		var header map[string]string
		var claims map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		json.Unmarshal(hb, &header)
		json.Unmarshal(cb, &claims)
		if header["kid"] != "k1" || claims["iss"] != "client-1" || claims["sub"] != "client-1" ||
			claims["aud"] != "https://as.example/token" || claims["exp"].(float64) != float64(now.Unix()+300) || claims["jti"] == "" {
			t.Errorf("header %v claims %v", header, claims)
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		switch k := key.(type) {
		case *rsa.PrivateKey:
			if header["alg"] != "RS256" || rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], sig) != nil {
				t.Errorf("RS256 signature does not verify (alg %s)", header["alg"])
			}
		case *ecdsa.PrivateKey:
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if header["alg"] != "ES256" || len(sig) != 64 || !ecdsa.Verify(&k.PublicKey, digest[:], r, s) {
				t.Errorf("ES256 signature does not verify (alg %s, %d bytes)", header["alg"], len(sig))
			}
		}
	}
}

// TestAudienceCheck: doctor says when a token names no audience, as Ory
// Hydra's do unless its consent app grants one (issue 11).
func TestAudienceCheck(t *testing.T) {
	const resource = "https://mcp.example.com/mcp"
	if c := audienceCheck(nil, resource); c.OK || !strings.Contains(c.Detail, "no audience") || !strings.Contains(c.Fix, resource) {
		t.Errorf("no audience: %+v, want a failure naming the resource to grant", c)
	}
	if c := audienceCheck([]string{"other", resource}, resource); !c.OK {
		t.Errorf("the resource among the audiences: %+v", c)
	}
	if c := audienceCheck([]string{"api://mcp"}, resource); !c.OK || !strings.Contains(c.Detail, "api://mcp") {
		t.Errorf("another audience: %+v, want it named", c)
	}
}

// BenchmarkDPoPProof is what a DPoP proof costs the bridge per MCP request:
// the claims, the token's hash and one ES256 signature.
func BenchmarkDPoPProof(b *testing.B) {
	k, err := newDPoPKey()
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse("https://mcp.example.com/mcp?x=1")
	tok := strings.Repeat("t", 800)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.proof("POST", htu(u), tok, "", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSpareProof: a DPoP proof signed ahead of its request is taken only
// by a request it fits exactly (key, method, htu, access token and nonce),
// in the second it was signed in, and only once; DPoPProof hands it out
// and it verifies with the key's claims.
func TestSpareProof(t *testing.T) {
	k, err := newDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newDPoPKey()
	now := time.Unix(1_800_000_000, 400e6)
	h := &Handler{now: func() time.Time { return now }, creds: &Credentials{DPoPKey: k.raw}}
	u, _ := url.Parse("https://mcp.example.com/mcp?q=1")
	want := spareProof{key: k, method: "POST", htu: "https://mcp.example.com/mcp", token: "tok"}

	h.signSpare(want)
	spare := h.spare.Load()
	if spare == nil {
		t.Fatal("no spare signed")
	}
	for name, differ := range map[string]func(p *spareProof){
		"another key":    func(p *spareProof) { p.key = other },
		"another method": func(p *spareProof) { p.method = "GET" },
		"another htu":    func(p *spareProof) { p.htu = "https://mcp.example.com/other" },
		"another token":  func(p *spareProof) { p.token = "refreshed" },
		"a nonce":        func(p *spareProof) { p.nonce = "n1" },
	} {
		p := want
		differ(&p)
		if _, ok := h.takeSpare(&p, now); ok {
			t.Errorf("%s: the spare was taken", name)
		}
	}
	if _, ok := h.takeSpare(&want, now.Add(600*time.Millisecond)); ok {
		t.Error("the next second: the spare was taken")
	}

	got, err := h.DPoPProof("POST", u, "tok")
	if err != nil || got != spare.jws {
		t.Fatalf("DPoPProof = %.20s…, %v; want the spare", got, err)
	}
	// DPoPProof started the signing of the next spare, which may be done
	// by now: that one is another proof.
	if again, ok := h.takeSpare(&want, now); ok && again == got {
		t.Error("the spare was taken twice")
	}
	parts := strings.Split(got, ".")
	var claims dpopClaims
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if json.Unmarshal(cb, &claims) != nil || claims.IAT != now.Unix() || claims.HTU != want.htu ||
		claims.HTM != "POST" || claims.ATH != tokenHash("tok") || claims.JTI == "" || !ecdsa.Verify(&k.priv.PublicKey, digest[:], r, s) {
		t.Errorf("spare proof %+v does not verify", claims)
	}
}

// TestProofsNeverRepeat: proofs from many requests at once, spares among
// them, never share a jti.
func TestProofsNeverRepeat(t *testing.T) {
	k, err := newDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{now: time.Now, creds: &Credentials{DPoPKey: k.raw}}
	u, _ := url.Parse("https://mcp.example.com/mcp")
	const workers, each = 8, 50
	jtis := make(chan string, workers*each)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				p, err := h.DPoPProof("POST", u, "tok")
				if err != nil {
					errs <- err
					return
				}
				var c dpopClaims
				b, _ := base64.RawURLEncoding.DecodeString(strings.Split(p, ".")[1])
				json.Unmarshal(b, &c)
				jtis <- c.JTI
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(jtis)
	seen := map[string]bool{}
	for j := range jtis {
		if seen[j] || j == "" {
			t.Fatalf("jti %q sent twice", j)
		}
		seen[j] = true
	}
}
