package oauthtest

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Token endpoint client authentication methods (RFC 7591 §2, RFC 7523).
const (
	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
)

// Grant types the token endpoint knows.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefresh           = "refresh_token"
	grantClientCredentials = "client_credentials"
	// GrantDeviceCode is the RFC 8628 device_code grant type.
	GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	// GrantJWTBearer is the RFC 7523 JWT bearer grant type, used with an
	// ID-JAG assertion (SEP-990).
	GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// Defaults for the zero values of [ASOptions].
const (
	DefaultAccessTokenTTL     = time.Hour
	DefaultRefreshTokenTTL    = 24 * time.Hour
	DefaultDeviceCodeTTL      = 10 * time.Minute
	DefaultDevicePollInterval = 5 * time.Second
	// codeTTL bounds the life of an authorization code and of a pending
	// consent page.
	codeTTL = 10 * time.Minute
)

// A Client is an OAuth client known to an [AuthServer] before any request:
// a pre-registered client.
type Client struct {
	// ID is the client_id. Required.
	ID string
	// Name is shown on the consent page. If empty, ID is shown.
	Name string
	// Secret is the client secret of a confidential client.
	Secret string
	// RedirectURIs are the registered redirect URIs. The authorization
	// endpoint accepts only these, exactly, except that a loopback URI
	// (http://127.0.0.1, http://[::1] or http://localhost) matches with any
	// port (RFC 8252 §7.3).
	RedirectURIs []string
	// AuthMethod is the token endpoint authentication method the client must
	// use. If empty, it is private_key_jwt if PublicKey is set,
	// client_secret_basic if Secret is set, and none otherwise.
	AuthMethod string
	// PublicKey (an *rsa.PublicKey or a P-256 *ecdsa.PublicKey) checks the
	// client's private_key_jwt assertions.
	PublicKey crypto.PublicKey
	// GrantTypes, if non-empty, limits the grant types the client may use.
	GrantTypes []string
}

