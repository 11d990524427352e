package process

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// query is what a platform reader is asked for.
type query struct {
	// pids limits the read to these PIDs (sorted, unique); nil reads all.
	pids []int32
	// filter is applied by the reader as soon as the data it looks at is
	// read, so rejected processes cost no further reads. Its PIDs are
	// already in pids.
	filter Filter
	need   Field
	// samplesOnly asks for CPU samples of every process and no Process.
	samplesOnly bool
}

// reader is the platform part of SystemLister.
type reader interface {
	// read returns the processes matching q and the scan the CPU tracker
	// records. One unreadable process never fails the call.
	read(ctx context.Context, q *query) ([]Process, scan, error)
	count(ctx context.Context) (int, error)
}

// SystemLister lists the processes of the host it runs on. It is safe for
// concurrent use.
type SystemLister struct {
	r    reader
	impl string
	cpu  *cpuTracker
	now  func() time.Time
}

var _ Lister = (*SystemLister)(nil)

// NewLister returns a Lister for the host's processes.
func NewLister() *SystemLister {
	l := newLister(newReader(), DefaultCPUWindow)
	l.impl = readerName
	return l
}

// Implementation names how the lister reads the process table on this
// platform (reported among the agent's backends).
func (l *SystemLister) Implementation() string { return l.impl }

func newLister(r reader, minWindow time.Duration) *SystemLister {
	return &SystemLister{r: r, cpu: newCPUTracker(minWindow), now: time.Now}
}

// List implements Lister: read -> filter -> CPU percent -> sort -> mask.
// When CPU percent is needed and no earlier sample covers some process, List
// samples, waits out the minimum CPU window and samples again; Prime avoids
// that wait for the first call.
func (l *SystemLister) List(ctx context.Context, opts ListOptions) ([]Process, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	q := query{filter: opts.Filter, need: opts.ReadFields()}
	if len(q.filter.PIDs) > 0 {
		q.pids = slices.Compact(slices.Sorted(slices.Values(q.filter.PIDs)))
		q.filter.PIDs = nil
	}
	measure := q.need.Has(FieldCPU)
	var procs []Process
	for attempt := 0; ; attempt++ {
		ps, s, err := l.r.read(ctx, &q)
		if err != nil {
			return nil, err
		}
		procs = ps
		retryAt := l.cpu.update(&s, procs, measure)
		// A second pass always measures what the first saw; anything
		// still unmeasured keeps CPUWindow 0.
		if retryAt.IsZero() || attempt > 0 {
			break
		}
		if err := sleep(ctx, retryAt.Sub(l.now())); err != nil {
			return nil, err
		}
	}
	Sort(procs, opts.Sort)
	for i := range procs {
		procs[i].Mask(opts.Fields)
	}
	return procs, nil
}

// Count implements Lister.
func (l *SystemLister) Count(ctx context.Context) (int, error) { return l.r.count(ctx) }

// Prime records a CPU sample of every process so that the first List that
// needs CPU percent does not have to wait for a second sample. The daemon
// calls it in the background at start-up.
func (l *SystemLister) Prime(ctx context.Context) error {
	_, s, err := l.r.read(ctx, &query{need: FieldCPU, samplesOnly: true})
	if err != nil {
		return err
	}
	l.cpu.update(&s, nil, false)
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctxErr(ctx.Err())
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx.Err())
	}
}

// ctxErr wraps a context error in the matching errdefs sentinel.
func ctxErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: listing processes: %w", errdefs.ErrDeadlineExceeded, err)
	default:
		return fmt.Errorf("%w: listing processes: %w", errdefs.ErrCanceled, err)
	}
}
