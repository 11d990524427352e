package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// procReader reads /proc in one pass: each file of each process is read at
// most once per listing, with one read syscall into a reused buffer, and only
// the files the needed fields come from. (gopsutil re-reads files per getter.)
type procReader struct {
	root     string
	pageSize uint64
	users    *userCache
	scratch  sync.Pool // *procScratch

	bootOnce sync.Once
	boot     time.Time
	skew     time.Duration
	bootErr  error
}

// procScratch is the per-listing working memory, pooled across listings.
type procScratch struct {
	buf   []byte
	path  []byte            // "<root>/<pid>/" then the file name
	names map[string]string // interned names and exe paths
	st    procStat
}

func newReader() reader { return newProcReader("/proc") }

func newProcReader(root string) *procReader {
	return &procReader{
		root:     root,
		pageSize: uint64(os.Getpagesize()),
		users:    newUserCache(),
		scratch: sync.Pool{New: func() any {
			return &procScratch{buf: make([]byte, 4096), names: make(map[string]string)}
		}},
	}
}

func (r *procReader) init() error {
	r.bootOnce.Do(func() { r.boot, r.skew, r.bootErr = bootTime(r.root) })
	if r.bootErr != nil {
		return fmt.Errorf("%w: reading boot time: %v", errdefs.ErrUnavailable, r.bootErr)
	}
	return nil
}

func (r *procReader) read(ctx context.Context, q *query) ([]Process, scan, error) {
	if err := r.init(); err != nil {
		return nil, scan{}, err
	}
	s := scan{at: time.Now(), hasCPU: true, pids: q.pids, complete: q.pids == nil, startSkew: r.skew}
	pids := q.pids
	if pids == nil {
		var err error
		if pids, err = r.listPIDs(); err != nil {
			return nil, scan{}, err
		}
	}
	sc := r.scratch.Get().(*procScratch)
	defer r.scratch.Put(sc)

	s.samples = make([]cpuSample, 0, len(pids))
	var procs []Process
	if !q.samplesOnly {
		n := len(pids)
		if q.filter.NameGlob != "" || q.filter.User != "" || q.filter.PPID != nil {
			n = min(n, 64) // most filters keep few
		}
		procs = make([]Process, 0, n)
	}
	defer func() {
		if cap(sc.buf) > 1<<16 { // a huge cmdline must not stay pinned
			sc.buf = make([]byte, 4096)
		}
	}()
	for i, pid := range pids {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, scan{}, ctxErr(err)
			}
		}
		procs = append(procs, Process{})
		p := &procs[len(procs)-1]
		ok := r.readProc(sc, pid, q, p, &s)
		if !ok || q.samplesOnly {
			*p = Process{}
			procs = procs[:len(procs)-1]
		}
	}
	return procs, s, nil
}

