package process

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/testutil"
)

// TestHelperSleeper is not a test: the child the signal tests terminate.
func TestHelperSleeper(t *testing.T) {
	if os.Getenv("REMOTECTL_SLEEPER") != "1" {
		t.Skip("helper process")
	}
	testutil.Window(time.Minute) // the child's lifetime: it idles until terminated
}

func sleeper(t *testing.T) (Key, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSleeper$")
	cmd.Env = append(os.Environ(), "REMOTECTL_SLEEPER=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	procs, err := NewLister().List(context.Background(), ListOptions{Filter: Filter{PIDs: []int32{int32(cmd.Process.Pid)}}, Fields: FieldName})
	if err != nil || len(procs) != 1 {
		t.Fatalf("list child: %v, %v", procs, err)
	}
	return procs[0].Key(), cmd
}

// TestHandleSignalerTerminatesByIdentity: a stale start time (the pid
// reused, simulated) is refused and leaves the process alone; the right
// identity terminates it with the requested exit code.
func TestHandleSignalerTerminatesByIdentity(t *testing.T) {
	k, cmd := sleeper(t)
	s := NewSignaler()
	ctx := context.Background()
	stale := Key{PID: k.PID, StartTime: k.StartTime.Add(-time.Second)}
	if _, err := s.Signal(ctx, SignalRequest{Target: stale, Signal: SignalKill}); !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "pid reused") {
		t.Fatalf("stale identity: %v", err)
	}
	if _, err := s.Signal(ctx, SignalRequest{Target: k, Signal: SignalHup}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("HUP on Windows: %v", err)
	}
	exit, err := s.Signal(ctx, SignalRequest{Target: k, Signal: SignalTerm, ExitCode: 7, Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !exit.Exited || !exit.Known || exit.Code != 7 {
		t.Fatalf("exit %+v; want exited with code 7", exit)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Fatalf("child exit code %d, want 7", code)
	}
	if _, err := s.Signal(ctx, SignalRequest{Target: k, Signal: SignalTerm}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("second terminate: %v", err)
	}
}
