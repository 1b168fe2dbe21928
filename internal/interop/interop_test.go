package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// kind is one host or server program and its arguments.
type kind struct {
	name, script string
	args         []string
}

var (
	hosts = []kind{
		{"2025-06-18", "host-2025.mjs", []string{"--protocol", "2025-06-18"}},
		{"2025-11-25", "host-2025.mjs", []string{"--protocol", "2025-11-25"}},
		{"2026-pin", "host-2026.mjs", []string{"--mode", "pin"}},
		{"2026-auto", "host-2026.mjs", []string{"--mode", "auto"}},
	}
	servers = []kind{
		{"2025-stateful", "server-2025.mjs", nil},
		{"2026-dual", "server-2026.mjs", nil},
		{"2026-only", "server-2026.mjs", []string{"--reject"}},
	}
	paths = []string{"bridge", "direct"}
)

// A pairing is one host against one server on one path, and what its host reported.
type pairing struct {
	host, server kind
	path         string
	plan         []string          // the checks the host announced, in order
	results      map[string]result // by check
	failure      string            // why the host stopped early, if it did
}

// result is one line of a host's output.
type result struct {
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func (p *pairing) name() string { return p.host.name + "_" + p.server.name + "_" + p.path }

// outcome is the result of check, or a failure saying why there is none.
func (p *pairing) outcome(check string) result {
	if r, ok := p.results[check]; ok {
		return r
	}
	return result{Check: check, Detail: "no result: " + p.failure}
}

func TestInterop(t *testing.T) {
	node := installSDKs(t)
	bridge := filepath.Join(t.TempDir(), "mcp-bridge")
	if out, err := exec.Command("go", "build", "-o", bridge, "../../cmd/mcp-bridge").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	expected, err := readExpected("expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join("out", "logs")
	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}

	var pairings []*pairing
	start := time.Now()
	t.Run("pairing", func(t *testing.T) {
		for _, path := range paths {
			for _, h := range hosts {
				for _, s := range servers {
					p := &pairing{host: h, server: s, path: path}
					pairings = append(pairings, p)
					t.Run(p.name(), func(t *testing.T) {
						t.Parallel() // as many at once as -parallel (GOMAXPROCS) allows
						p.run(t, node, bridge, logs)
						compare(t, p, expected)
					})
				}
			}
		}
	})
	elapsed := time.Since(start)

	plan := pairings[0].plan
	for _, p := range pairings {
		if len(p.plan) > len(plan) {
			plan = p.plan
		}
	}
	if len(plan) == 0 {
		t.Fatalf("no host announced its checks; see %s", logs)
	}
	for _, e := range expected {
		if !e.known(plan) {
			t.Errorf("expected.txt:%d names a pairing or check the test does not have: %s", e.line, e.text)
		}
	}
	table := renderTable(pairings, plan, expected, elapsed)
	t.Log("\n" + table)
	if err := os.WriteFile(filepath.Join("out", "table.md"), []byte(table), 0o644); err != nil {
		t.Error(err)
	}
}

// run starts p's server, runs p's host against it (through a fresh bridge
// or directly), and reads the host's report. Logs go to logs/p.name().*.log.
func (p *pairing) run(t *testing.T, node, bridge, logs string) {
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()
	hostLog := logFile(t, filepath.Join(logs, p.name()+".host.log"))
	url := startServer(ctx, t, node, filepath.Join(logs, p.name()+".server.log"), p.server.script, p.server.args...)

	args := append([]string{p.host.script}, p.host.args...)
	if p.path == "direct" {
		args = append(args, "--url", url)
	} else {
		args = append(args, "--stdio", bridge, url, "--log-level", "debug", "--token-store", "memory")
	}
	home := t.TempDir() // so that no state of the bridge carries over
	host := exec.CommandContext(ctx, node, args...)
	host.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	host.Stderr = hostLog
	host.WaitDelay = 5 * time.Second
	out, err := host.Output()
	p.results = map[string]result{}
	for line := range bytes.Lines(out) {
		var announce struct{ Plan []string }
		if json.Unmarshal(line, &announce) == nil && announce.Plan != nil {
			p.plan = announce.Plan
			continue
		}
		var r result
		if err := json.Unmarshal(line, &r); err != nil || r.Check == "" {
			t.Errorf("host wrote a line that is not a result: %q", line)
			continue
		}
		p.results[r.Check] = r
	}
	if err != nil {
		p.failure = fmt.Sprintf("the host failed: %v (see %s)", err, hostLog.Name())
	} else {
		p.failure = "the host did not report it"
	}
	if p.plan == nil {
		t.Errorf("the host announced no checks: %s", p.failure)
	}
}

// startServer starts the server program script with args, its stderr to
// the file log, until the test ends, and returns the URL it prints.
func startServer(ctx context.Context, t *testing.T, node, log, script string, args ...string) string {
	t.Helper()
	server := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	server.Stderr = logFile(t, log)
	server.WaitDelay = 5 * time.Second
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		server.Process.Kill()
		server.Wait()
	})
	url, err := firstLine(stdout, 20*time.Second)
	if err != nil {
		t.Fatalf("%s printed no URL: %v (see %s)", script, err, log)
	}
	return strings.TrimSpace(url)
}

