package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/oauthtest"
)

// urlElicitation is the params of an elicitation/create in URL mode.
type urlElicitation struct {
	Mode          string `json:"mode"`
	ElicitationID string `json:"elicitationId"`
	URL           string `json:"url"`
	Message       string `json:"message"`
}

// TestURLElicitationSignIn: signed out, with the server's InitializeResult
// cached and no browser that opens (no graphical session, no $BROWSER, no
// wslview), a 2025-11-25 host that declares URL-mode elicitation is asked
// to show the sign-in page: its tools/list makes the real binary send
// elicitation/create with mode "url" and the sign-in process's URL. The
// user opens it (the fake browser follows the redirects to the loopback
// listener); the host is told the elicitation is complete and gets the
// answer to its tools/list. A host that declines gets the error with the
// URL and the login command.
func TestURLElicitationSignIn(t *testing.T) {
	for _, accept := range []bool{true, false} {
		t.Run(map[bool]string{true: "accept", false: "decline"}[accept], func(t *testing.T) {
			demo, home, env := cachedSignedOut(t)
			h := startBridgeEnv(t, noBrowserEnv(env), demo.URL, "--token-store", "file")
			h.initialize("2025-11-25", `{"elicitation":{"url":{}}}`)
			start := time.Now()
			h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
			m := h.recvMsg()
			t.Logf("the host got %s after %v", m.Method, time.Since(start).Round(time.Millisecond))
			var ask urlElicitation
			json.Unmarshal(m.Params, &ask)
			rec, _ := waitRecord(t, home)
			if m.Method != "elicitation/create" || len(m.ID) == 0 || ask.Mode != "url" || ask.URL != rec.URL || ask.ElicitationID == "" || ask.Message == "" {
				t.Fatalf("tools/list signed out with no browser: the host got %+v, want an elicitation/create in URL mode with %s", m, rec.URL)
			}
			if !accept {
				h.send(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"action":"decline"}}`)
				m := h.recvMsg()
				if string(m.ID) != "1" || m.Error == nil || !strings.Contains(m.Error.Message, rec.URL) {
					t.Fatalf("tools/list after the host declined: %+v, want an error with the URL %s", m, rec.URL)
				}
				if found := loginHintRE.FindStringSubmatch(m.Error.Message); found == nil || strings.Contains(found[1], "://") {
					t.Errorf("the error's login command: %q, want one with no URL in\n%s", found, m.Error.Message)
				}
				return
			}
			h.send(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"action":"accept"}}`)
			var browser oauthtest.Browser
			if err := browser.Visit(t.Context(), ask.URL); err != nil {
				t.Fatalf("signing in at the elicited URL: %v", err)
			}
			var completed, listed bool
			for !listed {
				m := h.recvMsg()
				switch {
				case m.Method == "notifications/elicitation/complete":
					var p struct {
						ElicitationID string `json:"elicitationId"`
					}
					json.Unmarshal(m.Params, &p)
					if p.ElicitationID != ask.ElicitationID {
						t.Errorf("elicitation completed: %s, want the id %q", m.Params, ask.ElicitationID)
					}
					completed = true
				case strings.HasSuffix(m.Method, "/list_changed"):
				case string(m.ID) == "1":
					if !completed {
						t.Errorf("tools/list answered before notifications/elicitation/complete")
					}
					if m.Error != nil || !strings.Contains(string(m.Result), `"echo"`) {
						t.Fatalf("tools/list after the sign-in: %+v", m)
					}
					listed = true
				default:
					t.Fatalf("after the sign-in the host got %+v", m)
				}
			}
			if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 2 || st.Consents != 2 {
				t.Errorf("%d authorization requests and %d consents, want 2 sign-ins", st.AuthorizationRequests, st.Consents)
			}
		})
	}
}

// noBrowserEnv is env with no graphical session, no $BROWSER and no WSL.
func noBrowserEnv(env []string) []string {
	return append(env, "DISPLAY=", "WAYLAND_DISPLAY=", "BROWSER=", "WSL_DISTRO_NAME=", "WSL_INTEROP=")
}

