//go:build !linux && !darwin && !windows

// How reader_other.go enumerates processes on the platforms other than
// Linux, Windows and macOS: gopsutil for every field.

package process

import (
	"context"
	"path/filepath"
	"time"

	"github.com/shirou/gopsutil/v3/process"
)

// gopsutil answers every field natively here.
const execBacked Field = 0

func enumerate(ctx context.Context, pids []int32) ([]entry, error) {
	if pids == nil {
		var err error
		if pids, err = process.PidsWithContext(ctx); err != nil {
			return nil, err
		}
	}
	ents := make([]entry, len(pids))
	for i, pid := range pids {
		ents[i] = entry{pid: pid, uid: -1}
	}
	return ents, nil
}

// fillEntry reads the always-read fields and the status. It reports false
// when the process does not exist.
func fillEntry(ctx context.Context, gp *process.Process, e *entry, q *query) bool {
	if ms, err := gp.CreateTimeWithContext(ctx); err == nil {
		e.start = time.UnixMilli(ms)
	} else if ok, _ := process.PidExistsWithContext(ctx, e.pid); !ok {
		return false
	} // else protected: keep it with a zero start time
	if q.samplesOnly {
		return true // the parent costs a process snapshot on Windows
	}
	e.ppid, _ = gp.PpidWithContext(ctx) // 0 when unreadable
	if q.need.Has(FieldStatus) {
		if st, err := gp.StatusWithContext(ctx); err == nil && len(st) > 0 {
			e.status = gopsStatus(st[0])
		} else {
			e.unavailable |= FieldStatus // not implemented on Windows
		}
	}
	e.basic = true
	return true
}

// nameOf returns the executable's base name (Windows has no separate
// short name), from the exe already read when there is one.
func nameOf(ctx context.Context, gp *process.Process, _ *entry, p *Process) (string, error) {
	if p.Exe != "" {
		return filepath.Base(p.Exe), nil
	}
	return gp.NameWithContext(ctx)
}

func gopsStatus(s string) Status {
	switch s {
	case process.Running:
		return StatusRunning
	case process.Sleep:
		return StatusSleeping
	case process.Stop:
		return StatusStopped
	case process.Idle:
		return StatusIdle
	case process.Zombie:
		return StatusZombie
	}
	return StatusUnknown
}
