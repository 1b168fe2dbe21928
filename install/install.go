package install

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mcp-bridge/mcp-bridge/internal/atomicfile"
)

// An Entry is one MCP server in a host's config: a name, and the command
// line the host runs.
type Entry struct {
	Name    string
	Command string
	Args    []string
	// Project is the project directory of a Claude Code entry in local
	// scope (`claude mcp add` without --scope), which Claude Code keeps in
	// its file under "projects"; "" for the user's scope, the only one
	// of the other hosts. [Host.Entries] lists both scopes, [Host.Rewrite]
	// and [Host.EntryEnv] take either; Add, Install, Remove and Uninstall
	// act on the user's scope.
	Project string
}

// Action says what an install or uninstall did (or, with DryRun, would do).
type Action int

const (
	Unchanged Action = iota // the file already held the entry as it would be written
	Added                   // the entry is new
	Updated                 // an mcp-bridge entry of that name had another command line
	Removed                 // the entry was removed
	NotFound                // there was no entry of that name to remove
)

func (a Action) String() string {
	switch a {
	case Added:
		return "added"
	case Updated:
		return "updated"
	case Removed:
		return "removed"
	case NotFound:
		return "not found"
	}
	return "unchanged"
}

// ForeignEntryError is returned when an entry of the name asked for exists
// and does not run mcp-bridge: install will not replace it, nor uninstall
// remove it, unless forced.
type ForeignEntryError struct {
	Name    string
	Command string // what the entry runs; "" if it names no command
}

func (e *ForeignEntryError) Error() string {
	if e.Command == "" {
		return fmt.Sprintf("an entry named %q exists and is not an mcp-bridge entry", e.Name)
	}
	return fmt.Sprintf("an entry named %q exists and runs %s, not mcp-bridge", e.Name, e.Command)
}

// maxSteps bounds the edits one change takes (each step is one insertion,
// replacement or removal; an update takes at most a few).
const maxSteps = 8

// Add returns src with the entry in it, and what that took. Only the bytes
// of the entry (and a comma or a line break beside it) change: other
// entries, comments, key order and indentation stay as they are. An entry
// of that name that does not run mcp-bridge is an error
// (*ForeignEntryError) unless force is set; an mcp-bridge entry gets this
// command line and keeps whatever else it has (an "env", say).
func (h *Host) Add(src []byte, e Entry, force bool) ([]byte, Action, error) {
	if err := h.CheckName(e.Name); err != nil {
		return nil, 0, err
	}
	if e.Project != "" {
		return nil, 0, errors.New("install adds entries to the user's scope, not a project's")
	}
	fields := h.fields(e)
	if isBlank(bytes.TrimPrefix(src, utf8BOM)) {
		return h.format.fresh(src, e.Name, fields), Added, nil
	}
	action := Unchanged
	for range maxSteps {
		edits, a, err := h.format.nextAdd(src, e.Name, fields, e.Command, force)
		if err != nil {
			return nil, 0, err
		}
		if len(edits) == 0 {
			return src, action, nil
		}
		if action == Unchanged {
			action = a
		}
		src = applyEdits(src, edits)
	}
	return nil, 0, errors.New("install: the edit does not settle (a bug)")
}

// Remove returns src without the entry named name. An entry that does not
// run mcp-bridge (a file named so, or self, this binary's path) is an error
// (*ForeignEntryError) unless force is set.
func (h *Host) Remove(src []byte, name, self string, force bool) ([]byte, Action, error) {
	if isBlank(bytes.TrimPrefix(src, utf8BOM)) {
		return src, NotFound, nil
	}
	edits, a, err := h.format.nextRemove(src, name, self, force)
	if err != nil || len(edits) == 0 {
		return src, a, err
	}
	return applyEdits(src, edits), a, nil
}

// Entries parses a config file of this host and returns its MCP servers:
// the user's scope, then (Claude Code) each project's local scope, with
// Project set.
func (h *Host) Entries(src []byte) ([]Entry, error) {
	if isBlank(bytes.TrimPrefix(src, utf8BOM)) {
		return nil, nil
	}
	return h.format.list(src)
}

