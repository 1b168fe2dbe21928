//go:build !windows

package oauthclient

import "os/exec"

// setCommandLine does nothing: only Windows hands a program one command
// line to split, and cmd.exe only runs there.
func setCommandLine(*exec.Cmd, string) {}
