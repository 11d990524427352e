package process

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysc makes the system calls of a /proc read; a true one makes them raw.
// Raw calls skip the Go scheduler's syscall bookkeeping, which on an idle
// daemon wakes the runtime's sysmon thread out of its sleep. The process
// watch reads each new process once (query.raw): those calls are brief
// (procfs generates the file at open), so nothing is lost by holding the P
// meanwhile, and ctld's CPU per started process drops (docs/watch.md).
// Whole-table listings keep ordinary calls, and so does every read that
// may wait on another process's locks (see procReader.readFile).
type sysc bool

// atFDCWD is a variable: the negative constant does not convert to uintptr.
var atFDCWD = unix.AT_FDCWD

func (raw sysc) open(path string) (int, error) {
	if !raw {
		return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	fd, _, e := unix.RawSyscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	return int(fd), errOf(e)
}

func (raw sysc) read(fd int, b []byte) (int, error) {
	if !raw {
		return unix.Read(fd, b)
	}
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errOf(e)
}

func (raw sysc) close(fd int) {
	if !raw {
		_ = unix.Close(fd)
		return
	}
	_, _, _ = unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

func (raw sysc) readlink(path string, b []byte) (int, error) {
	if !raw {
		return unix.Readlink(path, b)
	}
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return 0, err
	}
	n, _, e := unix.RawSyscall6(unix.SYS_READLINKAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0, 0)
	return int(n), errOf(e)
}

func (raw sysc) pidfdOpen(pid int32) (int, error) {
	if !raw {
		return unix.PidfdOpen(int(pid), 0)
	}
	fd, _, e := unix.RawSyscall(unix.SYS_PIDFD_OPEN, uintptr(pid), 0, 0)
	return int(fd), errOf(e)
}

func (raw sysc) pidfdInfo(fd int, info *unix.PidfdInfo) error {
	if !raw {
		return unix.IoctlPidfdInfo(fd, info)
	}
	_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.PIDFD_GET_INFO, uintptr(unsafe.Pointer(info)))
	return errOf(e)
}

func errOf(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
