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
