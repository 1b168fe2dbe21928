package oauthtest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestBrowser checks the fake browser end to end: it answers the consent
// page and delivers the redirect to the client's loopback listener, or
// refuses, as told.
func TestBrowser(t *testing.T) {
	a := startAS(t, nil)
	got := make(chan url.Values, 10)
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
	}))
	t.Cleanup(listener.Close)
	cfg := config(a)
	cfg.RedirectURL = listener.URL + "/callback"
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	t.Run("approve", func(t *testing.T) {
		b := &Browser{Client: a.Client(), LoopbackOnly: true}
		if err := b.Open(t.Context(), authURL); err != nil {
			t.Fatal(err)
		}
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		if q := <-got; q.Get("code") == "" || q.Get("state") != "st" {
			t.Errorf("the listener got %v, want a code and the state", q)
		}
		if o := b.Opened(); len(o) != 1 || o[0] != authURL {
			t.Errorf("Opened() = %v", o)
		}
	})
	t.Run("deny", func(t *testing.T) {
		b := &Browser{Client: a.Client()}
		b.Deny(true)
		if err := b.Visit(t.Context(), authURL); err != nil {
			t.Fatal(err)
		}
		if q := <-got; q.Get("error") != "access_denied" {
			t.Errorf("the listener got %v, want error=access_denied", q)
		}
	})
	t.Run("loopback only", func(t *testing.T) {
		b := &Browser{LoopbackOnly: true}
		if err := b.Visit(t.Context(), "https://auth.example.com/authorize?x=1"); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("Visit of a remote URL: %v, want a refusal", err)
		}
		if err := b.Err(); err == nil {
			t.Error("Err() forgot the failed visit")
		}
	})
	t.Run("refuse and forbid", func(t *testing.T) {
		b := &Browser{Client: a.Client()}
		b.Refuse(true)
		if err := b.Open(t.Context(), authURL); err == nil {
			t.Error("Open worked while refusing")
		}
		var forbidden []string
		b.Forbid(func(u string) { forbidden = append(forbidden, u) })
		if err := b.Open(t.Context(), authURL); err == nil || len(forbidden) != 1 {
			t.Errorf("Open while forbidden: %v, %d calls of the forbid function", err, len(forbidden))
		}
		if n := len(b.Opened()); n != 2 {
			t.Errorf("%d opens recorded, want 2", n)
		}
		if len(got) != 0 {
			t.Error("the listener got a redirect from a browser that opened nothing")
		}
	})
}
