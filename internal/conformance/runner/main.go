// Command runner runs every client scenario of the official MCP conformance
// suite against the real mcp-bridge binary, through the host driver, and
// compares the outcome with expected-failures.txt. .ci/run runs it from the
// repository root:
//
//	go run ./internal/conformance/runner
//
// It installs the pinned suite and a Node 22 to run it with npm ci (in
// internal/conformance/node_modules, skipped when the lock file has not
// changed since the last install), builds mcp-bridge, the driver and
// fakebrowser, lists the suite's client scenarios, runs each one (a few at a
// time, each under a timeout), prints a table and exits 1 when a scenario not
// on the list failed, when a listed one passed (the list must shrink as work
// lands) or when the list names a scenario the suite does not have.
//
// The suite's own results (checks.json, the driver's and the bridge's stderr)
// stay in internal/conformance/out/results, and each run's console output in
// internal/conformance/out/logs.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx)
	stop()
	os.Exit(code)
}

type options struct {
	dir, out, expected string
	only, bridge       string
	parallel           int
	timeout            time.Duration
	install            bool
}

func run(ctx context.Context) int {
	var o options
	flag.StringVar(&o.dir, "dir", "internal/conformance", "the `directory` with package.json, package-lock.json and expected-failures.txt")
	flag.StringVar(&o.out, "out", "", "where binaries, results and logs go (default DIR/out)")
	flag.StringVar(&o.expected, "expected", "", "the expected-failures `file` (default DIR/expected-failures.txt)")
	flag.StringVar(&o.only, "scenario", "", "run only these scenarios (comma-separated); the list is then checked for them only")
	flag.IntVar(&o.parallel, "parallel", 4, "scenarios run at once")
	flag.DurationVar(&o.timeout, "timeout", 90*time.Second, "the longest one scenario may take, suite included")
	flag.StringVar(&o.bridge, "bridge", "", "test this mcp-bridge `binary` instead of building ./cmd/mcp-bridge")
	flag.BoolVar(&o.install, "install", true, "run npm ci when the lock file changed since the last install")
	flag.Parse()
	if o.out == "" {
		o.out = filepath.Join(o.dir, "out")
	}
	if o.expected == "" {
		o.expected = filepath.Join(o.dir, "expected-failures.txt")
	}
	if err := runSuite(ctx, &o); err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %v\n", err)
		return 1
	}
	return 0
}

