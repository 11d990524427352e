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
	s.bootOnce.Do(func() { s.boot, _, s.bootErr = bootTime(s.root) })
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
		left := time.Until(deadline)
		if ctx.Err() != nil || left < 0 {
			left = 0
		}
		ms := int(min(left, 100*time.Millisecond) / time.Millisecond)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return out, fmt.Errorf("%w: poll pidfd: %w", errdefs.ErrInternal, err)
		}
		if n > 0 {
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
		info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_EXIT}
		err := unix.IoctlPidfdInfo(fd, &info)
		if err == nil && info.Mask&unix.PIDFD_INFO_EXIT != 0 {
			ws := unix.WaitStatus(info.Exit_code)
			out.Known = true
			switch {
			case ws.Exited():
				out.Code = int32(ws.ExitStatus())
			case ws.Signaled():
				out.SignalNumber = int32(ws.Signal())
				out.Signal = portableSignal(ws.Signal())
			}
			break
		}
		// ESRCH: reaped before 6.15 could tell; ENOTTY/EINVAL: no pidfd info.
		if err != nil && !errors.Is(err, unix.ESRCH) || time.Since(start) > wait+exitInfoGrace || ctx.Err() != nil {
			break
		}
		_, _ = unix.Poll(nil, 10)
	}
	out.Waited = time.Since(start)
	return out, nil
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
