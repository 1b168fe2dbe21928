//go:build unix

package main

import (
	"errors"
	"syscall"
)

// detached makes the sign-in process the leader of a session of its own:
// no signal to the host's process group, and no controlling terminal,
// reaches it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// processAlive reports whether a process with this pid runs.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
