package watch

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/server/process"
)

func connectorEngine(t *testing.T) *Engine {
	t.Helper()
	// The tests read after spawning: the queue holds all their events.
	e := NewEngine(Config{Lister: process.NewLister(), QueueSize: 8192})
	t.Cleanup(e.Close)
	if e.Mode() != "netlink" {
		t.Skip("the netlink process connector needs root or CAP_NET_ADMIN in the initial namespaces; CI runs as root")
	}
	return e
}

// Fifty `true` processes started at once, then a thousand one after the
// other, live far shorter than a poll interval; the connector still reports
// every STARTED and EXITED pair.
func TestConnectorCatchesShortLivedProcesses(t *testing.T) {
	e := connectorEngine(t)
	me := int32(os.Getpid())
	s := watch(t, e, Options{Filter: process.Filter{PPID: &me}})

	const n = 50
	pids := make(chan int32, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			cmd := exec.Command("true")
			if err := cmd.Run(); err != nil {
				t.Error(err)
				return
			}
			pids <- int32(cmd.Process.Pid)
		})
	}
	wg.Wait()
	close(pids)
	want := map[int32]bool{}
	for pid := range pids {
		want[pid] = true
	}
	// Then a steady stream, which catches processes in the middle of their
	// exit (their /proc entry reads parent 0 then).
	const m = 1000
	for range m {
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		want[int32(cmd.Process.Pid)] = true
		wg.Go(func() { _ = cmd.Wait() })
	}
	wg.Wait()
	started := map[int32]Event{}
	exited := map[int32]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(exited) < len(want) && time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		ev, err := s.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		pid := ev.Process.PID
		if !want[pid] {
			continue // another child of the test binary
		}
		switch ev.Type {
		case EventStarted:
			started[pid] = ev
		case EventExited:
			st, ok := started[pid]
			if !ok {
				t.Fatalf("EXITED pid %d before its STARTED", pid)
			}
			if !ev.Process.StartTime.Equal(st.Process.StartTime) {
				t.Errorf("pid %d: EXITED start time %v != STARTED %v", pid, ev.Process.StartTime, st.Process.StartTime)
			}
			exited[pid] = true
		case EventExec:
			// A child slower than forkGrace to exec (a loaded host) is
			// announced before it, then gets EXEC: both are correct.
		default:
			t.Fatalf("unexpected %v", ev.Type)
		}
	}
	if len(started) != len(want) || len(exited) != len(want) {
		t.Fatalf("saw %d STARTED and %d EXITED of %d short-lived processes", len(started), len(exited), len(want))
	}
	named := 0
	for _, ev := range started {
		if ev.Process.Name == "true" {
			named++
		}
	}
	t.Logf("%d of %d STARTED events read from /proc before the process was gone", named, len(want))
}

// A long-lived child is announced with its /proc fields after exec.
func TestConnectorEnrichesStarted(t *testing.T) {
	e := connectorEngine(t)
	me := int32(os.Getpid())
	s := watch(t, e, Options{Filter: process.Filter{PPID: &me, NameGlob: "sleep"}})
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ev := next(t, s)
	if ev.Type != EventStarted || ev.Process.PID != int32(cmd.Process.Pid) || len(ev.Process.Args) != 2 || ev.Process.Exe == "" {
		t.Fatalf("got %v %+v", ev.Type, ev.Process)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if ev2 := next(t, s); ev2.Type != EventExited || ev2.Process.Key() != ev.Process.Key() || ev2.Seq <= ev.Seq {
		t.Fatalf("got %v %+v", ev2.Type, ev2.Process)
	}
}
