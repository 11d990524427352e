package watch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/server/process"
)

// forkGrace is how long a forked process may run without exec before it is
// announced with what /proc shows (a worker that never execs). Pending
// forks are checked after every event the connector reads, and at least
// every graceTick (graceNudge): such a worker is announced at the first
// event after its grace, on a quiet host at most graceTick later.
const (
	forkGrace = 100 * time.Millisecond
	graceTick = time.Second
)

// connector is the Linux producer: fork/exec/exit events from the netlink
// process connector (root or CAP_NET_ADMIN, initial namespaces), resolved
// from /proc once per program, or from the kernel's taskstats exit record
// when the process was gone before /proc could be read. A process is
// announced at exec (so its name is the new image's), or forkGrace after a
// fork without exec; one that ran too briefly for /proc is held back until
// its exit, whose taskstats record names it: STARTED and EXITED then follow
// each other. A later exec is an EXEC event; EXITED names the program the
// process ended in and carries its exit status.
type connector struct {
	lister process.Lister
	fd     int
	// f wraps fd for the Go netpoller: a run waits for events without a
	// thread blocked in poll(2) (cheaper wake-ups) and ends by a deadline.
	f      *os.File
	rc     syscall.RawConn
	ts     *taskstats                // nil when taskstats cannot be opened
	known  map[int32]process.Process // announced, by PID
	forked map[int32]forkInfo        // forked, not yet announced
	// execed holds announced processes that exec'd into a program /proc
	// could no longer show; their exit record resolves it.
	execed map[int32]bool
	tsBuf  []byte
}

type forkInfo struct {
	ppid int32
	at   time.Time // start time, in the listings' clock
	// gone is set when /proc no longer had the process at its exec.
	gone bool
	// seen is when the fork event was read (forkGrace runs from it).
	seen time.Time
}

// newConnector opens the socket and subscribes, waiting for the kernel's
// acknowledgement so that an unprivileged or namespaced caller falls back to
// polling instead of waiting for events that never come.
func newConnector(l process.Lister) (producer, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("netlink connector socket: %w", err)
	}
	c := &connector{lister: l, fd: fd, known: map[int32]process.Process{}, forked: map[int32]forkInfo{},
		execed: map[int32]bool{}}
	if err := c.subscribe(); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	// Best effort: without the filter, thread events are read and dropped.
	_ = attachThreadFilter(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		c.close()
		return nil, fmt.Errorf("netlink connector: %w", err)
	}
	c.f = os.NewFile(uintptr(fd), "netlink-connector")
	if c.rc, err = c.f.SyscallConn(); err != nil {
		c.close()
		return nil, fmt.Errorf("netlink connector: %w", err)
	}
	// Without taskstats the connector still reports every process; one too
	// brief for /proc then has unresolved fields (see Event.matches).
	if ts, err := openTaskstats(); err == nil {
		c.ts, c.tsBuf = ts, make([]byte, 256<<10)
	}
	return c, nil
}

func (c *connector) close() {
	if c.f != nil {
		_ = c.f.Close()
	} else {
		_ = unix.Close(c.fd)
	}
	if c.ts != nil {
		c.ts.close()
	}
}

// scan reads every process and resets the sink with them.
func (c *connector) scan(ctx context.Context, s sink) error {
	procs, err := c.lister.List(ctx, process.ListOptions{Fields: detailFields})
	if err != nil {
		return err
	}
	clear(c.known)
	clear(c.forked)
	clear(c.execed)
	for _, p := range procs {
		c.known[p.PID] = p
	}
	s.reset(procs)
	return nil
}

