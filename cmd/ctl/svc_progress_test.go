package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/remotectl/remotectl/server/service"
)

// lockedBuffer is written by the progress loop and read by the test;
// written, if set, is signalled after each write.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{}
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written != nil {
		select {
		case l.written <- struct{}{}:
		default:
		}
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgressShowsStateAndElapsedThenErases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w lockedBuffer
		polls := 0
		states := []string{"running, pid 7", "stopping (deactivating), pid 7", "stopped"}
		call := func(ctx context.Context) (string, error) {
			time.Sleep(1550 * time.Millisecond) // the agent's wait for the unit, in fake time
			return "done", nil
		}
		poll := func(context.Context) string {
			s := states[min(polls, len(states)-1)]
			polls++
			return s
		}
		v, err := withProgress(t.Context(), &w, "stopping slow", call, poll)
		if v != "done" || err != nil {
			t.Fatalf("got %q, %v", v, err)
		}
		out := w.String()
		for _, want := range []string{"stopping slow: running, pid 7 (0.1s)", "stopping slow: stopping (deactivating), pid 7 (0.6s)", "stopping slow: stopped (1.5s)"} {
			if !strings.Contains(out, want) {
				t.Errorf("progress lacks %q:\n%q", want, out)
			}
		}
		if !strings.HasSuffix(out, "\r\x1b[K") {
			t.Errorf("progress line not erased at the end: %q", out[max(0, len(out)-40):])
		}
		if polls != 4 { // at 0, 0.5, 1.0 and 1.5 s
			t.Errorf("%d polls in 1.55 s, want 4", polls)
		}
	})
}

func TestProgressCancelledByCtrlC(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(300*time.Millisecond, cancel)
		call := func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		_, err := withProgress(ctx, &lockedBuffer{}, "x", call, func(context.Context) string { return "" })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want the call's cancellation", err)
		}
	})
}

func TestCarriesOn(t *testing.T) {
	for _, tc := range []struct{ os, action, want string }{
		{"linux", "stop", "systemd carries on with the job for nginx"},
		{"linux", "restart", "systemd carries on"},
		{"windows", "stop", "the service control manager carries on with nginx"},
		{"windows", "restart", "it will not be started again (run `ctl svc start nginx`)"},
		{"", "start", "the agent does not cancel a start it has asked the OS for"},
	} {
		if got := carriesOn(tc.os, tc.action, "nginx"); !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %q lacks %q", tc.os, tc.action, got, tc.want)
		}
	}
}

// A real stop (systemd harness) interrupted by Ctrl-C: exit 130 and a line
// saying systemd carries on; the unit does reach "stopped" without ctl.
func TestE2EInterruptedStopCarriesOn(t *testing.T) {
	ctx := ctxTimeout(t, 30*time.Second)
	if !serviceManagerUp(ctx) {
		t.Skip("no service manager reachable (run under scripts/systemd-harness.sh)")
	}
	p := newTestPKI(t)
	addr := startAgent(t, p)
	const unit = "remotectl-slowstop.service" // ExecStop=/bin/sleep 3
	args := append(p.tlsArgs(), "--host", addr, "svc")
	if r := runCtl(ctx, t, nil, append(args, "start", unit)...); r.code != exitOK {
		t.Fatalf("start: %+v", r)
	}
	progress := lockedBuffer{written: make(chan struct{}, 1)}
	var out, errb bytes.Buffer
	a := newApp(&out, &errb, envOf(map[string]string{"CTLD_STATE_DIR": t.TempDir()}))
	a.progressTo = &progress
	sctx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	code := make(chan int, 1)
	go func() { code <- a.run(sctx, append(args, "stop", unit)) }()
	// Ctrl-C once the progress line shows the unit deactivating.
	for !strings.Contains(progress.String(), "stopping (deactivating") {
		select {
		case c := <-code:
			t.Fatalf("stop ended (exit %d) before it was seen deactivating: %q", c, progress.String())
		case <-progress.written:
		}
	}
	interrupt()
	if c := <-code; c != exitInterrupted || !strings.Contains(errb.String(), "systemd carries on with the job for "+unit) {
		t.Fatalf("exit %d, stderr %q", c, errb.String())
	}
	r := runCtl(ctx, t, nil, append(args, "stop", unit, "--wait", "20s")...)
	if r.code != exitOK || !strings.Contains(r.stdout, "stopped") {
		t.Fatalf("the unit did not reach stopped on its own: %+v", r)
	}
}

// serviceManagerUp reports whether this host's service manager (the
// systemd harness, in CI) answers.
func serviceManagerUp(ctx context.Context) bool {
	mgr := service.NewManager()
	defer func() { _ = mgr.Close() }()
	return mgr.Status(ctx).Available
}
