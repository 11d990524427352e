package process

import (
	"context"
	"time"

	"github.com/shirou/gopsutil/v3/process"
	"golang.org/x/sys/unix"
)

// enumerate reads the process table with sysctl: one call for all
// processes gives PID, parent, start time, comm, state and effective uid,
// where gopsutil would make one sysctl per getter (and run ps for the state).
func enumerate(_ context.Context, pids []int32) ([]entry, error) {
	var kps []unix.KinfoProc
	if pids == nil {
		var err error
		if kps, err = unix.SysctlKinfoProcSlice("kern.proc.all"); err != nil {
			return nil, err
		}
	}
	for _, pid := range pids {
		kp, err := unix.SysctlKinfoProc("kern.proc.pid", int(pid))
		if err != nil || kp.Proc.P_pid != pid {
			continue // gone
		}
		kps = append(kps, *kp)
	}
	ents := make([]entry, 0, len(kps))
	for i := range kps {
		k := &kps[i]
		ents = append(ents, entry{
			pid:    k.Proc.P_pid,
			basic:  true,
			ppid:   k.Eproc.Ppid,
			start:  time.Unix(0, k.Proc.P_starttime.Nano()),
			comm:   unix.ByteSliceToString(k.Proc.P_comm[:]),
			status: darwinStatus(k.Proc.P_stat),
			uid:    int64(k.Eproc.Ucred.Uid),
		})
	}
	return ents, nil
}

func fillEntry(context.Context, *process.Process, *entry, *query) bool { return true }

// nameOf returns comm, completed from the executable or argv[0] when
// MAXCOMLEN may have cut it.
func nameOf(ctx context.Context, gp *process.Process, e *entry, p *Process) (string, error) {
	const truncLen = 15 // as psutil: comm holds at most 16 bytes
	if len(e.comm) >= truncLen && p.Exe == "" && execBacked&FieldExe == 0 {
		if exe, err := gp.ExeWithContext(ctx); err == nil {
			p.Exe = exe
		}
	}
	return fullName(e.comm, truncLen, p.Exe, ""), nil
}

// darwinStatus maps p_stat (sys/proc.h).
func darwinStatus(stat int8) Status {
	switch stat {
	case 2: // SRUN
		return StatusRunning
	case 3: // SSLEEP
		return StatusSleeping
	case 4: // SSTOP
		return StatusStopped
	case 5: // SZOMB
		return StatusZombie
	}
	return StatusUnknown // SIDL: being created
}
