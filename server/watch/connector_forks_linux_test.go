package watch

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/server/process"
)

// recordSink records what the connector reports, one line a call.
type recordSink struct{ calls []string }

func (r *recordSink) reset([]process.Process) { r.calls = append(r.calls, "reset") }
func (r *recordSink) started(p process.Process) {
	r.calls = append(r.calls, fmt.Sprintf("started %d %s", p.PID, p.Name))
}
func (r *recordSink) execed(_ Program, p process.Process) {
	r.calls = append(r.calls, fmt.Sprintf("execed %d", p.PID))
}
func (r *recordSink) exited(p process.Process, st *ExitStatus) {
	r.calls = append(r.calls, fmt.Sprintf("exited %d %s status=%v", p.PID, p.Name, st != nil))
}

// goneLister has no process: every /proc read fails, as for a process gone
// before it could be read.
type goneLister struct{ process.Lister }

func (goneLister) Read(context.Context, int32, process.Field) (process.Process, error) {
	return process.Process{}, fmt.Errorf("gone")
}

// connectorDatagram is one netlink datagram from the waited-on socket.
func connectorDatagram(what uint32, ns uint64, data ...uint32) []byte {
	b := make([]byte, nlmsgHdrLen+cnMsgLen+evData+24)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint32(b[nlmsgHdrLen:], cnIdxProc)
	ne.PutUint32(b[nlmsgHdrLen+4:], cnValProc)
	ne.PutUint32(b[offWhat:], what)
	ne.PutUint64(b[nlmsgHdrLen+cnMsgLen+evTime:], ns)
	for i, d := range data {
		ne.PutUint32(b[offData+4*i:], d)
	}
	return b
}

// Forks read from the fork socket are applied in the order of the kernel's
// stamps against the events of the waited-on socket: a reused PID's exit
// ends the old process, and only then does the new one's fork count.
func TestForksApplyInStampOrder(t *testing.T) {
	const pid = 300
	old := process.Process{PID: pid, Name: "old", StartTime: time.Unix(1, 0)}
	for _, tc := range []struct {
		name     string
		pending  []pendingFork
		event    []byte
		want     []string
		pending2 int // forks still pending after the event
	}{{
		name:     "PID reused: the exit stamped before the new fork ends the old process",
		pending:  []pendingFork{{pid: pid, ppid: 1, ns: 2000}},
		event:    connectorDatagram(procEventExit, 1000, pid, pid, 0, 17),
		want:     []string{"exited 300 old status=true"},
		pending2: 1,
	}, {
		name:    "a fork stamped before the exit is applied first",
		pending: []pendingFork{{pid: 301, ppid: 1, ns: 500}},
		event:   connectorDatagram(procEventExit, 1000, pid, pid, 0, 17),
		want:    []string{"exited 300 old status=true"},
	}, {
		name:    "the exit of a process too brief for /proc announces it first",
		pending: []pendingFork{{pid: 302, ppid: 1, ns: 500}},
		event:   connectorDatagram(procEventExit, 1000, 302, 302, 0, 0),
		want:    []string{"started 302 ", "exited 302  status=true"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var s recordSink
			c := &connector{lister: goneLister{}, forkFD: -1, known: map[int32]process.Process{pid: old},
				forked: map[int32]forkInfo{}, execed: map[int32]bool{}, pending: slices.Clone(tc.pending)}
			if lost := c.handleDatagram(context.Background(), &s, tc.event); lost {
				t.Fatal("lost")
			}
			if !slices.Equal(s.calls, tc.want) {
				t.Errorf("reported %q, want %q", s.calls, tc.want)
			}
			if len(c.pending) != tc.pending2 {
				t.Errorf("%d forks pending, want %d", len(c.pending), tc.pending2)
			}
		})
	}
}

// Once the waited-on socket is empty, settle applies the forks stamped
// before now and announces those past their grace; a fork younger than the
// margin waits for the next event or settle.
func TestSettleAppliesForks(t *testing.T) {
	mono, err := newMonoClock()
	if err != nil {
		t.Fatal(err)
	}
	now := mono.now()
	var s recordSink
	c := &connector{lister: goneLister{}, forkFD: -1, mono: mono, known: map[int32]process.Process{},
		forked: map[int32]forkInfo{}, execed: map[int32]bool{},
		pending: []pendingFork{
			{pid: 400, ppid: 1, ns: now - uint64(time.Second)}, // past its grace
			{pid: 401, ppid: 1, ns: now + uint64(time.Hour)},   // not yet safe to apply
		}}
	if c.settle(context.Background(), &s) {
		t.Fatal("lost")
	}
	// 400's grace is over but /proc no longer has it: it waits, gone, for
	// its exit record.
	if fi, ok := c.forked[400]; !ok || !fi.gone {
		t.Errorf("fork 400: %+v, %v; want applied and gone", fi, ok)
	}
	if len(c.pending) != 1 || c.pending[0].pid != 401 {
		t.Errorf("pending %+v, want only 401", c.pending)
	}
	if d := c.deadline(); !d.Equal(mono.wall(now + uint64(time.Hour)).Add(forkGrace)) {
		t.Errorf("deadline %v, want the pending fork's grace", d)
	}
}

// A process that forks and never execs (a worker, here a shell's subshell
// blocked on a FIFO, running builtins only) is announced after its grace
// with the parent's program, although its fork woke nobody: the grace
// nudge finds it waiting on the fork socket. Then both exit.
func TestForkWithoutExecIsAnnounced(t *testing.T) {
	e := connectorEngine(t)
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	name := fmt.Sprintf("rctlW%d", os.Getpid()%100000)
	if err := os.WriteFile(filepath.Join(dir, name), sh, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	s := watch(t, e, Options{Filter: process.Filter{NameGlob: name}})
	cmd := exec.Command(filepath.Join(dir, name), "-c", "(read x < "+fifo+"; true); true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	parent := int32(cmd.Process.Pid)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var worker int32
	for worker == 0 {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("no STARTED for the subshell of %d: %v", parent, err)
		}
		if ev.Type == EventStarted && ev.Process.PPID == parent && ev.Process.Name == name {
			worker = ev.Process.PID
		}
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.WriteString("go\n")
	_ = w.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	for ended := map[int32]bool{}; !ended[worker] || !ended[parent]; {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("exits seen %v: %v", ended, err)
		}
		if ev.Type == EventExited {
			ended[ev.Process.PID] = true
		}
	}
}
