package main

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks Linux to SIGTERM the bridge if the driver dies
// (the suite kills a client that outlives its timeout), so that no bridge
// outlives its scenario.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