// ASOptions configures an [AuthServer]. The zero value is ready to use, and a
// nil *ASOptions means the zero value. Switches are off by default; each
// makes the server quirky (like a named provider) or hostile.
type ASOptions struct {
	// IssuerPath is the path of the issuer URL, e.g. "/tenant1": the issuer is
	// then http://127.0.0.1:PORT/tenant1, every endpoint is under that path,
	// and metadata is served at the path-inserted and path-appended
	// well-known URLs. It must start with "/" and not end with "/".
	IssuerPath string
	// TLS serves HTTPS with a self-signed certificate for 127.0.0.1; see
	// [AuthServer.CertPool] and [AuthServer.Client].
	TLS bool
	// Clients are pre-registered.
	Clients []Client
	// Scopes is advertised as scopes_supported. If non-empty, requests for
	// other scopes fail with invalid_scope. If empty, any scope is granted.
	Scopes []string
	// Subject is the user every authorization is made for. Default "user".
	Subject string
	// AutoApprove skips the consent page: the authorization endpoint
	// redirects at once, and device codes are approved when issued.
	AutoApprove bool
	// AccessTokenTTL is the lifetime of access tokens. Default
	// [DefaultAccessTokenTTL].
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the lifetime of refresh tokens. Default
	// [DefaultRefreshTokenTTL].
	RefreshTokenTTL time.Duration
	// RefreshGrace keeps a rotated refresh token usable for this long after
	// its replacement was issued (Okta's "grace period"). Default 0: a
	// rotated refresh token is refused at once.
	RefreshGrace time.Duration
	// DeviceCodeTTL is the lifetime of device codes. Default
	// [DefaultDeviceCodeTTL].
	DeviceCodeTTL time.Duration
	// DevicePollInterval is the polling interval given with device codes.
	// Default [DefaultDevicePollInterval]. Each slow_down adds 5 seconds.
	DevicePollInterval time.Duration
	// TokenEndpointAuthMethods are the client authentication methods the
	// server supports and advertises. Default: none, client_secret_basic,
	// client_secret_post and private_key_jwt.
	TokenEndpointAuthMethods []string
	// IDJAGIssuers maps the issuer of an enterprise identity provider to the
	// key that signs its identity assertion grants (ID-JAG, SEP-990). If
	// non-empty, the token endpoint accepts the JWT bearer grant with such an
	// assertion.
	IDJAGIssuers map[string]crypto.PublicKey
	// WorkloadIssuers maps the issuer of workload JWTs (a Kubernetes
	// cluster, a CI system; see [WorkloadIssuer]) to the key that signs
	// them. If non-empty, the token endpoint takes the JWT bearer grant
	// with such a JWT and no client at all (workload identity federation,
	// SEP-1933).
	WorkloadIssuers map[string]crypto.PublicKey
	// HTTPClient fetches Client ID Metadata Documents and clients' jwks_uri.
	// If nil, a client with a 10-second timeout is used.
	HTTPClient *http.Client
	// Now is the clock for every expiry and for slow_down. If nil, time.Now.
	Now func() time.Time
	// BeforeTokenResponse, if set, is called with the grant type when the
	// token endpoint has granted tokens (a refresh has rotated the refresh
	// token) and before it answers: a test can hold the answer, or kill the
	// client there, at the worst moment for it.
	BeforeTokenResponse func(grantType string)
	// OnEvent, if set, is called with every [Event], synchronously and
	// without locks held, from many goroutines at once.
	OnEvent func(Event)
	// Logger receives the HTTP server's errors. If nil, they are discarded.
	Logger *slog.Logger
	// Fallback, if set, serves every request no endpoint matches. It puts
	// another handler (an MCP server) on the authorization server's origin,
	// the layout of MCP 2025-03-26.
	Fallback http.Handler

	// NoOAuthMetadata stops serving RFC 8414 metadata
	// (/.well-known/oauth-authorization-server).
	NoOAuthMetadata bool
	// NoOpenIDConfiguration stops serving OpenID Connect discovery
	// (/.well-known/openid-configuration) in both forms.
	NoOpenIDConfiguration bool
	// OpenIDAppendedOnly serves OpenID Connect discovery only at the
	// path-appended URL (ISSUER/.well-known/openid-configuration), as
	// Keycloak and Entra ID do. Meaningful with an IssuerPath.
	OpenIDAppendedOnly bool
	// NoDCR disables dynamic client registration: no registration_endpoint,
	// and /register answers 404 (like Google).
	NoDCR bool
	// NoCIMD disables Client ID Metadata Documents: URL client IDs are
	// unknown clients, and client_id_metadata_document_supported is absent.
	NoCIMD bool
	// NoRefreshTokens disables refresh tokens and the refresh_token grant.
	NoRefreshTokens bool
	// NoRefreshRotation keeps refresh tokens valid when used and returns no
	// new one (like Google).
	NoRefreshRotation bool
	// OfflineAccess advertises offline_access in scopes_supported and issues
	// refresh tokens only to grants that include it (like Okta and
	// Keycloak). Without it, and with Scopes set, offline_access is an
	// invalid scope.
	OfflineAccess bool
	// RequireOfflineAccessType issues a refresh token for an authorization
	// code only if the authorization request carried access_type=offline and
	// prompt=consent (like Google).
	RequireOfflineAccessType bool
	// RejectResource refuses any request with a resource parameter with
	// invalid_request "AADSTS9010010: ..." (like Entra ID v2.0).
	RejectResource bool
	// RequireResource refuses authorization, token and device requests
	// without a resource parameter (invalid_target). By default a token
	// request without one gets the resource bound to the code or grant.
	RequireResource bool
	// RequireScopeOnRefresh refuses refresh requests without a scope
	// parameter with invalid_request "AADSTS90009: ..." (like Entra ID).
	RequireScopeOnRefresh bool
	// Audience, if set, binds tokens to the audience parameter instead of
	// resource, and audience must equal Audience (like Auth0). Without an
	// audience, an authorization code yields a token bound to no resource,
	// which a protected resource refuses, and client_credentials fails with
	// access_denied.
	Audience string
	// ThirdPartyDynamicClients treats dynamically registered clients as
	// third-party applications, as Auth0 does: with Audience set, their
	// authorization requests without an audience are refused with
	// access_denied "The userinfo audience is not allowed for third party
	// clients. Please specify a valid API audience."
	ThirdPartyDynamicClients bool
	// ScopeAudience binds tokens to the resource their scopes name, as
	// Entra ID v2.0 does: a scope RESOURCE/NAME (api://APP-ID/.default,
	// https://host/api/read) is for RESOURCE; openid, profile, email and
	// offline_access are for none; any other scope is Microsoft Graph's.
	// Scopes of two resources fail with invalid_scope "AADSTS28000: ...";
	// with no resource scope the token is for Microsoft Graph
	// ([MicrosoftGraph]). The resource parameter takes no part in it. The
	// scope the token endpoint returns leaves out offline_access, openid,
	// profile and email, as Entra's does.
	ScopeAudience bool
	// ExactRedirectURIs matches redirect URIs against the registered ones
	// exactly, loopback ports included, as Okta and Amazon Cognito do,
	// instead of allowing any loopback port (RFC 8252 §7.3).
	ExactRedirectURIs bool
	// DenyRegistration, if its Status is set, keeps registration_endpoint
	// in the metadata but answers every registration request with it: the
	// server takes registrations only with an initial access token (RFC
	// 7591 §3), as Okta ([OktaRegistrationDenial]) and Keycloak's default
	// anonymous policy ([KeycloakRegistrationDenial]) do.
	DenyRegistration Denial
	// GitHubTokenErrors answers token endpoint errors as GitHub does: with
	// status 200 OK, an error_uri, and GitHub's codes where it has its own
	// (bad_verification_code for an authorization code,
	// redirect_uri_mismatch, bad_refresh_token for a refresh token,
	// incorrect_client_credentials for client authentication).
	GitHubTokenErrors bool
	// SessionRefreshTokenTTL, if set, is the lifetime of refresh tokens
	// whose grant lacks offline_access, as Keycloak ties those to the SSO
	// session (its SSO Session Idle, 30 minutes by default); refresh
	// tokens of grants with offline_access (Keycloak's offline tokens)
	// live RefreshTokenTTL.
	SessionRefreshTokenTTL time.Duration

	// MetadataIssuer, if set, is the issuer claimed by the metadata
	// documents instead of the real one (RFC 8414 §3.3 says clients must
	// refuse it).
	MetadataIssuer string
	// OmitCodeChallengeMethods leaves code_challenge_methods_supported out
	// of the metadata (clients must refuse to proceed).
	OmitCodeChallengeMethods bool
	// CodeChallengeMethods is the advertised code_challenge_methods_supported.
	// Default ["S256"]. It changes only the metadata: the authorization
	// endpoint always requires S256.
	CodeChallengeMethods []string
	// EndpointBase, if set, replaces the scheme and host of every endpoint
	// URL in the metadata, e.g. "http://auth.example.com" (plain HTTP off
	// loopback), "javascript:alert(1)//" or "file://". The real endpoints
	// still answer at the server's own URL.
	EndpointBase string
	// EditMetadata, if set, may change each metadata document (decoded JSON)
	// before it is served. It is called from many goroutines at once.
	EditMetadata func(map[string]any)
	// RedirectState, if set, replaces the state in authorization responses.
	RedirectState string
	// RedirectIss, if set, replaces the iss in authorization responses.
	RedirectIss string
	// OmitIss leaves iss out of authorization responses.
	OmitIss bool
	// OmitIssSupported leaves authorization_response_iss_parameter_supported
	// out of the metadata.
	OmitIssSupported bool
	// RedirectMetadata, if set, answers every metadata request with 302
	// Found to this URL instead of the document: a hostile or compromised
	// server sending clients elsewhere (plain http, a link-local address).
	RedirectMetadata string
	// BeforeMetadataResponse, if set, is called before a metadata document
	// is served: a test can hold the answer there, as a stalled server
	// would.
	BeforeMetadataResponse func()
	// HydraRegistrationAnswers answers dynamic registrations as Ory Hydra
	// v2 does: with "jwks": {} (RFC 7591 §2 allows any JWK Set object),
	// "contacts": null and Hydra's own members (audience, metadata, owner,
	// skip_consent, ...) beside the registered metadata.
	HydraRegistrationAnswers bool
	// EchoAuthorizationOnTokenError quotes the token request's
	// Authorization header in the error_description of a refused token
	// request, as debugging gateways and some identity products do: a
	// client_secret_basic client's credentials come back in the answer.
	EchoAuthorizationOnTokenError bool

	// DPoP advertises ES256 in dpop_signing_alg_values_supported and binds
	// the tokens of every token request that carries a valid DPoP proof
	// to its key (RFC 9449 section 5): token_type DPoP, and cnf.jkt in
	// what [AuthServer.Verify] says of them. A refresh token so bound
	// needs a proof of the same key. A request with a bad proof is refused
	// with invalid_dpop_proof.
	DPoP bool
	// RequireDPoP, with DPoP, refuses token requests without a proof.
	RequireDPoP bool
	// DPoPNonce, if set with DPoP, is the nonce every proof must carry
	// (RFC 9449 section 8): a proof without it is answered 400
	// use_dpop_nonce with the nonce in the DPoP-Nonce header, which every
	// token response carries.
	DPoPNonce string
	// DPoPWindow is how far a proof's iat may be from Now, either way.
	// Default [DefaultDPoPWindow].
	DPoPWindow time.Duration
}

