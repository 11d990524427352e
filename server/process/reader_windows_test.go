package process

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// These tests read the real process table of the Windows host they run on
// (make test-windows runs them under Wine).

// TestMain lets the test binary double as a child process that idles.
func TestMain(m *testing.M) {
	if os.Getenv("REMOTECTL_TEST_CHILD") == "sleep" {
		testutil.Window(time.Minute) // the child's lifetime: it idles until killed
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startChild(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"-test.run=^$"}, args...)...)
	cmd.Env = append(os.Environ(), "REMOTECTL_TEST_CHILD=sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func TestWindowsListSelfAndChild(t *testing.T) {
	child := startChild(t, "two words", `quote"d`)
	self := int32(os.Getpid())
	exe, _ := os.Executable()
	started := time.Now()
	l := NewLister()
	ctx := context.Background()
	ps, err := l.List(ctx, ListOptions{Fields: FieldsAll})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 3 {
		t.Fatalf("listed %d processes, want the Windows host's table", len(ps))
	}
	byPID := map[int32]Process{}
	for _, p := range ps {
		byPID[p.PID] = p
	}
	me, ok := byPID[self]
	if !ok {
		t.Fatalf("own pid %d not listed", self)
	}
	if want := filepath.Base(exe); !strings.EqualFold(me.Name, want) {
		t.Errorf("own name = %q, want %q", me.Name, want)
	}
	if !strings.EqualFold(filepath.Clean(me.Exe), filepath.Clean(exe)) {
		t.Errorf("own exe = %q, want %q", me.Exe, exe)
	}
	if me.User == "" || me.Unavailable&FieldUser != 0 {
		t.Errorf("own user = %q (unavailable %b)", me.User, me.Unavailable)
	}
	if me.Threads < 1 || me.RSS == 0 || me.VMS == 0 {
		t.Errorf("own threads/rss/vms = %d/%d/%d, want > 0", me.Threads, me.RSS, me.VMS)
	}
	if me.StartTime.IsZero() || me.StartTime.After(started) || started.Sub(me.StartTime) > time.Hour {
		t.Errorf("own start time %v, want shortly before %v", me.StartTime, started)
	}
	if me.Unavailable&FieldStatus == 0 {
		t.Errorf("status should be reported unavailable on Windows, got %v", me.Status)
	}

	kid, ok := byPID[int32(child.Process.Pid)]
	if !ok {
		t.Fatalf("child pid %d not listed", child.Process.Pid)
	}
	if kid.PPID != self {
		t.Errorf("child ppid = %d, want %d", kid.PPID, self)
	}
	if n := len(kid.Args); n < 3 || kid.Args[n-2] != "two words" || kid.Args[n-1] != `quote"d` {
		t.Errorf("child args = %q (unavailable %b), want them to end with %q, %q", kid.Args, kid.Unavailable, "two words", `quote"d`)
	}
	if kid.StartTime.Before(me.StartTime) {
		t.Errorf("child start %v before parent start %v", kid.StartTime, me.StartTime)
	}
}

func TestWindowsFilterAndCount(t *testing.T) {
	child := startChild(t)
	l := NewLister()
	ctx := context.Background()
	pid := int32(child.Process.Pid)
	ps, err := l.List(ctx, ListOptions{Filter: Filter{PIDs: []int32{pid}}, Fields: FieldName | FieldUser})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].PID != pid {
		t.Fatalf("PID filter %d gave %+v", pid, ps)
	}
	// The child runs as the same user as this test.
	user := ps[0].User
	ps, err = l.List(ctx, ListOptions{Filter: Filter{User: user, NameGlob: ps[0].Name}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ps, func(p Process) bool { return p.PID == pid }) {
		t.Errorf("user %q + name filter lost the child %d: %+v", user, pid, ps)
	}
	ps, err = l.List(ctx, ListOptions{Filter: Filter{NameGlob: "no-such-process-*"}})
	if err != nil || len(ps) != 0 {
		t.Errorf("non-matching glob = %v, %v", ps, err)
	}
	n, err := l.Count(ctx)
	if err != nil || n < 3 {
		t.Errorf("Count = %d, %v", n, err)
	}
}

// Wine's own services run in wine's processes; at least services.exe, the
// SCM, must be listed with its name and pid.
func TestWindowsSystemProcesses(t *testing.T) {
	ps, err := NewLister().List(context.Background(), ListOptions{Filter: Filter{NameGlob: "services.exe"}, Fields: FieldName | FieldExe | FieldCPU | FieldMemory})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		t.Fatal("services.exe (the SCM) not listed")
	}
	p := ps[0]
	if p.PID <= 0 || p.RSS == 0 {
		t.Errorf("services.exe = %+v", p)
	}
	if p.CPUWindow <= 0 {
		t.Errorf("services.exe CPU window %v, want a measured percentage", p.CPUWindow)
	}
}

func TestSplitCommandLine(t *testing.T) {
	for in, want := range map[string][]string{
		``:                           nil,
		`C:\x.exe`:                   {`C:\x.exe`},
		`"C:\Program Files\x.exe" a`: {`C:\Program Files\x.exe`, "a"},
		`x "a b" c\"d`:               {"x", "a b", `c"d`},
	} {
		if got := splitCommandLine(in); !slices.Equal(got, want) {
			t.Errorf("splitCommandLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkWindowsList measures a full listing with every field (one
// snapshot, one OpenProcess per process for exe, user and argv).
func BenchmarkWindowsList(b *testing.B) {
	l := NewLister()
	ctx := context.Background()
	if err := l.Prime(ctx); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		ps, err := l.List(ctx, ListOptions{Fields: FieldsAll})
		if err != nil {
			b.Fatal(err)
		}
		n = len(ps)
	}
	b.ReportMetric(float64(n), "procs")
}
