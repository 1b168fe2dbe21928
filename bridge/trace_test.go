package bridge

import "testing"

func TestValidTraceparent(t *testing.T) {
	for s, want := range map[string]bool{
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01":        true,
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00":        true,
		"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future": true, // a later version, read as 00
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x":      false,
		"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01":        false,
		"00-00000000000000000000000000000000-b7ad6b7169203331-01":        false,
		"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01":        false,
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01":        false,
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331":           false,
		"": false,
	} {
		if got := validTraceparent(s); got != want {
			t.Errorf("validTraceparent(%q) = %v, want %v", s, got, want)
		}
	}
	if p := newTraceparent(); !validTraceparent(p) || p == newTraceparent() {
		t.Errorf("newTraceparent() = %q", p)
	}
}

func TestWithMetaMember(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"jsonrpc":"2.0","id":1,"method":"m"}`, `{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"k":"v"}}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":{}}`, `{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"k":"v"}}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1.0}}`, `{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":{"k":"v"},"a":1.0}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"_meta":{"x":[]}}}`, `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"_meta":{"k":"v","x":[]}}}`},
		{`{"params": { "_meta" : { } } ,"id":1,"method":"m","jsonrpc":"2.0"}`, `{"params": { "_meta" : {"k":"v" } } ,"id":1,"method":"m","jsonrpc":"2.0"}`},
		{`{ "jsonrpc": "2.0", "id": 1, "method": "m" }`, `{ "jsonrpc": "2.0", "id": 1, "method": "m" ,"params":{"_meta":{"k":"v"}}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}`, ""},
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":{"_meta":null}}`, ""},
	} {
		m, err := ParseMessage([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := withMetaMember(m, "k", "v")
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("withMetaMember(%s) = %s, want an error", tt.in, got.Raw)
		case tt.want != "" && (err != nil || string(got.Raw) != tt.want || string(got.ID) != "1"):
			t.Errorf("withMetaMember(%s) = %v, %v, want %s", tt.in, got, err, tt.want)
		case tt.want != "":
			// The envelope is moved, not parsed again: it must be what a
			// parse finds.
			re, _ := ParseMessage(got.Raw)
			if string(got.params) != string(re.params) || got.paramsAt != re.paramsAt || got.idStart != re.idStart || got.idEnd != re.idEnd || got.Method != re.Method {
				t.Errorf("withMetaMember(%s): envelope %q at %d, id %d-%d; a parse finds %q at %d, id %d-%d",
					tt.in, got.params, got.paramsAt, got.idStart, got.idEnd, re.params, re.paramsAt, re.idStart, re.idEnd)
			}
		}
	}
}
