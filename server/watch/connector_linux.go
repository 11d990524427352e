package watch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/server/process"
)

// The kernel's process connector ABI (linux/connector.h, linux/cn_proc.h).
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventNone     = 0x0
	procEventFork     = 0x1
	procEventExec     = 0x2
	procEventExit     = 0x80000000

	nlmsgHdrLen = 16
	cnMsgLen    = 20
	// Offsets in the proc_event that follows cn_msg.
	evWhat  = 0
	evTime  = 8
	evData  = 16
	evMinSz = 32
)

// forkGrace is how long a forked process may run without exec before it is
// announced with what /proc shows (a worker that never execs).
const forkGrace = 100 * time.Millisecond

// connector is the Linux producer: fork/exec/exit events from the netlink
// process connector (root or CAP_NET_ADMIN, initial namespaces), enriched
// from /proc once per process. A process announces itself at exec (so its
// name is the new image's), or forkGrace after a fork without exec, or at
// exit if it was faster than both: short-lived processes are never missed.
type connector struct {
	lister process.Lister
	fd     int
	known  map[int32]process.Process // announced, by PID
	forked map[int32]forkInfo        // forked, not yet announced
}

type forkInfo struct {
	ppid int32
	at   time.Time
}

// newConnector opens the socket and subscribes, waiting for the kernel's
// acknowledgement so that an unprivileged or namespaced caller falls back to
// polling instead of waiting for events that never come.
func newConnector(l process.Lister) (producer, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("netlink connector socket: %w", err)
	}
	c := &connector{lister: l, fd: fd, known: map[int32]process.Process{}, forked: map[int32]forkInfo{}}
	if err := c.subscribe(); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return c, nil
}

func (c *connector) subscribe() error {
	if err := unix.Bind(c.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return fmt.Errorf("netlink connector bind: %w", err)
	}
	// A large buffer rides out bursts; overflow is still handled (lost()).
	if unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	tv := unix.NsecToTimeval(int64(forkGrace))
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("netlink connector timeout: %w", err)
	}
	seq := rand.Uint32()
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	ne.PutUint32(msg[8:], seq)
	ne.PutUint32(msg[12:], uint32(os.Getpid()))
	cn := msg[nlmsgHdrLen:]
	ne.PutUint32(cn[0:], cnIdxProc)
	ne.PutUint32(cn[4:], cnValProc)
	ne.PutUint32(cn[8:], seq)
	ne.PutUint16(cn[16:], 4)
	ne.PutUint32(cn[cnMsgLen:], procCnMcastListen)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink connector subscribe: %w", err)
	}
	// Newer kernels do not always acknowledge; any event proves delivery, so
	// make some: a goroutine that ends locked to its thread ends that thread
	// (unless it is the main thread, hence several).
	for range 3 {
		go runtime.LockOSThread()
	}
	deadline := time.Now().Add(time.Second)
	buf := make([]byte, 64<<10)
	for time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("netlink connector: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			d := m.Data
			if len(d) < cnMsgLen+evMinSz || ne.Uint32(d[0:]) != cnIdxProc {
				continue
			}
			ev := d[cnMsgLen:]
			if ne.Uint32(ev[evWhat:]) != procEventNone {
				return nil
			}
			if e := ne.Uint32(ev[evData:]); ne.Uint32(d[8:]) == seq && e != 0 {
				return fmt.Errorf("netlink connector subscribe: %w", unix.Errno(e))
			}
		}
	}
	return errors.New("netlink connector: no event within 1s (not in the initial namespaces?)")
}

func (c *connector) mode() string { return "netlink" }
func (c *connector) close()       { _ = unix.Close(c.fd) }

// scan reads every process and resets the sink with them.
func (c *connector) scan(ctx context.Context, s sink) error {
	procs, err := c.lister.List(ctx, process.ListOptions{Fields: detailFields})
	if err != nil {
		return err
	}
	clear(c.known)
	clear(c.forked)
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
	buf := make([]byte, 256<<10)
	ne := binary.NativeEndian
	for ctx.Err() == nil {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			switch {
			case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			case errors.Is(err, unix.ENOBUFS):
				// The kernel dropped events: start over from /proc and
				// resync every subscriber.
				if err := c.scan(ctx, s); err != nil {
					return err
				}
			default:
				return fmt.Errorf("netlink connector receive: %w", err)
			}
			c.announceForks(ctx, s, time.Now().Add(-forkGrace))
			continue
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			d := m.Data
			if len(d) < cnMsgLen+evMinSz || ne.Uint32(d[0:]) != cnIdxProc || ne.Uint32(d[4:]) != cnValProc {
				continue
			}
			c.handle(ctx, s, d[cnMsgLen:])
		}
		c.announceForks(ctx, s, time.Now().Add(-forkGrace))
	}
	return ctx.Err()
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
			s.exited(old)
			delete(c.known, pid)
		}
		c.forked[pid] = forkInfo{ppid: ppid, at: monoToTime(ne.Uint64(ev[evTime:]))}
	case procEventExec:
		pid, tgid := int32(ne.Uint32(d[0:])), int32(ne.Uint32(d[4:]))
		if pid != tgid {
			return
		}
		if fi, ok := c.forked[pid]; ok {
			delete(c.forked, pid)
			c.announce(ctx, s, pid, fi)
		}
	case procEventExit:
		pid, tgid := int32(ne.Uint32(d[0:])), int32(ne.Uint32(d[4:]))
		if pid != tgid {
			return
		}
		if fi, ok := c.forked[pid]; ok {
			delete(c.forked, pid)
			c.announce(ctx, s, pid, fi)
		}
		// A process never seen (it predates a lost burst) has no STARTED
		// anyone saw, so it gets no EXITED either.
		if p, ok := c.known[pid]; ok {
			delete(c.known, pid)
			s.exited(p)
		}
	}
}

// announce reads the process from /proc and publishes STARTED; when it is
// already gone, it publishes what the fork event told.
func (c *connector) announce(ctx context.Context, s sink, pid int32, fi forkInfo) {
	p := process.Process{PID: pid, PPID: fi.ppid, StartTime: fi.at, UID: -1, Unavailable: detailFields}
	if ps, err := c.lister.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: []int32{pid}}, Fields: detailFields}); err == nil && len(ps) == 1 {
		p = ps[0]
		// A process caught while exiting reads parent 0 in /proc; the fork
		// event knows better.
		if p.PPID == 0 {
			p.PPID = fi.ppid
		}
	}
	c.known[pid] = p
	s.started(p)
}

func (c *connector) announceForks(ctx context.Context, s sink, before time.Time) {
	for pid, fi := range c.forked {
		if fi.at.Before(before) {
			delete(c.forked, pid)
			c.announce(ctx, s, pid, fi)
		}
	}
}

// monoToTime converts a CLOCK_MONOTONIC reading (the event's timestamp) to
// wall-clock time.
func monoToTime(ns uint64) time.Time {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return time.Now()
	}
	return time.Now().Add(-time.Duration(ts.Nano() - int64(ns)))
}