func (c *connector) run(ctx context.Context, s sink) error {
	if err := c.scan(ctx, s); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.f.SetReadDeadline(time.Now()) })
	defer stop()
	var due atomic.Int64 // deadline() in Unix ns, 0 when no fork is pending
	done := make(chan struct{})
	defer close(done)
	go c.graceNudge(&due, done)
	buf := make([]byte, 256<<10)
	ne := binary.NativeEndian
	for {
		// Sleep until an event or a deadline: the end of the run (see the
		// AfterFunc: ctx is checked after a deadline is cleared) or a fork
		// whose grace ended (graceNudge).
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var n int
		var rerr error
		err := c.rc.Read(func(fd uintptr) bool {
			n, rerr = recvNow(int(fd), buf)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			_ = c.f.SetReadDeadline(time.Time{})
		case err != nil:
			return fmt.Errorf("netlink connector receive: %w", err)
		case errors.Is(rerr, unix.ENOBUFS):
			// The kernel dropped events: start over from /proc and resync
			// every subscriber.
			if err := c.scan(ctx, s); err != nil {
				return err
			}
		case errors.Is(rerr, unix.EINTR):
		case rerr != nil:
			return fmt.Errorf("netlink connector receive: %w", rerr)
		default:
			if msgs, err := syscall.ParseNetlinkMessage(buf[:n]); err == nil {
				for _, m := range msgs {
					d := m.Data
					if len(d) < cnMsgLen+evMinSz || ne.Uint32(d[0:]) != cnIdxProc || ne.Uint32(d[4:]) != cnValProc {
						continue
					}
					c.handle(ctx, s, d[cnMsgLen:])
				}
			}
		}
		c.announceForks(ctx, s, time.Now().Add(-forkGrace))
		due.Store(unixNano(c.deadline()))
	}
}

// graceNudge ends the connector's read when the oldest pending fork's grace
// is over and no event came to check it. It polls on a slow ticker instead
// of a read deadline tracking each fork: arming a timer from the running
// connector made the Go scheduler start another thread for every fork
// (wakeNetPoller), 8 of the 23 context switches ctld made per started
// process under one watch, and every timer due also wakes the runtime's
// sysmon (it sleeps until the next timer), so a fast ticker cost as much.
// A deadline in the past wakes the read at once, without a timer.
func (c *connector) graceNudge(due *atomic.Int64, done <-chan struct{}) {
	t := time.NewTicker(graceTick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			if d := due.Load(); d != 0 && now.UnixNano() >= d {
				_ = c.f.SetReadDeadline(now)
			}
		}
	}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// deadline is when the oldest pending fork's grace ends, or zero (no
// deadline) when none is pending. A fork already gone waits for its exit
// event, not for a deadline (counting it would end every wait at once,
// before any event is read).
func (c *connector) deadline() time.Time {
	var oldest time.Time
	for _, fi := range c.forked {
		if fi.gone {
			continue
		}
		if oldest.IsZero() || fi.seen.Before(oldest) {
			oldest = fi.seen
		}
	}
	if oldest.IsZero() {
		return oldest
	}
	return oldest.Add(forkGrace)
}

// handle applies one proc_event. Only thread-group leaders are processes.
func (c *connector) handle(ctx context.Context, s sink, ev []byte) {
	ne := binary.NativeEndian
	d := ev[evData:]
	switch ne.Uint32(ev[evWhat:]) {
	case procEventFork:
		ppid, pid, tgid := int32(ne.Uint32(d[4:])), int32(ne.Uint32(d[8:])), int32(ne.Uint32(d[12:]))
		if pid != tgid {
			return
		}
		if old, ok := c.known[pid]; ok { // its exit was lost or never seen
			s.exited(old, nil)
			delete(c.known, pid)
			delete(c.execed, pid)
		}
		c.forked[pid] = forkInfo{ppid: ppid, at: process.StartTimeFromMonotonic(ne.Uint64(ev[evTime:])), seen: time.Now()}
	case procEventExec:
		pid, tgid := int32(ne.Uint32(d[0:])), int32(ne.Uint32(d[4:]))
		if pid != tgid {
			return
		}
		if fi, ok := c.forked[pid]; ok {
			if p, ok := c.read(ctx, pid, fi.at); ok {
				delete(c.forked, pid)
				c.announce(s, p, fi)
				return
			}
			fi.gone = true // its exit record will name it
			c.forked[pid] = fi
			return
		}
		if old, ok := c.known[pid]; ok {
			p, ok := c.read(ctx, pid, old.StartTime)
			if !ok {
				c.execed[pid] = true
				return
			}
			p.StartTime = old.StartTime // the same process: the same key
			c.known[pid] = p
			s.execed(ProgramOf(&old), p)
		}
	case procEventExit:
		pid, tgid := int32(ne.Uint32(d[0:])), int32(ne.Uint32(d[4:]))
		if pid != tgid {
			return
		}
		c.exit(s, pid, ExitStatusOf(ne.Uint32(d[8:])))
	}
}

