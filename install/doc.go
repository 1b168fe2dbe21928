// Package install adds mcp-bridge to a desktop MCP host's configuration,
// and takes it out again. It knows where each host keeps its list of MCP
// servers on macOS, Windows and Linux, in what format and under what key,
// and it edits that file safely: it changes only the bytes of the one
// entry (other entries, comments, key order, indentation and line endings
// stay as they are), backs the file up before changing it, replaces it
// atomically, and does nothing when the entry is already there.
//
// Where the paths depend on the operating system, they are computed from
// an [Env] (GOOS, home directory, environment variables) given as input,
// so every layout can be checked on any machine.
//
// # Hosts
//
// Paths are the user (global) scope; Claude Code also keeps its local
// scope (per project, what `claude mcp add` writes without --scope) in
// the same file, under "projects" → the project's directory →
// "mcpServers", which [Host.Entries] lists and [Host.Rewrite] edits. ~ is
// the home directory
// (%USERPROFILE% on Windows); $XDG_CONFIG_HOME defaults to ~/.config,
// %APPDATA% to ~\AppData\Roaming, %LOCALAPPDATA% to ~\AppData\Local.
//
//	host            file                                                        format  key              entry
//	claude-desktop  macOS:   ~/Library/Application Support/Claude/claude_desktop_config.json
//	                Windows: %APPDATA%\Claude\claude_desktop_config.json, or for the MSIX
//	                         package: %LOCALAPPDATA%\Packages\Claude_*\LocalCache\Roaming\Claude\...
//	                Linux:   $XDG_CONFIG_HOME/Claude/claude_desktop_config.json
//	                                                                            JSON    mcpServers       {"command", "args"}
//	claude-code     $CLAUDE_CONFIG_DIR/.claude.json, else ~/.claude.json         JSON    mcpServers       {"type": "stdio", "command", "args"}
//	cursor          ~/.cursor/mcp.json                                          JSON    mcpServers       {"command", "args"}
//	vscode          macOS:   ~/Library/Application Support/Code/User/mcp.json
//	                Windows: %APPDATA%\Code\User\mcp.json
//	                Linux:   $XDG_CONFIG_HOME/Code/User/mcp.json
//	                ($VSCODE_PORTABLE/user-data/User or $VSCODE_APPDATA/Code/User first)
//	                                                                            JSONC   servers          {"type": "stdio", "command", "args"}
//	windsurf        ~/.codeium/windsurf/mcp_config.json                         JSON    mcpServers       {"command", "args"}
//	zed             macOS:   ~/.config/zed/settings.json
//	                Windows: %APPDATA%\Zed\settings.json
//	                Linux:   $FLATPAK_XDG_CONFIG_HOME or $XDG_CONFIG_HOME, /zed/settings.json
//	                                                                            JSONC   context_servers  {"source": "custom", "command", "args"}
//	codex           $CODEX_HOME/config.toml, else ~/.codex/config.toml          TOML    [mcp_servers.NAME] command = "...", args = [...],
//	                                                                                    startup_timeout_sec = 60, env_vars = [...]
//	gemini          ~/.gemini/settings.json                                     JSON    mcpServers       {"command", "args"}
//	opencode        $XDG_CONFIG_HOME/opencode/opencode.json (or .jsonc)          JSONC   mcp              {"type": "local", "command": [...], "enabled": true}
//
// Codex's two settings are defaults: written when the entry lacks them,
// kept as the user set them otherwise. Codex waits 10 s for a server's
// start unless startup_timeout_sec says otherwise, and passes a server
// only a few variables (HOME, PATH, ...); env_vars names the ones the
// bridge needs ([SessionVariables]: the browser's, the keychain's D-Bus
// session, the proxy's). opencode's "enabled" is a default too.
//
// Sources (read in 2026):
//
//   - Claude Desktop: https://modelcontextprotocol.io/quickstart/user (macOS and
//     Windows paths, "mcpServers" with command and args). The MSIX location:
//     https://github.com/anthropics/claude-code/issues/26073 and the fixes in
//     other installers that cite it. There is no official Linux build; the
//     path is the one the community builds use (Electron's user data
//     directory, ~/.config/Claude).
//   - Claude Code: https://code.claude.com/docs/en/mcp (scopes: user scope in
//     ~/.claude.json "mcpServers", local scope in ~/.claude.json under the
//     project's path, project scope in .mcp.json; `claude mcp add` writes
//     "type": "stdio"). CLAUDE_CONFIG_DIR moving the file is
//     seen in third-party tools, not in the official docs.
//   - Cursor: https://cursor.com/docs/mcp (~/.cursor/mcp.json global,
//     .cursor/mcp.json per project, "mcpServers").
//   - VS Code: https://code.visualstudio.com/docs/copilot/reference/mcp-configuration
//     ("servers", "type": "stdio", mcp.json in the user profile), and the
//     user data directory from microsoft/vscode
//     src/vs/platform/environment/node/userDataPath.ts. A profile other than
//     the default keeps its own mcp.json under User/profiles/ID: use --file.
//   - Windsurf: https://docs.windsurf.com/windsurf/cascade/mcp
//     (~/.codeium/windsurf/mcp_config.json, the Claude Desktop schema).
//   - Zed: https://zed.dev/docs/ai/mcp ("context_servers" with command, args,
//     env), zed-industries/zed crates/paths/src/paths.rs (config_dir) and
//     crates/settings_content/src/project.rs (ContextServerSettingsContent).
//     "source": "custom" is what Zed's own settings migration writes; Zed
//     versions of mid-2025 need it, later ones ignore it.
//   - Codex: https://developers.openai.com/codex/mcp ([mcp_servers.NAME]
//     with command and args in ~/.codex/config.toml) and openai/codex
//     codex-rs/utils/home-dir/src/lib.rs (CODEX_HOME); `codex mcp add`
//     accepts names of letters, digits, - and _ only; startup_timeout_sec
//     and env_vars (the variables passed through) from the same page.
//   - Gemini CLI: https://geminicli.com/docs/tools/mcp-server/ and
//     https://geminicli.com/docs/cli/configuration ("mcpServers" with
//     command, args, env in ~/.gemini/settings.json, .gemini/settings.json
//     per project).
//   - opencode: https://opencode.ai/docs/mcp-servers/ ("mcp" with "type":
//     "local", "command" as an array, "enabled", "environment") and
//     https://opencode.ai/docs/config/ (~/.config/opencode/opencode.json
//     or opencode.jsonc, opencode.json per project).
//
// Hosts also read project files (.mcp.json, .cursor/mcp.json,
// .vscode/mcp.json, .zed/settings.json, .codex/config.toml,
// .gemini/settings.json, opencode.json): their format is
// the host's, so the command's --file can point there.
package install
