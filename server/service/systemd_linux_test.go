package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/testutil"
)

// The integration tests need the units of scripts/systemd-harness.sh:
//
//	scripts/systemd-harness.sh up && . /tmp/remotectl-systemd/env
//	go test ./server/service/... -count=1
//	scripts/systemd-harness.sh down
const harnessHint = "run `scripts/systemd-harness.sh up` and source its env (. /tmp/remotectl-systemd/env)"

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// harness returns a Manager connected to the harness's systemd, or skips.
func harness(t *testing.T) Manager {
	t.Helper()
	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Skip("systemd not reachable: DBUS_SYSTEM_BUS_ADDRESS is unset; " + harnessHint)
	}
	m := NewManager()
	t.Cleanup(func() { m.Close() })
	ctx := testCtx(t)
	if st := m.Status(ctx); !st.Available {
		t.Skipf("systemd not reachable: %s; %s", st.Reason, harnessHint)
	}
	if _, err := m.Get(ctx, "remotectl-test"); err != nil {
		t.Skipf("systemd reachable but the harness units are missing (%v); %s", err, harnessHint)
	}
	return m
}

// ensure puts a unit in a known state before a test relies on it.
func ensure(t *testing.T, m Manager, name string, running bool) {
	t.Helper()
	op := m.Stop
	if running {
		op = m.Start
	}
	if _, err := op(testCtx(t), name, ControlOptions{}); err != nil {
		t.Fatalf("preparing %s (running=%v): %v", name, running, err)
	}
}

func find(l []Service, name string) (Service, bool) {
	i := slices.IndexFunc(l, func(s Service) bool { return s.Name == name })
	if i < 0 {
		return Service{}, false
	}
	return l[i], true
}

func names(l []Service) []string {
	var n []string
	for _, s := range l {
		n = append(n, s.Name)
	}
	return n
}

// assertProcess checks that pid is a live process of the harness's PID
// namespace (MainPID is in that namespace, not ours).
func assertProcess(t *testing.T, pid int32, comm string) {
	t.Helper()
	if pid <= 0 {
		t.Fatalf("MainPID = %d, want > 0", pid)
	}
	ns := os.Getenv("REMOTECTL_SYSTEMD_NS_PID")
	if ns == "" {
		return
	}
	// A Type=simple job is done once systemd forked: the child may still be
	// "(sleep)" setting itself up, so give it a moment to exec.
	var got string
	testutil.Poll(2*time.Second, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%s/root/proc/%d/comm", ns, pid))
		if err != nil {
			t.Fatalf("MainPID %d is not a process in the harness namespace: %v", pid, err)
		}
		got = strings.TrimSpace(string(b))
		return got == comm
	})
	if got != comm {
		t.Fatalf("MainPID %d runs %q, want %q", pid, got, comm)
	}
}

