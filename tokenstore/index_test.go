package tokenstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIndex(t *testing.T) {
	for _, kind := range []string{KindKeychain, KindFile, KindMemory} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			s, _, err := openMock(t, kind, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			got, err := s.Index()
			if err != nil || len(got) != 0 {
				t.Fatalf("Index of a new store = %v, %v; want empty", got, err)
			}
			if err := s.SetIndex(ctx, "a", []byte(`{"server": "https://a.example/mcp"}`)); err != nil {
				t.Fatal(err)
			}
			if err := s.SetIndex(ctx, "b", []byte(`{"server":"https://b.example/mcp","expiry":"2030-01-01T00:00:00Z"}`)); err != nil {
				t.Fatal(err)
			}
			if err := s.SetIndex(ctx, "c", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			if err := s.SetIndex(ctx, "c", nil); err != nil {
				t.Fatal(err)
			}
			if err := s.SetIndex(ctx, "never", nil); err != nil {
				t.Fatal(err)
			}
			if err := s.SetIndex(ctx, "d", []byte(`{not json`)); err == nil {
				t.Error("SetIndex with invalid JSON succeeded")
			}
			got, err = s.Index()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"a": `{"server":"https://a.example/mcp"}`,
				"b": `{"server":"https://b.example/mcp","expiry":"2030-01-01T00:00:00Z"}`,
			}
			if diff := cmp.Diff(want, asStrings(got)); diff != "" {
				t.Errorf("Index (-want +got):\n%s", diff)
			}
			if kind == KindMemory {
				return
			}
			// Another Store on the directory (another process) sees it.
			s2, _, _ := openMock(t, KindFile, dir, nil)
			got, err = s2.Index()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, asStrings(got)); diff != "" {
				t.Errorf("Index of a second store (-want +got):\n%s", diff)
			}
			if runtime.GOOS != "windows" {
				fi, err := os.Stat(filepath.Join(dir, "index.json"))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("index.json: %v, %v; want mode 0600", fi, err)
				}
			}
		})
	}
}

func asStrings(m map[string][]byte) map[string]string {
	s := map[string]string{}
	for k, v := range m {
		s[k] = string(v)
	}
	return s
}

// TestIndexConcurrent: stores (processes) that update different entries
// at once lose none.
func TestIndexConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		s, _, err := openMock(t, KindFile, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for j := range 5 {
				if err := s.SetIndex(t.Context(), fmt.Sprintf("k%d-%d", i, j), []byte(`{}`)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	s, _, _ := openMock(t, KindFile, dir, nil)
	got, err := s.Index()
	if err != nil || len(got) != 40 {
		t.Errorf("Index = %d entries, %v; want 40", len(got), err)
	}
}

// TestIndexDamaged: a damaged index is an error to read and is replaced
// on the next write; one from another version is left alone.
func TestIndexDamaged(t *testing.T) {
	dir := t.TempDir()
	s, logs, err := openMock(t, KindFile, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "index.json")
	if err := os.WriteFile(p, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Index(); err == nil {
		t.Error("Index of a damaged file succeeded")
	}
	if err := s.SetIndex(t.Context(), "a", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "damaged") {
		t.Errorf("logged %q, want a warning about the damaged index", logs)
	}
	if got, err := s.Index(); err != nil || len(got) != 1 {
		t.Errorf("Index = %v, %v", got, err)
	}
	future := `{"version": 2, "entries": {}}`
	if err := os.WriteFile(p, []byte(future), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIndex(t.Context(), "a", []byte(`{}`)); err == nil {
		t.Error("SetIndex over a version 2 index succeeded")
	}
	if data, _ := os.ReadFile(p); string(data) != future {
		t.Errorf("index.json = %q, want it untouched", data)
	}
}
