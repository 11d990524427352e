package process

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// child starts sleep and reaps it in the background (the kernel publishes
// the exit status on a pidfd once the parent reaps). It returns the child's
// identity as the lister reads it and the channel of its wait status.
func child(t *testing.T) (Key, <-chan *exec.ExitError) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	done := make(chan *exec.ExitError, 1)
	go func() {
		var ee *exec.ExitError
		_ = errors.As(cmd.Wait(), &ee)
		done <- ee
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	procs, err := NewLister().List(context.Background(), ListOptions{Filter: Filter{PIDs: []int32{int32(cmd.Process.Pid)}}, Fields: FieldName})
	if err != nil || len(procs) != 1 {
		t.Fatalf("list child: %v %v", procs, err)
	}
	return procs[0].Key(), done
}

func alive(pid int32) bool { return syscall.Kill(int(pid), 0) == nil }

func TestPidfdSignalerEndsTheIdentifiedProcess(t *testing.T) {
	for _, sig := range []Signal{SignalTerm, SignalKill} {
		t.Run(sig.String(), func(t *testing.T) {
			k, done := child(t)
			exit, err := NewSignaler().Signal(context.Background(), SignalRequest{Target: k, Signal: sig, Wait: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if !exit.Exited {
				t.Fatalf("not exited after %v: %+v", exit.Waited, exit)
			}
			ee := <-done
			if ee == nil || ee.Sys().(syscall.WaitStatus).Signal() != unixSignals[sig] {
				t.Fatalf("child wait status %v; want killed by %v", ee, sig)
			}
			// Linux 6.15+ tells the status through the pidfd; older kernels do not.
			if exit.Known && (exit.Signal != sig || exit.SignalNumber != int32(unixSignals[sig])) {
				t.Errorf("reported %+v; want signal %v", exit, sig)
			}
		})
	}
}

// PID reuse, simulated: the pid names a live process whose start time is
// not the one asked for, exactly what a reused pid looks like. It must be
// refused and the live process left alone.
func TestPidfdSignalerRefusesAReusedPID(t *testing.T) {
	k, _ := child(t)
	for _, shift := range []time.Duration{-time.Hour, -tick, tick, time.Minute} {
		stale := Key{PID: k.PID, StartTime: k.StartTime.Add(shift)}
		_, err := NewSignaler().Signal(context.Background(), SignalRequest{Target: stale, Signal: SignalKill})
		if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "pid reused") {
			t.Errorf("shift %v: %v; want not found naming the reuse", shift, err)
		}
	}
	if !alive(k.PID) {
		t.Fatal("the process with the reused pid was signalled")
	}
}

func TestPidfdSignalerGoneAndZombie(t *testing.T) {
	k, done := child(t)
	if _, err := NewSignaler().Signal(context.Background(), SignalRequest{Target: k, Signal: SignalKill, Wait: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	<-done
	if _, err := NewSignaler().Signal(context.Background(), SignalRequest{Target: k, Signal: SignalTerm}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("signal to an exited process: %v; want not found", err)
	}

	// A zombie (exited, not reaped) is refused as already exited.
	cmd := exec.Command("sh", "-c", "exit 3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Wait() })
	// waitid with WNOWAIT blocks until the child exits and leaves it unreaped.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	procs, err := NewLister().List(context.Background(), ListOptions{Filter: Filter{PIDs: []int32{int32(cmd.Process.Pid)}}, Fields: FieldStatus})
	if err != nil || len(procs) != 1 || procs[0].Status != StatusZombie {
		t.Fatalf("child is not a zombie: %+v, %v", procs, err)
	}
	zk := procs[0].Key()
	_, err = NewSignaler().Signal(context.Background(), SignalRequest{Target: zk, Signal: SignalTerm})
	if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "zombie") {
		t.Errorf("zombie: %v", err)
	}
}

func TestPidfdSignalerStopContWithoutWait(t *testing.T) {
	k, _ := child(t)
	s := NewSignaler()
	for _, sig := range []Signal{SignalStop, SignalCont} {
		exit, err := s.Signal(context.Background(), SignalRequest{Target: k, Signal: sig})
		if err != nil || exit.Exited {
			t.Fatalf("%v: %+v, %v", sig, exit, err)
		}
	}
	if !alive(k.PID) {
		t.Fatal("STOP/CONT ended the process")
	}
}

func TestKernelThreadDetection(t *testing.T) {
	if !isKernelThread(2) {
		t.Skip("pid 2 is not kthreadd in this pid namespace")
	}
	if isKernelThread(int32(syscall.Getpid())) {
		t.Error("the test process is not a kernel thread")
	}
}
