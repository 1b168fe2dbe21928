package httpclient

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHeaders checks that the headers reach the server's origin only,
// follow Set, and do not replace a header the request has.
func TestHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	record := func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }
	other := httptest.NewServer(http.HandlerFunc(record))
	defer other.Close()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
			return
		}
		record(w, r)
	}))
	defer server.Close()

	h, err := NewHeaders(nil, server.URL+"/mcp", http.Header{"X-Api-Key": {"one"}, "Authorization": {"static"}})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: h}
	get := func(url, auth string) http.Header {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.Header.Get("X-Api-Key") != "" {
			t.Error("the caller's request was changed")
		}
		return <-got
	}

	if v := get(server.URL+"/mcp", "").Get("X-Api-Key"); v != "one" {
		t.Errorf("X-Api-Key = %q, want one", v)
	}
	if v := get(server.URL+"/mcp", "Bearer tok").Get("Authorization"); v != "Bearer tok" {
		t.Errorf("Authorization = %q, want the request's own", v)
	}
	h.Set(http.Header{"X-Api-Key": {"two"}})
	if v := get(server.URL+"/mcp", "").Get("X-Api-Key"); v != "two" {
		t.Errorf("after Set, X-Api-Key = %q, want two", v)
	}
	if g := get(other.URL+"/mcp", ""); g.Get("X-Api-Key") != "" {
		t.Errorf("another origin got X-Api-Key %q", g.Get("X-Api-Key"))
	}
	if g := get(server.URL+"/redirect", ""); g.Get("X-Api-Key") != "" {
		t.Errorf("a redirect to another origin carried X-Api-Key %q", g.Get("X-Api-Key"))
	}
}
