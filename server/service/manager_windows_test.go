package service

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/testutil"
)

// These tests drive the real SCM of the Windows host they run on; make
// test-windows runs them under Wine, whose services.exe is a real SCM with
// real services (Spooler, RpcSs, ...). The test binary doubles as the
// executable of the services it registers (see TestMain).

const svcFlag = "-remotectl-test-service="

func TestMain(m *testing.M) {
	for _, a := range os.Args[1:] {
		if name, ok := strings.CutPrefix(a, svcFlag); ok {
			if err := svc.Run(name, testService{slow: strings.Contains(name, "Slow")}); err != nil {
				os.Exit(3)
			}
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// testService reports START_PENDING with checkpoints and a wait hint before
// RUNNING; the slow one takes 20 s to start.
type testService struct{ slow bool }

func (t testService) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	steps := 2
	if t.slow {
		steps = 40
	}
	for i := 1; i <= steps; i++ {
		status <- svc.Status{State: svc.StartPending, CheckPoint: uint32(i), WaitHint: 2000}
		testutil.Window(500 * time.Millisecond) // the simulated slow start, one checkpoint each
	}
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for r := range req {
		switch r.Cmd {
		case svc.Interrogate:
			status <- r.CurrentStatus
		case svc.Stop, svc.Shutdown:
			status <- svc.Status{State: svc.StopPending, CheckPoint: 1, WaitHint: 2000}
			return false, 0
		}
	}
	return false, 0
}

func newSCM(t *testing.T) Manager {
	t.Helper()
	m := NewManager()
	if st := m.Status(context.Background()); !st.Available {
		t.Skipf("no usable SCM: %s", st.Reason)
	}
	return m
}

// register creates a demand-start service running this test binary and
// deletes it at the end of the test.
func register(t *testing.T, name string, cfg mgr.Config) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	m, err := mgr.Connect()
	if err != nil {
		t.Skipf("creating services needs administrator rights: %v", err)
	}
	defer m.Disconnect() //nolint:errcheck // test cleanup
	if old, err := m.OpenService(name); err == nil {
		_, _ = old.Control(svc.Stop)
		_ = old.Delete()
		_ = old.Close()
		// The SCM removes it once stopped and unopened; it announces nothing.
		testutil.Poll(5*time.Second, func() bool {
			s, err := m.OpenService(name)
			if err == nil {
				_ = s.Close()
			}
			return err != nil
		})
	}
	if cfg.StartType == 0 {
		cfg.StartType = mgr.StartManual
	}
	cfg.DisplayName = "remotectl test " + name
	cfg.Description = "remotectl test service " + name
	s, err := m.CreateService(name, exe, cfg, svcFlag+name)
	if err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	_ = s.Close()
	t.Cleanup(func() {
		m, err := mgr.Connect()
		if err != nil {
			return
		}
		defer m.Disconnect() //nolint:errcheck // test cleanup
		if s, err := m.OpenService(name); err == nil {
			// A service still starting refuses the stop control: end its
			// process, or it would linger, marked for deletion.
			if st, err := s.Query(); err == nil && st.ProcessId != 0 && st.State == svc.StartPending {
				if h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, st.ProcessId); err == nil {
					_ = windows.TerminateProcess(h, 1)
					_ = windows.CloseHandle(h)
				}
			}
			_, _ = s.Control(svc.Stop)
			testutil.Poll(5*time.Second, func() bool { st, err := s.Query(); return err != nil || st.State == svc.Stopped })
			_ = s.Delete()
			_ = s.Close()
		}
	})
}

