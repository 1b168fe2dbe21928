// Command fakebrowser stands in for a web browser in the conformance runs:
// the driver passes it to mcp-bridge as --browser-command, and the bridge runs
// it with the authorization URL as its only argument, as it would run the
// user's browser.
//
// The suite's authorization servers consent at once: their authorization
// endpoint answers a GET with a 302 to the redirect_uri, carrying code and
// state. So "the user's part" is an HTTP GET that follows redirects into the
// bridge's loopback callback, which is what fakebrowser does. It only talks to
// loopback addresses (the suite's servers and the bridge's listener), and
// exits 0 when the last page answered 2xx.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fakebrowser URL")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := visit(ctx, os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "fakebrowser: %v\n", err)
		os.Exit(1)
	}
}

func visit(ctx context.Context, raw string) error {
	if err := checkLoopback(raw); err != nil {
		return err
	}
	client := &http.Client{
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			fmt.Fprintf(os.Stderr, "fakebrowser: redirected to %s\n", redact(req.URL))
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return checkLoopback(req.URL.String())
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	fmt.Fprintf(os.Stderr, "fakebrowser: GET %s\n", redact(u))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	fmt.Fprintf(os.Stderr, "fakebrowser: %s from %s: %q\n", resp.Status, redact(resp.Request.URL), body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the last page answered %s", resp.Status)
	}
	return nil
}

// checkLoopback refuses any URL that is not http(s) to a loopback host.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("refusing %s URL", u.Scheme)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing non-loopback host %q", host)
}

// redact drops the query, which carries codes and state.
func redact(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "..."
	}
	return c.String()
}
