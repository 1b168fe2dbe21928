package main

// What migrate says about each entry it migrated, or would.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mcp-bridge/mcp-bridge/internal/mcpremote"
	"github.com/mcp-bridge/mcp-bridge/internal/redact"
)

// report says what became of one entry; false if something failed.
func (m *migration) report(e *mcpRemoteEntry, cleanups map[string]*cleanup) bool {
	if e.project != "" {
		fmt.Fprintf(m.stdout, "%s: %q (project %s) in %s\n", e.host.Name, e.name, e.project, e.path)
	} else {
		fmt.Fprintf(m.stdout, "%s: %q in %s\n", e.host.Name, e.name, e.path)
	}
	ok := m.reportEntry(e)
	if e.invalid != nil || e.importErr != nil && e.saved == nil {
		return ok
	}
	return m.reportCredentials(e, cleanups[tokensFile(e)]) && ok
}

// tokensFile is the file of the entry's sign-in, or "".
func tokensFile(e *mcpRemoteEntry) string {
	if e.saved == nil {
		return ""
	}
	return e.saved.TokensFile
}

// reportEntry says what became of the entry's command line.
func (m *migration) reportEntry(e *mcpRemoteEntry) bool {
	switch {
	case e.invalid != nil:
		fmt.Fprintf(m.stdout, "  entry:        left as it is: its command line: %v\n", e.invalid)
		return false
	case e.importErr != nil && e.saved == nil:
		fmt.Fprintf(m.stdout, "  entry:        left as it is: %v\n", e.importErr)
		return false
	case e.importErr != nil:
		fmt.Fprintln(m.stdout, "  entry:        left as it is, since its credentials could not be moved")
		return false
	case e.rewritten != nil:
		fmt.Fprintf(m.stdout, "  entry:        not rewritten: %v\n", e.rewritten)
		return false
	case m.dryRun:
		fmt.Fprintf(m.stdout, "  entry:        would run %s %s\n", m.self, strings.Join(e.args, " "))
	default:
		fmt.Fprintf(m.stdout, "  entry:        rewritten to run %s %s\n", m.self, strings.Join(e.args, " "))
		if e.backup != "" {
			fmt.Fprintf(m.stdout, "  backup:       %s\n", e.backup)
		}
	}
	return true
}

// reportCredentials says what became of mcp-remote's files for the
// entry's server; c is what became of them on disk.
func (m *migration) reportCredentials(e *mcpRemoteEntry, c *cleanup) bool {
	s := e.saved
	switch {
	case s == nil && e.keyErr != nil:
		fmt.Fprintf(m.stdout, "  credentials:  none: mcp-remote cannot have kept any, since it refuses this command line (%v); the first start signs in\n", e.keyErr)
	case s == nil:
		fmt.Fprintf(m.stdout, "  credentials:  mcp-remote kept none for this server (looked in %s); the first start signs in\n", strings.Join(e.dirs, ", "))
	case s.Unusable(m.now()):
		fmt.Fprintf(m.stdout, "  credentials:  not moved: the access token in %s has expired and there is no refresh token; the first start signs in. The file is left as it is.\n", s.TokensFile)
	case e.newer != nil:
		verb := "went"
		if m.dryRun {
			verb = "would go"
		}
		fmt.Fprintf(m.stdout, "  credentials:  not moved: the newer sign-in of %v %s into the token store instead, under the same key (one server, one sign-in); this entry uses it. Its own files stay in %s (%s_*)\n",
			e.newer, verb, s.Dir, s.Key)
	case m.dryRun:
		fmt.Fprintf(m.stdout, "  credentials:  would move %s (client %s, refresh token: %s) into the token store\n",
			s.TokensFile, s.Credentials.Client.ID, yesNo(s.Credentials.RefreshToken != ""))
		return m.reportCleanup(s, c)
	case e.importErr != nil:
		fmt.Fprintf(m.stdout, "  credentials:  not moved: %v; mcp-remote's files stay in %s\n", e.importErr, s.Dir)
	case !e.done:
		fmt.Fprintf(m.stdout, "  credentials:  copied into the token store (%s); mcp-remote's files stay in %s, since the entry still runs mcp-remote\n", e.handler.Key(), s.Dir)
	default:
		fmt.Fprintf(m.stdout, "  credentials:  moved into the token store (client %s, refresh token: %s)\n", s.Credentials.Client.ID, yesNo(s.Credentials.RefreshToken != ""))
		return m.reportCleanup(s, c)
	}
	return true
}

// reportCleanup says what became of mcp-remote's files for the sign-in
// s, or in a dry run what would.
func (m *migration) reportCleanup(s *mcpremote.Saved, c *cleanup) bool {
	switch {
	case c.keptFor != "" && m.dryRun:
		fmt.Fprintf(m.stdout, "  plaintext:    would be kept in %s (%s_*): %s\n", s.Dir, s.Key, c.keptFor)
	case c.keptFor != "":
		fmt.Fprintf(m.stdout, "  plaintext:    kept in %s (%s_*): %s\n", s.Dir, s.Key, c.keptFor)
	case m.dryRun:
		fmt.Fprintf(m.stdout, "  plaintext:    would remove %d file(s) in %s (%s_*)\n", len(s.Files()), s.Dir, s.Key)
	case c.err != nil:
		fmt.Fprintf(m.stdout, "  plaintext:    removing it failed: %v; remove %s_* in %s by hand\n", c.err, s.Key, s.Dir)
		return false
	default:
		fmt.Fprintf(m.stdout, "  plaintext:    removed %s\n", strings.Join(c.removed, ", "))
	}
	return true
}

// redactingWriter writes to w what it is given with r's replacements: the
// report and the dry run's diffs quote command lines, and the secrets
// written into them must not be shown.
type redactingWriter struct {
	w io.Writer
	r *strings.Replacer
}

func (rw redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.Replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// redactor replaces the secrets of the entries' command lines
// ([mcpremote.Secrets]) with [redact.Mark], as written and as a JSON or
// TOML string holds them, longest first.
func redactor(entries []*mcpRemoteEntry) *strings.Replacer {
	var secrets []string
	for _, e := range entries {
		for _, s := range mcpremote.Secrets(e.remote) {
			if len(s) < 4 {
				continue // too short to be a secret, too common to take out
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			secrets = append(secrets, s, strings.Trim(strings.TrimSpace(b.String()), `"`))
		}
	}
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range slices.Compact(secrets) {
		pairs = append(pairs, s, redact.Mark)
	}
	return strings.NewReplacer(pairs...)
}