func TestSCMListServices(t *testing.T) {
	m := newSCM(t)
	ctx := context.Background()
	start := time.Now()
	all, err := m.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ListServices: %d services in %v", len(all), time.Since(start))
	if !slices.IsSortedFunc(all, func(a, b Service) int { return compareFold(a.Name, b.Name) }) {
		t.Error("services are not sorted by name")
	}
	i := slices.IndexFunc(all, func(s Service) bool { return strings.EqualFold(s.Name, "Spooler") })
	if i < 0 {
		t.Fatalf("Spooler not among %d services", len(all))
	}
	sp := all[i]
	if sp.DisplayName == "" || sp.Command == "" || sp.StartType == StartTypeUnknown || sp.NativeState == "" {
		t.Errorf("Spooler = %+v, want display name, command, start type and state", sp)
	}
	if (sp.State == StateRunning) != (sp.MainPID > 0) {
		t.Errorf("Spooler state %v with main pid %d", sp.State, sp.MainPID)
	}
	got, err := m.List(ctx, Filter{NameGlob: "Spool*"})
	if err != nil || len(got) != 1 || got[0].Name != sp.Name {
		t.Errorf("glob Spool* = %+v, %v", got, err)
	}
	got, err = m.List(ctx, Filter{NameGlob: sp.DisplayName})
	if err != nil || len(got) != 1 || got[0].Name != sp.Name {
		t.Errorf("glob on display name %q = %+v, %v", sp.DisplayName, got, err)
	}
	if _, err := m.List(ctx, Filter{NameGlob: "["}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad glob = %v", err)
	}
}