// A Denial is an answer an endpoint gives instead of serving a request: an
// HTTP status and a JSON body.
type Denial struct {
	Status int
	Body   string
}

// Registration denials of real providers, for ASOptions.DenyRegistration.
var (
	// OktaRegistrationDenial is Okta's answer to a registration without
	// an API token at /oauth2/v1/clients.
	OktaRegistrationDenial = Denial{Status: http.StatusUnauthorized,
		Body: `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oaeTEST","errorCauses":[]}`}
	// KeycloakRegistrationDenial is Keycloak's answer to an anonymous
	// registration under its default Trusted Hosts policy, which trusts no
	// host.
	KeycloakRegistrationDenial = Denial{Status: http.StatusForbidden,
		Body: `{"error":"insufficient_scope","error_description":"Policy 'Trusted Hosts' rejected request to client-registration service. Details: Host not trusted."}`}
)

// MicrosoftGraph is the resource Entra ID binds a token to when its scopes
// name no other (ASOptions.ScopeAudience): Microsoft Graph's application ID.
const MicrosoftGraph = "00000003-0000-0000-c000-000000000000"

// An AuthServer is an OAuth 2.1 authorization server listening on a loopback
// port, keeping clients, codes and tokens in memory. Start one with
// [StartAuthServer].
//
// Its methods are safe for concurrent use.
type AuthServer struct {
	opts       ASOptions
	srv        *httptest.Server
	issuer     string
	now        func() time.Time
	httpClient *http.Client

	mu        sync.Mutex              // guards the fields below
	clients   map[string]*client      // by client_id (not CIMD clients)
	pending   map[string]*authRequest // consent pages shown, by request id
	codes     map[string]*authCode    // by code
	tokens    map[string]*token       // access and refresh tokens, by value
	devices   map[string]*deviceGrant // by device_code
	userCodes map[string]*deviceGrant // by normalized user_code
	jtis      map[string]time.Time    // assertion IDs seen, until they expire
	stats     Stats

	dpop *dpopChecker // nil without ASOptions.DPoP
}

