package main

import (
	"encoding/json"
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
			h := startBridgeEnv(t, append(env, "DISPLAY=", "WAYLAND_DISPLAY=", "BROWSER=", "WSL_DISTRO_NAME=", "WSL_INTEROP="), demo.URL, "--token-store", "file")
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