func TestSCMSpoolerStopStart(t *testing.T) {
	m := newSCM(t)
	ctx := context.Background()
	opts := ControlOptions{Timeout: 30 * time.Second}
	t.Cleanup(func() { _, _ = m.Start(context.Background(), "Spooler", opts) })
	if _, err := m.Start(ctx, "Spooler", opts); err != nil {
		t.Fatal(err)
	}
	res, err := m.Stop(ctx, "Spooler", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.PreviousState != StateRunning || res.Service.State != StateStopped || res.Service.MainPID != 0 {
		t.Errorf("stop = %+v", res)
	}
	if res, err = m.Stop(ctx, "spooler", opts); err != nil || res.Changed || res.Service.Name != "Spooler" {
		t.Errorf("second stop (lower-case name) = %+v, %v; want no change, reported as Spooler", res, err)
	}
	res, err = m.Start(ctx, "Spooler", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.PreviousState != StateStopped || res.Service.State != StateRunning || res.Service.MainPID <= 0 {
		t.Errorf("start = %+v", res)
	}
	pid := res.Service.MainPID
	res, err = m.Restart(ctx, "Spooler", opts)
	if err != nil || !res.Changed || res.Service.State != StateRunning || res.Service.MainPID == pid {
		t.Errorf("restart = %+v, %v; want running with a new pid (was %d)", res, err, pid)
	}
}

func TestSCMDependents(t *testing.T) {
	m := newSCM(t)
	ctx := context.Background()
	register(t, "RemotectlBase", mgr.Config{})
	register(t, "RemotectlUser", mgr.Config{Dependencies: []string{"RemotectlBase"}})
	opts := ControlOptions{Timeout: 30 * time.Second}
	for _, n := range []string{"RemotectlBase", "RemotectlUser"} {
		res, err := m.Start(ctx, n, opts)
		if err != nil || res.Service.State != StateRunning {
			t.Fatalf("start %s = %+v, %v", n, res, err)
		}
	}
	base, err := m.Get(ctx, "RemotectlBase")
	if err != nil || !slices.Equal(base.Dependents, []string{"RemotectlUser"}) {
		t.Errorf("Get(RemotectlBase) dependents = %q, %v", base.Dependents, err)
	}
	user, err := m.Get(ctx, "RemotectlUser")
	if err != nil || !slices.Equal(user.Dependencies, []string{"RemotectlBase"}) || user.Description == "" || user.StartType != StartTypeManual {
		t.Errorf("Get(RemotectlUser) = %+v, %v", user, err)
	}

	_, err = m.Stop(ctx, "RemotectlBase", opts)
	if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "RemotectlUser") {
		t.Fatalf("stop with a running dependent = %v, want FAILED_PRECONDITION naming RemotectlUser", err)
	}

	res, err := m.Restart(ctx, "RemotectlBase", ControlOptions{Timeout: 30 * time.Second, StopDependents: true})
	if err != nil || res.Service.State != StateRunning || res.Service.MainPID == base.MainPID {
		t.Fatalf("restart with dependents = %+v, %v", res, err)
	}
	after, err := m.Get(ctx, "RemotectlUser")
	if err != nil || after.State != StateRunning || after.MainPID == user.MainPID {
		t.Errorf("dependent after restart = %+v, %v; want running again with a new pid (was %d)", after, err, user.MainPID)
	}

	res, err = m.Stop(ctx, "RemotectlBase", ControlOptions{Timeout: 30 * time.Second, StopDependents: true})
	if err != nil || res.Service.State != StateStopped {
		t.Fatalf("stop with dependents = %+v, %v", res, err)
	}
	if after, err = m.Get(ctx, "RemotectlUser"); err != nil || after.State != StateStopped {
		t.Errorf("dependent after stop = %+v, %v; want stopped", after, err)
	}
}

func TestSCMErrorsAndTimeouts(t *testing.T) {
	m := newSCM(t)
	ctx := context.Background()
	if _, err := m.Get(ctx, "NoSuchServiceXyz"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Get unknown = %v, want NotFound", err)
	}
	if _, err := m.Stop(ctx, "NoSuchServiceXyz", ControlOptions{}); !errors.Is(err, errdefs.ErrNotFound) ||
		!strings.Contains(err.Error(), windows.ERROR_SERVICE_DOES_NOT_EXIST.Error()) {
		t.Errorf("Stop unknown = %v, want NotFound with the OS message", err)
	}
	if _, err := m.Start(ctx, `a\b`, ControlOptions{}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("backslash name = %v, want InvalidArgument", err)
	}

	register(t, "RemotectlDisabled", mgr.Config{StartType: mgr.StartDisabled})
	if _, err := m.Start(ctx, "RemotectlDisabled", ControlOptions{Timeout: 5 * time.Second}); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("start disabled = %v, want FailedPrecondition", err)
	}
	if s, err := m.Get(ctx, "RemotectlDisabled"); err != nil || s.StartType != StartTypeDisabled {
		t.Errorf("disabled start type = %+v, %v", s, err)
	}

	register(t, "RemotectlSlow", mgr.Config{})
	start := time.Now()
	_, err := m.Start(ctx, "RemotectlSlow", ControlOptions{Timeout: 1500 * time.Millisecond})
	if !errors.Is(err, errdefs.ErrDeadlineExceeded) {
		t.Errorf("slow start = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("slow start returned after %v, want about the 1.5 s timeout", d)
	}
	if s, err := m.Get(ctx, "RemotectlSlow"); err != nil || s.State != StateStarting {
		t.Errorf("slow service = %+v, %v; want START_PENDING", s, err)
	}
}

// BenchmarkSCMList measures List over the host's SCM (one connection, one
// enumeration and one configuration read per service per call).
func BenchmarkSCMList(b *testing.B) {
	m := NewManager()
	if st := m.Status(context.Background()); !st.Available {
		b.Skipf("no usable SCM: %s", st.Reason)
	}
	n := 0
	for b.Loop() {
		all, err := m.List(context.Background(), Filter{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(all)
	}
	b.ReportMetric(float64(n), "services")
}

func TestSCMErrorMapping(t *testing.T) {
	for errno, want := range map[windows.Errno]error{
		windows.ERROR_SERVICE_DOES_NOT_EXIST:     errdefs.ErrNotFound,
		windows.ERROR_ACCESS_DENIED:              errdefs.ErrPermissionDenied,
		windows.ERROR_SERVICE_ALREADY_RUNNING:    errdefs.ErrFailedPrecondition,
		windows.ERROR_SERVICE_NOT_ACTIVE:         errdefs.ErrFailedPrecondition,
		windows.ERROR_DEPENDENT_SERVICES_RUNNING: errdefs.ErrFailedPrecondition,
		windows.ERROR_SERVICE_DISABLED:           errdefs.ErrFailedPrecondition,
		windows.ERROR_SERVICE_REQUEST_TIMEOUT:    errdefs.ErrDeadlineExceeded,
		windows.ERROR_SERVICE_DATABASE_LOCKED:    errdefs.ErrUnavailable,
		windows.ERROR_INVALID_NAME:               errdefs.ErrInvalidArgument,
		windows.Errno(12345):                     errdefs.ErrInternal,
	} {
		err := scmErr("stop", "Spooler", errno)
		if !errors.Is(err, want) || !errors.Is(err, errno) {
			t.Errorf("%d: %v, want %v wrapping the errno", uint32(errno), err, want)
		}
		if !strings.Contains(err.Error(), "stop Spooler: "+errno.Error()) {
			t.Errorf("%d: %q lacks the operation and the OS message %q", uint32(errno), err, errno.Error())
		}
	}
	if scmErr("x", "", nil) != nil {
		t.Error("scmErr(nil) != nil")
	}
}
