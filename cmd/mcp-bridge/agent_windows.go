//go:build windows

package main

import "syscall"

// Process creation flags and access rights (Win32 API).
const (
	detachedProcess                = 0x00000008 // DETACHED_PROCESS: no console of the parent's
	processQueryLimitedInformation = 0x1000
	stillActive                    = 259 // STILL_ACTIVE
)

// detached starts the sign-in process without the host's console and in
// a process group of its own: the host's Ctrl+C and console close do not
// reach it.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: detachedProcess | syscall.CREATE_NEW_PROCESS_GROUP, HideWindow: true}
}

// processAlive reports whether a process with this pid runs.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := syscall.OpenProcess(processQueryLimitedInformation, false, uint32(pid))
	if err != nil {
		return err == syscall.ERROR_ACCESS_DENIED
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
