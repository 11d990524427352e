package process

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sysProc is one process of a system snapshot. Everything here comes from a
// single NtQuerySystemInformation(SystemProcessInformation) call, which
// reports it for every process, protected ones included, without opening
// any of them.
type sysProc struct {
	pid, ppid  int32
	name       string
	threads    int32
	start      time.Time // zero for the idle and system pseudo-processes
	user, kern time.Duration
	rss, vms   uint64
}

// snapshotHint remembers the last buffer size so most listings need one call.
var snapshotHint atomic.Uint32

// systemSnapshot reads the process table once.
func systemSnapshot() ([]sysProc, error) {
	size := max(snapshotHint.Load(), 256<<10)
	var buf []byte
	for attempt := 0; ; attempt++ {
		// Allocate as uint64s so the first entry is 8-byte aligned.
		words := make([]uint64, (size+7)/8)
		buf = unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
		var need uint32
		err := windows.NtQuerySystemInformation(windows.SystemProcessInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &need)
		if err == nil {
			snapshotHint.Store(size)
			break
		}
		if !errors.Is(err, windows.STATUS_INFO_LENGTH_MISMATCH) || attempt > 8 {
			return nil, fmt.Errorf("NtQuerySystemInformation(SystemProcessInformation): %w", err)
		}
		// The table grows between calls: ask for headroom.
		size = max(need, size) + 64<<10
	}
	var out []sysProc
	for off := uintptr(0); ; {
		if off+unsafe.Sizeof(windows.SYSTEM_PROCESS_INFORMATION{}) > uintptr(len(buf)) {
			return nil, fmt.Errorf("NtQuerySystemInformation: entry at %d overruns the %d-byte buffer", off, len(buf))
		}
		e := (*windows.SYSTEM_PROCESS_INFORMATION)(unsafe.Pointer(&buf[off]))
		p := sysProc{
			pid:     int32(e.UniqueProcessID),
			ppid:    int32(e.InheritedFromUniqueProcessID),
			name:    e.ImageName.String(),
			threads: int32(e.NumberOfThreads),
			user:    time.Duration(e.UserTime) * 100,
			kern:    time.Duration(e.KernelTime) * 100,
			rss:     uint64(e.WorkingSetSize),
			vms:     uint64(e.PagefileUsage), // private bytes, what Task Manager calls commit size
		}
		if e.CreateTime > 0 {
			p.start = filetime(e.CreateTime)
		}
		if p.pid == 0 && p.name == "" {
			p.name = "System Idle Process"
		}
		out = append(out, p)
		if e.NextEntryOffset == 0 {
			return out, nil
		}
		off += uintptr(e.NextEntryOffset)
	}
}

// filetime converts 100 ns ticks since 1601-01-01 UTC.
func filetime(ticks int64) time.Time {
	ft := windows.Filetime{LowDateTime: uint32(ticks), HighDateTime: uint32(ticks >> 32)}
	return time.Unix(0, ft.Nanoseconds())
}
