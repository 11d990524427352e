package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// procReader reads /proc in one pass: each file of each process is read at
// most once per listing, with one read syscall into a reused buffer, and only
// the files the needed fields come from (gopsutil re-reads files per getter).
// Filters are applied as soon as what they look at is read.
type procReader struct {
	root     string
	pageSize uint64
	users    *userCache
	scratch  sync.Pool // *procScratch
	// pidfdInfo is cleared once PIDFD_GET_INFO turns out unsupported.
	pidfdInfo atomic.Bool

	bootOnce sync.Once
	boot     time.Time
	skew     time.Duration
	bootErr  error
}

// readerName is the Implementation of the Linux lister.
const readerName = "procfs"

func newReader() reader { return newProcReader("/proc") }

func newProcReader(root string) *procReader {
	r := &procReader{
		root:     root,
		pageSize: uint64(os.Getpagesize()),
		users:    newUserCache(),
		scratch: sync.Pool{New: func() any {
			return &procScratch{buf: make([]byte, 4096), names: make(map[string]string)}
		}},
	}
	// pidfds name processes of this host, not of a tree under test.
	r.pidfdInfo.Store(root == "/proc")
	return r
}

func (r *procReader) init() error {
	// The one clock kernel events are converted with (clock_linux.go).
	r.bootOnce.Do(func() { r.boot, r.bootErr = bootOf(r.root) })
	if r.bootErr != nil {
		return fmt.Errorf("%w: reading boot time: %w", errdefs.ErrUnavailable, r.bootErr)
	}
	return nil
}

func (r *procReader) read(ctx context.Context, q *query) ([]Process, scan, error) {
	if err := r.init(); err != nil {
		return nil, scan{}, err
	}
	s := newScan(q, true)
	s.startSkew = r.skew
	pids := q.pids
	if pids == nil {
		var err error
		if pids, err = r.listPIDs(); err != nil {
			return nil, scan{}, err
		}
	}

	// The cost is all in the kernel generating the files, so a large table
	// is read by one goroutine per CPU, in batches taken in turn to even out
	// cheap (kernel threads) and dear processes. Batches keep PID order.
	filtered := q.filter.NameGlob != "" || q.filter.User != "" || q.filter.PPID != nil
	nb := (len(pids) + batchSize - 1) / batchSize
	batches := make([]batch, nb)
	var next atomic.Int64
	work := func() {
		sc := r.scratch.Get().(*procScratch)
		sc.sys = true
		defer r.putScratch(sc)
		for {
			i := int(next.Add(1) - 1)
			if i >= nb || ctx.Err() != nil {
				return
			}
			b := &batches[i]
			// Sized to the batch: a one-process read (the watch's) must not
			// allocate room for a whole batch.
			in := pids[i*batchSize : min((i+1)*batchSize, len(pids))]
			b.samples = make([]cpuSample, 0, len(in))
			if !q.samplesOnly && !filtered {
				b.procs = make([]Process, 0, len(in))
			}
			for _, pid := range in {
				if q.samplesOnly {
					var p Process
					r.readProc(sc, pid, q, &p, s.at, &b.samples)
					continue
				}
				b.procs = append(b.procs, Process{})
				if !r.readProc(sc, pid, q, &b.procs[len(b.procs)-1], s.at, &b.samples) {
					b.procs[len(b.procs)-1] = Process{}
					b.procs = b.procs[:len(b.procs)-1]
				}
			}
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), maxReaders, nb) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, scan{}, ctxErr(err)
	}

	np := 0
	for i := range batches {
		np += len(batches[i].procs)
	}
	procs := make([]Process, 0, np)
	s.samples = make([]cpuSample, 0, len(pids))
	for _, b := range batches {
		procs = append(procs, b.procs...)
		s.samples = append(s.samples, b.samples...)
	}
	return procs, s, nil
}

const (
	batchSize  = 64
	maxReaders = 4
)

type batch struct {
	procs   []Process
	samples []cpuSample
}

func (r *procReader) putScratch(sc *procScratch) {
	if cap(sc.buf) > 1<<16 { // a huge cmdline must not stay pinned
		sc.buf = make([]byte, 4096)
	}
	r.scratch.Put(sc)
}

// readProc fills p from the files of pid that q needs. It reports false when
// the process is gone or filtered out.
func (r *procReader) readProc(sc *procScratch, pid int32, q *query, p *Process, now time.Time, samples *[]cpuSample) bool {
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
	*samples = append(*samples, cpuSample{key: p.Key(), cpu: p.CPUUser + p.CPUSystem})
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

	// Cheapest rejection first: the uid decides the user filter.
	if need.Has(FieldUser) {
		var uid uint32 // kernel threads run as root
		var err error
		if st.flags&pfKthread == 0 {
			uid, err = r.euid(sc, dir, pid)
		}
		if err != nil {
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
			p.User = r.users.name(uid, now)
			if !q.filter.matchUser(p.User) {
				return false
			}
		}
	}

	wantExe := need.Has(FieldExe) || need.Has(FieldName) && truncated
	if wantExe && !noImage {
		if n, err := sc.sys.readlink(sc.pathOf(dir, "exe"), sc.buf); err == nil {
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

// euid returns the effective uid of pid, what ps shows. PIDFD_GET_INFO
// (Linux 6.13+) gives it for a fifth of the cost of /proc/PID/status, which
// the kernel formats whole for the one line we need.
func (r *procReader) euid(sc *procScratch, dir int, pid int32) (uint32, error) {
	if r.pidfdInfo.Load() {
		fd, err := sc.sys.pidfdOpen(pid)
		switch {
		case err == nil:
			info := unix.PidfdInfo{Mask: unix.PIDFD_INFO_CREDS}
			err = sc.sys.pidfdInfo(fd, &info)
			sc.sys.close(fd)
			switch {
			case err == nil && info.Mask&unix.PIDFD_INFO_CREDS != 0:
				return info.Euid, nil
			case gone(err):
				return 0, err
			default: // ENOTTY, EINVAL: kernel before 6.13
				r.pidfdInfo.Store(false)
			}
		case gone(err):
			return 0, err
		case errors.Is(err, unix.ENOSYS):
			r.pidfdInfo.Store(false)
		} // else EINVAL (a thread ID was asked for), EMFILE: status for this one
	}
	b, err := r.readFile(sc, dir, "status")
	if err != nil {
		return 0, err
	}
	uid, ok := parseEUID(b)
	if !ok {
		return 0, errBadStat
	}
	return uid, nil
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
		return fmt.Errorf("%w: %w", errdefs.ErrUnavailable, err)
	}
	defer func() { _ = d.Close() }()
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
			return fmt.Errorf("%w: listing %s: %w", errdefs.ErrUnavailable, r.root, err)
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