func runSuite(ctx context.Context, o *options) error {
	expected, err := readExpected(o.expected)
	if err != nil {
		return err
	}
	if o.install {
		if err := install(ctx, o.dir); err != nil {
			return err
		}
	}
	node := filepath.Join(o.dir, "node_modules", ".bin", "node")
	suite := filepath.Join(o.dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	version, err := output(ctx, node, "--version")
	if err != nil {
		return fmt.Errorf("node from the npm registry: %w", err)
	}
	suiteVersion, err := output(ctx, node, suite, "--version")
	if err != nil {
		return fmt.Errorf("the conformance suite: %w", err)
	}
	fmt.Printf("conformance suite %s on node %s\n", strings.TrimSpace(suiteVersion), strings.TrimSpace(version))

	bin, err := filepath.Abs(filepath.Join(o.out, "bin"))
	if err != nil {
		return err
	}
	builds := []struct{ name, pkg string }{
		{"driver", "./internal/conformance/driver"},
		{"fakebrowser", "./internal/conformance/fakebrowser"},
	}
	bridgeBin := filepath.Join(bin, "mcp-bridge")
	if o.bridge == "" {
		builds = append(builds, struct{ name, pkg string }{"mcp-bridge", "./cmd/mcp-bridge"})
	} else if bridgeBin, err = filepath.Abs(o.bridge); err != nil {
		return err
	}
	for _, b := range builds {
		if _, err := output(ctx, "go", "build", "-o", filepath.Join(bin, b.name), b.pkg); err != nil {
			return fmt.Errorf("build %s: %w", b.name, err)
		}
	}

	listing, err := output(ctx, node, suite, "list", "--client")
	if err != nil {
		return fmt.Errorf("list the client scenarios: %w", err)
	}
	scenarios := parseList(listing)
	if len(scenarios) == 0 {
		return fmt.Errorf("the suite lists no client scenario:\n%s", listing)
	}
	if o.only != "" {
		want := strings.Split(o.only, ",")
		scenarios = slices.DeleteFunc(scenarios, func(s scenario) bool { return !slices.Contains(want, s.Name) })
		expected = filterExpected(expected, want)
	}

	results := filepath.Join(o.out, "results")
	logs := filepath.Join(o.out, "logs")
	for _, d := range []string{results, logs} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	fmt.Printf("running %d client scenarios, %d at a time\n", len(scenarios), o.parallel)
	start := time.Now()
	outcomes := make([]outcome, len(scenarios))
	sem := make(chan struct{}, max(o.parallel, 1))
	var wg sync.WaitGroup
	for i, s := range scenarios {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			outcomes[i] = runScenario(ctx, o, node, suite, bin, bridgeBin, results, logs, s)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	rep := compare(scenarios, outcomes, expected)
	printTable(os.Stdout, scenarios, outcomes, expected)
	fmt.Printf("\nconformance: %d scenarios in %s: %d passed, %d failed (%d of them expected)\n",
		len(scenarios), elapsed.Round(100*time.Millisecond), rep.passed, rep.failed, rep.expectedFailed)
	fmt.Printf("results: %s, console logs: %s\n", results, logs)
	var problems []string
	for _, s := range rep.unexpectedFailures {
		problems = append(problems, "unexpected failure: "+s+" (see its log; fix it, or list it in expected-failures.txt with the reason)")
	}
	for _, s := range rep.unexpectedPasses {
		problems = append(problems, "now passes, remove it from expected-failures.txt: "+s)
	}
	for _, s := range rep.unknown {
		problems = append(problems, "expected-failures.txt names a scenario the suite does not have: "+s)
	}
	if len(problems) > 0 {
		return errors.New("\n  " + strings.Join(problems, "\n  "))
	}
	fmt.Println("conformance: every scenario is as expected")
	return nil
}

// install runs npm ci unless node_modules was installed from the same lock
// file, which a stamp in node_modules records.
func install(ctx context.Context, dir string) error {
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", ".mcp-bridge-installed")
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return nil
	}
	fmt.Println("npm ci (the pinned conformance suite, and node 22 from the npm registry)")
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s: %w", dir, err)
	}
	return os.WriteFile(stamp, []byte(want+"\n"), 0o644)
}

// A scenario as the suite lists it.
type scenario struct {
	Name     string
	Versions []string // spec versions: dates, "draft" or "extension"
}

// Category is the group the suite's --suite option puts the scenario in.
func (s scenario) Category() string {
	switch {
	case slices.Contains(s.Versions, "extension"):
		return "extensions"
	case slices.Contains(s.Versions, "draft"):
		return "draft"
	case len(s.Versions) > 0 && !slices.ContainsFunc(s.Versions, func(v string) bool { return v > "2025-03-26" }):
		return "backcompat"
	case strings.HasPrefix(s.Name, "auth/"):
		return "auth"
	default:
		return "core"
	}
}

var listLine = regexp.MustCompile(`^\s*- (\S+)(?: \[([^\]]*)\])?\s*$`)

// parseList reads the output of "conformance list --client".
func parseList(out string) []scenario {
	var ss []scenario
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := listLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		s := scenario{Name: m[1]}
		if m[2] != "" {
			s.Versions = strings.Split(m[2], ",")
		}
		ss = append(ss, s)
	}
	return ss
}

// outcome is how one scenario went.
type outcome struct {
	Passed  bool
	Detail  string // the failed checks, or why the run failed
	Client  string // the driver's own error, when it failed
	Elapsed time.Duration
}

func runScenario(ctx context.Context, o *options, node, suite, bin, bridgeBin, results, logs string, s scenario) outcome {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	driver := filepath.Join(bin, "driver")
	cmd := exec.CommandContext(ctx, node, suite, "client",
		"--command", driver,
		"--scenario", s.Name,
		"--timeout", "30000",
		"-o", results)
	cmd.Env = append(os.Environ(),
		"MCP_BRIDGE_BIN="+bridgeBin,
		"MCP_BRIDGE_FAKE_BROWSER="+filepath.Join(bin, "fakebrowser"),
		"NO_COLOR=1")
	cmd.WaitDelay = 5 * time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	logName := strings.ReplaceAll(s.Name, "/", "_") + ".log"
	_ = os.WriteFile(filepath.Join(logs, logName), buf.Bytes(), 0o644)
	oc := outcome{Passed: err == nil, Elapsed: time.Since(start)}
	checks, cerr := readChecks(results, s.Name)
	switch {
	case ctx.Err() != nil:
		oc.Passed = false
		oc.Detail = fmt.Sprintf("timed out after %s", o.timeout)
	case cerr != nil:
		oc.Detail = cerr.Error()
	default:
		oc.Detail = summarize(checks)
	}
	if !oc.Passed && oc.Detail == "" {
		oc.Detail = lastLines(buf.String(), 3)
	}
	if !oc.Passed {
		oc.Client = clientError(buf.String())
	}
	return oc
}

