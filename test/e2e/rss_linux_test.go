package e2e

import (
	"os/exec"
	"syscall"
	"time"
)

// maxRSSBytes is the peak resident set of a finished command (Linux
// reports ru_maxrss in KiB).
func maxRSSBytes(cmd *exec.Cmd) uint64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return uint64(ru.Maxrss) * 1024
	}
	return 0
}

// cpuTime is the user plus system CPU time of a finished command.
func cpuTime(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}
