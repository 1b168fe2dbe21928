package main

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// TestHydraSignIn pins issue 11, "real authorization servers sign in",
// through the real binary: an authorization server that answers dynamic
// registration as Ory Hydra v2 does ("jwks": {}, "contacts": null and
// Hydra's own members) signs the bridge in, and the host's calls work.
// Before, the Go SDK's registration type, whose jwks is a string, failed
// to parse the answer and every sign-in failed.
func TestHydraSignIn(t *testing.T) {
	w := newLeakWorld(t, &oauthtest.ASOptions{NoCIMD: true, HydraRegistrationAnswers: true}, nil)
	h := w.bridge("bridge", nil, "--browser-command", approver())
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"hydra"}`)
	if st := w.as.Stats(); st.Registrations != 1 {
		t.Errorf("%d registrations, want 1", st.Registrations)
	}
}

// TestFailedSignInKeepsRegistrationBinary pins issue 11, "every failed
// sign-in leaves an orphaned registration", through the real binary: the
// user denies the first sign-in; the next bridge signs in with the client
// the first one registered, so the authorization server holds one
// registration for two sign-ins.
func TestFailedSignInKeepsRegistrationBinary(t *testing.T) {
	w := newLeakWorld(t, &oauthtest.ASOptions{NoCIMD: true}, nil)
	// No browser opens: the host learns the URL, and the user, who opens
	// it, denies.
	h := w.bridge("denied", nil, "--browser-command", filepath.Join(w.home, "no-such-browser"), "--login-timeout", "10s")
	m := h.initialize()
	if m.Error == nil {
		t.Fatal("initialize succeeded without a sign-in")
	}
	u := urlToOpen.FindStringSubmatch(m.Error.Message)
	if u == nil {
		t.Fatalf("the error names no URL: %s", m.Error.Message)
	}
	redirect, err := w.as.Consent(t.Context(), u[1], false)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(redirect.String()); err == nil {
		resp.Body.Close()
	}
	h.waitStderr("sign-in failed", 1)
	h.finish()

	h = w.bridge("approved", nil, "--browser-command", approver())
	if m := h.initialize(); m.Error != nil {
		t.Fatalf("initialize after the denial: %+v\n%s", m.Error, h.stderr.String())
	}
	h.mustCall("echo", `{"text":"x"}`)
	if st := w.as.Stats(); st.Registrations != 1 || st.AuthorizationRequests != 2 || st.Denials != 1 {
		t.Errorf("%d registrations, %d authorization requests, %d denials; want 1, 2, 1",
			st.Registrations, st.AuthorizationRequests, st.Denials)
	}
}
