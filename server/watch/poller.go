package watch

import (
	"context"
	"fmt"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/server/process"
)

// DefaultPollInterval is how often the poller lists processes.
const DefaultPollInterval = time.Second

// Poller is a ProcessWatcher that lists processes every Interval and diffs
// consecutive listings by (PID, start time). Each poll reads only the fields
// the filter needs; the requested fields are read once, for new processes.
// A process that starts and exits between two polls is not seen.
type Poller struct {
	Lister   process.Lister
	Interval time.Duration
	// MaxConsecutiveErrors ends a subscription after that many failed polls in a row.
	MaxConsecutiveErrors int
}

// Mode implements ProcessWatcher.
func (p *Poller) Mode() string { return "poll" }

// Watch implements ProcessWatcher.
func (p *Poller) Watch(ctx context.Context, opts Options) (Subscription, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	if opts.Fields&^process.FieldsAll != 0 {
		return nil, fmt.Errorf("%w: unknown process fields %#x", errdefs.ErrInvalidArgument, uint32(opts.Fields&^process.FieldsAll))
	}
	s := &pollSub{p: p, opts: opts, ch: make(chan Event, 256)}
	// The first listing happens before Watch returns so that errors surface
	// to the caller and processes started right after Watch returns are new.
	known, err := s.listMatching(ctx)
	if err != nil {
		return nil, err
	}
	go s.run(ctx, known)
	return s, nil
}

type pollSub struct {
	p    *Poller
	opts Options
	ch   chan Event
	seq  uint64
	err  error
}

func (s *pollSub) Events() <-chan Event { return s.ch }
func (s *pollSub) Err() error           { return s.err }

// listMatching lists the processes matching the filter, keyed by identity,
// reading only what the filter itself needs (the lister adds those fields).
func (s *pollSub) listMatching(ctx context.Context) (map[process.Key]process.Process, error) {
	procs, err := s.p.Lister.List(ctx, process.ListOptions{Filter: s.opts.Filter, Fields: 0})
	if err != nil {
		return nil, err
	}
	m := make(map[process.Key]process.Process, len(procs))
	for _, pr := range procs {
		m[pr.Key()] = pr
	}
	return m, nil
}

// detail reads the requested fields of the given processes in one listing.
// A process that is gone by then keeps the fields the poll read.
func (s *pollSub) detail(ctx context.Context, ps []process.Process) []process.Process {
	if len(ps) == 0 || s.opts.Fields == 0 {
		return ps
	}
	pids := make([]int32, len(ps))
	for i, p := range ps {
		pids[i] = p.PID
	}
	full, err := s.p.Lister.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: pids}, Fields: s.opts.Fields})
	if err != nil {
		return ps
	}
	byKey := make(map[process.Key]process.Process, len(full))
	for _, f := range full {
		byKey[f.Key()] = f
	}
	for i, p := range ps {
		if f, ok := byKey[p.Key()]; ok {
			ps[i] = f
		}
	}
	return ps
}

func (s *pollSub) emit(ctx context.Context, t EventType, p process.Process) bool {
	s.seq++
	select {
	case s.ch <- Event{Seq: s.seq, Time: time.Now(), Type: t, Process: p}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *pollSub) run(ctx context.Context, known map[process.Key]process.Process) {
	defer close(s.ch)
	interval := s.p.Interval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	maxErrs := s.p.MaxConsecutiveErrors
	if maxErrs <= 0 {
		maxErrs = 10
	}
	// Keep the detailed record of each known process so EXITED carries the
	// last observed fields.
	existing := make([]process.Process, 0, len(known))
	for _, p := range known {
		existing = append(existing, p)
	}
	for _, p := range s.detail(ctx, existing) {
		known[p.Key()] = p
	}
	if s.opts.IncludeExisting {
		sortByPID(existing)
		for _, p := range existing {
			if !s.emit(ctx, EventExisting, known[p.Key()]) {
				return
			}
		}
		if !s.emit(ctx, EventSynced, process.Process{}) {
			return
		}
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	errs := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		now, err := s.listMatching(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errs++; errs >= maxErrs {
				s.err = fmt.Errorf("process watch stopped after %d failed listings: %w", errs, err)
				return
			}
			continue
		}
		errs = 0
		var exited, started []process.Process
		for k, p := range known {
			if _, ok := now[k]; !ok {
				exited = append(exited, p)
				delete(known, k)
			}
		}
		for k, p := range now {
			if _, ok := known[k]; !ok {
				started = append(started, p)
			}
		}
		// Exits first: a reused PID then reads EXITED(old) before STARTED(new).
		sortByPID(exited)
		for _, p := range exited {
			if !s.emit(ctx, EventExited, p) {
				return
			}
		}
		sortByPID(started)
		for _, p := range s.detail(ctx, started) {
			known[p.Key()] = p
			if !s.emit(ctx, EventStarted, p) {
				return
			}
		}
	}
}
