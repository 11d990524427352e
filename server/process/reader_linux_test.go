package process

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// spawn starts a child that is killed and reaped when the test ends.
func spawn(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	var err error
	for range 10 { // ETXTBSY: a binary just written may still be open in a forked child
		if err = cmd.Start(); err == nil || !errors.Is(err, syscall.ETXTBSY) {
			break
		}
		time.Sleep(20 * time.Millisecond)
		cmd = exec.Command(name, args...)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func listPIDs(t *testing.T, l Lister, opts ListOptions) []Process {
	t.Helper()
	ps, err := l.List(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func find(ps []Process, pid int) *Process {
	for i := range ps {
		if ps[i].PID == int32(pid) {
			return &ps[i]
		}
	}
	return nil
}

func TestLinuxChildByPID(t *testing.T) {
	spawned := time.Now()
	cmd := spawn(t, "sleep", "30")
	pid := cmd.Process.Pid
	l := NewLister()
	opts := ListOptions{Filter: Filter{PIDs: []int32{int32(pid)}}, Fields: FieldsAll &^ FieldCPU}
	// Until the child has run a little, its RSS may still be 0.
	var ps []Process
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ps = listPIDs(t, l, opts)
		if len(ps) != 1 || ps[0].Status == StatusSleeping || time.Now().After(deadline) {
			break
		}
	}
	if len(ps) != 1 || ps[0].PID != int32(pid) {
		t.Fatalf("got %+v, want pid %d only", ps, pid)
	}
	p := ps[0]

	exe, err := filepath.EvalSymlinks(cmd.Path)
	if err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "sleep" || p.Exe != exe || !slices.Equal(p.Args, []string{"sleep", "30"}) {
		t.Errorf("name %q exe %q (want %q) args %q", p.Name, p.Exe, exe, p.Args)
	}
	if p.User != me.Username || p.UID != int64(os.Geteuid()) || p.PPID != int32(os.Getpid()) {
		t.Errorf("user %q uid %d ppid %d", p.User, p.UID, p.PPID)
	}
	// btime has whole seconds, hence the slack.
	if d := p.StartTime.Sub(spawned); d < -1500*time.Millisecond || d > 3*time.Second {
		t.Errorf("start time %v is %v from spawn time %v", p.StartTime, d, spawned)
	}
	if p.Threads != 1 || p.RSS == 0 || p.VMS < p.RSS || p.Unavailable != 0 {
		t.Errorf("threads %d rss %d vms %d unavailable %#x", p.Threads, p.RSS, p.VMS, p.Unavailable)
	}
	if p.Status != StatusSleeping {
		t.Errorf("status %v, want sleeping", p.Status)
	}

	// Same identity on a second listing.
	again := listPIDs(t, l, opts)
	if len(again) != 1 || again[0].Key() != p.Key() {
		t.Fatalf("second listing %+v, want key %+v", again, p.Key())
	}
}

func TestLinuxChildrenByPPID(t *testing.T) {
	var want []int32
	for range 3 {
		want = append(want, int32(spawn(t, "sleep", "30").Process.Pid))
	}
	ps := listPIDs(t, NewLister(), ListOptions{Filter: Filter{PPID: ptr(int32(os.Getpid()))}, Fields: FieldName})
	var got []int32
	for _, p := range ps {
		if p.PPID != int32(os.Getpid()) {
			t.Fatalf("pid %d has ppid %d", p.PID, p.PPID)
		}
		got = append(got, p.PID)
	}
	for _, pid := range want {
		if !slices.Contains(got, pid) {
			t.Fatalf("child %d not among %v", pid, got)
		}
	}
}

// TestLinuxNameGlob runs sleep under a name longer than comm holds: as a
// copy (the full name comes from exe) and through a symlink (exe is
// sleep; the full name comes from argv[0]).
func TestLinuxNameGlob(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := "rctl-test-sleeper-" + strconv.Itoa(os.Getpid())
	copyFile(t, sleep, filepath.Join(dir, base+"-copy"))
	if err := os.Symlink(sleep, filepath.Join(dir, base+"-link")); err != nil {
		t.Fatal(err)
	}
	copied := spawn(t, filepath.Join(dir, base+"-copy"), "30").Process.Pid
	linked := spawn(t, filepath.Join(dir, base+"-link"), "30").Process.Pid

	l := NewLister()
	ps := listPIDs(t, l, ListOptions{Filter: Filter{NameGlob: base + "-*"}, Fields: FieldName})
	if len(ps) != 2 || find(ps, copied) == nil || find(ps, linked) == nil {
		t.Fatalf("glob found %+v, want pids %d and %d", ps, copied, linked)
	}
	if n := find(ps, copied).Name; n != base+"-copy" {
		t.Errorf("copy named %q", n)
	}
	if n := find(ps, linked).Name; n != base+"-link" {
		t.Errorf("link named %q", n)
	}
	// The truncated comm matches too short a glob no more.
	if ps := listPIDs(t, l, ListOptions{Filter: Filter{NameGlob: base[:15]}}); len(ps) != 0 {
		t.Errorf("truncated name matched: %+v", ps)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLinuxReapedChildGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ps := listPIDs(t, NewLister(), ListOptions{Filter: Filter{PIDs: []int32{int32(cmd.Process.Pid)}}})
	if len(ps) != 0 {
		t.Fatalf("reaped child listed: %+v", ps)
	}
}

func TestLinuxZombie(t *testing.T) {
	cmd := spawn(t, "true") // not waited for until cleanup: a zombie
	pid := cmd.Process.Pid
	l := NewLister()
	opts := ListOptions{Filter: Filter{PIDs: []int32{int32(pid)}}, Fields: FieldsAll &^ FieldCPU}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ps := listPIDs(t, l, opts)
		if len(ps) == 1 && ps[0].Status == StatusZombie {
			if p := ps[0]; p.Exe != "" || p.Args != nil || p.Unavailable != 0 {
				t.Fatalf("zombie: exe %q args %q unavailable %#x", p.Exe, p.Args, p.Unavailable)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never became a zombie: %+v", pid, ps)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLinuxCPUPercent checks cpu_percent against the kernel's own account of
// the burner's CPU time around the listing, not against an absolute figure: on
// a loaded 2-core host a busy loop may get well under one core.
func TestLinuxCPUPercent(t *testing.T) {
	burner := spawn(t, "sh", "-c", "while :; do :; done").Process.Pid
	sleeper := spawn(t, "sleep", "30").Process.Pid
	l := NewLister()
	opts := ListOptions{Filter: Filter{PIDs: []int32{int32(burner), int32(sleeper)}}, Fields: FieldCPU, Sort: SortCPU}
	cpuBefore := cpuTime(t, burner)
	start := time.Now()
	ps := listPIDs(t, l, opts) // no history: samples, waits, samples
	outer := time.Since(start)
	cpuAfter := cpuTime(t, burner)
	if outer < DefaultCPUWindow {
		t.Errorf("first listing took %v, less than the CPU window", outer)
	}
	if len(ps) != 2 || ps[0].PID != int32(burner) {
		t.Fatalf("got %+v, want burner %d first", ps, burner)
	}
	b, s := ps[0], ps[1]
	t.Logf("burner %.1f%% over %v (kernel: %v of CPU over %v), sleeper %.1f%%", b.CPUPercent, b.CPUWindow, cpuAfter-cpuBefore, outer, s.CPUPercent)
	if b.CPUWindow < DefaultCPUWindow || s.CPUWindow < DefaultCPUWindow {
		t.Errorf("windows %v, %v shorter than %v", b.CPUWindow, s.CPUWindow, DefaultCPUWindow)
	}
	// The listing's window lies inside [start, start+outer]. The burner is one
	// thread, so outside the window it used at most (outer - window) of CPU.
	inWindow := time.Duration(b.CPUPercent / 100 * float64(b.CPUWindow))
	const tick = 20 * time.Millisecond // two clock ticks of rounding
	if hi := cpuAfter - cpuBefore + tick; inWindow > hi {
		t.Errorf("burner used %v in the window, more than the kernel's %v around it", inWindow, hi)
	}
	if lo := cpuAfter - cpuBefore - (outer - b.CPUWindow) - tick; inWindow < lo {
		t.Errorf("burner used %v in the window, less than the kernel's %v", inWindow, lo)
	}
	if b.CPUPercent <= s.CPUPercent || s.CPUPercent >= 5 {
		t.Errorf("burner %.1f%%, sleeper %.1f%%", b.CPUPercent, s.CPUPercent)
	}
	if b.CPUUser+b.CPUSystem <= 0 {
		t.Errorf("burner CPU times %v+%v", b.CPUUser, b.CPUSystem)
	}
}

// cpuTime reads utime+stime of pid from /proc/PID/stat (USER_HZ is 100 on Linux).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	rest := string(data[bytes.LastIndexByte(data, ')')+2:]) // after "pid (comm) "
	f := strings.Fields(rest)
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse %q: %v %v", rest, err1, err2)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func TestLinuxPrime(t *testing.T) {
	sleeper := spawn(t, "sleep", "30").Process.Pid
	l := NewLister()
	if err := l.Prime(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(DefaultCPUWindow)
	start := time.Now()
	ps := listPIDs(t, l, ListOptions{Filter: Filter{PIDs: []int32{int32(sleeper)}}, Fields: FieldCPU})
	if d := time.Since(start); d > DefaultCPUWindow/2 {
		t.Errorf("primed listing took %v", d)
	}
	if len(ps) != 1 || ps[0].CPUWindow < DefaultCPUWindow {
		t.Fatalf("got %+v", ps)
	}
}

func TestLinuxFieldsZeroReadsNothingOptional(t *testing.T) {
	pid := spawn(t, "sleep", "30").Process.Pid
	// Ask the reader directly: the Lister would mask the fields anyway.
	r := newProcReader("/proc")
	ps, _, err := r.read(context.Background(), &query{pids: []int32{int32(pid)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("got %+v", ps)
	}
	p := ps[0]
	if p.Name != "" || p.Exe != "" || p.Args != nil || p.User != "" || p.UID != -1 || p.Status != StatusUnknown ||
		p.RSS != 0 || p.Threads != 0 || p.Unavailable != 0 {
		t.Fatalf("optional fields read: %+v", p)
	}
	if p.PPID != int32(os.Getpid()) || p.StartTime.IsZero() {
		t.Fatalf("always-read fields missing: %+v", p)
	}
}

func TestLinuxCount(t *testing.T) {
	l := NewLister()
	n, err := l.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ps := listPIDs(t, l, ListOptions{})
	// Others run processes on this host too: allow some churn.
	if n < 2 || n < len(ps)-50 || n > len(ps)+50 {
		t.Fatalf("Count() = %d, List found %d", n, len(ps))
	}
	if find(ps, os.Getpid()) == nil {
		t.Fatal("own process not listed")
	}
}

func TestLinuxChildOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as another user")
	}
	const nobody = 65534
	want := strconv.Itoa(nobody)
	if u, err := user.LookupId(want); err == nil {
		want = u.Username
	}
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	ps := listPIDs(t, NewLister(), ListOptions{
		Filter: Filter{User: want, PPID: ptr(int32(os.Getpid()))},
		Fields: FieldUser,
	})
	if len(ps) != 1 || ps[0].PID != int32(cmd.Process.Pid) || ps[0].UID != nobody || ps[0].User != want {
		t.Fatalf("got %+v, want pid %d as %s", ps, cmd.Process.Pid, want)
	}
}

// TestLinuxEUIDSources checks that PIDFD_GET_INFO, where the kernel has it,
// agrees with the Uid: line of /proc/PID/status for every process.
func TestLinuxEUIDSources(t *testing.T) {
	r := newProcReader("/proc")
	pids, err := r.listPIDs()
	if err != nil {
		t.Fatal(err)
	}
	sc := r.scratch.Get().(*procScratch)
	compared := 0
	for _, pid := range pids {
		sc.path = strconv.AppendInt(append(sc.path[:0], "/proc/"...), int64(pid), 10)
		sc.path = append(sc.path, '/')
		dir := len(sc.path)
		r.pidfdInfo.Store(true)
		viaPidfd, err1 := r.euid(sc, dir, pid)
		pidfd := r.pidfdInfo.Load()
		r.pidfdInfo.Store(false)
		viaStatus, err2 := r.euid(sc, dir, pid)
		if err1 != nil || err2 != nil {
			continue // exited meanwhile
		}
		if !pidfd {
			t.Skip("kernel has no PIDFD_GET_INFO; status is used")
		}
		if viaPidfd != viaStatus {
			t.Errorf("pid %d: pidfd says euid %d, status %d", pid, viaPidfd, viaStatus)
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("no process compared")
	}
}

func TestLinuxConcurrentList(t *testing.T) {
	pid := spawn(t, "sleep", "30").Process.Pid
	l := NewLister()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 3 {
				ps, err := l.List(context.Background(), ListOptions{Fields: FieldsAll, Sort: SortCPU})
				if err == nil && find(ps, pid) == nil {
					err = errors.New("child missing from a listing")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
