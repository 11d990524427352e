package process

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// handleSignaler terminates processes through a handle: while ctld holds
// it the process object (and so its pid) cannot be reused, so the creation
// time read through the handle is the identity of what TerminateProcess
// ends. TERM and KILL both map to TerminateProcess: Windows offers no
// graceful request to an arbitrary process.
type handleSignaler struct{}

func newSignaler() Signaler { return handleSignaler{} }

// startResolution is the FILETIME tick.
const startResolution = 100 * time.Nanosecond

// stillActive is STILL_ACTIVE, the exit code of a running process.
const stillActive = 259

func (handleSignaler) Signal(ctx context.Context, r SignalRequest) (Exit, error) {
	if err := r.Validate(); err != nil {
		return Exit{}, err
	}
	if r.Signal != SignalTerm && r.Signal != SignalKill {
		return Exit{}, fmt.Errorf("%w: signal %s does not exist on Windows; TERM and KILL both terminate the process", errdefs.ErrInvalidArgument, r.Signal)
	}
	k := r.Target
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE|windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, uint32(k.PID))
	if err != nil {
		if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
			return Exit{}, goneErr(k)
		}
		return Exit{}, winErr("OpenProcess", k, err)
	}
	defer windows.CloseHandle(h) //nolint:errcheck // a handle we own
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return Exit{}, winErr("GetProcessTimes", k, err)
	}
	if start := time.Unix(0, created.Nanoseconds()); !sameStart(start, k.StartTime, startResolution) {
		return Exit{}, staleErr(k, start)
	}
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err == nil && code != stillActive {
		return Exit{}, goneErr(k)
	}
	if err := windows.TerminateProcess(h, r.ExitCode); err != nil {
		return Exit{}, winErr("TerminateProcess", k, err)
	}
	return waitHandle(ctx, h, r.Wait)
}

// waitHandle waits for the process object to be signalled (exited), in
// slices so the caller's context is honoured.
func waitHandle(ctx context.Context, h windows.Handle, wait time.Duration) (Exit, error) {
	start := time.Now()
	deadline := start.Add(wait)
	for {
		left := time.Until(deadline)
		if ctx.Err() != nil || left < 0 {
			left = 0
		}
		ev, err := windows.WaitForSingleObject(h, uint32(min(left, 100*time.Millisecond)/time.Millisecond))
		if err != nil {
			return Exit{}, fmt.Errorf("%w: WaitForSingleObject: %w", errdefs.ErrInternal, err)
		}
		if ev == windows.WAIT_OBJECT_0 {
			out := Exit{Exited: true, Waited: time.Since(start)}
			var code uint32
			if windows.GetExitCodeProcess(h, &code) == nil {
				out.Known, out.Code = true, int32(code)
			}
			return out, nil
		}
		if left == 0 {
			return Exit{Waited: time.Since(start)}, nil
		}
	}
}

func winErr(op string, k Key, err error) error {
	kind := errdefs.ErrInternal
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		kind = errdefs.ErrPermissionDenied
	}
	return fmt.Errorf("%w: %s of process %d: %w", kind, op, k.PID, err)
}

// isKernelThread: Windows has no kernel threads as processes; its
// pseudo-processes are covered by systemPIDName.
func isKernelThread(int32) bool { return false }

func systemPIDName(pid int32) string {
	switch pid {
	case 0:
		return "System Idle"
	case 4:
		return "System"
	}
	return ""
}
