package main

import (
	"cmp"
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/config"
	"github.com/mcp-bridge/mcp-bridge/internal/credstore"
	"github.com/mcp-bridge/mcp-bridge/internal/pemkey"
	"github.com/mcp-bridge/mcp-bridge/internal/preset"
	"github.com/mcp-bridge/mcp-bridge/internal/secretref"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
	"github.com/mcp-bridge/mcp-bridge/tokenstore"
)

// authOptions are the sign-in flags, shared by the bridge and login.
type authOptions struct {
	preset            string
	clientID          string
	issuer            string
	clientSecret      string
	clientSecretFile  string
	clientMetadataURL string
	clientCredentials bool
	privateKeyFile    string
	keyID             string
	login             string
	callbackPort      int
	scope             string
	resource          string
	noResource        bool
	loginTimeout      time.Duration
	authorizeParams   listFlag
	tokenStore        string
	browserCommand    string
	idTokenFile       string
	idpIssuer         string
	idpClientID       string
	assertionFile     string
	assertionCommand  string
	dpop              string
	storeKey          string     // not a flag: the key of stored credentials to act on (logout --all); "": the one the settings give
	loginHint         string     // not a flag: the sign-in command errors name; "": mcp-bridge login URL
	mcpRemote         *mcpRemote // mcp-remote drop-in: what its command line says that no flag does (mcpremote.go)

	// Not flags: the sign-in process (agent.go). signInAgent runs or joins
	// it (the bridge, login); onSignInURL is the sign-in process's own
	// hook, which records the URL for the others.
	signInAgent func(ctx context.Context, shown func(url string, opened bool)) error
	onSignInURL func(url string, opened bool)
}

// clientSecretEnv is the environment variable a client secret may come
// from; the secret is never a flag's value, which ps would show.
const clientSecretEnv = "MCP_BRIDGE_CLIENT_SECRET"

func (a *authOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&a.clientID, "client-id", "", "use this pre-registered OAuth client `id` instead of registering dynamically")
	fs.StringVar(&a.issuer, "issuer", "", "the authorization server `issuer` the --client-id (and its secret or key) belong to: no other gets them, whatever the server names (default: the first one it names, kept)")
	fs.StringVar(&a.preset, "preset", "", "apply what this identity provider is known to need: `name` is "+strings.Join(config.Presets, ", "))
	fs.StringVar(&a.clientSecret, "client-secret", "", "the client secret as a `reference`, ${VAR} or ${keychain:NAME}, never the secret itself (ps shows command lines)")
	fs.StringVar(&a.clientSecretFile, "client-secret-file", "", "read the client secret from `file` (or set "+clientSecretEnv+")")
	fs.StringVar(&a.clientMetadataURL, "client-metadata-url", "", "https `URL` of a Client ID Metadata Document to use as the client id where the server supports it")
	fs.BoolVar(&a.clientCredentials, "client-credentials", false, "sign in as the client itself (client credentials grant), with no user: needs --client-id and a secret or --private-key-file")
	fs.StringVar(&a.privateKeyFile, "private-key-file", "", "authenticate the client with this PEM private key (private_key_jwt, RS256 or ES256)")
	fs.StringVar(&a.keyID, "key-id", "", "the `kid` to put in private_key_jwt assertions")
	fs.StringVar(&a.login, "login", oauthclient.LoginBrowser, "how to sign in: `browser`, device (enter a code on any device) or paste (paste the redirected URL in a terminal)")
	fs.IntVar(&a.callbackPort, "callback-port", 0, "loopback `port` for the sign-in redirect (default: any free port)")
	fs.StringVar(&a.scope, "scope", "", "request these space-separated `scopes` instead of those the server names")
	fs.StringVar(&a.resource, "resource", "", "ask for tokens for this resource `URL` instead of the server URL (RFC 8707)")
	fs.BoolVar(&a.noResource, "no-resource", false, "leave the resource parameter out, for authorization servers that reject it")
	fs.DurationVar(&a.loginTimeout, "login-timeout", 5*time.Minute, "how long a sign-in waits for the user")
	fs.Var(&a.authorizeParams, "authorize-param", "add `name=value` to the authorization request (repeatable)")
	fs.StringVar(&a.idTokenFile, "id-token-file", "", "sign in with the company identity provider's ID token in `file` instead of a browser (enterprise-managed authorization, SEP-990); with --idp-issuer, --idp-client-id and --client-id")
	fs.StringVar(&a.idpIssuer, "idp-issuer", "", "the identity provider's issuer `URL`, for --id-token-file")
	fs.StringVar(&a.idpClientID, "idp-client-id", "", "the client `id` to present to the identity provider, for --id-token-file")
	fs.StringVar(&a.assertionFile, "assertion-file", "", "sign in as a workload with the platform's JWT in `file` (a Kubernetes projected service-account token, a CI job's OIDC token), read again before every token request: no browser, no client registration (workload identity federation, SEP-1933)")
	fs.StringVar(&a.assertionCommand, "assertion-command", "", "sign in as a workload with the JWT that `command` prints (words split at spaces, \"double quotes\" group; no shell), run before every token request")
	fs.StringVar(&a.dpop, "dpop", oauthclient.DPoPOff, "bind the tokens to a key kept with them, so that a copy is useless without it (DPoP, RFC 9449): `mode` is off, on, or auto (where the authorization server supports it)")
	fs.StringVar(&a.browserCommand, "browser-command", "", "open sign-in pages by running `command` (words split at spaces, \"double quotes\" group; no shell) with the URL as its last argument, instead of the default browser; one that fails within 3 s has opened nothing, and the URL is shown")
	fs.StringVar(&a.tokenStore, "token-store", tokenstore.KindAuto, "where credentials are kept: `auto` (the OS keychain, or 0600 files where there is none), keychain, file or memory (not kept)")
}

