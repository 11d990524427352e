package e2e

import (
	"os/exec"
	"syscall"
)

// maxRSSBytes is the peak resident set of a finished command (Linux
// reports ru_maxrss in KiB).
func maxRSSBytes(cmd *exec.Cmd) uint64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return uint64(ru.Maxrss) * 1024
	}
	return 0
}
