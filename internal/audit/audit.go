// Package audit writes mcp-bridge's audit log: one JSON object per line
// for each call the host makes through the bridge and each sign-in,
// refresh, step-up and logout, with who it ran as. It never holds
// arguments, results, tokens, codes or secrets.
//
// Lines are written in the background, from a bounded queue, so that the
// relay never waits for the disk, and in batches: each reaches the file
// within 10 ms. When the queue is full a line is dropped, and the next
// line written says how many were. The file is opened for appending,
// created 0600, and never through a symbolic link; [Log.Reopen] opens it
// again after rotation (the command does so on SIGHUP).
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/privfile"
)

// A Line is one entry of the audit log.
type Line struct {
	Time  time.Time `json:"time"`  // UTC, RFC 3339 with sub-second digits
	Event string    `json:"event"` // one of the Event constants

	Server string `json:"server,omitempty"` // the server entry's name
	URL    string `json:"url"`              // the server's MCP endpoint

	// Method and Name are the JSON-RPC method and the tool's or prompt's
	// name or the resource's URI, for a call.
	Method string `json:"method,omitempty"`
	Name   string `json:"name,omitempty"`

	// Outcome is ok, error (Code is the JSON-RPC code), tool_error,
	// cancelled or refused, for a call; ok or error for the others.
	Outcome    string          `json:"outcome"`
	Code       int             `json:"code,omitempty"`
	Error      string          `json:"error,omitempty"` // what failed, for a sign-in or refresh
	DurationMS float64         `json:"duration_ms"`
	RequestID  json.RawMessage `json:"request_id,omitempty"` // the host's, as it sent it
	TraceID    string          `json:"trace_id,omitempty"`

	// Who the call ran as: the authorization server's issuer, and the
	// access token's subject and scopes where it is a JWT that says.
	Issuer  string   `json:"issuer,omitempty"`
	Subject string   `json:"subject,omitempty"`
	Scopes  []string `json:"scopes,omitempty"`

	// Dropped counts the lines dropped, the queue being full, since the
	// line before this one.
	Dropped int64 `json:"dropped,omitempty"`
}

// Events of a [Line].
const (
	EventCall    = "call"
	EventSignIn  = "sign_in"
	EventRefresh = "refresh"
	EventStepUp  = "step_up"
	EventLogout  = "logout"
)

// queueSize is how many lines may wait for the disk.
const queueSize = 1024

// A Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	path    string
	queue   chan *Line
	dropped atomic.Int64
	done    chan struct{}

	mu  sync.Mutex // guards f
	f   *os.File
	err error // the last write error, reported once
}

// Open opens (creating it 0600) the audit log at path for appending and
// starts its writer. path must not be "-": stdout carries the protocol.
func Open(path string) (*Log, error) {
	if path == "" || path == "-" {
		return nil, errors.New("the audit log needs a file path (stdout carries the MCP protocol)")
	}
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	l := &Log{path: path, f: f, queue: make(chan *Line, queueSize), done: make(chan struct{})}
	go l.run()
	return l, nil
}

func openFile(path string) (*os.File, error) {
	return privfile.OpenAppend(path, "the audit log")
}

// Write queues line, stamped with the time if it has none, without
// waiting; when the queue is full the line is dropped and counted.
func (l *Log) Write(line *Line) {
	if line.Time.IsZero() {
		line.Time = time.Now()
	}
	line.Time = line.Time.UTC()
	select {
	case l.queue <- line:
	default:
		l.dropped.Add(1)
	}
}

// flushDelay is how long a line waits for those that follow it, to go to
// the file in one write with them, and batchLines how many may wait: a
// write per burst of calls, not per call. Each write is a system call of
// the kind that wakes the runtime's monitor thread, which the relay's
// other reads and writes no longer do (package rawio): a write per call
// made BenchmarkLatencyAudit's added p50 10.4-11.5 µs, batches 2.8-4.5.
const (
	flushDelay = 10 * time.Millisecond
	batchLines = 256
)

func (l *Log) run() {
	defer close(l.done)
	var buf []byte
	waiting := 0
	flush := time.NewTimer(flushDelay)
	flush.Stop()
	write := func() {
		flush.Stop()
		if waiting == 0 {
			return
		}
		l.mu.Lock()
		if _, err := l.f.Write(buf); err != nil && l.err == nil {
			l.err = err
			fmt.Fprintf(os.Stderr, "mcp-bridge: writing the audit log failed: %v\n", err)
		}
		l.mu.Unlock()
		buf, waiting = buf[:0], 0
	}
	for {
		select {
		case line, ok := <-l.queue:
			if !ok {
				write()
				return
			}
			line.Dropped = l.dropped.Swap(0)
			b, err := json.Marshal(line)
			if err != nil {
				continue
			}
			buf = append(append(buf, b...), '\n')
			if waiting++; waiting == 1 {
				flush.Reset(flushDelay)
			}
			if waiting >= batchLines {
				write()
			}
		case <-flush.C:
			write()
		}
	}
}

// Reopen opens the log's path again, for a log rotated away.
func (l *Log) Reopen() error {
	f, err := openFile(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f, l.err = f, nil
	l.mu.Unlock()
	return old.Close()
}

// Close writes the lines queued and closes the file. The Log must not be
// written to after.
func (l *Log) Close() error {
	close(l.queue)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