// TestURLElicitationRequiredAtInitialize: signed out, with nothing cached
// to answer initialize from and no browser that opens, a 2025-11-25 host
// that declares URL-mode elicitation gets the URLElicitationRequiredError
// (-32042) as the answer to initialize, at once: the sign-in's text, and
// the sign-in process's URL as a URL elicitation (before the host is
// initialized the bridge may not send it elicitation/create). The user
// opens it; the host's next start signs in with no new authorization.
// Before, the error had the code -32000 and no elicitation.
func TestURLElicitationRequiredAtInitialize(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	home := t.TempDir()
	env := noBrowserEnv(agentEnv(home))
	h := startBridgeEnv(t, env, demo.URL, "--token-store", "file")
	start := time.Now()
	h.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"url":{}}},"clientInfo":{"name":"test-host","version":"1.0"}}}`)
	m := h.recvMsg()
	took := time.Since(start)
	rec, _ := waitRecord(t, home)
	if string(m.ID) != "0" || m.Error == nil || m.Error.Code != -32042 {
		t.Fatalf("initialize signed out with no browser: %+v, want the error -32042", m)
	}
	if took > 5*time.Second {
		t.Errorf("initialize answered after %v, past the 5 s the least patient host waits", took)
	}
	var data struct {
		Elicitations []urlElicitation `json:"elicitations"`
	}
	json.Unmarshal(m.Error.Data, &data)
	if len(data.Elicitations) != 1 {
		t.Fatalf("the -32042 error's data: %s, want one elicitation", m.Error.Data)
	}
	if e := data.Elicitations[0]; e.Mode != "url" || e.URL != rec.URL || e.ElicitationID == "" || e.Message == "" {
		t.Errorf("the -32042 error's elicitation: %+v, want URL mode with %s", e, rec.URL)
	}
	if !strings.Contains(m.Error.Message, rec.URL) || loginHintRE.FindStringSubmatch(m.Error.Message) == nil {
		t.Errorf("the -32042 error's message: %q, want the URL and the login command", m.Error.Message)
	}
	var browser oauthtest.Browser
	if err := browser.Visit(t.Context(), rec.URL); err != nil {
		t.Fatalf("signing in at the elicited URL: %v", err)
	}
	h.closeAndWait()
	again := startBridgeEnv(t, env, demo.URL, "--token-store", "file")
	signedInCall(t, again, "after the elicited sign-in")
	if st := demo.AuthServer.Stats(); st.AuthorizationRequests != 1 || st.Consents != 1 {
		t.Errorf("%d authorization requests and %d consents, want 1 sign-in", st.AuthorizationRequests, st.Consents)
	}
}

// TestURLElicitationMidSession: signed in by `mcp-bridge login`, the real
// binary runs a session with no browser; the tokens expire, and the
// refresh token with them (the authorization server's clock moves on).
// The host's next call makes the bridge send elicitation/create in URL
// mode with the new sign-in's URL; signed in there, the host is told the
// elicitation is complete and gets the call's answer, in the same session.
func TestURLElicitationMidSession(t *testing.T) {
	demo, clock, home, env := signedInWithClock(t, nil)
	h := startBridgeEnv(t, env, demo.URL, "--token-store", "file")
	h.initialize("2025-11-25", `{"elicitation":{"url":{}}}`)
	h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"first"}}}`)
	if m := h.recvMsg(); m.Error != nil || !strings.Contains(string(m.Result), "first") {
		t.Fatalf("tools/call signed in: %+v", m)
	}

	clock.Advance(3 * time.Hour)
	h.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"again"}}}`)
	m := h.recvMsg()
	var ask urlElicitation
	json.Unmarshal(m.Params, &ask)
	rec, _ := waitRecord(t, home)
	if m.Method != "elicitation/create" || ask.Mode != "url" || ask.URL != rec.URL || ask.ElicitationID == "" {
		t.Fatalf("tools/call after the tokens expired, with no browser: %+v, want an elicitation/create in URL mode with %s", m, rec.URL)
	}
	h.send(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{"action":"accept"}}`)
	var browser oauthtest.Browser
	if err := browser.Visit(t.Context(), ask.URL); err != nil {
		t.Fatalf("signing in at the elicited URL: %v", err)
	}
	if m := h.recvMsg(); m.Method != "notifications/elicitation/complete" || !strings.Contains(string(m.Params), ask.ElicitationID) {
		t.Fatalf("after the sign-in the host got %+v, want the elicitation completed", m)
	}
	if m := h.recvMsg(); string(m.ID) != "2" || m.Error != nil || !strings.Contains(string(m.Result), "again") {
		t.Errorf("tools/call after the sign-in: %+v", m)
	}
	if st := demo.AuthServer.Stats(); st.Consents != 2 {
		t.Errorf("%d consents, want 2 sign-ins", st.Consents)
	}
}

// TestModernHostSignedOut: signed out, with nothing cached, a host of
// revision 2026-07-28 alone sends server/discover first, and nothing else
// if that fails. The bridge starts no sign-in for it (hosts probe on a
// process they throw away), so the answer, at once, is -32601 naming the
// login command: a dual-era host falls back to initialize, and a 2026
// host has the command to show. Before, the message held only the 401.
func TestModernHostSignedOut(t *testing.T) {
	demo, err := oauthtest.StartProtectedDemo(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	h := startBridgeEnv(t, noBrowserEnv(agentEnv(t.TempDir())), demo.URL, "--token-store", "file")
	start := time.Now()
	h.send(`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"modern-host","version":"1"}}}}`)
	m := h.recvMsg()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("server/discover answered after %v", took)
	}
	if string(m.ID) != "1" || m.Error == nil || m.Error.Code != -32601 || loginHintRE.FindStringSubmatch(m.Error.Message) == nil {
		t.Fatalf("server/discover signed out: %+v, want -32601 with the login command", m)
	}
	if n := demo.AuthServer.Stats().AuthorizationRequests; n != 0 {
		t.Errorf("%d authorization requests, want no sign-in for server/discover", n)
	}
}

