// Package interop tests mcp-bridge against the official TypeScript MCP SDKs
// from npm, as real hosts that spawn the real binary over stdio and as real
// servers on 127.0.0.1, for every pairing of protocol eras (MCP 2025-06-18,
// 2025-11-25 and 2026-07-28; see "The era stage" in docs/design.md).
//
// The hosts and servers are small Node programs in this directory:
// server-2025.mjs (@modelcontextprotocol/sdk 1.x, stateful),
// server-2026.mjs (@modelcontextprotocol/server 2.4.0, dual-era, or
// 2026-only with --reject), host-2025.mjs (the 1.x Client at 2025-06-18 or
// 2025-11-25) and host-2026.mjs (@modelcontextprotocol/client 2.4.0, pinned
// to 2026-07-28 or in auto mode); host-signin.mjs is that client pinned,
// declaring URL-mode elicitation and opening the pages it is shown.
// fixtures.mjs holds what servers expose and hosts expect; checks.mjs the
// checks each host runs. The versions are pinned in package-lock.json, with
// the Node 22 they run on.
//
// TestInterop runs every host × server pairing through the bridge and
// directly, writes the pairing × check table to out/table.md, and compares
// it with expected.txt, the checks expected to fail today.
// TestSignInShownByHost puts the 2026-only server behind the test
// authorization server, and has the sign-in host shown a sign-in through
// the bridge.
package interop