// Options tune Install and Uninstall.
type Options struct {
	// DryRun computes the change and writes nothing.
	DryRun bool
	// Force replaces (or removes) an entry of the name that does not run
	// mcp-bridge.
	Force bool
	// Self is this binary's path, for Uninstall: an entry that runs it is
	// an mcp-bridge entry whatever the file's name. (Install takes the
	// entry's command as such.)
	Self string
	// Now names backups. If nil, time.Now is used.
	Now func() time.Time
}

// A Result says what Install or Uninstall did to a file.
type Result struct {
	Path    string // the file (symbolic links resolved)
	Action  Action
	Created bool   // the file did not exist
	Backup  string // the copy of the file before the change, or ""
	Old     []byte // the file before
	New     []byte // the file after (or as it would be, with DryRun)
}

// Install adds (or updates) the entry in the host's config file at path:
// it creates the file and its directory if need be, copies an existing
// file to FILE.bak-YYYYMMDD-HHMMSS before changing it, and replaces it
// atomically. Nothing is written when the entry is already there.
func (h *Host) Install(path string, e Entry, o Options) (*Result, error) {
	return update(path, o, func(old []byte) ([]byte, Action, error) { return h.Add(old, e, o.Force) })
}

// Uninstall removes the entry named name from the host's config file at
// path, with a backup as Install makes. A missing file or entry is not an
// error: the Result's Action is NotFound.
func (h *Host) Uninstall(path, name string, o Options) (*Result, error) {
	return update(path, o, func(old []byte) ([]byte, Action, error) { return h.Remove(old, name, o.Self, o.Force) })
}

// attempts bounds how often update starts over when another program
// changes the file while it works (a host saving its own state).
const attempts = 3

func update(path string, o Options, change func([]byte) ([]byte, Action, error)) (*Result, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	real := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		real = p // edit what a link points to, and keep the link
	}
	for range attempts {
		old, err := os.ReadFile(real)
		missing := errors.Is(err, fs.ErrNotExist)
		if err != nil && !missing {
			return nil, err
		}
		if missing {
			old = nil
		}
		updated, action, err := change(old)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", real, err)
		}
		res := &Result{Path: real, Action: action, Created: missing && action == Added, Old: old, New: updated}
		if action == Unchanged || action == NotFound || o.DryRun {
			return res, nil
		}
		if missing {
			err = create(real, updated)
		} else {
			res.Backup, err = replace(real, old, updated, now())
		}
		if errors.Is(err, errChanged) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	return nil, fmt.Errorf("%s: another program keeps changing the file; try again when it is done", real)
}

// errChanged says the file changed under an update, which starts over.
var errChanged = errors.New("the file changed while it was being edited")

// create writes a new file (and its directory), readable by its owner.
func create(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return errChanged
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// replace backs the file up, then replaces it by a rename, if it still
// holds old. It returns the backup's path.
func replace(path string, old, data []byte, now time.Time) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	mode := fi.Mode().Perm()
	backup, err := writeBackup(path, old, mode, now)
	if err != nil {
		return "", fmt.Errorf("back up %s: %w", path, err)
	}
	err = atomicfile.ReplaceIf(path, data, mode, func() error {
		if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, old) {
			return errChanged
		}
		return nil
	})
	if err != nil {
		os.Remove(backup)
		return "", err
	}
	return backup, nil
}

// writeBackup copies the file's old content to FILE.bak-YYYYMMDD-HHMMSS
// (with -2, -3, ... if that exists), with the file's permissions.
func writeBackup(path string, old []byte, mode fs.FileMode, now time.Time) (string, error) {
	base := path + ".bak-" + now.Format("20060102-150405")
	name := base
	for i := 2; ; i++ {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			name = fmt.Sprintf("%s-%d", base, i)
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(old); err != nil {
			f.Close()
			os.Remove(name)
			return "", err
		}
		if err := f.Close(); err != nil {
			os.Remove(name)
			return "", err
		}
		return name, nil
	}
}
