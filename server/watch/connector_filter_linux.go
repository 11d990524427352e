package watch

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Byte offsets in a process connector datagram: nlmsghdr, cn_msg, then the
// proc_event (what, cpu, timestamp, then the event's data).
const (
	offWhat = nlmsgHdrLen + cnMsgLen + evWhat
	offData = nlmsgHdrLen + cnMsgLen + evData
)

// attachFilter makes the kernel drop, before they wake ctld, the events
// the producer ignores: those of threads (a busy host creates and ends far
// more threads than processes) and the UID, GID, SID, PTRACE, COMM and
// COREDUMP events. Of the rest it passes the FORK events if forks, the
// EXEC and EXIT events and the subscription's acknowledgement if others:
// the connector waits on a socket of the others and reads the forks from a
// second one only when it has another reason to wake (connector.forkFD).
func attachFilter(fd int, forks, others bool) error {
	prog, err := bpf.Assemble(eventFilter(forks, others))
	if err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: unsafe.SliceData(filter)}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog)
}

func eventFilter(forks, others bool) []bpf.Instruction {
	pass := func(b bool) uint32 {
		if b {
			return 0xffffffff
		}
		return 0
	}
	onFork, onOther := pass(forks), pass(others)
	// Classic BPF loads big-endian words; the connector writes host order.
	// Equality between two loaded words is unaffected; constants are
	// swapped to match.
	host := func(v uint32) uint32 {
		if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 { // little-endian host
			return bits.ReverseBytes32(v)
		}
		return v
	}
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: offWhat, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: host(procEventFork), SkipTrue: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: host(procEventExec), SkipTrue: 7},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: host(procEventExit), SkipTrue: 6},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: host(procEventNone), SkipTrue: 10},
		bpf.RetConstant{Val: 0},
		// FORK: child pid (data+8) == child tgid (data+12).
		bpf.LoadAbsolute{Off: offData + 8, Size: 4},
		bpf.TAX{},
		bpf.LoadAbsolute{Off: offData + 12, Size: 4},
		bpf.JumpIfX{Cond: bpf.JumpEqual, SkipTrue: 6, SkipFalse: 4},
		// EXEC, EXIT: pid (data+0) == tgid (data+4).
		bpf.LoadAbsolute{Off: offData, Size: 4},
		bpf.TAX{},
		bpf.LoadAbsolute{Off: offData + 4, Size: 4},
		bpf.JumpIfX{Cond: bpf.JumpEqual, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: onOther},
		bpf.RetConstant{Val: onFork},
	}
}
