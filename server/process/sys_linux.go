package process

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysc makes the system calls of a /proc read; a true one makes them raw.
// Raw calls skip the Go scheduler's syscall bookkeeping: on an idle daemon
// that bookkeeping wakes the runtime's sysmon thread out of its sleep (the
// watch reads each new process: ctld's CPU per started process dropped,
// docs/watch.md), and in a whole-table listing it was a fifth of the
// listing's time (BenchmarkListAllFields, 17-19 ms instead of 22-24 ms at
// ~1070 processes). The calls made raw never wait on another process:
// procfs generates stat at open, and open, readlink of exe and the pidfd
// calls take no lock a stuck process can hold, so holding the P for one of
// them costs microseconds. Reads that may wait on another process's mmap
// lock (cmdline, status) stay ordinary calls (procReader.readFile).
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

// procScratch is the per-listing working memory, pooled across listings.
type procScratch struct {
	buf   []byte
	path  []byte            // "<root>/<pid>/" then the file name
	names map[string]string // interned names and exe paths
	st    procStat
	sys   sysc // raw calls where they cannot block (see sysc)
}

// readFile reads <dir>/name whole with one read syscall in the common case:
// procfs generates these files at open and returns them in one read when
// the buffer is large enough, so a short read means end of file.
func (r *procReader) readFile(sc *procScratch, dir int, name string) ([]byte, error) {
	fd, err := sc.sys.open(sc.pathOf(dir, name))
	if err != nil {
		return nil, err
	}
	defer sc.sys.close(fd)
	// Only stat is read raw: reading cmdline (or status on some kernels)
	// takes the target's mmap lock, which a stuck process may hold for
	// ever, and a raw call blocked there would stall the next GC.
	rd := sc.sys && name == "stat"
	n := 0
	for {
		m, err := rd.read(fd, sc.buf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		n += m
		if m == 0 || n < len(sc.buf) {
			return sc.buf[:n], nil
		}
		sc.buf = append(sc.buf, make([]byte, len(sc.buf))...) // full: grow and go on
	}
}

// pathOf returns the path of file name of the process whose directory is
// sc.path[:dir]. The string aliases sc.path and is valid until the next call.
func (sc *procScratch) pathOf(dir int, name string) string {
	sc.path = append(sc.path[:dir], name...)
	return unsafe.String(unsafe.SliceData(sc.path), len(sc.path))
}

// intern returns b as a string, shared with earlier equal names: a host runs
// many processes of the same program.
func (sc *procScratch) intern(b []byte) string {
	if s, ok := sc.names[string(b)]; ok { // no allocation for the lookup
		return s
	}
	if len(sc.names) >= 4096 {
		clear(sc.names)
	}
	s := string(b)
	sc.names[s] = s
	return s
}
