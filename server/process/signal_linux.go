package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// unixSignals maps the portable signals to Linux's.
var unixSignals = map[Signal]unix.Signal{
	SignalTerm: unix.SIGTERM, SignalKill: unix.SIGKILL, SignalInt: unix.SIGINT, SignalHup: unix.SIGHUP,
	SignalQuit: unix.SIGQUIT, SignalUsr1: unix.SIGUSR1, SignalUsr2: unix.SIGUSR2, SignalStop: unix.SIGSTOP, SignalCont: unix.SIGCONT,
}

// exitInfoGrace bounds the wait, after a process's pidfd reports its exit,
// for its parent to reap it: the kernel publishes the exit status on the
// pidfd only then (PIDFD_INFO_EXIT, Linux 6.15+).
const exitInfoGrace = 200 * time.Millisecond

// pidfdSignaler signals through pidfds, which makes the identity check
// race-free: the pidfd names one process for its whole life, so once its
// start time is verified (and the process proven alive after the read),
// the signal cannot reach a process that reused the pid.
type pidfdSignaler struct {
	root     string // /proc
	bootOnce sync.Once
	boot     time.Time
	bootErr  error
}

func newSignaler() Signaler { return &pidfdSignaler{root: "/proc"} }

func (s *pidfdSignaler) Signal(ctx context.Context, r SignalRequest) (Exit, error) {
	if err := r.Validate(); err != nil {
		return Exit{}, err
	}
	sig := unixSignals[r.Signal]
	s.bootOnce.Do(func() { s.boot, s.bootErr = bootOf(s.root) })
	if s.bootErr != nil {
		return Exit{}, fmt.Errorf("%w: reading boot time: %w", errdefs.ErrUnavailable, s.bootErr)
	}
	fd, err := unix.PidfdOpen(int(r.Target.PID), 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return Exit{}, goneErr(r.Target)
		}
		return Exit{}, osErr("pidfd_open", r.Target, err)
	}
	defer unix.Close(fd) //nolint:errcheck // read-only use
	if err := s.verify(fd, r.Target); err != nil {
		return Exit{}, err
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return Exit{}, goneErr(r.Target)
		}
		return Exit{}, osErr("pidfd_send_signal "+r.Signal.String(), r.Target, err)
	}
	return waitExit(ctx, fd, r.Wait)
}

// verify reads the start time of the pid's current holder, then proves the
// pidfd's process is still alive: if it is, nobody else can hold its pid,
// so what was read is the pidfd's process.
func (s *pidfdSignaler) verify(fd int, k Key) error {
	b, err := os.ReadFile(s.root + "/" + strconv.Itoa(int(k.PID)) + "/stat")
	if err != nil {
		return goneErr(k)
	}
	var st procStat
	if err := parseStat(b, &st); err != nil {
		return fmt.Errorf("%w: pid %d: %w", errdefs.ErrInternal, k.PID, err)
	}
	if err := unix.PidfdSendSignal(fd, 0, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return goneErr(k)
		}
		return osErr("pidfd_send_signal 0", k, err)
	}
	if start := s.boot.Add(time.Duration(st.starttime) * tick); !sameStart(start, k.StartTime, tick) {
		return staleErr(k, start)
	}
	if st.state == 'Z' {
		return fmt.Errorf("%w: process %d has already exited (a zombie its parent has not reaped)", errdefs.ErrFailedPrecondition, k.PID)
	}
	return nil
}

// waitExit polls the pidfd, which becomes readable when the process exits,
// for at most wait; then reads the exit status where the kernel gives it.
func waitExit(ctx context.Context, fd int, wait time.Duration) (Exit, error) {
	start := time.Now()
	deadline := start.Add(wait)
	var out Exit
	for {
		left := max(time.Until(deadline), 0)
		select {
		case <-ctx.Done():
			left = 0 // the caller gave up: one last look
		default:
		}
		exited, err := pollExit(fd, min(left, 100*time.Millisecond))
		if err != nil {
			return out, err
		}
		if exited {
			out.Exited = true
			break
		}
		if left == 0 {
			out.Waited = time.Since(start)
			return out, nil
		}
	}
	// The status appears once the parent reaps the process.
	for {
		ws, known, retry := exitStatus(fd)
		if known {
			out.Known = true
			switch {
			case ws.Exited():
				out.Code = int32(ws.ExitStatus())
			case ws.Signaled():
				out.SignalNumber = int32(ws.Signal())
				out.Signal = portableSignal(ws.Signal())
			}
		}
		if known || !retry || time.Since(start) > wait+exitInfoGrace {
			break
		}
		select {
		case <-ctx.Done():
			out.Waited = time.Since(start)
			return out, nil
		case <-time.After(10 * time.Millisecond):
		}
	}
	out.Waited = time.Since(start)
	return out, nil
}

// pollExit waits up to d for the pidfd to become readable (its process
// exited); an interrupted poll counts as not yet.
func pollExit(fd int, d time.Duration) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(d/time.Millisecond))
	switch {
	case errors.Is(err, unix.EINTR):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: poll pidfd: %w", errdefs.ErrInternal, err)
	}
	return n > 0, nil
}

// exitStatus reads the exit status of the pidfd's process (PIDFD_INFO_EXIT,
// Linux 6.15+). retry: not published yet (the parent has not reaped it);
// otherwise the kernel cannot tell (ENOTTY, EINVAL: no pidfd info).
func exitStatus(fd int) (ws unix.WaitStatus, known, retry bool) {
	info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_EXIT}
	if err := unix.IoctlPidfdInfo(fd, &info); err != nil {
		return 0, false, errors.Is(err, unix.ESRCH)
	}
	if info.Mask&unix.PIDFD_INFO_EXIT == 0 {
		return 0, false, true
	}
	return unix.WaitStatus(info.Exit_code), true, false
}

func portableSignal(sig unix.Signal) Signal {
	for k, v := range unixSignals {
		if v == sig {
			return k
		}
	}
	return SignalUnknown
}

func osErr(op string, k Key, err error) error {
	kind := errdefs.ErrInternal
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		kind = errdefs.ErrPermissionDenied
	}
	return fmt.Errorf("%w: %s of process %d: %w", kind, op, k.PID, err)
}

// isKernelThread reads PF_KTHREAD from /proc/PID/stat; pid 2 (kthreadd)
// carries it too.
func isKernelThread(pid int32) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/stat")
	if err != nil {
		return false
	}
	var st procStat
	return parseStat(b, &st) == nil && st.flags&pfKthread != 0
}

func systemPIDName(pid int32) string {
	if pid == 0 {
		return "scheduler"
	}
	return ""
}
