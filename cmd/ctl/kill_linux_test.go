package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// sleeper is a spawned sleep under a unique name, reaped in the background.
type sleeper struct {
	pid    int
	name   string
	exited chan *exec.ExitError
}

func spawnSleep(t *testing.T, name string) *sleeper {
	t.Helper()
	cmd := exec.Command(testutil.NamedSleep(t, name), "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sleeper{pid: cmd.Process.Pid, name: name, exited: make(chan *exec.ExitError, 1)}
	go func() {
		var ee *exec.ExitError
		_ = errors.As(cmd.Wait(), &ee)
		s.exited <- ee
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return s
}

func (s *sleeper) alive() bool { return syscall.Kill(s.pid, 0) == nil && len(s.exited) == 0 }

// answer makes kill --name's confirmation read in from a terminal or not,
// for the rest of the test.
func answer(t *testing.T, in string, tty bool) {
	saved := confirmInput
	t.Cleanup(func() { confirmInput = saved })
	confirmInput = func() (io.Reader, bool) { return strings.NewReader(in), tty }
}

func uniqueProcName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func TestE2EKillEndsTheProcessAndSaysHow(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	addr := startAgent(t, p)
	ctx := ctxTimeout(t, 60*time.Second)
	args := append(p.tlsArgs(), "--host", addr)

	s := spawnSleep(t, uniqueProcName("k"))
	r := runCtl(ctx, t, nil, append(args, "kill", strconv.Itoa(s.pid))...)
	if r.code != 0 || !strings.Contains(r.stdout, s.name+"): TERM sent; exited") {
		t.Fatalf("kill: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if ee := <-s.exited; ee == nil || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Fatalf("sleep ended with %v, want SIGTERM", ee)
	}

	s = spawnSleep(t, uniqueProcName("k"))
	r = runCtl(ctx, t, nil, append(args, "kill", strconv.Itoa(s.pid), "--signal", "KILL", "-o", "json")...)
	var v killView
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil {
		t.Fatalf("kill -s KILL: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if !v.Exited || v.Signal != "KILL" || v.Name != s.name || v.StartTime == "" {
		t.Fatalf("json %+v", v)
	}
	if ee := <-s.exited; ee == nil || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("sleep ended with %v, want SIGKILL", ee)
	}
}

func TestE2EKillRefusals(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	addr := startAgent(t, p)
	ctx := ctxTimeout(t, 60*time.Second)
	args := append(p.tlsArgs(), "--host", addr)
	s := spawnSleep(t, uniqueProcName("r"))

	// The real start time, then one that is not it: the pid "reused".
	r := runCtl(ctx, t, nil, append(args, "ps", "--pid", strconv.Itoa(s.pid), "-o", "json")...)
	var procs []processView
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &procs) != nil || len(procs) != 1 {
		t.Fatalf("ps: %d %q %q", r.code, r.stdout, r.stderr)
	}
	start, _ := time.Parse(time.RFC3339Nano, procs[0].StartTime)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"stale identity", []string{"kill", strconv.Itoa(s.pid), "--start-time", start.Add(-time.Minute).Format(time.RFC3339Nano), "-s", "KILL"}, exitNotFound, "pid reused"},
		{"init", []string{"kill", "1"}, exitAuth, "pid 1 (init)"},
		{"ctld itself", []string{"kill", strconv.Itoa(os.Getpid())}, exitAuth, "ctld itself"},
		{"no such pid", []string{"kill", "2147483647"}, exitNotFound, "no process"},
		{"bad signal", []string{"kill", strconv.Itoa(s.pid), "-s", "WINCH"}, exitUsage, "invalid --signal"},
		{"bad pid", []string{"kill", "abc"}, exitUsage, "invalid PID"},
		{"--yes without --name", []string{"kill", strconv.Itoa(s.pid), "--yes"}, exitUsage, "go with --name"},
		{"no confirmation without a terminal", []string{"kill", "--name", s.name}, exitUsage, "pass --yes"},
	}
	answer(t, "y\n", false)
	for _, c := range cases {
		r := runCtl(ctx, t, nil, append(args, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d mentioning %q", c.name, r.code, r.stderr, c.code, c.want)
		}
	}
	if !s.alive() {
		t.Fatal("a refused kill ended the process")
	}
}

func TestE2EKillByName(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	addr := startAgent(t, p)
	ctx := ctxTimeout(t, 60*time.Second)
	args := append(p.tlsArgs(), "--host", addr)
	name := uniqueProcName("n")
	a, b := spawnSleep(t, name), spawnSleep(t, name)

	r := runCtl(ctx, t, nil, append(args, "kill", "--name", name, "--dry-run")...)
	if r.code != 0 || strings.Count(r.stdout, name) != 2 || !strings.Contains(r.stderr, "dry run: 2 process(es) would be sent TERM; none was") {
		t.Fatalf("dry run: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if !a.alive() || !b.alive() {
		t.Fatal("--dry-run ended a process")
	}
	// A "no" on the terminal ends nothing; "y" ends both.
	answer(t, "n\n", true)
	if r = runCtl(ctx, t, nil, append(args, "kill", "--name", name)...); r.code != exitError || !a.alive() || !b.alive() {
		t.Fatalf("declined: exit %d, stderr %q", r.code, r.stderr)
	}
	answer(t, "y\n", true)
	r = runCtl(ctx, t, nil, append(args, "kill", "--name", name, "-o", "json")...)
	var views []killView
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &views) != nil || len(views) != 2 || !views[0].Exited || !views[1].Exited {
		t.Fatalf("confirmed: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	<-a.exited
	<-b.exited
}
