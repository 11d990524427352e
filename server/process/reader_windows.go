package process

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// winReader lists processes from one system snapshot per listing (PID,
// parent, name, threads, start time, CPU times, memory for every process),
// and opens a process with PROCESS_QUERY_LIMITED_INFORMATION only for what
// the snapshot lacks and the caller asked for: executable path, user, argv.
// Processes it may not open (protected, other users' when unprivileged) are
// returned with those fields in Unavailable. No WMI, no helper programs.
type winReader struct{ users *sidCache }

// readerName is the Implementation of the Windows lister.
const readerName = "ntquerysysteminformation"

func newReader() reader { return &winReader{users: newSIDCache()} }

// snapshot is swapped by tests.
var snapshot = systemSnapshot

func (r *winReader) read(ctx context.Context, q *query) ([]Process, scan, error) {
	s := newScan(q, q.need.Has(FieldCPU))
	procs, err := readTable(ctx, snapshot, func(sp *sysProc, p *Process) bool {
		if q.pids != nil {
			if _, ok := slices.BinarySearch(q.pids, sp.pid); !ok {
				return false
			}
		}
		return r.readProc(sp, q, p, &s)
	})
	if err != nil {
		return nil, scan{}, err
	}
	return procs, s, nil
}

// readProc fills p from the snapshot entry, applying the filter as soon as
// the fields it looks at are known, and reports whether p is kept.
func (r *winReader) readProc(sp *sysProc, q *query, p *Process, s *scan) bool {
	need := q.need
	p.PID, p.PPID, p.StartTime, p.UID = sp.pid, sp.ppid, sp.start, -1
	if need.Has(FieldCPU) {
		p.CPUUser, p.CPUSystem = sp.user, sp.kern
		s.samples = append(s.samples, cpuSample{key: p.Key(), cpu: p.CPUUser + p.CPUSystem})
	}
	if q.samplesOnly || !q.filter.matchIDs(p) {
		return false
	}
	if need.Has(FieldName) {
		p.Name = sp.name
		if q.filter.NameGlob != "" && !q.filter.matchName(p.Name) {
			return false
		}
	}
	if need.Has(FieldMemory) {
		p.RSS, p.VMS = sp.rss, sp.vms
	}
	if need.Has(FieldThreads) {
		p.Threads = sp.threads
	}
	if need.Has(FieldStatus) {
		// Windows has no process state: threads wait or run individually.
		p.Unavailable |= FieldStatus
	}
	opened := need & (FieldExe | FieldUser | FieldArgs)
	if opened == 0 {
		return true
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(sp.pid))
	if err != nil {
		// Idle/System pseudo-processes, protected processes, or gone.
		p.Unavailable |= opened
		return q.filter.User == ""
	}
	defer windows.CloseHandle(h) //nolint:errcheck // a handle we own; nothing to do on failure
	if need.Has(FieldUser) {
		if name, err := r.owner(h); err == nil {
			p.User = name
		} else {
			p.Unavailable |= FieldUser
		}
	}
	if q.filter.User != "" && (p.Unavailable&FieldUser != 0 || !q.filter.matchUser(p.User)) {
		return false
	}
	if need.Has(FieldExe) {
		if exe, err := imagePath(h); err == nil {
			p.Exe = exe
		} else {
			p.Unavailable |= FieldExe
		}
	}
	if need.Has(FieldArgs) {
		if line, err := commandLine(h, sp.pid); err == nil {
			p.Args = splitCommandLine(line)
		} else {
			p.Unavailable |= FieldArgs
		}
	}
	return true
}

func (r *winReader) count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, ctxErr(err)
	}
	table, err := snapshot()
	if err != nil {
		return 0, fmt.Errorf("%w: counting processes: %w", errdefs.ErrUnavailable, err)
	}
	return len(table), nil
}

func imagePath(h windows.Handle) (string, error) {
	// Most paths fit MAX_PATH; long ones get one retry at the maximum.
	for size := windows.MAX_PATH; ; size = windows.MAX_LONG_PATH {
		buf := make([]uint16, size)
		n := uint32(len(buf))
		err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n)
		if err == nil {
			return windows.UTF16ToString(buf[:n]), nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || size == windows.MAX_LONG_PATH {
			return "", err
		}
	}
}