// compare fails t for each check of p that fails and expected.txt does not
// list, and for each one that passes although it is listed.
func compare(t *testing.T, p *pairing, expected []expectation) {
	for _, check := range p.plan {
		r := p.outcome(check)
		e, listed := lookup(expected, p, check)
		switch {
		case !r.OK && !listed:
			t.Errorf("%s fails: %s\n\tfix it, or list it in expected.txt with the reason", check, r.Detail)
		case r.OK && listed:
			t.Errorf("%s now passes (%s): remove expected.txt:%d: %s", check, r.Detail, e.line, e.text)
		}
	}
	for check := range p.results {
		if !slices.Contains(p.plan, check) {
			t.Errorf("the host reported %q, which it had not announced", check)
		}
	}
}

// An expectation is one line of expected.txt: host, server, path and check
// (or * for every check), then the reason that check fails today.
type expectation struct {
	host, server, path, check string
	line                      int
	text                      string
}

func readExpected(name string) ([]expectation, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var es []expectation
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			return nil, fmt.Errorf("%s:%d: want host, server, path, check and a reason: %s", name, i+1, line)
		}
		es = append(es, expectation{host: f[0], server: f[1], path: f[2], check: f[3], line: i + 1, text: line})
	}
	return es, nil
}

// lookup returns the line of expected that lists check of p, an exact line before a * line.
func lookup(expected []expectation, p *pairing, check string) (expectation, bool) {
	var star *expectation
	for i, e := range expected {
		if e.host != p.host.name || e.server != p.server.name || e.path != p.path {
			continue
		}
		if e.check == check {
			return e, true
		}
		if e.check == "*" && star == nil {
			star = &expected[i]
		}
	}
	if star != nil {
		return *star, true
	}
	return expectation{}, false
}

// known reports whether e names a host, server, path and check that exist.
func (e expectation) known(plan []string) bool {
	has := func(ks []kind, name string) bool {
		return slices.ContainsFunc(ks, func(k kind) bool { return k.name == name })
	}
	return has(hosts, e.host) && has(servers, e.server) && slices.Contains(paths, e.path) &&
		(e.check == "*" || slices.Contains(plan, e.check))
}

