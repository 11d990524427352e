package e2e

import (
	"context"
	"errors"
	"os"
	"os/user"
	"slices"
	"testing"
	"time"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

func TestListProcessesSeesSpawnedChildren(t *testing.T) {
	a := startAgent(t)
	c := a.client(t)
	ctx := context.Background()
	name := uniqueName("rctl-")
	bin := namedSleep(t, name)
	before := time.Now()
	kids := []*os.Process{spawn(t, bin, "30").Process, spawn(t, bin, "31").Process}

	resp, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Processes) != 2 || resp.TotalMatched != 2 {
		t.Fatalf("name glob %q matched %d processes, want 2: %v", name, len(resp.Processes), resp.Processes)
	}
	me, _ := user.Current()
	for i, p := range resp.Processes {
		if p.Pid != int32(kids[i].Pid) || p.Ppid != int32(os.Getpid()) {
			t.Errorf("process %d: pid %d ppid %d, want %d and %d", i, p.Pid, p.Ppid, kids[i].Pid, os.Getpid())
		}
		if p.Name != name || p.Exe != bin || len(p.Args) != 2 || p.Args[0] != bin {
			t.Errorf("process %d: name %q exe %q args %q", i, p.Name, p.Exe, p.Args)
		}
		if me != nil && p.User != me.Username {
			t.Errorf("process %d: user %q, want %q", i, p.User, me.Username)
		}
		if st := p.StartTime.AsTime(); st.Before(before.Add(-2*time.Second)) || st.After(time.Now().Add(time.Second)) {
			t.Errorf("process %d: start time %v not around %v", i, st, before)
		}
		if p.ResidentMemoryBytes == 0 || p.VirtualMemoryBytes == 0 || p.ThreadCount < 1 || p.CpuUserTime == nil {
			t.Errorf("process %d: memory/threads/cpu missing: %v", i, p)
		}
		if len(p.UnavailableFields) != 0 {
			t.Errorf("process %d: unavailable fields %v for our own child", i, p.UnavailableFields)
		}
	}

	// PID and parent filters, and a field selection that leaves the rest empty.
	resp, err = c.ListProcesses(ctx, &pb.ListProcessesRequest{
		Filter: &pb.ProcessFilter{Pids: []int32{int32(kids[1].Pid)}},
		Fields: []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_NAME},
	})
	if err != nil || len(resp.Processes) != 1 || resp.Processes[0].Name != name || len(resp.Processes[0].Args) != 0 || resp.Processes[0].User != "" {
		t.Fatalf("pid filter with name only: %v, %v", resp.GetProcesses(), err)
	}
	ppid := int32(os.Getpid())
	resp, err = c.ListProcesses(ctx, &pb.ListProcessesRequest{Filter: &pb.ProcessFilter{Ppid: &ppid}})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int32
	for _, p := range resp.Processes {
		pids = append(pids, p.Pid)
	}
	for _, k := range kids {
		if !slices.Contains(pids, int32(k.Pid)) {
			t.Errorf("ppid filter: child %d missing from %v", k.Pid, pids)
		}
	}

	// Top-N by memory: sorted descending, limited, total reports the full match.
	resp, err = c.ListProcesses(ctx, &pb.ListProcessesRequest{Sort: pb.ProcessSort_PROCESS_SORT_MEMORY, Limit: 5})
	if err != nil || len(resp.Processes) != 5 || resp.TotalMatched < 5 {
		t.Fatalf("top 5 by memory: %d processes of %d, %v", len(resp.GetProcesses()), resp.GetTotalMatched(), err)
	}
	for i := 1; i < len(resp.Processes); i++ {
		if resp.Processes[i].ResidentMemoryBytes > resp.Processes[i-1].ResidentMemoryBytes {
			t.Fatalf("not sorted by memory: %d > %d", resp.Processes[i].ResidentMemoryBytes, resp.Processes[i-1].ResidentMemoryBytes)
		}
	}
}

// recvEvent waits for the next event or fails.
func recvEvent(t *testing.T, events <-chan *pb.ProcessEvent, within time.Duration) *pb.ProcessEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("event stream closed")
		}
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
	}
	return nil
}

func TestWatchProcessesStartedThenExited(t *testing.T) {
	a := startAgent(t)
	c := a.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	name := uniqueName("rctlw-")
	bin := namedSleep(t, name)
	existing := spawn(t, bin, "30")

	w, err := c.WatchProcesses(ctx, &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: name}, IncludeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := recvEvent(t, w.Events(), 5*time.Second)
	// Sequence numbers are host-wide: the snapshot carries the number of the
	// last event it reflects, live events come after it.
	if ev.Type != pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING || ev.Process.GetPid() != int32(existing.Process.Pid) || ev.Sequence == 0 {
		t.Fatalf("first event %v, want EXISTING pid %d with a sequence", ev, existing.Process.Pid)
	}
	snap := ev.Sequence
	if ev = recvEvent(t, w.Events(), 5*time.Second); ev.Type != pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED || ev.Sequence != snap {
		t.Fatalf("second event %v, want SYNCED seq %d", ev, snap)
	}

	child := spawn(t, bin, "1")
	started := recvEvent(t, w.Events(), 5*time.Second)
	if started.Type != pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED || started.Process.GetPid() != int32(child.Process.Pid) ||
		started.Sequence <= snap || started.Process.GetName() != name || len(started.Process.GetArgs()) != 2 {
		t.Fatalf("want STARTED pid %d seq > %d with fields, got %v", child.Process.Pid, snap, started)
	}
	_ = child.Wait() // reap, so the process leaves /proc
	exited := recvEvent(t, w.Events(), 5*time.Second)
	if exited.Type != pb.ProcessEventType_PROCESS_EVENT_TYPE_EXITED || exited.Process.GetPid() != int32(child.Process.Pid) ||
		!exited.Process.GetStartTime().AsTime().Equal(started.Process.GetStartTime().AsTime()) || exited.Sequence <= started.Sequence {
		t.Fatalf("want EXITED of the same (pid, start time) seq > %d, got %v", started.Sequence, exited)
	}
	if !exited.Time.AsTime().After(started.Time.AsTime()) {
		t.Fatalf("EXITED time %v not after STARTED time %v", exited.Time.AsTime(), started.Time.AsTime())
	}

	cancel()
	select {
	case _, ok := <-w.Events():
		for ok {
			_, ok = <-w.Events()
		}
	case <-time.After(5 * time.Second):
		t.Fatal("events channel not closed after cancel")
	}
	if w.Err() != nil {
		t.Fatalf("Err after cancel = %v, want nil", w.Err())
	}
}

func TestWatchProcessesRejectsBadFilterSynchronously(t *testing.T) {
	a := startAgent(t)
	c := a.client(t)
	_, err := c.WatchProcesses(context.Background(), &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "[oops"}})
	if !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("bad glob: err %v, want invalid argument", err)
	}
}

func TestHeartbeatOverMTLS(t *testing.T) {
	a := startAgent(t)
	hb, err := a.client(t).Heartbeat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if hb.Hostname != host || hb.Os == "" || hb.KernelVersion == "" || hb.BootTime == nil || hb.ProcessCount < 2 ||
		hb.MemoryTotalBytes < hb.MemoryUsedBytes || hb.CpuCount == 0 {
		t.Fatalf("heartbeat: %v", hb)
	}
	if d := time.Since(hb.ServerTime.AsTime()); d < -time.Second || d > 5*time.Second {
		t.Fatalf("server time off by %v", d)
	}
}