// handler builds the OAuth handler for serverURL, which keeps credentials
// in store; refs resolve the client secret's reference. stderr receives
// the browser command's output; in a terminal (the login command), prompt
// and input are the user's, else nil.
func (a *authOptions) handler(serverURL string, client *http.Client, store *credstore.Store, refs secretref.Lookups, log *slog.Logger, stderr, prompt io.Writer, input io.Reader, events func(oauthclient.Event)) (*oauthclient.Handler, error) {
	secret, err := a.secret(refs)
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	if a.privateKeyFile != "" {
		if key, err = pemkey.ReadFile(a.privateKeyFile); err != nil {
			return nil, fmt.Errorf("--private-key-file: %w", err)
		}
	}
	params, err := parseParams(a.authorizeParams)
	if err != nil {
		return nil, err
	}
	var scopes []string
	if a.scope != "" {
		scopes = strings.Fields(a.scope)
	}
	var enterprise *oauthclient.Enterprise
	if a.idTokenFile != "" {
		enterprise = &oauthclient.Enterprise{IDTokenFile: a.idTokenFile, IdPIssuer: a.idpIssuer, IdPClientID: a.idpClientID}
	}
	workload, err := a.workload(stderr)
	if err != nil {
		return nil, err
	}
	var open func(context.Context, string) error // nil: the system browser
	if a.browserCommand != "" {
		if open, err = commandOpener(a.browserCommand, stderr, log); err != nil {
			return nil, err
		}
	}
	cfg := a.mcpRemote.configure(&oauthclient.Config{ // mcp-remote drop-in (mcpremote.go)
		ServerURL:         serverURL,
		Resource:          a.resource,
		NoResource:        a.noResource,
		Scopes:            scopes,
		ClientID:          a.clientID,
		ClientIssuer:      a.issuer,
		ClientSecret:      secret,
		ClientMetadataURL: a.clientMetadataURL,
		ClientCredentials: a.clientCredentials,
		PrivateKey:        key,
		Enterprise:        enterprise,
		Workload:          workload,
		DPoP:              a.dpop,
		KeyID:             a.keyID,
		Login:             a.login,
		CallbackPort:      a.callbackPort,
		LoginTimeout:      a.loginTimeout,
		AuthorizeParams:   params,
		LoginCommand:      cmp.Or(a.loginHint, "mcp-bridge login "+serverURL),
		HTTPClient:        client,
		Store:             store,
		StoreKey:          a.storeKey,
		OpenURL:           open,
		SignInAgent:       a.signInAgent,
		OnSignInURL:       a.onSignInURL,
		Prompt:            prompt,
		Input:             input,
		Logger:            log,
		OnEvent:           events,
	})
	if a.preset != "" {
		// After everything the user set: a preset fills only the rest.
		if err := preset.Apply(a.preset, cfg, preset.Options{}); err != nil {
			return nil, fmt.Errorf("--preset %s: %w", a.preset, err)
		}
	}
	return oauthclient.New(cfg)
}

// workload returns the workload sign-in the flags set up, or nil;
// stderr receives the assertion command's diagnostics.
func (a *authOptions) workload(stderr io.Writer) (*oauthclient.Workload, error) {
	switch {
	case a.assertionFile != "" && a.assertionCommand != "":
		return nil, errors.New("--assertion-file and --assertion-command: give one")
	case a.assertionFile != "":
		return &oauthclient.Workload{AssertionFile: a.assertionFile}, nil
	case a.assertionCommand != "":
		argv, err := splitCommand(a.assertionCommand)
		if err != nil {
			return nil, fmt.Errorf("--assertion-command: %w", err)
		}
		return &oauthclient.Workload{AssertionCommand: argv, Stderr: stderr}, nil
	}
	return nil, nil
}

// parseParams parses --authorize-param values.
func parseParams(list []string) (url.Values, error) {
	params := url.Values{}
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--authorize-param %q: want name=value", p)
		}
		params.Add(k, v)
	}
	return params, nil
}

// commandOpener returns the function that opens sign-in pages by running
// the --browser-command command.
func commandOpener(command string, stderr io.Writer, log *slog.Logger) (func(context.Context, string) error, error) {
	argv, err := splitCommand(command)
	if err != nil {
		return nil, fmt.Errorf("--browser-command: %w", err)
	}
	return oauthclient.CommandOpener(argv, stderr, log), nil
}

func (a *authOptions) secret(refs secretref.Lookups) (string, error) {
	if a.clientSecret != "" {
		if !secretref.IsReference(a.clientSecret) {
			return "", errors.New("--client-secret takes a reference, ${VAR} or ${keychain:NAME}, not the secret itself: command lines are visible to every user (ps)")
		}
		s, err := refs.Expand(a.clientSecret)
		if err != nil {
			return "", fmt.Errorf("--client-secret: %w", err)
		}
		return s, nil
	}
	if a.clientSecretFile != "" {
		data, err := os.ReadFile(a.clientSecretFile)
		if err != nil {
			return "", fmt.Errorf("--client-secret-file: %w", err)
		}
		return strings.TrimSpace(string(data)), nil
	}
	return os.Getenv(clientSecretEnv), nil
}

// store opens the token store the flags name: by default the OS keychain,
// or a 0600 file per item where there is none.
func (a *authOptions) store(log *slog.Logger) (*credstore.Store, error) {
	s, err := credstore.Open(a.tokenStore, log)
	if err != nil {
		return nil, storeError(a.tokenStore, err)
	}
	return s, nil
}

// splitCommand splits a command line into words at spaces; double quotes
// group words with spaces, as in "C:\Program Files\Browser\browser.exe".
// There is no shell: no variables, no globbing, no escapes.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			inWord = true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("unbalanced double quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}
