package main

import (
	"crypto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// workloadWorld is a leak-checked scenario (see secrets_test.go) whose
// authorization server trusts the workload JWTs wi signs.
func workloadWorld(t *testing.T, as *oauthtest.ASOptions) (*leakWorld, *oauthtest.WorkloadIssuer) {
	t.Helper()
	wi := oauthtest.NewWorkloadIssuer("https://kubernetes.default.svc.cluster.local")
	if as == nil {
		as = &oauthtest.ASOptions{}
	}
	as.WorkloadIssuers = map[string]crypto.PublicKey{wi.Issuer: wi.Public()}
	w := newLeakWorld(t, as, nil)
	wi.Now = w.clock.Now
	return w, wi
}

// rotate replaces the assertion file as the kubelet does a projected
// token: a new file renamed over the old. The JWT joins the secrets that
// no output may show.
func (w *leakWorld) rotate(path, jwt string) {
	w.t.Helper()
	w.jar.add("workload assertion", jwt)
	if err := os.WriteFile(path+".tmp", []byte(jwt+"\n"), 0o600); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		w.t.Fatal(err)
	}
}

// noAssertionIn fails the test if data holds a window of a workload
// assertion: the token store's plain files hold tokens, never it.
func (w *leakWorld) noAssertionIn(name string, data []byte) {
	w.t.Helper()
	pats := w.jar.patterns()
	if i, ok := find(data, pats)["workload assertion"]; ok {
		w.t.Errorf("workload assertion in %s at byte %d", name, i)
	}
}

// TestWorkloadRotatedAssertion runs the real binary as a pod's bridge:
// signed in with the projected token in --assertion-file, it reads the
// file again when its token is about to expire, and presents the rotated
// JWT; the first one has expired by then, so a bridge that kept it would
// be refused.
func TestWorkloadRotatedAssertion(t *testing.T) {
	w, wi := workloadWorld(t, &oauthtest.ASOptions{AccessTokenTTL: time.Second})
	path := filepath.Join(w.home, "token")
	w.rotate(path, wi.Sign("system:serviceaccount:agents:router", w.as.Issuer(), 10*time.Minute))
	h := w.bridge("bridge", nil, "--assertion-file", path)
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"first"}`)

	w.rotate(path, wi.Sign("system:serviceaccount:agents:router", w.as.Issuer(), time.Hour))
	w.clock.Advance(11 * time.Minute)   // the first JWT has expired
	time.Sleep(1200 * time.Millisecond) // the bridge's token is about to expire
	h.mustCall("echo", `{"text":"second"}`)
	h.finish()
	if strings.Contains(h.stderr.String(), "sign-in process") {
		t.Errorf("a workload started a browser sign-in process:\n%s", h.stderr.String())
	}

	st := w.as.Stats()
	// Two grants at least: a loaded machine can take the first token's
	// second of life before the first call.
	grants := st.TokenRequests[oauthtest.GrantJWTBearer]
	if grants < 2 || st.WorkloadGrants != grants || len(st.TokenRequests) != 1 || st.Registrations != 0 || st.AuthorizationRequests != 0 {
		t.Errorf("stats %+v: want jwt-bearer grants and nothing else", st)
	}
	w.requireKinds("workload assertion", "access token")
	w.noAssertionIn("the token store", w.storeFiles())
}

// TestWorkloadNoLeaks: the workload's assertion appears in no output of
// the bridge or the commands (stderr, the debug log file, stdout, status
// and doctor), nor in the token store's files; a refused one is an
// error the host reads, naming the file and the cause, not the JWT.
func TestWorkloadNoLeaks(t *testing.T) {
	w, wi := workloadWorld(t, nil)
	path := filepath.Join(w.home, "token")
	w.rotate(path, wi.Sign("ci-job", w.as.Issuer(), time.Hour))
	args := []string{"--assertion-file", path}
	h := w.bridge("bridge", nil, args...)
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"workload"}`)
	h.finish()
	w.mustCommand("status", "", "status")
	w.command("doctor", "", append([]string{"doctor"}, args...)...)
	w.noAssertionIn("the token store", w.storeFiles())

	// Another pod of the same job, whose token has expired.
	expired := filepath.Join(w.home, "expired-token")
	w.rotate(expired, wi.Sign("ci-job", w.as.Issuer(), -time.Minute))
	h2 := w.bridge("expired", nil, "--assertion-file", expired)
	m := h2.initialize()
	if m.Error == nil {
		t.Fatal("initialize succeeded with an expired assertion")
	}
	for _, want := range []string{expired, "invalid_grant", "expired"} {
		if !strings.Contains(m.Error.Message, want) {
			t.Errorf("the host's error %q does not say %q", m.Error.Message, want)
		}
	}
	h2.finish()
	if n := w.as.Stats().TokenRequests[oauthtest.GrantJWTBearer]; n != 2 {
		t.Errorf("%d jwt-bearer requests, want 2: one per bridge, no retry", n)
	}
	w.requireKinds("workload assertion", "access token")
}

// TestWorkloadFlags: --assertion-command is split as --browser-command
// is, with no shell; the two sources exclude each other.
func TestWorkloadFlags(t *testing.T) {
	a := &authOptions{assertionCommand: `"/opt/ci tools/oidc-token" --audience https://auth.example.com/token`}
	w, err := a.workload(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/ci tools/oidc-token", "--audience", "https://auth.example.com/token"}; !slices.Equal(w.AssertionCommand, want) {
		t.Errorf("AssertionCommand = %q, want %q", w.AssertionCommand, want)
	}
	if w, err := (&authOptions{}).workload(nil); w != nil || err != nil {
		t.Errorf("no flags: %v, %v; want no workload", w, err)
	}
	for _, a := range []*authOptions{
		{assertionFile: "/t", assertionCommand: "printenv T"},
		{assertionCommand: `"unbalanced`},
	} {
		if _, err := a.workload(nil); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
}
