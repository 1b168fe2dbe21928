package tokenstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// lockChildEnv makes the test binary a child process that holds a lock:
// see lockChild.
const lockChildEnv = "TOKENSTORE_TEST_LOCK_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		os.Exit(lockChild(dir))
	}
	os.Exit(m.Run())
}

// lockChild takes the lock for key "k" of a file store in dir, says
// "locked" on stdout, and holds the lock until its stdin closes.
func lockChild(dir string) int {
	s, err := Open(KindFile, dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	unlock, err := s.Lock(context.Background(), "k")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	unlock()
	return 0
}

// lockedOut checks that Lock(key) on s waits: it does not return before a
// short deadline.
func lockedOut(t *testing.T, s *Store, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	unlock, err := s.Lock(ctx, key)
	if err == nil {
		unlock()
		t.Fatalf("Lock(%q) did not wait for the holder", key)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock(%q) = %v, want DeadlineExceeded", key, err)
	}
}

// lockLater starts Lock(key) on s and returns a channel that gets its
// result, having released the lock.
func lockLater(t *testing.T, s *Store, key string) <-chan error {
	got := make(chan error, 1)
	go func() {
		unlock, err := s.Lock(t.Context(), key)
		if err == nil {
			unlock()
		}
		got <- err
	}()
	return got
}

// TestLockInProcess: the lock excludes goroutines of one Store, and two
// Stores on one directory (two open files: flock excludes them as it
// excludes processes); keys are independent.
func TestLockInProcess(t *testing.T) {
	for _, kind := range []string{KindFile, KindMemory} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			s1, _, err := openMock(t, kind, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			s2 := s1
			if kind == KindFile {
				s2, _, _ = openMock(t, kind, dir, nil)
			}
			unlock, err := s1.Lock(t.Context(), "k")
			if err != nil {
				t.Fatal(err)
			}
			lockedOut(t, s1, "k")
			lockedOut(t, s2, "k")
			other, err := s2.Lock(t.Context(), "other")
			if err != nil {
				t.Fatalf("Lock(other) = %v", err)
			}
			other()
			got := lockLater(t, s2, "k")
			select {
			case err := <-got:
				t.Fatalf("Lock returned (%v) while the lock was held", err)
			case <-time.After(50 * time.Millisecond):
			}
			unlock()
			unlock() // does nothing
			select {
			case err := <-got:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Lock still waits after the holder released")
			}
			if kind == KindFile {
				if _, err := os.Stat(dir + "/locks/k.lock"); err != nil {
					t.Errorf("no lock file: %v", err)
				}
			}
		})
	}
}

// TestLockAcrossProcesses: a bridge waits for another process's lock, and
// gets it when that process releases it or dies: a bridge whose lock
// holder is killed takes over, since the OS releases the lock.
func TestLockAcrossProcesses(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  func(cmd *exec.Cmd, stdin io.Closer) error
	}{
		{"released", func(_ *exec.Cmd, stdin io.Closer) error { return stdin.Close() }},
		{"killed", func(cmd *exec.Cmd, _ io.Closer) error { return cmd.Process.Kill() }}, // SIGKILL
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
			cmd.Stderr = os.Stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			line := make(chan string, 1)
			go func() {
				s, _ := bufio.NewReader(stdout).ReadString('\n')
				line <- s
			}()
			select {
			case s := <-line:
				if strings.TrimSpace(s) != "locked" {
					t.Fatalf("child said %q, want locked", s)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("child did not take the lock")
			}

			s, err := Open(KindFile, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			lockedOut(t, s, "k")
			got := lockLater(t, s, "k")
			select {
			case err := <-got:
				t.Fatalf("Lock returned (%v) while the child held the lock", err)
			case <-time.After(100 * time.Millisecond):
			}
			if err := tt.end(cmd, stdin); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-got:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Lock still waits after the child ended")
			}
			err = cmd.Wait()
			if tt.name == "killed" && (err == nil || cmd.ProcessState.Success()) {
				t.Errorf("child exited with %v, want killed", err)
			}
		})
	}
}