func TestSystemdList(t *testing.T) {
	m := harness(t)
	ensure(t, m, "remotectl-test", true)
	ctx := testCtx(t)

	all, err := m.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := find(all, "remotectl-test.service")
	if !ok {
		t.Fatalf("remotectl-test.service not in List: %v", names(all))
	}
	want := Service{
		Name: "remotectl-test.service", DisplayName: "remotectl-test", Description: "remotectl test service",
		State: StateRunning, NativeState: "active/running", StartType: StartTypeAutomatic, NativeStartType: "enabled",
	}
	got := s
	got.MainPID = 0
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List entry\n got %+v\nwant %+v", got, want)
	}
	assertProcess(t, s.MainPID, "sleep")

	// Merged from the unit files: never started, disabled; masked; static.
	for name, st := range map[string]StartType{
		"remotectl-disabled.service": StartTypeManual,
		"remotectl-masked.service":   StartTypeDisabled,
		"remotectl-fail.service":     StartTypeManual,
	} {
		s, ok := find(all, name)
		if !ok {
			t.Errorf("%s not in List", name)
			continue
		}
		if s.StartType != st || s.MainPID != 0 {
			t.Errorf("%s: StartType %v MainPID %d, want %v and 0", name, s.StartType, s.MainPID, st)
		}
	}
	if d, _ := find(all, "remotectl-disabled.service"); d.State != StateStopped || d.Description != "remotectl disabled service" {
		t.Errorf("remotectl-disabled.service: %+v", d)
	}
	if _, ok := find(all, "remotectl-alias.service"); ok {
		t.Error("the alias remotectl-alias.service is listed besides remotectl-test.service")
	}
	for i, s := range all {
		if isTemplate(s.Name) || !strings.HasSuffix(s.Name, ".service") {
			t.Errorf("List has %q", s.Name)
		}
		if i > 0 && all[i-1].Name >= s.Name {
			t.Errorf("List not sorted or has duplicates at %q", s.Name)
		}
	}

	// An instance has its own enablement ("enabled" through a .wants link),
	// not its template's ("indirect"), also when the glob hides the template.
	for _, f := range []Filter{{}, {NameGlob: "*@one*"}} {
		l, err := m.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		inst, ok := find(l, "remotectl-inst@one.service")
		if !ok || inst.NativeStartType != "enabled" || inst.StartType != StartTypeAutomatic ||
			inst.State != StateRunning || inst.Description != "remotectl instance one" {
			t.Errorf("List(%+v): instance %+v (found %v)", f, inst, ok)
		}
		if _, ok := find(l, "remotectl-inst@.service"); ok {
			t.Errorf("List(%+v) has the template remotectl-inst@.service", f)
		}
	}

	for _, tc := range []struct {
		f       Filter
		in, out []string
	}{
		{Filter{NameGlob: "remotectl-t*"}, []string{"remotectl-test.service"}, []string{"remotectl-dep.service"}},
		{Filter{NameGlob: "remotectl-test"}, []string{"remotectl-test.service"}, nil},
		{Filter{NameGlob: "remotectl-*", States: []State{StateRunning}},
			[]string{"remotectl-test.service", "remotectl-dep.service", "remotectl-base.service"},
			[]string{"remotectl-disabled.service", "remotectl-masked.service"}},
		{Filter{NameGlob: "remotectl-*", States: []State{StateStopped}},
			[]string{"remotectl-disabled.service", "remotectl-masked.service"},
			[]string{"remotectl-test.service"}},
	} {
		l, err := m.List(ctx, tc.f)
		if err != nil {
			t.Fatalf("%+v: %v", tc.f, err)
		}
		for _, n := range tc.in {
			if _, ok := find(l, n); !ok {
				t.Errorf("%+v: %s missing from %v", tc.f, n, names(l))
			}
		}
		for _, n := range tc.out {
			if _, ok := find(l, n); ok {
				t.Errorf("%+v: %s unexpectedly in %v", tc.f, n, names(l))
			}
		}
		for _, s := range l {
			if !tc.f.Match(s) {
				t.Errorf("%+v: %+v does not match", tc.f, s)
			}
		}
	}

	for _, f := range []Filter{{NameGlob: "["}, {States: []State{99}}} {
		if _, err := m.List(ctx, f); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("List(%+v) = %v, want ErrInvalidArgument", f, err)
		}
	}
}

func TestSystemdGet(t *testing.T) {
	m := harness(t)
	ctx := testCtx(t)
	ensure(t, m, "remotectl-dep", true)

	dep, err := m.Get(ctx, "remotectl-dep")
	if err != nil {
		t.Fatal(err)
	}
	if dep.Name != "remotectl-dep.service" || dep.Description != "remotectl dependent service" ||
		dep.Command != "/bin/sleep infinity" || dep.State != StateRunning || dep.NativeStartType != "enabled" {
		t.Errorf("Get(remotectl-dep) = %+v", dep)
	}
	if !slices.Contains(dep.Dependencies, "remotectl-base.service") {
		t.Errorf("Dependencies = %v, want remotectl-base.service", dep.Dependencies)
	}
	assertProcess(t, dep.MainPID, "sleep")

	base, err := m.Get(ctx, "remotectl-base.service")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(base.Dependents, "remotectl-dep.service") || base.NativeStartType != "static" {
		t.Errorf("Get(remotectl-base): Dependents %v NativeStartType %q", base.Dependents, base.NativeStartType)
	}

	alias, err := m.Get(ctx, "remotectl-alias")
	if err != nil || alias.Name != "remotectl-test.service" {
		t.Errorf("Get(alias) = %q, %v; want the primary name remotectl-test.service", alias.Name, err)
	}
	masked, err := m.Get(ctx, "remotectl-masked")
	if err != nil || masked.StartType != StartTypeDisabled || masked.NativeStartType != "masked" || masked.State != StateStopped {
		t.Errorf("Get(masked) = %+v, %v", masked, err)
	}
}

