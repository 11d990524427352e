package process

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/waits"
)

// Signal is a portable signal. Windows has only SignalTerm and SignalKill,
// both TerminateProcess.
type Signal int

const (
	SignalUnknown Signal = iota
	SignalTerm
	SignalKill
	SignalInt
	SignalHup
	SignalQuit
	SignalUsr1
	SignalUsr2
	SignalStop
	SignalCont
)

// signalNames are the names without "SIG", as kill -l prints them.
var signalNames = map[Signal]string{
	SignalTerm: "TERM", SignalKill: "KILL", SignalInt: "INT", SignalHup: "HUP", SignalQuit: "QUIT",
	SignalUsr1: "USR1", SignalUsr2: "USR2", SignalStop: "STOP", SignalCont: "CONT",
}

// Signals lists the portable signals in order, for help texts and checks.
var Signals = []Signal{SignalTerm, SignalKill, SignalInt, SignalHup, SignalQuit, SignalUsr1, SignalUsr2, SignalStop, SignalCont}

func (s Signal) String() string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("signal(%d)", int(s))
}

const (
	// MaxSignalWait bounds how long SignalProcess waits for an exit
	// (defined in internal/waits, which the client imports).
	MaxSignalWait = waits.SignalMax
	// DefaultExitCode is what a process terminated on Windows exits with
	// when the caller names no exit code.
	DefaultExitCode = 1
)

// SignalRequest names a process by identity and what to do to it.
type SignalRequest struct {
	Target Key
	Signal Signal
	// ExitCode is the exit code of a process terminated on Windows.
	ExitCode uint32
	// Wait is how long to wait for the process to exit; 0 returns at once.
	Wait time.Duration
}

// Validate checks the request independently of the platform.
func (r SignalRequest) Validate() error {
	switch {
	case r.Target.PID <= 0:
		return fmt.Errorf("%w: pid %d: a process ID is positive", errdefs.ErrInvalidArgument, r.Target.PID)
	case r.Target.StartTime.IsZero():
		return fmt.Errorf("%w: pid %d: the start time is required (it is the identity ListProcesses returns)", errdefs.ErrInvalidArgument, r.Target.PID)
	case signalNames[r.Signal] == "":
		return fmt.Errorf("%w: unknown signal %d", errdefs.ErrInvalidArgument, r.Signal)
	case r.Wait < 0 || r.Wait > MaxSignalWait:
		return fmt.Errorf("%w: wait %v: must be between 0 and %v", errdefs.ErrInvalidArgument, r.Wait, MaxSignalWait)
	}
	return nil
}

// Exit says how a process ended, as far as the platform tells.
type Exit struct {
	// Exited: the process is gone (or a zombie) when the call returns.
	Exited bool
	// Known: Code or Signal below are meaningful.
	Known bool
	// Code is the exit status of a normal exit (Signal 0).
	Code int32
	// SignalNumber is the number of the signal that ended the process (Unix);
	// Signal is its portable name when it has one.
	SignalNumber int32
	Signal       Signal
	Waited       time.Duration
}

// Signaler sends signals to processes named by identity. Implementations
// never act on a process whose start time differs from the target's: they
// hold the process (pidfd, handle) while checking it. Errors: ErrNotFound
// when the identified process is gone or its pid names another process,
// ErrInvalidArgument for a signal the platform lacks, ErrPermissionDenied
// when the OS refuses.
type Signaler interface {
	Signal(ctx context.Context, r SignalRequest) (Exit, error)
}

// NewSignaler returns the platform's Signaler.
func NewSignaler() Signaler { return newSignaler() }

// sameStart compares start times at the platform's resolution.
func sameStart(a, b time.Time, resolution time.Duration) bool {
	return a.Truncate(resolution).Equal(b.Truncate(resolution))
}

// SameStart reports whether two start times name the same process start on
// this platform (they agree to its resolution: Linux 10 ms, Windows 100 ns).
func SameStart(a, b time.Time) bool { return sameStart(a, b, startResolution) }

// Protection holds the built-in rules that keep a process out of reach of
// remote signals, whoever asks. Configured name globs and protected
// services are applied by the caller (they are policy, not host facts).
type Protection struct {
	Self, Parent int32
	// KernelThread reports whether pid is a kernel thread (or pseudo-process).
	KernelThread func(pid int32) bool
}

// HostProtection returns the rules for this host and this ctld.
func HostProtection() Protection {
	return Protection{Self: int32(os.Getpid()), Parent: int32(os.Getppid()), KernelThread: isKernelThread}
}

// Rule returns the built-in rule protecting p, or "".
func (pr Protection) Rule(p Process) string {
	switch {
	case p.PID == 1:
		return "pid 1 (init) is protected"
	case systemPID(p.PID):
		return fmt.Sprintf("pid %d is the operating system's %s process", p.PID, systemPIDName(p.PID))
	case pr.KernelThread != nil && pr.KernelThread(p.PID):
		return fmt.Sprintf("pid %d is a kernel thread", p.PID)
	case p.PID == pr.Self:
		return fmt.Sprintf("pid %d is ctld itself", p.PID)
	case p.PID == pr.Parent && pr.Parent > 1:
		return fmt.Sprintf("pid %d is ctld's parent (its service manager)", p.PID)
	}
	return ""
}

// systemPID: the pseudo-processes of the OS (systemPIDName per platform).
func systemPID(pid int32) bool { return systemPIDName(pid) != "" }
