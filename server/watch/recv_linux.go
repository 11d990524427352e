package watch

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

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
