package oauthclient

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestLoopbackLocalhost: a redirect URI naming localhost is served on
// both loopback addresses, since a browser may try [::1] first (RFC 8252
// section 8.3); with [::1] at that port held by another program, the
// sign-in is refused rather than let the browser reach it.
func TestLoopbackLocalhost(t *testing.T) {
	if probe, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback here")
	} else {
		probe.Close()
	}
	ln, err := listenLoopback(0, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "mcp-bridge") })}
	go srv.Serve(ln)
	defer srv.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	for _, host := range []string{"127.0.0.1", "::1"} {
		resp, err := http.Get("http://" + net.JoinHostPort(host, port) + "/")
		if err != nil {
			t.Errorf("the redirect on %s: %v", host, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "mcp-bridge" {
			t.Errorf("the redirect on %s reached %q", host, body)
		}
	}

	other, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	taken := other.Addr().(*net.TCPAddr).Port
	if ln, err := listenLoopback(taken, true); err == nil {
		ln.Close()
		t.Errorf("listenLoopback(%d) with [::1]:%d taken succeeded", taken, taken)
	} else if !strings.Contains(err.Error(), "[::1]") {
		t.Errorf("listenLoopback with [::1] taken: %v, want it named", err)
	}
	// A redirect URI naming 127.0.0.1 needs only that address.
	if ln, err := listenLoopback(taken, false); err != nil {
		t.Errorf("listenLoopback(%d) for 127.0.0.1: %v", taken, err)
	} else {
		ln.Close()
	}
}
