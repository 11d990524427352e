package server

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// quietListener serves gRPC connections whose reads and writes are raw
// non-blocking system calls driven by the netpoller. Every ordinary Go
// socket call announces itself to the scheduler (entersyscall), which wakes
// the runtime's sysmon thread out of its sleep on an otherwise idle daemon;
// sysmon then polls every 20 µs for a millisecond or more. A watch stream
// writes a few small frames per process the host starts, so on a quiet host
// those wake-ups were most of ctld's CPU (issue 9: one `ps watch` at 20
// processes/s). A non-blocking socket call never blocks, so holding the P
// for it costs nothing; EAGAIN parks the goroutine in the netpoller exactly
// as net.Conn does, and deadlines keep working.
func quietListener(l net.Listener) net.Listener {
	if _, ok := l.(*net.TCPListener); !ok {
		return l
	}
	return &quietTCPListener{Listener: l}
}

type quietTCPListener struct{ net.Listener }

func (l *quietTCPListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	rc, serr := tc.SyscallConn()
	if serr != nil { // not a socket this package can drive: serve it as is
		return c, err
	}
	// gRPC sets TCP_USER_TIMEOUT only on a *net.TCPConn; this wrapper is
	// not one, so it sets the same value.
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(KeepaliveTimeout/time.Millisecond))
	})
	return &quietConn{TCPConn: tc, rc: rc}, nil
}

// quietConn is a TCP connection with raw reads and writes (see
// quietListener). Everything else (deadlines, close, addresses) is the
// TCPConn's.
type quietConn struct {
	*net.TCPConn
	rc syscall.RawConn
}

func (c *quietConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno unix.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			if e == unix.EINTR {
				continue
			}
			n, errno = int(r), e
			return e != unix.EAGAIN
		}
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *quietConn) Write(b []byte) (int, error) {
	written := 0
	var errno unix.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for written < len(b) {
			// send with MSG_NOSIGNAL: a peer that went away is EPIPE, not a
			// SIGPIPE on this thread.
			p := b[written:]
			r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
			switch e {
			case 0:
				written += int(r)
			case unix.EINTR:
			case unix.EAGAIN:
				return false // wait until writable, then go on
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return written, c.opError("write", err)
	case errno != 0:
		return written, c.opError("write", os.NewSyscallError("write", errno))
	}
	return written, nil
}

// opError wraps err as net.Conn methods do, so errors.Is(err,
// os.ErrDeadlineExceeded) and net.ErrClosed checks keep working.
func (c *quietConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
