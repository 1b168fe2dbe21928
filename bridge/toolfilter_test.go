package bridge

import (
	"strings"
	"testing"
)

func TestToolFilter(t *testing.T) {
	f, err := NewToolFilter([]string{"read_*", "echo"}, []string{"read_secret*"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"echo": true, "read_file": true, "read_secrets": false, "delete": false} {
		if got := f.Allowed(name); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", name, got, want)
		}
	}

	list, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"echo","x":1},{"name":"delete"},{"name":"read_file","inputSchema":{}}],"nextCursor":"c","_meta":{"k":true}}}`))
	got := f.ToHost(list, "tools/list")
	want := `{"jsonrpc":"2.0","id":7,"result":{"_meta":{"k":true},"nextCursor":"c","tools":[{"name":"echo","x":1},{"name":"read_file","inputSchema":{}}]}}`
	if string(got.Raw) != want {
		t.Errorf("tools/list through the filter:\n got %s\nwant %s", got.Raw, want)
	}
	if other := f.ToHost(list, "resources/list"); other != list {
		t.Error("a response to another method was changed")
	}

	call, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"delete","arguments":{}}}`))
	fwd, answer := f.ToServer(call)
	if fwd != nil || answer == nil || string(answer.ID) != `"c1"` || !strings.Contains(string(answer.Raw), "Unknown tool: delete") {
		t.Errorf("a call to a hidden tool: forward %v, answer %s", fwd, answer.Raw)
	}
	ok, _ := ParseMessage([]byte(`{"jsonrpc":"2.0","id":"c2","method":"tools/call","params":{"name":"echo"}}`))
	if fwd, answer := f.ToServer(ok); fwd != ok || answer != nil {
		t.Errorf("a call to an allowed tool was not forwarded as is")
	}

	if err := f.Set([]string{"["}, nil); err == nil {
		t.Error("a malformed glob was accepted")
	}
	if !f.Allowed("read_file") || f.Allowed("delete") {
		t.Error("a refused Set changed the rules")
	}
	if err := f.Set(nil, nil); err != nil || f.ToHost(list, "tools/list") != list {
		t.Error("an empty filter changed a tools/list result")
	}
}
