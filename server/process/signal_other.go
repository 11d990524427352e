//go:build !linux && !windows

package process

import (
	"context"
	"fmt"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// unsupportedSignaler: without pidfds (macOS, BSDs) kill(2) cannot be tied
// to a verified identity, so the agent refuses rather than risk signalling
// a process that reused the pid.
type unsupportedSignaler struct{}

func newSignaler() Signaler { return unsupportedSignaler{} }

func (unsupportedSignaler) Signal(context.Context, SignalRequest) (Exit, error) {
	return Exit{}, fmt.Errorf("%w: signalling processes by identity needs pidfds (Linux) or process handles (Windows)", errdefs.ErrNotSupported)
}

// startResolution: gopsutil reports start times in milliseconds.
const startResolution = time.Millisecond

func isKernelThread(int32) bool { return false }

func systemPIDName(pid int32) string {
	if pid == 0 {
		return "kernel_task"
	}
	return ""
}
