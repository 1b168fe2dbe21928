package oauthclient

import (
	"os/exec"
	"syscall"
)

// setCommandLine has cmd run with the command line line, as Go would not
// quote it (see windowsCommandLine).
func setCommandLine(cmd *exec.Cmd, line string) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: line}
}
