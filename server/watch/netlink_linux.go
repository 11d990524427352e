package watch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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

// subscribe binds the socket to the process connector's group, asks for
// its events and waits until they flow.
func (c *connector) subscribe() error {
	seq, err := listen(c.fd)
	if err != nil {
		return err
	}
	return c.awaitAck(seq)
}

// listen binds fd to the process connector's group and asks for its events.
func listen(fd int) (uint32, error) {
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return 0, fmt.Errorf("netlink connector bind: %w", err)
	}
	// A large buffer rides out bursts; overflow is still handled (ENOBUFS:
	// the connector rescans).
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	// Bounds each blocking read of awaitAck.
	tv := unix.NsecToTimeval(int64(forkGrace))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return 0, fmt.Errorf("netlink connector timeout: %w", err)
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
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("netlink connector subscribe: %w", err)
	}
	return seq, nil
}

// awaitAck waits for the kernel to acknowledge the subscription (or for any
// event, which proves delivery).
func (c *connector) awaitAck(seq uint32) error {
	ne := binary.NativeEndian
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

// recvNow is recvfrom(fd, buf, MSG_DONTWAIT) as a raw system call. Both
// netlink sockets are read only when data is ready (or to drain them), so
// the call never blocks; skipping the scheduler's syscall bookkeeping keeps
// each event from waking the runtime's sysmon thread out of its idle sleep,
// which was a large share of ctld's CPU per started process (docs/watch.md).
func recvNow(fd int, buf []byte) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