func TestSystemdStopStartRestart(t *testing.T) {
	m := harness(t)
	ctx := testCtx(t)
	const unit = "remotectl-test"
	ensure(t, m, unit, true)

	r, err := m.Stop(ctx, unit, ControlOptions{})
	if err != nil || !r.Changed || r.PreviousState != StateRunning || r.Service.State != StateStopped || r.Service.MainPID != 0 {
		t.Fatalf("Stop = %+v, %v", r, err)
	}
	r, err = m.Stop(ctx, unit, ControlOptions{})
	if err != nil || r.Changed || r.PreviousState != StateStopped || r.Service.State != StateStopped {
		t.Fatalf("second Stop = %+v, %v; want Changed=false", r, err)
	}

	r, err = m.Start(ctx, unit+".service", ControlOptions{Timeout: 10 * time.Second})
	if err != nil || !r.Changed || r.PreviousState != StateStopped || r.Service.State != StateRunning ||
		r.Service.NativeState != "active/running" {
		t.Fatalf("Start = %+v, %v", r, err)
	}
	assertProcess(t, r.Service.MainPID, "sleep")
	pid := r.Service.MainPID

	r, err = m.Start(ctx, unit, ControlOptions{})
	if err != nil || r.Changed || r.Service.MainPID != pid {
		t.Fatalf("second Start = %+v, %v; want Changed=false and the same PID", r, err)
	}

	r, err = m.Restart(ctx, unit, ControlOptions{})
	if err != nil || !r.Changed || r.PreviousState != StateRunning || r.Service.State != StateRunning {
		t.Fatalf("Restart = %+v, %v", r, err)
	}
	if r.Service.MainPID == pid {
		t.Errorf("Restart kept MainPID %d", pid)
	}
	assertProcess(t, r.Service.MainPID, "sleep")
}

func TestSystemdNotFound(t *testing.T) {
	m := harness(t)
	ctx := testCtx(t)
	const unit = "remotectl-no-such-unit"
	_, err := m.Get(ctx, unit)
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), unit) {
			t.Errorf("%s: %v, want ErrNotFound naming the unit", op, err)
		}
	}
	check("Get", err)
	_, err = m.Start(ctx, unit, ControlOptions{})
	check("Start", err)
	_, err = m.Stop(ctx, unit, ControlOptions{})
	check("Stop", err)
	_, err = m.Restart(ctx, unit, ControlOptions{})
	check("Restart", err)
}

func TestSystemdFailures(t *testing.T) {
	m := harness(t)
	ctx := testCtx(t)

	if _, err := m.Start(ctx, "remotectl-masked", ControlOptions{}); !errors.Is(err, errdefs.ErrFailedPrecondition) ||
		!strings.Contains(err.Error(), "masked") {
		t.Errorf("Start(masked) = %v, want ErrFailedPrecondition about masking", err)
	}

	_, err := m.Start(ctx, "remotectl-fail", ControlOptions{})
	if !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("Start(remotectl-fail) = %v, want ErrFailedPrecondition", err)
	}
	t.Logf("Start(remotectl-fail): %v", err)
	if s, err := m.Get(ctx, "remotectl-fail"); err != nil || s.State != StateFailed {
		t.Errorf("after the failed start: %+v, %v; want State failed", s, err)
	}
	// A failed unit counts as stopped.
	if r, err := m.Stop(ctx, "remotectl-fail", ControlOptions{}); err != nil || r.Changed {
		t.Errorf("Stop(failed unit) = %+v, %v; want Changed=false", r, err)
	}
}

func TestSystemdTimeout(t *testing.T) {
	m := harness(t)
	ctx := testCtx(t)
	const unit = "remotectl-slow"
	ensure(t, m, unit, false)
	t.Cleanup(func() { ensure(t, m, unit, false) }) // cancels the start job left behind

	start := time.Now()
	_, err := m.Start(ctx, unit, ControlOptions{Timeout: 500 * time.Millisecond})
	if !errors.Is(err, errdefs.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "activating") {
		t.Errorf("Start(slow, 500ms) = %v, want ErrDeadlineExceeded saying it is activating", err)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("Start(slow, 500ms) took %v", d)
	}
	t.Logf("Start(slow, 500ms): %v", err)

	// The caller's deadline bounds the wait too.
	ensure(t, m, unit, false)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := m.Start(short, unit, ControlOptions{}); !errors.Is(err, errdefs.ErrDeadlineExceeded) {
		t.Errorf("Start(slow) with a 300ms context = %v, want ErrDeadlineExceeded", err)
	}
}

func TestSystemdReconnect(t *testing.T) {
	m := harness(t)
	ctx := testCtx(t)
	sm := m.(*systemdManager)
	sm.conn.Close() // as if dbus-daemon had dropped us
	if _, err := m.Get(ctx, "remotectl-test"); err != nil {
		t.Fatalf("Get after losing the connection: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "remotectl-test"); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("Get after Close = %v, want ErrUnavailable", err)
	}
}

func TestSystemdConcurrent(t *testing.T) {
	m := harness(t)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); _, err := m.List(ctx, Filter{NameGlob: "remotectl-*"}); errs <- err }()
		go func() { defer wg.Done(); _, err := m.Get(ctx, "remotectl-base"); errs <- err }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