// commandLine reads the process's command line with
// NtQueryInformationProcess(ProcessCommandLineInformation), which needs only
// PROCESS_QUERY_LIMITED_INFORMATION; where that class is missing (Windows
// before 8.1, Wine) it reads the process's PEB instead.
func commandLine(h windows.Handle, pid int32) (string, error) {
	line, err := commandLineInfo(h)
	if errors.Is(err, windows.STATUS_INVALID_INFO_CLASS) || errors.Is(err, windows.STATUS_NOT_IMPLEMENTED) {
		return commandLineFromPEB(pid)
	}
	return line, err
}

func commandLineInfo(h windows.Handle) (string, error) {
	size := uint32(1024)
	for range 4 {
		words := make([]uint64, (size+7)/8)
		buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
		var need uint32
		err := windows.NtQueryInformationProcess(h, windows.ProcessCommandLineInformation, unsafe.Pointer(&buf[0]), uint32(len(buf)), &need)
		if err == nil {
			return (*windows.NTUnicodeString)(unsafe.Pointer(&buf[0])).String(), nil
		}
		if !errors.Is(err, windows.STATUS_INFO_LENGTH_MISMATCH) && !errors.Is(err, windows.STATUS_BUFFER_TOO_SMALL) && !errors.Is(err, windows.STATUS_BUFFER_OVERFLOW) {
			return "", err
		}
		size = max(need, 2*size)
	}
	return "", fmt.Errorf("command line keeps growing")
}

// commandLineFromPEB reads RTL_USER_PROCESS_PARAMETERS.CommandLine out of
// the process's memory; this needs PROCESS_VM_READ, so it opens the process
// again with more rights.
func commandLineFromPEB(pid int32) (string, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_INFORMATION|windows.PROCESS_VM_READ, false, uint32(pid))
	if err != nil {
		return "", err
	}
	defer windows.CloseHandle(h) //nolint:errcheck // a handle we own; nothing to do on failure
	var pbi windows.PROCESS_BASIC_INFORMATION
	if err := windows.NtQueryInformationProcess(h, windows.ProcessBasicInformation, unsafe.Pointer(&pbi), uint32(unsafe.Sizeof(pbi)), nil); err != nil {
		return "", err
	}
	if pbi.PebBaseAddress == nil {
		return "", fmt.Errorf("process %d has no PEB", pid)
	}
	var params uintptr
	pebField := uintptr(unsafe.Pointer(pbi.PebBaseAddress)) + unsafe.Offsetof(windows.PEB{}.ProcessParameters)
	if err := readMemory(h, pebField, unsafe.Pointer(&params), unsafe.Sizeof(params)); err != nil {
		return "", err
	}
	var us windows.NTUnicodeString
	if err := readMemory(h, params+unsafe.Offsetof(windows.RTL_USER_PROCESS_PARAMETERS{}.CommandLine), unsafe.Pointer(&us), unsafe.Sizeof(us)); err != nil {
		return "", err
	}
	if us.Length == 0 || us.Buffer == nil {
		return "", nil
	}
	buf := make([]uint16, us.Length/2)
	if err := readMemory(h, uintptr(unsafe.Pointer(us.Buffer)), unsafe.Pointer(&buf[0]), uintptr(us.Length)); err != nil {
		return "", err
	}
	return windows.UTF16ToString(buf), nil
}

func readMemory(h windows.Handle, addr uintptr, dst unsafe.Pointer, n uintptr) error {
	var got uintptr
	if err := windows.ReadProcessMemory(h, addr, (*byte)(dst), n, &got); err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("short read of process memory: %d of %d bytes", got, n)
	}
	return nil
}

// splitCommandLine splits with the rules of CommandLineToArgvW (the
// convention of the C runtime and of Go's os.Args on Windows).
func splitCommandLine(line string) []string {
	if line == "" {
		return nil
	}
	args, err := windows.DecomposeCommandLine(line)
	if err != nil { // only for a NUL inside the line
		return []string{line}
	}
	return args
}
