package audit

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-bridge/mcp-bridge/bridge"
	"github.com/mcp-bridge/mcp-bridge/oauthclient"
)

func TestRecorder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(l, "work", "https://mcp.example/mcp")
	enc := base64.RawURLEncoding.EncodeToString
	jwt := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"sub":"ada","scope":"mcp.read"}`)) + ".sig"
	r.Identity = func() (string, string) { return "https://login.example", jwt }
	start := time.Now()
	r.Call(&bridge.CallRecord{Method: "tools/call", Name: "search", ID: json.RawMessage(`7`), Start: start, Duration: 1500 * time.Microsecond, Outcome: bridge.OutcomeOK, TraceID: "t"})
	r.Event(oauthclient.Event{Kind: oauthclient.EventRefresh, Issuer: "https://login.example", Start: start, Err: errors.New("refused")})
	r.Event(oauthclient.Event{Kind: oauthclient.EventLogout, Issuer: "https://login.example", Start: start})
	l.Close()
	lines := readLines(t, path)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	if c := lines[0]; c.Event != EventCall || c.Server != "work" || c.Name != "search" || c.DurationMS != 1.5 || c.Subject != "ada" || len(c.Scopes) != 1 || c.Issuer != "https://login.example" || string(c.RequestID) != "7" {
		t.Errorf("call line %+v", c)
	}
	if e := lines[1]; e.Event != EventRefresh || e.Outcome != "error" || e.Error != "refused" || e.Subject != "ada" {
		t.Errorf("refresh line %+v", e)
	}
	if e := lines[2]; e.Event != EventLogout || e.Subject != "" {
		t.Errorf("logout line %+v, want no subject: the tokens are gone", e)
	}
}

// BenchmarkRecorderCall is what --audit-log adds to a call on the relay's
// path: the line built, the identity looked up, the line queued (the
// writer goroutine marshals and writes it off that path).
func BenchmarkRecorderCall(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "audit.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := NewRecorder(l, "work", "https://mcp.example/mcp")
	r.Identity = func() (string, string) { return "https://login.example", "opaque-token" }
	rec := &bridge.CallRecord{Method: "tools/call", Name: "search", ID: json.RawMessage(`7`), Start: time.Now(), Outcome: bridge.OutcomeOK}
	for b.Loop() {
		r.Call(rec)
	}
}