// renderTable writes the pairing × check table for each path in Markdown,
// the details of every failure, and where the bridge and direct differ.
func renderTable(ps []*pairing, plan []string, expected []expectation, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Interop: TypeScript SDK hosts × servers, through mcp-bridge and directly\n\n")
	fmt.Fprintf(&b, "%d pairings in %s. ✓ passes, ✗ fails as expected.txt says, "+
		"✗! fails and is not listed, ✓! passes but is listed.\n", len(ps), elapsed.Round(100*time.Millisecond))
	byKey := map[string]*pairing{}
	for _, p := range ps {
		byKey[p.name()] = p
	}
	for _, path := range paths {
		passed, total := 0, 0
		fmt.Fprintf(&b, "\n## %s\n\n| host × server | %s |\n|---|%s\n", pathTitle(path), strings.Join(plan, " | "), strings.Repeat("---|", len(plan)))
		var details []string
		for _, h := range hosts {
			for _, s := range servers {
				p := byKey[h.name+"_"+s.name+"_"+path]
				cells := make([]string, len(plan))
				for i, check := range plan {
					r := p.outcome(check)
					_, listed := lookup(expected, p, check)
					total++
					switch {
					case r.OK && !listed:
						cells[i], passed = "✓", passed+1
					case r.OK:
						cells[i], passed = "✓!", passed+1
					case listed:
						cells[i] = "✗"
					default:
						cells[i] = "✗!"
					}
					if !r.OK && !strings.HasPrefix(r.Detail, "not run") || r.OK && strings.HasPrefix(r.Detail, "note:") {
						details = append(details, fmt.Sprintf("- %s × %s, %s: %s", h.name, s.name, check, r.Detail))
					}
				}
				fmt.Fprintf(&b, "| %s × %s | %s |\n", h.name, s.name, strings.Join(cells, " | "))
			}
		}
		fmt.Fprintf(&b, "\n%d of %d checks pass. Failures, and notes on passes:\n\n", passed, total)
		b.WriteString(strings.Join(details, "\n") + "\n")
	}
	var worse, better []string
	for _, h := range hosts {
		for _, s := range servers {
			viaBridge, direct := byKey[h.name+"_"+s.name+"_bridge"], byKey[h.name+"_"+s.name+"_direct"]
			var w, bt []string
			for _, check := range plan {
				bo, do := viaBridge.outcome(check).OK, direct.outcome(check).OK
				if do && !bo {
					w = append(w, check)
				} else if bo && !do {
					bt = append(bt, check)
				}
			}
			worse = appendChecks(worse, h.name+" × "+s.name, w, len(plan))
			better = appendChecks(better, h.name+" × "+s.name, bt, len(plan))
		}
	}
	fmt.Fprintf(&b, "\n## Bridge against direct\n\nFails through the bridge, passes directly:\n%s\n"+
		"Passes through the bridge, fails directly:\n%s", listOrNone(worse), listOrNone(better))
	return b.String()
}

// appendChecks adds "- pairing: checks" to list if there are checks.
func appendChecks(list []string, pairing string, checks []string, all int) []string {
	switch len(checks) {
	case 0:
		return list
	case all:
		return append(list, "- "+pairing+": every check")
	}
	return append(list, "- "+pairing+": "+strings.Join(checks, ", "))
}

func pathTitle(path string) string {
	if path == "bridge" {
		return "Through the bridge (host → mcp-bridge over stdio → server)"
	}
	return "Directly (host → server over Streamable HTTP)"
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "- none\n"
	}
	return strings.Join(s, "\n") + "\n"
}

// installSDKs makes sure node_modules holds what package-lock.json pins
// (npm ci, unless a stamp says this lock file was installed already) and
// returns the node to run the hosts and servers with: the pinned Node 22
// where npm installed one for this platform, else the one on PATH. Without
// npm the test fails in CI (.ci/run installs it) and is skipped elsewhere.
func installSDKs(t *testing.T) string {
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI needs npm for this test; .ci/run installs Debian's npm package")
		}
		t.Skip("no npm here (apt-get install npm)")
	}
	lock, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	stamp := filepath.Join("node_modules", ".mcp-bridge-installed")
	if got, _ := os.ReadFile(stamp); strings.TrimSpace(string(got)) != hex.EncodeToString(sum[:]) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error").CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
		if err := os.WriteFile(stamp, []byte(hex.EncodeToString(sum[:])+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	node, err := filepath.Abs(filepath.Join("node_modules", ".bin", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			t.Fatal("npm installed no Node for this platform and there is none on PATH")
		}
	}
	return node
}

// firstLine returns the first line r yields within d.
func firstLine(r interface{ Read([]byte) (int, error) }, d time.Duration) (string, error) {
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(r)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			return "", fmt.Errorf("it exited")
		}
		return l, nil
	case <-time.After(d):
		return "", fmt.Errorf("nothing within %s", d)
	}
}

func logFile(t *testing.T, name string) *os.File {
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