// TestModernURLInputMidSession is TestURLElicitationMidSession for a host
// of revision 2026-07-28 that declares URL-mode elicitation, against a
// 2026 server: the bridge may send such a host no request, so the call
// after the tokens expired is answered with an input_required result
// holding the sign-in page as a URL-mode elicitation/create and a
// requestState of the bridge's. The host's retry, once the user accepts,
// waits for the sign-in and gets the call's answer; the server never sees
// the bridge's requestState. A host that declines gets the error with the
// URL and the login command. Before, both got the error.
func TestModernURLInputMidSession(t *testing.T) {
	for _, accept := range []bool{true, false} {
		t.Run(map[bool]string{true: "accept", false: "decline"}[accept], func(t *testing.T) {
			demo, clock, home, env := signedInWithClock(t, http.HandlerFunc(modernBenchServer))
			h := startBridgeEnv(t, env, demo.URL, "--token-store", "file")
			meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{"url":{}}},"io.modelcontextprotocol/clientInfo":{"name":"modern-host","version":"1"}}`
			call := func(id int, extra string) string {
				return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello","region":"eu-west-1"},%s%s}}`, id, extra, meta)
			}
			h.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{` + meta + `}}`)
			if m := h.recvMsg(); m.Error != nil || !strings.Contains(string(m.Result), `"echo"`) {
				t.Fatalf("tools/list signed in: %+v", m)
			}
			h.send(call(2, ""))
			if m := h.recvMsg(); m.Error != nil || !strings.Contains(string(m.Result), "hello") {
				t.Fatalf("tools/call signed in: %+v", m)
			}

			clock.Advance(3 * time.Hour)
			h.send(call(3, ""))
			m := h.recvMsg()
			var res struct {
				ResultType    string `json:"resultType"`
				InputRequests map[string]struct {
					Method string         `json:"method"`
					Params urlElicitation `json:"params"`
				} `json:"inputRequests"`
				RequestState json.RawMessage `json:"requestState"`
			}
			json.Unmarshal(m.Result, &res)
			rec, _ := waitRecord(t, home)
			ask := res.InputRequests["mcp-bridge/sign-in"]
			if string(m.ID) != "3" || res.ResultType != "input_required" || ask.Method != "elicitation/create" ||
				ask.Params.Mode != "url" || ask.Params.URL != rec.URL || ask.Params.Message == "" || len(res.RequestState) < 3 {
				t.Fatalf("tools/call after the tokens expired, with no browser: %+v, want input_required with a URL elicitation of %s", m, rec.URL)
			}
			action := map[bool]string{true: "accept", false: "decline"}[accept]
			h.send(call(4, `"inputResponses":{"mcp-bridge/sign-in":{"action":"`+action+`"}},"requestState":`+string(res.RequestState)+`,`))
			if !accept {
				m := h.recvMsg()
				if string(m.ID) != "4" || m.Error == nil || !strings.Contains(m.Error.Message, rec.URL) || loginHintRE.FindStringSubmatch(m.Error.Message) == nil {
					t.Fatalf("the retry after the host declined: %+v, want an error with the URL and the login command", m)
				}
				return
			}
			var browser oauthtest.Browser
			if err := browser.Visit(t.Context(), rec.URL); err != nil {
				t.Fatalf("signing in at the elicited URL: %v", err)
			}
			if m := h.recvMsg(); string(m.ID) != "4" || m.Error != nil || !strings.Contains(string(m.Result), "hello") {
				t.Errorf("the retry after the sign-in: %+v", m)
			}
			if st := demo.AuthServer.Stats(); st.Consents != 2 {
				t.Errorf("%d consents, want 2 sign-ins", st.Consents)
			}
		})
	}
}

// signedInWithClock starts the protected demo, with handler as its MCP
// server if not nil, on a clock the test moves (hour-long access tokens,
// two-hour refresh tokens), and signs in to it with `mcp-bridge login` in
// a home of its own with no browser. It returns the demo, the clock, the
// home and the environment of that home.
func signedInWithClock(t *testing.T, handler http.Handler) (*oauthtest.ProtectedDemo, *oauthtest.Clock, string, []string) {
	t.Helper()
	clock := oauthtest.NewClock()
	demo, err := oauthtest.StartProtectedDemo(t.Context(), &oauthtest.DemoOptions{
		AuthServer: &oauthtest.ASOptions{Now: clock.Now, AccessTokenTTL: time.Hour, RefreshTokenTTL: 2 * time.Hour},
		Handler:    handler,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(demo.Close)
	home := t.TempDir()
	env := noBrowserEnv(agentEnv(home))
	login := exec.Command(os.Args[0], "login", demo.URL, "--token-store", "file", "--browser-command", approver())
	login.Env = append(os.Environ(), env...)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	return demo, clock, home, env
}
