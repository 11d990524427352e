//go:build !linux && !windows

// The process reader of every platform but Linux and Windows: gopsutil,
// with the table enumerated by reader_darwin.go on macOS and by
// enumerate_other.go elsewhere.

package process

import (
	"context"
	"fmt"
	"time"

	"github.com/shirou/gopsutil/v3/process"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// gopsReader reads processes through gopsutil where there is no /proc: one
// pass over the process table per listing, one getter per needed field. A
// getter that fails marks its field unavailable; it never drops the process.
type gopsReader struct{ users *userCache }

// readerName is the Implementation of the lister here.
const readerName = "gopsutil"

func newReader() reader { return &gopsReader{users: newUserCache()} }

// entry is one process of the table, with the fields the platform's
// enumeration already gave (basic set) or will give on demand.
type entry struct {
	pid         int32
	basic       bool // ppid, start, comm, status, uid below are filled
	ppid        int32
	start       time.Time
	comm        string //nolint:unused // filled and read by the darwin reader only
	status      Status
	uid         int64
	unavailable Field
}

func (r *gopsReader) read(ctx context.Context, q *query) ([]Process, scan, error) {
	s := newScan(q, q.need.Has(FieldCPU) && execBacked&FieldCPU == 0)
	procs, err := readTable(ctx, func() ([]entry, error) { return enumerate(ctx, q.pids) },
		func(e *entry, p *Process) bool { return r.readProc(ctx, e, q, p, &s) })
	if err != nil {
		return nil, scan{}, err
	}
	return procs, s, nil
}

func (r *gopsReader) readProc(ctx context.Context, e *entry, q *query, p *Process, s *scan) bool {
	gp := &process.Process{Pid: e.pid}
	if !e.basic && !fillEntry(ctx, gp, e, q) {
		return false // gone
	}
	need := q.need
	p.PID, p.PPID, p.StartTime, p.UID = e.pid, e.ppid, e.start, -1
	p.Unavailable = e.unavailable & need

	r.get(FieldCPU, need, p, func() error {
		t, err := gp.TimesWithContext(ctx)
		if err != nil {
			return err
		}
		p.CPUUser, p.CPUSystem = seconds(t.User), seconds(t.System)
		s.samples = append(s.samples, cpuSample{key: p.Key(), cpu: p.CPUUser + p.CPUSystem})
		return nil
	})
	if q.samplesOnly || !q.filter.matchIDs(p) {
		return false
	}
	if need.Has(FieldStatus) {
		p.Status = e.status
	}
	if need.Has(FieldUser) && p.Unavailable&FieldUser == 0 {
		if e.uid >= 0 {
			p.UID, p.User = e.uid, r.users.name(uint32(e.uid), s.at)
		} else if name, err := gp.UsernameWithContext(ctx); err == nil {
			p.User = name // Windows: DOMAIN\user, no numeric id
		} else {
			p.Unavailable |= FieldUser
		}
	}
	if q.filter.User != "" && (p.Unavailable&FieldUser != 0 || !q.filter.matchUser(p.User)) {
		return false
	}
	if need.Has(FieldName) {
		name, err := nameOf(ctx, gp, e, p)
		if err != nil {
			p.Unavailable |= FieldName
		}
		p.Name = name
		if q.filter.NameGlob != "" && (err != nil || !q.filter.matchName(name)) {
			return false
		}
	}

	if p.Exe == "" {
		r.get(FieldExe, need, p, func() (err error) {
			p.Exe, err = gp.ExeWithContext(ctx)
			return err
		})
	}
	r.get(FieldArgs, need, p, func() (err error) {
		p.Args, err = gp.CmdlineSliceWithContext(ctx)
		return err
	})
	r.get(FieldMemory, need, p, func() error {
		m, err := gp.MemoryInfoWithContext(ctx)
		if err != nil {
			return err
		}
		p.RSS, p.VMS = m.RSS, m.VMS
		return nil
	})
	r.get(FieldThreads, need, p, func() (err error) {
		p.Threads, err = gp.NumThreadsWithContext(ctx)
		return err
	})
	return true
}

// get reads field f with fn when it is needed, marking it unavailable when
// fn fails or when gopsutil would run a helper program to get it.
func (r *gopsReader) get(f, need Field, p *Process, fn func() error) {
	switch {
	case !need.Has(f):
	case execBacked&f != 0:
		p.Unavailable |= f
	case fn() != nil:
		p.Unavailable |= f
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (r *gopsReader) count(ctx context.Context) (int, error) {
	pids, err := process.PidsWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctxErr(ctx.Err())
		}
		return 0, fmt.Errorf("%w: listing processes: %w", errdefs.ErrUnavailable, err)
	}
	return len(pids), nil
}
