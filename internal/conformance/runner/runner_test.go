package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseList(t *testing.T) {
	out := `Client scenarios (test against a client):
  - initialize [2025-06-18,2025-11-25]
  - auth/metadata-default [2025-11-25]
  - auth/2025-03-26-oauth-metadata-backcompat [2025-03-26]
  - auth/resource-mismatch [draft]
  - auth/client-credentials-jwt [extension]
  - sse-retry
`
	got := parseList(out)
	want := []scenario{
		{Name: "initialize", Versions: []string{"2025-06-18", "2025-11-25"}},
		{Name: "auth/metadata-default", Versions: []string{"2025-11-25"}},
		{Name: "auth/2025-03-26-oauth-metadata-backcompat", Versions: []string{"2025-03-26"}},
		{Name: "auth/resource-mismatch", Versions: []string{"draft"}},
		{Name: "auth/client-credentials-jwt", Versions: []string{"extension"}},
		{Name: "sse-retry"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseList (-want +got):\n%s", diff)
	}
	var cats []string
	for _, s := range got {
		cats = append(cats, s.Category())
	}
	if diff := cmp.Diff([]string{"core", "auth", "backcompat", "draft", "extensions", "core"}, cats); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
}

func TestParseExpected(t *testing.T) {
	got, err := parseExpected("# comment\n\nauth/a   needs a flag\n  auth/b why not \n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"auth/a": "needs a flag", "auth/b": "why not"}, got); diff != "" {
		t.Errorf("parseExpected (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"auth/a\n", "auth/a x\nauth/a y\n"} {
		if _, err := parseExpected(bad); err == nil {
			t.Errorf("parseExpected(%q) succeeded, want an error", bad)
		}
	}
}

// TestExpectedFailuresFile keeps the committed lists readable.
func TestExpectedFailuresFile(t *testing.T) {
	for _, dir := range []string{"..", filepath.Join("..", "prerelease")} {
		if _, err := readExpected(filepath.Join(dir, "expected-failures.txt")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPrereleaseExpectedFailures: issue 9 lets the pre-release suite's list
// hold only the DPoP and workload identity scenarios, which another issue
// owns; every other scenario must pass.
func TestPrereleaseExpectedFailures(t *testing.T) {
	m, err := readExpected(filepath.Join("..", "prerelease", "expected-failures.txt"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"auth/dpop", "auth/dpop-nonce", "auth/wif-jwt-bearer"}
	for name := range m {
		if !slices.Contains(allowed, name) {
			t.Errorf("prerelease/expected-failures.txt lists %s; only %q may be listed", name, allowed)
		}
	}
}

func TestCompare(t *testing.T) {
	ss := []scenario{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}}
	oc := []outcome{{Passed: true}, {Passed: false}, {Passed: true}, {Passed: false}}
	r := compare(ss, oc, map[string]string{"b": "known", "c": "fixed since", "zz": "typo"})
	if r.passed != 2 || r.failed != 2 || r.expectedFailed != 1 {
		t.Errorf("counts: %+v", r)
	}
	if diff := cmp.Diff([]string{"d"}, r.unexpectedFailures); diff != "" {
		t.Errorf("unexpected failures (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c"}, r.unexpectedPasses); diff != "" {
		t.Errorf("unexpected passes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"zz"}, r.unknown); diff != "" {
		t.Errorf("unknown (-want +got):\n%s", diff)
	}
}

func TestReadChecks(t *testing.T) {
	dir := t.TempDir()
	// The suite saves results/<scenario>-<timestamp>/checks.json; a scenario
	// whose name is a prefix of another's must not pick up the other's.
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("auth/scope-step-up-2026-11-22T01-54-40-829Z/checks.json",
		`[{"id":"scope-step-up-initial","status":"FAILURE","description":"no request"},{"id":"x","status":"INFO"}]`)
	write("auth/scope-step-up-extra-2026-11-22T01-54-40-829Z/checks.json", `[{"id":"other","status":"WARNING"}]`)

	cs, err := readChecks(dir, "auth/scope-step-up")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summarize(cs), "FAILURE scope-step-up-initial: no request"; got != want {
		t.Errorf("summarize = %q, want %q", got, want)
	}
	if _, err := readChecks(dir, "initialize"); err == nil {
		t.Error("readChecks of a scenario with no results succeeded")
	}
}

func TestClientError(t *testing.T) {
	out := "flag provided but not defined: -browser-command\nusage: ...\n" +
		`time=2026 level=ERROR msg=FAILED who=driver err="initialize: calling \"initialize\": EOF"` + "\n"
	want := `mcp-bridge: flag provided but not defined: -browser-command; driver: initialize: calling "initialize": EOF`
	if got := clientError(out); got != want {
		t.Errorf("clientError = %q, want %q", got, want)
	}
}