// StartAuthServer starts an authorization server on 127.0.0.1 at a free
// port. ctx is used only while starting; call [AuthServer.Close] to stop it.
// A nil opts means the zero [ASOptions].
func StartAuthServer(ctx context.Context, opts *ASOptions) (*AuthServer, error) {
	if opts == nil {
		opts = &ASOptions{}
	}
	a := &AuthServer{
		opts:      *opts,
		now:       opts.Now,
		clients:   make(map[string]*client),
		pending:   make(map[string]*authRequest),
		codes:     make(map[string]*authCode),
		tokens:    make(map[string]*token),
		devices:   make(map[string]*deviceGrant),
		userCodes: make(map[string]*deviceGrant),
		jtis:      make(map[string]time.Time),
		stats:     Stats{TokenRequests: make(map[string]int)},
	}
	o := &a.opts
	if p := o.IssuerPath; p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
		return nil, fmt.Errorf("issuer path %q: must start and not end with /", p)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if o.Subject == "" {
		o.Subject = "user"
	}
	defaultDuration(&o.AccessTokenTTL, DefaultAccessTokenTTL)
	defaultDuration(&o.RefreshTokenTTL, DefaultRefreshTokenTTL)
	defaultDuration(&o.DeviceCodeTTL, DefaultDeviceCodeTTL)
	defaultDuration(&o.DevicePollInterval, DefaultDevicePollInterval)
	if o.TokenEndpointAuthMethods == nil {
		o.TokenEndpointAuthMethods = []string{AuthNone, AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT}
	}
	if o.CodeChallengeMethods == nil {
		o.CodeChallengeMethods = []string{"S256"}
	}
	if o.DPoP {
		a.dpop = newDPoPChecker(a.now, o.DPoPWindow, o.DPoPNonce)
	}
	a.httpClient = o.HTTPClient
	if a.httpClient == nil {
		a.httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	for _, c := range o.Clients {
		if err := a.AddClient(c); err != nil {
			return nil, err
		}
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a.srv = &httptest.Server{
		Listener: ln,
		Config: &http.Server{
			Handler:           a.routes(),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}
	if o.TLS {
		a.srv.StartTLS()
	} else {
		a.srv.Start()
	}
	a.issuer = a.srv.URL + o.IssuerPath
	return a, nil
}

func defaultDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func (a *AuthServer) routes() http.Handler {
	o := &a.opts
	p := o.IssuerPath
	mux := http.NewServeMux()
	if !o.NoOAuthMetadata {
		mux.HandleFunc("/.well-known/oauth-authorization-server"+p, a.handleMetadata)
	}
	if !o.NoOpenIDConfiguration {
		if !o.OpenIDAppendedOnly || p == "" {
			mux.HandleFunc("/.well-known/openid-configuration"+p, a.handleMetadata)
		}
		if p != "" {
			mux.HandleFunc(p+"/.well-known/openid-configuration", a.handleMetadata)
		}
	}
	mux.HandleFunc("GET "+p+"/authorize", a.handleAuthorize)
	mux.HandleFunc("POST "+p+"/authorize", a.handleConsent)
	mux.HandleFunc("POST "+p+"/token", a.handleToken)
	mux.HandleFunc("POST "+p+"/revoke", a.handleRevoke)
	mux.HandleFunc("POST "+p+"/device_authorization", a.handleDeviceAuthorization)
	mux.HandleFunc("GET "+p+"/device", a.handleDevicePage)
	mux.HandleFunc("POST "+p+"/device", a.handleDeviceApproval)
	if !o.NoDCR {
		mux.HandleFunc("POST "+p+"/register", a.handleRegister)
	}
	if o.Fallback != nil {
		mux.Handle("/", o.Fallback)
	}
	return mux
}

// Close stops the server and closes its connections.
func (a *AuthServer) Close() {
	a.srv.CloseClientConnections()
	a.srv.Close()
}

// Issuer returns the issuer identifier: the server's URL followed by
// ASOptions.IssuerPath.
func (a *AuthServer) Issuer() string { return a.issuer }

// URL returns the server's origin, e.g. http://127.0.0.1:PORT.
func (a *AuthServer) URL() string { return a.srv.URL }

// MetadataURL returns the RFC 8414 metadata URL for the issuer (the
// path-inserted form), whether or not it is served.
func (a *AuthServer) MetadataURL() string {
	return a.srv.URL + "/.well-known/oauth-authorization-server" + a.opts.IssuerPath
}

// Client returns an HTTP client for the server: with TLS, it trusts the
// server's certificate (and sends requests for example.com and its
// subdomains to the server).
func (a *AuthServer) Client() *http.Client { return a.srv.Client() }

// CertPool returns a pool holding the server's certificate, or nil without
// TLS. The certificate is the same for every TLS server in this package, so
// the pool trusts the protected server of [StartProtectedDemo] too.
func (a *AuthServer) CertPool() *x509.CertPool {
	cert := a.srv.Certificate()
	if cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// CertificatePEM returns the server's certificate in PEM form, for a CA file,
// or nil without TLS.
func (a *AuthServer) CertificatePEM() []byte {
	cert := a.srv.Certificate()
	if cert == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// Stats returns a snapshot of the server's counters.
func (a *AuthServer) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats.clone()
}

// AddClient registers c, replacing any client with the same ID.
func (a *AuthServer) AddClient(c Client) error {
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clients[c.ID] = cl
	return nil
}

// ForgetClient deletes the client id and revokes its tokens, so that the
// server answers invalid_client from then on, as a server that lost or
// expired a dynamic registration does. It reports whether the client existed.
func (a *AuthServer) ForgetClient(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.clients[id]
	delete(a.clients, id)
	for v, t := range a.tokens {
		if t.clientID == id {
			delete(a.tokens, v)
		}
	}
	return ok
}

func (a *AuthServer) emit(e Event) {
	if a.opts.OnEvent != nil {
		a.opts.OnEvent(e)
	}
}

// count runs f on the stats under the lock.
func (a *AuthServer) count(f func(*Stats)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(&a.stats)
}

// endpoint returns the URL of the endpoint at path p (after the issuer path)
// as advertised in the metadata.
func (a *AuthServer) endpoint(p string) string {
	if a.opts.EndpointBase != "" {
		return a.opts.EndpointBase + a.opts.IssuerPath + p
	}
	return a.issuer + p
}

// metadata returns the RFC 8414 metadata document, which also serves as the
// OpenID Connect discovery document.
func (a *AuthServer) metadata() map[string]any {
	o := &a.opts
	issuer := a.issuer
	if o.MetadataIssuer != "" {
		issuer = o.MetadataIssuer
	}
	grants := []string{grantAuthorizationCode, grantClientCredentials, GrantDeviceCode}
	if !o.NoRefreshTokens {
		grants = append(grants, grantRefresh)
	}
	if len(o.IDJAGIssuers) > 0 || len(o.WorkloadIssuers) > 0 {
		grants = append(grants, GrantJWTBearer)
	}
	m := map[string]any{
		"issuer":                                     issuer,
		"authorization_endpoint":                     a.endpoint("/authorize"),
		"token_endpoint":                             a.endpoint("/token"),
		"revocation_endpoint":                        a.endpoint("/revoke"),
		"device_authorization_endpoint":              a.endpoint("/device_authorization"),
		"response_types_supported":                   []string{"code"},
		"response_modes_supported":                   []string{"query"},
		"grant_types_supported":                      grants,
		"token_endpoint_auth_methods_supported":      o.TokenEndpointAuthMethods,
		"revocation_endpoint_auth_methods_supported": o.TokenEndpointAuthMethods,
	}
	if slices.Contains(o.TokenEndpointAuthMethods, AuthPrivateKeyJWT) {
		m["token_endpoint_auth_signing_alg_values_supported"] = []string{"RS256", "ES256"}
	}
	if !o.OmitCodeChallengeMethods {
		m["code_challenge_methods_supported"] = o.CodeChallengeMethods
	}
	if o.DPoP {
		m["dpop_signing_alg_values_supported"] = []string{"ES256"}
	}
	if !o.OmitIssSupported {
		m["authorization_response_iss_parameter_supported"] = true
	}
	if !o.NoCIMD {
		m["client_id_metadata_document_supported"] = true
	}
	if !o.NoDCR {
		m["registration_endpoint"] = a.endpoint("/register")
	}
	if scopes := a.scopesSupported(); len(scopes) > 0 {
		m["scopes_supported"] = scopes
	}
	return m
}

func (a *AuthServer) scopesSupported() []string {
	scopes := slices.Clone(a.opts.Scopes)
	if a.opts.OfflineAccess && !slices.Contains(scopes, scopeOfflineAccess) {
		scopes = append(scopes, scopeOfflineAccess)
	}
	return scopes
}

func (a *AuthServer) handleMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodHead:
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if a.opts.RedirectMetadata != "" {
		http.Redirect(w, r, a.opts.RedirectMetadata, http.StatusFound)
		return
	}
	if a.opts.BeforeMetadataResponse != nil {
		a.opts.BeforeMetadataResponse()
	}
	m := a.metadata()
	if a.opts.EditMetadata != nil {
		// Hand over a decoded copy, as a client would see it.
		b, _ := json.Marshal(m)
		m = nil
		_ = json.Unmarshal(b, &m)
		a.opts.EditMetadata(m)
	}
	writeJSON(w, http.StatusOK, m)
}

// An oauthError is an OAuth error response (RFC 6749 §5.2, §4.1.2.1).
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int    // HTTP status; 0 means 400
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errorf(code, format string, args ...any) *oauthError {
	return &oauthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// asOAuthError returns err as an *oauthError, wrapping other errors as
// server_error.
func asOAuthError(err error) *oauthError {
	if oe, ok := errors.AsType[*oauthError](err); ok {
		return oe
	}
	return &oauthError{Code: "server_error", Description: err.Error(), status: http.StatusInternalServerError}
}

// fail writes e as a JSON error response and reports it as an event.
func (a *AuthServer) fail(w http.ResponseWriter, r *http.Request, clientID string, err error) {
	e := asOAuthError(err)
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthtest"`)
	}
	writeJSON(w, status, e)
	a.emit(Event{Kind: EventRejected, Endpoint: r.URL.Path, ClientID: clientID, Error: e.Code, Description: e.Description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
