package watch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
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
	fd     int // EXEC and EXIT events
	// f wraps fd for the Go netpoller: a run waits for events without a
	// thread blocked in poll(2) (cheaper wake-ups) and ends by a deadline.
	f  *os.File
	rc syscall.RawConn
	// forkFD receives the FORK events, on their own and never waited on:
	// it is read before every EXEC or EXIT event is handled (its fork was
	// queued first) and when the grace nudge fires. A fork is not worth a
	// wake-up: it was a third of the wake-ups per started process, and
	// 0.78x the CPU without it (docs/watch.md).
	forkFD int
	// pending holds the forks read from forkFD and not yet applied, in
	// the order read; see applyForks for when one may be applied.
	pending []pendingFork
	mono    monoClock
	ts      *taskstats                // nil when taskstats cannot be opened
	known   map[int32]process.Process // announced, by PID
	forked  map[int32]forkInfo        // forked, not yet announced
	// execed holds announced processes that exec'd into a program /proc
	// could no longer show; their exit record resolves it.
	execed  map[int32]bool
	tsBuf   []byte
	forkBuf []byte
}

// pendingFork is a FORK event read from forkFD: the child, its parent and
// the event's CLOCK_MONOTONIC stamp.
type pendingFork struct {
	pid, ppid int32
	ns        uint64
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
	c := &connector{lister: l, fd: fd, forkFD: -1, known: map[int32]process.Process{}, forked: map[int32]forkInfo{},
		execed: map[int32]bool{}, forkBuf: make([]byte, 64<<10)}
	if err := c.subscribe(); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	if c.mono, err = newMonoClock(); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("netlink connector: %w", err)
	}
	// Best effort: without the filters, forks are read from fd (a wake-up
	// each) and thread events are read and dropped.
	if c.forkFD, err = openForkSocket(); err != nil || attachFilter(fd, false, true) != nil {
		if c.forkFD >= 0 {
			_ = unix.Close(c.forkFD)
			c.forkFD = -1
		}
		_ = attachFilter(fd, true, true)
	}
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
	if c.forkFD >= 0 {
		_ = unix.Close(c.forkFD)
	}
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
	var nudger sync.WaitGroup
	nudger.Go(func() { c.graceNudge(&due, done) })
	defer nudger.Wait() // after close(done): the caller closes the sockets
	defer close(done)
	buf := make([]byte, 256<<10)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := recvNow(c.fd, buf)
		lost := false
		switch {
		case errors.Is(err, unix.EAGAIN):
			// Every event queued until now is handled. Sleep until an
			// event or a deadline: the end of the run (see the AfterFunc:
			// ctx is checked after a deadline is cleared) or a fork to
			// look at (graceNudge).
			if lost = c.settle(ctx, s); !lost {
				due.Store(unixNano(c.deadline()))
				if err := c.waitReadable(); errors.Is(err, os.ErrDeadlineExceeded) {
					_ = c.f.SetReadDeadline(time.Time{})
				} else if err != nil {
					return fmt.Errorf("netlink connector receive: %w", err)
				}
			}
		case errors.Is(err, unix.ENOBUFS):
			lost = true
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return fmt.Errorf("netlink connector receive: %w", err)
		default:
			lost = c.handleDatagram(ctx, s, buf[:n])
			c.announceForks(ctx, s, time.Now().Add(-forkGrace))
		}
		if lost {
			// The kernel dropped events: start over from /proc and resync
			// every subscriber.
			if err := c.scan(ctx, s); err != nil {
				return err
			}
		}
	}
}

// waitReadable parks until fd has data or its read deadline passes.
func (c *connector) waitReadable() error {
	polled := false
	return c.rc.Read(func(uintptr) bool {
		if polled {
			return true
		}
		polled = true
		return false
	})
}

// handleDatagram handles the proc_events of one datagram from fd; it
// reports whether the fork socket lost events.
func (c *connector) handleDatagram(ctx context.Context, s sink, b []byte) (lost bool) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return false
	}
	ne := binary.NativeEndian
	for _, m := range msgs {
		d := m.Data
		if len(d) < cnMsgLen+evMinSz || ne.Uint32(d[0:]) != cnIdxProc || ne.Uint32(d[4:]) != cnValProc {
			continue
		}
		ev := d[cnMsgLen:]
		// The fork of a process not known yet was queued before this event:
		// read it. (A known process's fork was applied long ago.)
		if _, known := c.known[int32(ne.Uint32(ev[evData:]))]; !known && c.readForks() {
			return true
		}
		c.applyForks(s, ne.Uint64(ev[evTime:]))
		c.handle(ctx, s, ev)
	}
	return false
}

// handle applies one proc_event. Only thread-group leaders are processes.
func (c *connector) handle(ctx context.Context, s sink, ev []byte) {
	ne := binary.NativeEndian
	d := ev[evData:]
	switch ne.Uint32(ev[evWhat:]) {
	case procEventFork: // only when the fork socket could not be set up
		if f, ok := forkOf(ev); ok {
			c.fork(s, f)
		}
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