var (
	driverFailed = regexp.MustCompile(`who=driver err=("(?:[^"\\]|\\.)*"|\S+)`)
	flagError    = regexp.MustCompile(`(?m)^flag provided but not defined: .*$`)
)

// clientError finds, in a scenario's console output, why the client side
// failed: the bridge's flag error, the driver's error, or a timeout.
func clientError(out string) string {
	var parts []string
	if m := flagError.FindString(out); m != "" {
		parts = append(parts, "mcp-bridge: "+m)
	}
	if m := driverFailed.FindStringSubmatch(out); m != nil {
		e := m[1]
		if u, err := strconv.Unquote(e); err == nil {
			e = u
		}
		parts = append(parts, "driver: "+e)
	}
	if strings.Contains(out, "CLIENT TIMED OUT") {
		parts = append(parts, "the suite timed the client out")
	}
	return strings.Join(parts, "; ")
}

// check is one entry of the suite's checks.json.
type check struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage"`
}

// readChecks reads the checks.json the suite saved for a scenario under
// results/<scenario>-<timestamp>/.
func readChecks(results, name string) ([]check, error) {
	dir := filepath.Join(results, filepath.Dir(filepath.FromSlash(name)))
	base := filepath.Base(name) + "-"
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var found string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), base) && isTimestamp(strings.TrimPrefix(e.Name(), base)) {
			found = filepath.Join(dir, e.Name(), "checks.json")
		}
	}
	if found == "" {
		return nil, errors.New("the suite saved no checks.json")
	}
	b, err := os.ReadFile(found)
	if err != nil {
		return nil, err
	}
	var cs []check
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("%s: %w", found, err)
	}
	return cs, nil
}

var timestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T[\d-]+Z$`)

func isTimestamp(s string) bool { return timestamp.MatchString(s) }

// summarize names the failed and warning checks (the suite fails a scenario
// on either).
func summarize(cs []check) string {
	var bad []string
	for _, c := range cs {
		if c.Status != "FAILURE" && c.Status != "WARNING" {
			continue
		}
		msg := c.ErrorMessage
		if msg == "" {
			msg = c.Description
		}
		bad = append(bad, fmt.Sprintf("%s %s: %s", c.Status, c.ID, msg))
	}
	return strings.Join(bad, "; ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// readExpected reads the expected-failures file: one scenario per line,
// followed by its reason; blank lines and lines starting with # are skipped.
func readExpected(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseExpected(string(b))
}

func parseExpected(text string) (map[string]string, error) {
	m := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return nil, fmt.Errorf("expected failures, line %d: %s has no reason", i+1, name)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("expected failures, line %d: %s listed twice", i+1, name)
		}
		m[name] = reason
	}
	return m, nil
}

func filterExpected(m map[string]string, keep []string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if slices.Contains(keep, k) {
			out[k] = v
		}
	}
	return out
}

type report struct {
	passed, failed, expectedFailed int
	unexpectedFailures             []string
	unexpectedPasses               []string
	unknown                        []string
}

func compare(ss []scenario, oc []outcome, expected map[string]string) report {
	var r report
	seen := map[string]bool{}
	for i, s := range ss {
		seen[s.Name] = true
		_, exp := expected[s.Name]
		switch {
		case oc[i].Passed && exp:
			r.passed++
			r.unexpectedPasses = append(r.unexpectedPasses, s.Name)
		case oc[i].Passed:
			r.passed++
		case exp:
			r.failed++
			r.expectedFailed++
		default:
			r.failed++
			r.unexpectedFailures = append(r.unexpectedFailures, s.Name)
		}
	}
	for name := range expected {
		if !seen[name] {
			r.unknown = append(r.unknown, name)
		}
	}
	slices.Sort(r.unknown)
	return r
}

// output runs a command and returns its standard output; on failure the
// error carries its standard error.
func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
