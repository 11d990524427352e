package watch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// taskstats receives the kernel's per-task exit records (generic netlink
// family TASKSTATS, registered for every CPU: atop's mechanism). Each record
// names the program the task ran when it exited (comm), its real uid, parent
// and exit code. The kernel sends it from do_exit before the process
// connector's EXIT event, so once the connector reports an exit the record
// is already queued here: a process that ran too briefly for /proc still
// gets resolved fields, without waiting.
//
// Why this and not the alternatives (see docs/watch.md): the connector's
// EXEC event carries no name and its COMM event fires only for
// prctl(PR_SET_NAME), not exec; eBPF needs a BPF toolchain, BTF and
// CAP_BPF and loads code into the kernel; the audit multicast group needs
// audit rules installed system-wide. Taskstats is in every distribution
// kernel (CONFIG_TASKSTATS) and needs only CAP_NET_ADMIN, like the
// connector.
type taskstats struct {
	fd int
	// recs holds the records received and not yet used, by PID.
	recs map[int32]exitRecord
}

// exitRecord is the part of struct taskstats the watch uses.
type exitRecord struct {
	pid, ppid int32
	uid       uint32
	comm      string
	status    uint32 // wait(2) status word
}

// maxExitRecords bounds recs: records of processes nobody asked about are
// dropped in bulk when it fills.
const maxExitRecords = 4096

func openTaskstats() (*taskstats, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("taskstats socket: %w", err)
	}
	t := &taskstats{fd: fd, recs: map[int32]exitRecord{}}
	if err := t.register(); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	return t, nil
}

func (t *taskstats) close() { _ = unix.Close(t.fd) }

func (t *taskstats) register() error {
	if err := unix.Bind(t.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("taskstats bind: %w", err)
	}
	if unix.SetsockoptInt(t.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(t.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	family, err := t.familyID()
	if err != nil {
		return err
	}
	mask := cpuMask()
	if _, err := t.request(family, unix.TASKSTATS_CMD_GET, unix.TASKSTATS_VERSION,
		attr(unix.TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, append([]byte(mask), 0))); err != nil {
		return fmt.Errorf("taskstats register cpumask %s: %w", mask, err)
	}
	return nil
}

// familyID asks the generic netlink controller for the TASKSTATS family.
func (t *taskstats) familyID() (uint16, error) {
	resp, err := t.request(unix.GENL_ID_CTRL, unix.CTRL_CMD_GETFAMILY, 1,
		attr(unix.CTRL_ATTR_FAMILY_NAME, append([]byte(unix.TASKSTATS_GENL_NAME), 0)))
	if err != nil {
		return 0, fmt.Errorf("taskstats family: %w", err)
	}
	for a := range attrs(resp) {
		if a.typ == unix.CTRL_ATTR_FAMILY_ID && len(a.data) >= 2 {
			return binary.NativeEndian.Uint16(a.data), nil
		}
	}
	return 0, errors.New("taskstats family: no id in the answer")
}

// request sends one acknowledged generic netlink request and returns the
// attributes of its answer (nil for a bare acknowledgement).
func (t *taskstats) request(family uint16, cmd, version uint8, payload []byte) ([]byte, error) {
	ne := binary.NativeEndian
	msg := make([]byte, unix.NLMSG_HDRLEN+unix.GENL_HDRLEN, unix.NLMSG_HDRLEN+unix.GENL_HDRLEN+len(payload))
	msg = append(msg, payload...)
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], family)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	ne.PutUint32(msg[8:], 1)
	msg[unix.NLMSG_HDRLEN], msg[unix.NLMSG_HDRLEN+1] = cmd, version
	if err := unix.Sendto(t.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	buf := make([]byte, 64<<10)
	var answer []byte
	for {
		if _, err := unix.Poll([]unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLIN}}, 1000); err != nil && !errors.Is(err, unix.EINTR) {
			return nil, err
		}
		n, err := recvNow(t.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return nil, errors.New("no answer within 1s")
		}
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != 1 {
				continue // an exit record that arrived first
			}
			if m.Header.Type == unix.NLMSG_ERROR {
				if len(m.Data) >= 4 {
					if e := int32(ne.Uint32(m.Data)); e != 0 {
						return nil, unix.Errno(-e)
					}
				}
				return answer, nil
			}
			if len(m.Data) >= unix.GENL_HDRLEN {
				answer = bytes.Clone(m.Data[unix.GENL_HDRLEN:])
			}
		}
	}
}

