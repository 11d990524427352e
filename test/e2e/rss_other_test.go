//go:build !linux

package e2e

import (
	"os/exec"
	"time"
)

// maxRSSBytes is unknown here (0): the fleet figures are taken on Linux.
func maxRSSBytes(*exec.Cmd) uint64 { return 0 }

func cpuTime(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}
