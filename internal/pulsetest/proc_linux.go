package pulsetest

import (
	"os/exec"
	"syscall"
)

// Tie has the kernel kill cmd if the test process dies without closing
// it (a panic, a timeout), so no server, player or program under test
// outlives a test run. Call it before cmd.Start.
func Tie(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
