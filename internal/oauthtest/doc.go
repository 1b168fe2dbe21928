// Package oauthtest is the in-process OAuth side of mcp-bridge's tests and of
// `mcp-bridge demo`: an authorization server ([AuthServer]), a wrapper that
// turns an MCP handler into a protected resource ([Protect]), and both
// together in front of the demo server ([StartProtectedDemo]).
//
// It implements the parts of the MCP authorization specification
// (https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization)
// a client meets, with switches that make the servers behave like real but
// quirky providers, or like hostile ones:
//
//   - OAuth 2.1 (draft-ietf-oauth-v2-1-13): authorization code with PKCE
//     (RFC 7636, S256 only), refresh with rotation, client credentials;
//   - RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0;
//   - RFC 9728 protected resource metadata and the RFC 6750 WWW-Authenticate
//     challenges (401 invalid_token, 403 insufficient_scope);
//   - RFC 8707 resource indicators, bound to codes and tokens;
//   - RFC 9207 `iss` in authorization responses;
//   - RFC 7591 dynamic client registration, and Client ID Metadata Documents
//     (draft-ietf-oauth-client-id-metadata-document-00);
//   - RFC 7523 private_key_jwt client authentication (RS256, ES256), and the
//     JWT bearer grant for identity assertion grants (ID-JAG, SEP-990);
//   - RFC 8628 device authorization grant;
//   - RFC 7009 token revocation;
//   - RFC 8252 §7.3 loopback redirect URIs with any port.
//
// The provider switches of [ASOptions] each name the provider whose quirk
// they emulate (Entra ID, Google, Auth0, Okta, Keycloak, GitHub, Amazon
// Cognito); internal/preset's tests combine them into one emulation per
// provider.
//
// Tokens are opaque random strings kept in memory. [AuthServer.Verify] checks
// them for a resource server. Token values never appear in [Event]s.
package oauthtest
