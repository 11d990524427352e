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
	reread(ctx, l, detailFields, len(ps), func(i int) *process.Process { return &ps[i] })
	return ps
}

// reread reads fields of the n processes at(i) in one listing and replaces
// each one still there (same PID and start time); a process gone by then,
// or a failed listing, leaves what there was.
func reread(ctx context.Context, l process.Lister, f process.Field, n int, at func(i int) *process.Process) {
	if n == 0 {
		return
	}
	pids := make([]int32, n)
	for i := range n {
		pids[i] = at(i).PID
	}
	full, err := l.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: pids}, Fields: f})
	if err != nil {
		return
	}
	byKey := make(map[process.Key]process.Process, len(full))
	for _, p := range full {
		byKey[p.Key()] = p
	}
	for i := range n {
		if p, ok := byKey[at(i).Key()]; ok {
			*at(i) = p
		}
	}
}

func sortByPID(ps []process.Process) {
	slices.SortFunc(ps, func(a, b process.Process) int { return int(a.PID) - int(b.PID) })
}
