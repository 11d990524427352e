package process

import (
	"context"
	"fmt"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// Read reads one process with the given fields, without recording a CPU
// sample: the process watch reads each new process once, and a one-PID
// sample would cost the CPU history a sweep of every tracked process for
// nothing (CPU percent needs two samples). It fails with ErrNotFound when
// the process is gone.
func (l *SystemLister) Read(ctx context.Context, pid int32, fields Field) (Process, error) {
	opts := ListOptions{Filter: Filter{PIDs: []int32{pid}}, Fields: fields &^ FieldCPU}
	if err := opts.Validate(); err != nil {
		return Process{}, err
	}
	ps, _, err := l.r.read(ctx, &query{pids: []int32{pid}, need: opts.ReadFields()})
	if err != nil {
		return Process{}, err
	}
	if len(ps) != 1 {
		return Process{}, fmt.Errorf("%w: process %d", errdefs.ErrNotFound, pid)
	}
	ps[0].Mask(opts.Fields)
	return ps[0], nil
}

// readTable reads a platform's process table: each entry of the table list
// returns becomes a Process through readOne, which reports whether it is
// kept. A table that cannot be listed is ErrUnavailable; ctx is checked
// every 64 entries, so a cancelled listing of thousands stops early.
func readTable[E any](ctx context.Context, list func() ([]E, error), readOne func(e *E, p *Process) bool) ([]Process, error) {
	table, err := list()
	if err != nil {
		return nil, fmt.Errorf("%w: listing processes: %w", errdefs.ErrUnavailable, err)
	}
	var procs []Process
	for i := range table {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctxErr(ctx.Err())
		}
		var p Process
		if readOne(&table[i], &p) {
			procs = append(procs, p)
		}
	}
	return procs, nil
}