// exit reports the end of pid, announcing it first if it was too brief to
// be announced, with the fields its taskstats exit record gives.
func (c *connector) exit(s sink, pid int32, st *ExitStatus) {
	var rec *exitRecord
	if c.ts != nil {
		c.ts.drain(c.tsBuf)
		if r, ok := c.ts.take(pid); ok {
			rec = &r
		}
	}
	if fi, ok := c.forked[pid]; ok {
		delete(c.forked, pid)
		p := process.Process{PID: pid, PPID: fi.ppid, StartTime: fi.at, UID: -1, Unavailable: detailFields}
		resolve(&p, rec)
		c.announce(s, p, fi)
	}
	p, ok := c.known[pid]
	if !ok {
		// A process never seen (it predates a lost burst) has no STARTED
		// anyone saw, so it gets no EXITED either.
		return
	}
	delete(c.known, pid)
	if c.execed[pid] {
		delete(c.execed, pid)
		before := ProgramOf(&p)
		p.Name, p.Exe, p.Args = "", "", nil
		p.Unavailable |= process.FieldName | process.FieldExe | process.FieldArgs
		resolve(&p, rec)
		s.execed(before, p)
	}
	s.exited(p, st)
}

// resolve fills what an exit record tells about p.
func resolve(p *process.Process, rec *exitRecord) {
	if rec == nil {
		return
	}
	p.Name = rec.comm
	p.UID = int64(rec.uid) // the real uid: an exited process has no effective one left to read
	p.User = process.LookupUser(rec.uid)
	if p.PPID == 0 {
		p.PPID = rec.ppid
	}
	p.Unavailable &^= process.FieldName | process.FieldUser
}

// read reads pid from /proc; it fails when the process is gone (or the PID
// is already another process's). The fork event is stamped a little after
// the kernel records the start, so the two may fall in adjacent ticks.
func (c *connector) read(ctx context.Context, pid int32, start time.Time) (process.Process, bool) {
	var p process.Process
	if r, ok := c.lister.(singleReader); ok {
		var err error
		if p, err = r.Read(ctx, pid, detailFields); err != nil {
			return process.Process{}, false
		}
	} else {
		ps, err := c.lister.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: []int32{pid}}, Fields: detailFields})
		if err != nil || len(ps) != 1 {
			return process.Process{}, false
		}
		p = ps[0]
	}
	if d := p.StartTime.Sub(start); d < -startTolerance || d > startTolerance {
		return process.Process{}, false
	}
	return p, true
}

// singleReader is what process.SystemLister offers to read one process
// without a CPU sample (see process.SystemLister.Read).
type singleReader interface {
	Read(ctx context.Context, pid int32, fields process.Field) (process.Process, error)
}

// startTolerance is one clock tick of /proc start times.
const startTolerance = 10 * time.Millisecond

// announce publishes STARTED.
func (c *connector) announce(s sink, p process.Process, fi forkInfo) {
	// A process caught while exiting reads parent 0 in /proc; the fork
	// event knows better.
	if p.PPID == 0 {
		p.PPID = fi.ppid
	}
	c.known[p.PID] = p
	s.started(p)
}

func (c *connector) announceForks(ctx context.Context, s sink, before time.Time) {
	for pid, fi := range c.forked {
		if fi.gone || !fi.seen.Before(before) {
			continue
		}
		delete(c.forked, pid)
		p, ok := c.read(ctx, pid, fi.at)
		if !ok {
			// Gone without an exit event yet: its exit resolves it.
			fi.gone = true
			c.forked[pid] = fi
			continue
		}
		c.announce(s, p, fi)
	}
}
