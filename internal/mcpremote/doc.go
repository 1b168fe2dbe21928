// Package mcpremote knows mcp-remote (https://github.com/geelen/mcp-remote,
// checked against release 0.15.1), the stdio-to-remote proxy most users of
// mcp-bridge come from: the command lines that launch it (npx, bunx,
// pnpm dlx, node PATH, ...), what each of its flags means in terms of
// mcp-bridge's flags, the key it names a server's files by, the callback
// port it derives from that key, and the plaintext files it keeps under
// ~/.mcp-auth.
//
// mcp-remote has no specification; the references are its source files:
// src/lib/utils.ts (parseCommandLineArgs, getServerUrlHash,
// calculateDefaultPort, parseAuthorizeParams, readHeaderFile),
// src/lib/mcp-auth-config.ts (getConfigDir, the HASH_NAME files) and
// src/lib/node-oauth-client-provider.ts (tokens.json, client_info.json).
// The OAuth semantics the flags map to are those of the MCP authorization
// specification (2025-11-25, "Authorization") and RFC 8707 (resource).
//
// Nothing here runs a network request or changes a file except
// [Saved.Remove].
package mcpremote
