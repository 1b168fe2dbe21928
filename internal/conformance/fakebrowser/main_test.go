package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestVisit plays the suite's authorization endpoint (an immediate 302 to the
// redirect_uri) and the bridge's loopback callback.
func TestVisit(t *testing.T) {
	var got string
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query().Get("code") + "/" + r.URL.Query().Get("state")
		w.Write([]byte("signed in; you can close this tab"))
	}))
	defer callback.Close()
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code=test-auth-code&state="+r.URL.Query().Get("state"), http.StatusFound)
	}))
	defer as.Close()

	if err := visit(t.Context(), as.URL+"/authorize?state=s1&redirect_uri="+callback.URL+"/callback"); err != nil {
		t.Fatal(err)
	}
	if got != "test-auth-code/s1" {
		t.Errorf("callback got %q, want test-auth-code/s1", got)
	}
}

func TestVisitRefuses(t *testing.T) {
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/callback", http.StatusFound)
	}))
	defer as.Close()
	for _, u := range []string{
		"https://example.com/authorize", // not loopback
		"file:///etc/passwd",            // not http
		as.URL + "/authorize",           // redirects off loopback
	} {
		if err := visit(t.Context(), u); err == nil {
			t.Errorf("visit(%s) succeeded, want an error", u)
		}
	}
}

func TestVisitFailsOnErrorPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "state mismatch", http.StatusBadRequest)
	}))
	defer srv.Close()
	if err := visit(t.Context(), srv.URL); err == nil {
		t.Error("visit succeeded on a 400 page, want an error")
	}
}
