package watch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/server/process"
)

// The connector's fork socket (connector.forkFD): FORK events are queued
// there and read only when another event or the grace nudge wakes the
// connector, so a fork costs no wake-up of its own.

// openForkSocket opens a second connector socket that passes FORK events
// alone. It is non-blocking and never registered with the netpoller.
func openForkSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_CONNECTOR)
	if err != nil {
		return -1, fmt.Errorf("netlink connector fork socket: %w", err)
	}
	if _, err := listen(fd); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	if err := attachFilter(fd, true, false); err != nil {
		_ = unix.Close(fd)
		return -1, fmt.Errorf("netlink connector fork filter: %w", err)
	}
	return fd, nil
}

// readForks moves every queued FORK event to c.pending. It reports whether
// the kernel dropped some (the caller rescans).
func (c *connector) readForks() (lost bool) {
	if c.forkFD < 0 {
		return false
	}
	for {
		n, err := recvNow(c.forkFD, c.forkBuf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return false
		case errors.Is(err, unix.ENOBUFS):
			return true
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return false // EBADF and the like: fd reports the failure
		}
		msgs, err := syscall.ParseNetlinkMessage(c.forkBuf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			d := m.Data
			if len(d) < cnMsgLen+evMinSz || binary.NativeEndian.Uint32(d[0:]) != cnIdxProc {
				continue
			}
			if f, ok := forkOf(d[cnMsgLen:]); ok {
				c.pending = append(c.pending, f)
			}
		}
	}
}

// forkOf decodes a FORK proc_event of a thread-group leader.
func forkOf(ev []byte) (pendingFork, bool) {
	ne := binary.NativeEndian
	d := ev[evData:]
	if ne.Uint32(ev[evWhat:]) != procEventFork {
		return pendingFork{}, false
	}
	ppid, pid, tgid := int32(ne.Uint32(d[4:])), int32(ne.Uint32(d[8:])), int32(ne.Uint32(d[12:]))
	return pendingFork{pid: pid, ppid: ppid, ns: ne.Uint64(ev[evTime:])}, pid == tgid
}

// applyForks applies, in the order read, the pending forks stamped at or
// before upTo (CLOCK_MONOTONIC ns). A fork may be applied only once every
// EXEC and EXIT event stamped before it has been handled: a PID is reused
// only after the exit of its previous process was queued, and applying the
// new process's fork first would end the wrong process. That holds for a
// fork stamped before the event being handled (fd is read in the order
// queued), and for one stamped before fd was last found empty (settle).
func (c *connector) applyForks(s sink, upTo uint64) {
	i := 0
	for ; i < len(c.pending) && c.pending[i].ns <= upTo; i++ {
		c.fork(s, c.pending[i])
	}
	c.pending = c.pending[:copy(c.pending, c.pending[i:])]
}

// fork records a new process, to be announced at its exec, its exit or the
// end of its grace.
func (c *connector) fork(s sink, f pendingFork) {
	if old, ok := c.known[f.pid]; ok { // its exit was lost or never seen
		s.exited(old, nil)
		delete(c.known, f.pid)
		delete(c.execed, f.pid)
	}
	c.forked[f.pid] = forkInfo{ppid: f.ppid, at: process.StartTimeFromMonotonic(f.ns), seen: c.mono.wall(f.ns)}
}

// forksQueued reports whether FORK events wait unread on forkFD: a raw,
// non-blocking peek, so the nudge wakes no other thread (see recvNow).
func (c *connector) forksQueued() bool {
	if c.forkFD < 0 {
		return false
	}
	var b [1]byte
	_, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(c.forkFD), uintptr(unsafe.Pointer(&b[0])), 1, unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	return e == 0
}

// settle runs when fd has nothing queued: every EXEC and EXIT event stamped
// before now has been handled, so the forks stamped before now can be
// applied (see applyForks); then the forks past their grace are announced.
// It reports whether the fork socket lost events.
func (c *connector) settle(ctx context.Context, s sink) (lost bool) {
	if c.readForks() {
		return true
	}
	c.applyForks(s, c.mono.now()-uint64(settleMargin))
	c.announceForks(ctx, s, time.Now().Add(-forkGrace))
	return false
}

// settleMargin covers the error of monoClock's calibration.
const settleMargin = time.Millisecond

// graceNudge ends the connector's wait when it has forks to look at and no
// event came to make it: the oldest pending fork's grace is over, or forks
// wait unread on forkFD. It polls on a slow timer instead of a read
// deadline tracking each fork: arming a timer from the running connector
// made the Go scheduler start another thread for every fork
// (wakeNetPoller), 8 of the 23 context switches ctld made per started
// process under one watch, and every timer due also wakes the runtime's
// sysmon (it sleeps until the next timer), so a fast ticker cost as much.
// A deadline in the past wakes the wait at once, without a timer. After a
// nudge it looks again a grace later: the forks just read fall due then.
func (c *connector) graceNudge(due *atomic.Int64, done <-chan struct{}) {
	t := time.NewTimer(graceTick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			next := graceTick
			if d := due.Load(); d != 0 && now.UnixNano() >= d || c.forksQueued() {
				_ = c.f.SetReadDeadline(now)
				next = forkGrace
			}
			t.Reset(next)
		}
	}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// deadline is when the oldest fork's grace ends, of those applied and not
// announced and those read and not applied, or zero (no deadline) when
// there is none. A fork already gone waits for its exit event, not for a
// deadline (counting it would end every wait at once, before any event is
// read).
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
	if len(c.pending) > 0 {
		if at := c.mono.wall(c.pending[0].ns); oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	if oldest.IsZero() {
		return oldest
	}
	return oldest.Add(forkGrace)
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

// monoClock reads CLOCK_MONOTONIC, the clock connector events are stamped
// with, as one calibration plus Go's monotonic time: no system call per
// reading.
type monoClock struct {
	base uint64 // CLOCK_MONOTONIC at at, in ns
	at   time.Time
}

func newMonoClock() (monoClock, error) {
	var ts unix.Timespec
	at := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return monoClock{}, err
	}
	return monoClock{base: uint64(ts.Nano()), at: at}, nil
}

func (m monoClock) now() uint64 { return m.base + uint64(time.Since(m.at)) }

// wall is the local time of the CLOCK_MONOTONIC instant ns.
func (m monoClock) wall(ns uint64) time.Time {
	return m.at.Add(time.Duration(int64(ns) - int64(m.base)))
}
