package watch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/server/process"
)

// uniqueBinary copies /bin/true under a name no other process has.
func uniqueBinary(t *testing.T, prefix string) (dir, name string) {
	t.Helper()
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true")
	}
	dir = t.TempDir()
	name = fmt.Sprintf("%s%d", prefix, os.Getpid()%100000)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, name
}

// collect reads events until want processes have EXITED or the deadline.
func collect(t *testing.T, s Subscription, want int) (started, exited map[int32]Event) {
	t.Helper()
	started, exited = map[int32]Event{}, map[int32]Event{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(exited) < want {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("after %d STARTED, %d EXITED: %v", len(started), len(exited), err)
		}
		switch ev.Type {
		case EventStarted:
			started[ev.Process.PID] = ev
		case EventExited:
			exited[ev.Process.PID] = ev
		case EventResync:
			t.Fatal("RESYNC")
		}
	}
	return started, exited
}

// Short-lived processes of a uniquely named binary are all reported, with
// their name, to a watch filtered by that name: 200 in a row and two bursts
// of 50, most gone before /proc could be read (the taskstats exit record
// resolves them), every EXITED with exit code 0.
func TestFilteredWatchSeesEveryShortLivedProcess(t *testing.T) {
	e := connectorEngine(t)
	dir, name := uniqueBinary(t, "rctlT")
	bin := filepath.Join(dir, name)
	for _, tc := range []struct {
		name string
		f    process.Filter
	}{
		{"name", process.Filter{NameGlob: name}},
		{"user", process.Filter{NameGlob: name, User: "root"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.User == "root" && os.Geteuid() != 0 {
				t.Skip("needs root")
			}
			s := watch(t, e, Options{Filter: tc.f})
			for range 200 {
				if err := exec.Command(bin).Run(); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				var wg sync.WaitGroup
				for range 50 {
					wg.Go(func() { _ = exec.Command(bin).Run() })
				}
				wg.Wait()
			}
			started, exited := collect(t, s, 300)
			if len(started) != 300 {
				t.Fatalf("%d STARTED, want 300", len(started))
			}
			for pid, ev := range exited {
				if ev.Process.Name != name || ev.Exit == nil || ev.Exit.Code != 0 {
					t.Fatalf("pid %d EXITED %q exit %+v, want %q code 0", pid, ev.Process.Name, ev.Exit, name)
				}
				if st := started[pid]; st.Process.Name != name || st.Seq >= ev.Seq {
					t.Fatalf("pid %d STARTED %q seq %d, EXITED seq %d", pid, st.Process.Name, st.Seq, ev.Seq)
				}
			}
		})
	}
}

// A wrapper that execs the watched program reaches a watch on that name
// as EXEC (old and new program), then EXITED with the new name and its
// exit code; a watch on the wrapper's name sees the EXEC too.
func TestExecIsAnEvent(t *testing.T) {
	e := connectorEngine(t)
	dir, name := uniqueBinary(t, "rctlX")
	byNew := watch(t, e, Options{Filter: process.Filter{NameGlob: name}})
	me := int32(os.Getpid())
	byParent := watch(t, e, Options{Filter: process.Filter{PPID: &me, NameGlob: "sh"}})
	cmd := exec.Command("/bin/sh", "-c", "sleep 0.2; exec "+filepath.Join(dir, name)+" ignored")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := byNew.Next(ctx)
	if err != nil || ev.Type != EventExec || ev.Process.PID != pid || ev.Process.Name != name || ev.Before == nil || ev.Before.Name != "sh" {
		t.Fatalf("by new name: %v %+v before %+v (%v), want EXEC sh -> %s", ev.Type, ev.Process, ev.Before, err, name)
	}
	if ev, err = byNew.Next(ctx); err != nil || ev.Type != EventExited || ev.Process.Name != name || ev.Exit == nil || ev.Exit.Code != 0 {
		t.Fatalf("by new name: %v %+v exit %+v (%v), want EXITED %s code 0", ev.Type, ev.Process, ev.Exit, err, name)
	}
	if ev, err = byParent.Next(ctx); err != nil || ev.Type != EventStarted || ev.Process.PID != pid {
		t.Fatalf("by old name: %v %+v (%v), want STARTED", ev.Type, ev.Process, err)
	}
	if ev, err = byParent.Next(ctx); err != nil || ev.Type != EventExec || ev.Process.Name != name {
		t.Fatalf("by old name: %v %+v (%v), want EXEC", ev.Type, ev.Process, err)
	}
}

// EXITED carries the exit code, or the signal that killed the process.
func TestExitStatus(t *testing.T) {
	e := connectorEngine(t)
	me := int32(os.Getpid())
	s := watch(t, e, Options{Filter: process.Filter{PPID: &me, NameGlob: "sleep"}})
	for _, tc := range []struct {
		args []string
		kill bool
		want ExitStatus
	}{
		{[]string{"sleep", "0.05"}, false, ExitStatus{Code: 0}},
		{[]string{"sleep", "bad"}, false, ExitStatus{Code: 1}},
		{[]string{"sleep", "10"}, true, ExitStatus{Code: -1, Signal: 9}},
	} {
		cmd := exec.Command(tc.args[0], tc.args[1:]...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if tc.kill {
			if ev := next(t, s); ev.Type != EventStarted {
				t.Fatalf("got %v", ev.Type)
			}
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
		for {
			ev := next(t, s)
			if ev.Type != EventExited {
				continue
			}
			if ev.Exit == nil || *ev.Exit != tc.want {
				t.Fatalf("%v: exit %+v, want %+v", tc.args, ev.Exit, tc.want)
			}
			break
		}
	}
}

// One clock: the start time of a STARTED event equals the one a listing
// reads from /proc, and both lie within a tick of the real spawn.
func TestStartTimeIsOneClock(t *testing.T) {
	e := connectorEngine(t)
	me := int32(os.Getpid())
	s := watch(t, e, Options{Filter: process.Filter{PPID: &me, NameGlob: "sleep"}})
	for range 5 {
		before := time.Now()
		cmd := exec.Command("sleep", "1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		ev := next(t, s)
		ps, err := process.NewLister().List(context.Background(), process.ListOptions{Filter: process.Filter{PIDs: []int32{int32(cmd.Process.Pid)}}})
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if err != nil || len(ps) != 1 {
			t.Fatalf("list: %v %v", ps, err)
		}
		st := ev.Process.StartTime
		if !st.Equal(ps[0].StartTime) {
			t.Fatalf("STARTED start %v, listing %v", st, ps[0].StartTime)
		}
		if st.Before(before.Add(-startTolerance)) || st.After(after) {
			t.Fatalf("start %v not within [%v - 10ms, %v]", st, before, after)
		}
		for ev.Type != EventExited {
			ev = next(t, s)
		}
	}
}
