package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDropStartupPages: the pages of the executable that start-up mapped
// are given back, and the process goes on running the code it needs.
func TestDropStartupPages(t *testing.T) {
	before := rssFileKiB(t)
	dropStartupPages()
	after := rssFileKiB(t)
	t.Logf("RssFile %d kB → %d kB", before, after)
	if after >= before {
		t.Fatalf("RssFile %d kB after, %d kB before: nothing was given back", after, before)
	}
	// The code, its type data and its interface tables are read again
	// from the page cache (and, in a position-independent build, from the
	// relocated copy that was kept).
	var v any = struct {
		A string
		B []int
	}{"x", []int{1}}
	if got, err := json.Marshal(v); err != nil || string(got) != `{"A":"x","B":[1]}` {
		t.Fatalf("%s, %v", got, err)
	}
	if got := fmt.Sprint(v, errors.New("e")); got != "{x [1]} e" {
		t.Fatal(got)
	}
}

func rssFileKiB(t *testing.T) int {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssFile:" {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