// drain reads every queued exit record without blocking. It reports false
// when the kernel dropped records (the socket overflowed).
func (t *taskstats) drain(buf []byte) bool {
	ok := true
	for {
		n, err := recvNow(t.fd, buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOBUFS):
			ok = false
			continue
		case err != nil:
			return ok
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if len(m.Data) > unix.GENL_HDRLEN {
				t.add(m.Data[unix.GENL_HDRLEN:])
			}
		}
	}
}

// add keeps the per-PID record of an exit message; for a thread group the
// kernel sends the thread's record, and the leader's carries its PID.
func (t *taskstats) add(payload []byte) {
	for a := range attrs(payload) {
		if a.typ != unix.TASKSTATS_TYPE_AGGR_PID {
			continue
		}
		for in := range attrs(a.data) {
			if in.typ != unix.TASKSTATS_TYPE_STATS {
				continue
			}
			var ts unix.Taskstats
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)), in.data)
			if ts.Ac_pid == 0 {
				continue
			}
			if len(t.recs) >= maxExitRecords {
				clear(t.recs)
			}
			comm := unsafe.Slice((*byte)(unsafe.Pointer(&ts.Ac_comm[0])), len(ts.Ac_comm))
			if i := bytes.IndexByte(comm, 0); i >= 0 {
				comm = comm[:i]
			}
			t.recs[int32(ts.Ac_pid)] = exitRecord{pid: int32(ts.Ac_pid), ppid: int32(ts.Ac_ppid), uid: ts.Ac_uid,
				comm: string(comm), status: ts.Ac_exitcode}
		}
	}
}

// take returns and forgets the record of pid.
func (t *taskstats) take(pid int32) (exitRecord, bool) {
	r, ok := t.recs[pid]
	delete(t.recs, pid)
	return r, ok
}

// cpuMask lists the possible CPUs, as the kernel's cpulist syntax.
func cpuMask() string {
	if b, err := os.ReadFile("/sys/devices/system/cpu/possible"); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s
		}
	}
	return fmt.Sprintf("0-%d", runtime.NumCPU()-1)
}

type nlattr struct {
	typ  uint16
	data []byte
}

func attr(typ uint16, data []byte) []byte {
	b := make([]byte, unix.NLA_HDRLEN, unix.NLA_HDRLEN+len(data)+unix.NLA_ALIGNTO)
	binary.NativeEndian.PutUint16(b[0:], uint16(unix.NLA_HDRLEN+len(data)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, data...)
	for len(b)%unix.NLA_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

// attrs iterates the netlink attributes in b.
func attrs(b []byte) func(func(nlattr) bool) {
	return func(yield func(nlattr) bool) {
		for len(b) >= unix.NLA_HDRLEN {
			l := int(binary.NativeEndian.Uint16(b[0:]))
			if l < unix.NLA_HDRLEN || l > len(b) {
				return
			}
			if !yield(nlattr{typ: binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask, data: b[unix.NLA_HDRLEN:l]}) {
				return
			}
			l = (l + unix.NLA_ALIGNTO - 1) &^ (unix.NLA_ALIGNTO - 1)
			if l > len(b) {
				return
			}
			b = b[l:]
		}
	}
}

// nlaTypeMask strips the nested and byte-order flags from an attribute type.
const nlaTypeMask = 0x3fff
