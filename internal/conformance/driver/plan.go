package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Protocol revisions the driver, as a host, asks for in initialize.
const (
	protocolCurrent = "2025-11-25" // what the suite's 2025-11-25 scenarios check for
	protocolLegacy  = "2025-03-26" // a host of the 2025-03-26 era, for the backcompat scenarios
)

// cimdURL is the client ID metadata document URL the suite expects a client
// to use as its client_id when the authorization server advertises
// client_id_metadata_document_supported (scenario auth/basic-cimd). The suite
// does not pass it in the context: it is a constant of the suite, as a CIMD
// URL is a constant of a real client's distribution.
const cimdURL = "https://conformance-test.local/client-metadata.json"

// loginTimeout bounds a login inside the bridge, well below the suite's 30 s
// per scenario, so that a login that cannot finish fails as an error the host
// sees instead of the suite killing the driver.
const loginTimeout = 20 * time.Second

// scenarioContext is what the suite passes in MCP_CONFORMANCE_CONTEXT for the
// scenarios that supply inputs (conformance 0.1.16). Every field is optional.
type scenarioContext struct {
	Name             string `json:"name"`
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
	IdPClientID      string `json:"idp_client_id"`
	IdPIDToken       string `json:"idp_id_token"`
	IdPIssuer        string `json:"idp_issuer"`
	IdPTokenEndpoint string `json:"idp_token_endpoint"`
	// ValidJWT is a workload's JWT (auth/wif-jwt-bearer, SEP-1933); the
	// suite also gives wrong_audience_jwt and expired_jwt, which a real
	// workload would not hold.
	ValidJWT string `json:"valid_jwt"`
	// ToolCalls, from the 0.2 suites on, are the calls the host should make
	// with exactly these arguments (http-custom-headers: values that
	// exercise every Mcp-Param-* encoding rule).
	ToolCalls []toolCall `json:"toolCalls"`
}

// toolCall is a tool call the suite asks for.
type toolCall struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

func parseContext(raw string) (*scenarioContext, error) {
	c := &scenarioContext{}
	if raw == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(raw), c); err != nil {
		return nil, fmt.Errorf("parse MCP_CONFORMANCE_CONTEXT: %w", err)
	}
	return c, nil
}

// plan is how the driver runs one scenario: the bridge's command line and
// what the host does.
type plan struct {
	// Args are the bridge's arguments after the server URL.
	Args []string
	// ProtocolVersion is the revision the host asks for in initialize.
	ProtocolVersion string
	// ToolCalls, if not empty, are the only tool calls the host makes.
	ToolCalls []toolCall
}

// planConfig is what a plan is made from.
type planConfig struct {
	Scenario string
	Context  *scenarioContext
	// SecretDir is a private directory for the files that carry secrets to
	// the bridge (never the command line, which other users can read).
	SecretDir string
	// Browser is the program the bridge runs to "open" an authorization URL.
	Browser string
	// LogLevel is passed to the bridge's --log-level.
	LogLevel string
}

// makePlan maps a scenario and its context to the bridge's flags: the flags a
// real user would set for the same situation. It writes the secrets the
// context carries to files in cfg.SecretDir.
//
// Scenarios without "auth/" get no auth flags at all. Every auth scenario
// gets the flags a user of an interactive login sets (a browser command, a
// login timeout and an in-memory token store); those that supply credentials
// get the flags that carry them.
func makePlan(cfg *planConfig) (*plan, error) {
	p := &plan{ProtocolVersion: protocolCurrent}
	if cfg.Context != nil {
		p.ToolCalls = cfg.Context.ToolCalls
	}
	if cfg.LogLevel != "" {
		p.Args = append(p.Args, "--log-level", cfg.LogLevel)
	}
	if strings.HasPrefix(cfg.Scenario, "auth/2025-03-26-") {
		p.ProtocolVersion = protocolLegacy
	}
	if !strings.HasPrefix(cfg.Scenario, "auth/") {
		return p, nil
	}
	c := cfg.Context
	if c == nil {
		c = &scenarioContext{}
	}
	write := func(name, content string) (string, error) {
		path := filepath.Join(cfg.SecretDir, name)
		if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("write %s: %w", name, err)
		}
		return path, nil
	}

	// Tokens live only as long as the process: each scenario starts logged
	// out, and no keychain is needed on CI.
	p.Args = append(p.Args, "--token-store", "memory")
	if strings.HasPrefix(cfg.Scenario, "auth/dpop") {
		// SEP-1932: sender-constrained tokens, proofs on every token and
		// MCP request, the servers' nonces answered.
		p.Args = append(p.Args, "--dpop", "on")
	}

	switch {
	case c.ValidJWT != "":
		// SEP-1933 workload identity federation: the workload holds a JWT
		// from its platform, in a file the platform rotates; the bridge
		// presents it in the RFC 7523 jwt-bearer grant. No client id (the
		// context's client_id is the workload's name at the suite, which
		// the extension does not send), no registration, no browser.
		jwt, err := write("workload-jwt", c.ValidJWT)
		if err != nil {
			return nil, err
		}
		p.Args = append(p.Args, "--assertion-file", jwt)
		return p, nil

	case c.IdPIDToken != "":
		// SEP-990 Enterprise-Managed Authorization: the user already holds an
		// ID token from the company IdP; the bridge exchanges it at the IdP
		// for an ID-JAG (RFC 8693), then at the MCP authorization server for
		// an access token (RFC 7523 jwt-bearer), authenticating as its
		// registered client. No browser.
		tok, err := write("id-token", c.IdPIDToken)
		if err != nil {
			return nil, err
		}
		p.Args = append(p.Args, "--id-token-file", tok, "--idp-issuer", c.IdPIssuer)
		if c.IdPClientID != "" {
			p.Args = append(p.Args, "--idp-client-id", c.IdPClientID)
		}
		if err := appendClient(p, c, write); err != nil {
			return nil, err
		}
		return p, nil

	case c.PrivateKeyPEM != "" || strings.HasPrefix(cfg.Scenario, "auth/client-credentials"):
		// SEP-1046 client credentials: a machine client with a client ID and
		// a private key (private_key_jwt) or a secret. No browser.
		p.Args = append(p.Args, "--client-credentials")
		if c.PrivateKeyPEM != "" {
			key, err := write("private-key.pem", c.PrivateKeyPEM)
			if err != nil {
				return nil, err
			}
			p.Args = append(p.Args, "--private-key-file", key)
		}
		if err := appendClient(p, c, write); err != nil {
			return nil, err
		}
		return p, nil
	}

	// The authorization code flow, through a "browser".
	p.Args = append(p.Args, "--browser-command", cfg.Browser, "--login-timeout", loginTimeout.String())
	if c.ClientID != "" {
		// A pre-registered client (auth/pre-registration).
		if err := appendClient(p, c, write); err != nil {
			return nil, err
		}
		return p, nil
	}
	// No pre-registered client: the bridge uses its Client ID Metadata
	// Document where the authorization server supports CIMD, else dynamic
	// client registration.
	p.Args = append(p.Args, "--client-metadata-url", cimdURL)
	return p, nil
}

// appendClient adds --client-id and --client-secret-file when the context
// has them.
func appendClient(p *plan, c *scenarioContext, write func(name, content string) (string, error)) error {
	if c.ClientID != "" {
		p.Args = append(p.Args, "--client-id", c.ClientID)
	}
	if c.ClientSecret != "" {
		path, err := write("client-secret", c.ClientSecret)
		if err != nil {
			return err
		}
		p.Args = append(p.Args, "--client-secret-file", path)
	}
	return nil
}