// readProc fills p from the files of pid that q needs. It reports false when
// the process is gone or filtered out.
func (r *procReader) readProc(sc *procScratch, pid int32, q *query, p *Process, s *scan) bool {
	sc.path = strconv.AppendInt(append(append(sc.path[:0], r.root...), '/'), int64(pid), 10)
	sc.path = append(sc.path, '/')
	dir := len(sc.path)

	b, err := r.readFile(sc, dir, "stat")
	if err != nil {
		return false // gone before we saw it; nothing to report
	}
	st := &sc.st
	if parseStat(b, st) != nil {
		return false
	}
	p.PID = pid
	p.PPID = int32(st.ppid)
	p.StartTime = r.boot.Add(time.Duration(st.starttime) * tick)
	p.UID = -1
	// CPU times come with stat for free: always sample them so the CPU
	// history stays warm whatever the caller asked for.
	p.CPUUser = time.Duration(st.utime) * tick
	p.CPUSystem = time.Duration(st.stime) * tick
	s.samples = append(s.samples, cpuSample{key: p.Key(), cpu: p.CPUUser + p.CPUSystem})
	if q.samplesOnly || !q.filter.matchIDs(p) {
		return false
	}
	need := q.need
	if need.Has(FieldStatus) {
		p.Status = statusOf(st.state)
	}
	if need.Has(FieldMemory) {
		p.VMS = st.vsize
		p.RSS = uint64(max(st.rss, 0)) * r.pageSize
	}
	if need.Has(FieldThreads) {
		p.Threads = int32(st.threads)
	}
	// Kernel threads have no exe or argv; zombies no longer have them.
	noImage := st.flags&pfKthread != 0 || st.state == 'Z'
	// comm is TASK_COMM_LEN-1 bytes at most; a full one may be truncated.
	truncated := len(st.comm) >= 15 && !noImage
	var comm string
	if need.Has(FieldName) {
		comm = sc.intern(st.comm)
		if !truncated && !q.filter.matchName(comm) {
			return false
		}
	}

	// Cheapest rejection first: status decides the user filter.
	if need.Has(FieldUser) {
		b, err := r.readFile(sc, dir, "status")
		uid, ok := parseEUID(b)
		if err != nil || !ok {
			p.Unavailable |= FieldUser
			if gone(err) {
				p.Unavailable |= need & (FieldExe | FieldArgs)
				need &^= FieldExe | FieldArgs
			}
			if q.filter.User != "" {
				return false
			}
		} else {
			p.UID = int64(uid)
			p.User = r.users.name(uid, s.at)
			if !q.filter.matchUser(p.User) {
				return false
			}
		}
	}

	wantExe := need.Has(FieldExe) || need.Has(FieldName) && truncated
	if wantExe && !noImage {
		if n, err := unix.Readlink(sc.pathOf(dir, "exe"), sc.buf); err == nil {
			p.Exe = sc.intern(sc.buf[:n])
		} else {
			// EACCES: not ours to see; ENOENT: exiting or gone (kernel
			// threads and zombies, which have no exe, were not asked).
			p.Unavailable |= FieldExe
		}
	}
	if truncated && need.Has(FieldName) {
		if full := fullName(comm, 15, p.Exe, ""); full != comm {
			comm, truncated = full, false
		} // else still unresolved: try argv[0]
	}
	if (need.Has(FieldArgs) || need.Has(FieldName) && truncated) && !noImage {
		if b, err := r.readFile(sc, dir, "cmdline"); err == nil {
			p.Args = splitArgs(b)
		} else {
			p.Unavailable |= FieldArgs
		}
		if truncated && need.Has(FieldName) && len(p.Args) > 0 {
			comm = fullName(comm, 15, "", p.Args[0])
		}
	}
	if need.Has(FieldName) {
		p.Name = comm
		if !q.filter.matchName(comm) {
			return false
		}
	}
	return true
}

// readFile reads <dir>/name whole with one read syscall in the common case:
// procfs generates these files at open and returns them in one read when
// the buffer is large enough, so a short read means end of file.
func (r *procReader) readFile(sc *procScratch, dir int, name string) ([]byte, error) {
	fd, err := unix.Open(sc.pathOf(dir, name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n := 0
	for {
		m, err := unix.Read(fd, sc.buf[n:])
		if err == unix.EINTR {
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

// gone reports whether err says the process no longer exists.
func gone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// listPIDs returns the numeric entries of /proc.
func (r *procReader) listPIDs() ([]int32, error) {
	var pids []int32
	err := r.eachPID(func(pid int32) { pids = append(pids, pid) })
	return pids, err
}

func (r *procReader) eachPID(fn func(int32)) error {
	d, err := os.Open(r.root)
	if err != nil {
		return fmt.Errorf("%w: %v", errdefs.ErrUnavailable, err)
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(1024)
		for _, name := range names {
			if n, err := atou([]byte(name)); err == nil && n > 0 && n <= 1<<31-1 {
				fn(int32(n))
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: listing %s: %v", errdefs.ErrUnavailable, r.root, err)
		}
	}
}

func (r *procReader) count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, ctxErr(err)
	}
	n := 0
	err := r.eachPID(func(int32) { n++ })
	return n, err
}
