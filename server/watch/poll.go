package watch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/remotectl/remotectl/server/process"
)

// baseFields are read for every process on each poll: what filters look at.
const baseFields = process.FieldName | process.FieldUser

// detailFields are read once, for new processes. CPU percent is left out:
// it needs two samples, so a new process has none yet.
const detailFields = process.FieldsAll &^ process.FieldCPU

// poller is the portable producer: it lists processes every interval and
// diffs consecutive listings by (PID, start time). A process that starts
// and exits between two polls is not seen.
type poller struct {
	lister   process.Lister
	interval time.Duration
	maxErrs  int
}

func (p *poller) close() {}

func (p *poller) list(ctx context.Context) (map[process.Key]process.Process, error) {
	procs, err := p.lister.List(ctx, process.ListOptions{Fields: baseFields})
	if err != nil {
		return nil, err
	}
	m := make(map[process.Key]process.Process, len(procs))
	for _, pr := range procs {
		m[pr.Key()] = pr
	}
	return m, nil
}

func (p *poller) run(ctx context.Context, s sink) error {
	known, err := p.list(ctx)
	if err != nil {
		return err
	}
	all := make([]process.Process, 0, len(known))
	for _, pr := range known {
		all = append(all, pr)
	}
	for _, pr := range detail(ctx, p.lister, all) {
		known[pr.Key()] = pr
	}
	s.reset(all)
	ticker := time.NewTicker(p.interval)
	defer ticker.Stop()
	errs := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
		now, err := p.list(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errs++; errs >= p.maxErrs {
				return fmt.Errorf("%d failed listings in a row: %w", errs, err)
			}
			continue
		}
		errs = 0
		var exited, started, execed []process.Process
		for k, pr := range known {
			cur, ok := now[k]
			switch {
			case !ok:
				exited = append(exited, pr)
				delete(known, k)
			case cur.Name != pr.Name && cur.Unavailable&process.FieldName == 0:
				execed = append(execed, pr) // same process, another program
			}
		}
		for k, pr := range now {
			if _, ok := known[k]; !ok {
				started = append(started, pr)
			}
		}
		// Exits first: a reused PID then reads EXITED(old) before STARTED(new).
		sortByPID(exited)
		for _, pr := range exited {
			s.exited(pr, nil) // polling cannot see exit codes
		}
		sortByPID(execed)
		for _, pr := range detail(ctx, p.lister, slices.Clone(execed)) {
			before := known[pr.Key()]
			known[pr.Key()] = pr
			s.execed(ProgramOf(&before), pr)
		}
		sortByPID(started)
		for _, pr := range detail(ctx, p.lister, started) {
			known[pr.Key()] = pr
			s.started(pr)
		}
	}
}

// detail reads detailFields of ps in one listing; a process gone by then
// keeps what it had.
func detail(ctx context.Context, l process.Lister, ps []process.Process) []process.Process {
	if len(ps) == 0 {
		return ps
	}
	pids := make([]int32, len(ps))
	for i := range ps {
		pids[i] = ps[i].PID
	}
	full, err := l.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: pids}, Fields: detailFields})
	if err != nil {
		return ps
	}
	byKey := make(map[process.Key]process.Process, len(full))
	for _, f := range full {
		byKey[f.Key()] = f
	}
	for i := range ps {
		if f, ok := byKey[ps[i].Key()]; ok {
			ps[i] = f
		}
	}
	return ps
}

func sortByPID(ps []process.Process) {
	slices.SortFunc(ps, func(a, b process.Process) int { return int(a.PID) - int(b.PID) })
}
