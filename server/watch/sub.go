package watch

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/server/process"
)

// sub is one subscription. The producer only ever does a non-blocking send
// on q; when q is full it sets overflow and stops queueing, and the reader
// (the stream's writer goroutine) replaces what it missed with RESYNC and a
// snapshot. Memory per subscriber is thus bounded by QueueSize events.
type sub struct {
	e        *Engine
	opts     Options
	q        chan *Event // shared, read-only events: 8 bytes a slot
	wake     chan struct{}
	gone     chan struct{} // closed when the producer failed
	overflow atomic.Bool   // set under e.mu
	start    uint64

	// Owned by the reader.
	pending []Event
	resyncs []time.Time
	closed  bool
}

func (s *sub) markOverflow() {
	s.overflow.Store(true)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Next implements Subscription.
func (s *sub) Next(ctx context.Context) (Event, error) {
	for {
		if len(s.pending) > 0 {
			ev := s.pending[0]
			s.pending[0] = Event{}
			s.pending = s.pending[1:]
			return ev, nil
		}
		if s.overflow.Load() {
			if err := s.resync(ctx); err != nil {
				return Event{}, err
			}
			continue
		}
		select {
		case ev := <-s.q:
			return *ev, nil
		case <-s.wake:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		case <-s.opts.Stop:
			return Event{}, ErrStopped
		case <-s.gone:
			s.e.mu.Lock()
			err := s.e.genErr
			s.e.mu.Unlock()
			return Event{}, err
		}
	}
}

// resync drops the queue and takes a snapshot at the current sequence, so
// the events queued from now on follow it exactly.
func (s *sub) resync(ctx context.Context) error {
	now := time.Now()
	s.resyncs = slices.DeleteFunc(s.resyncs, func(t time.Time) bool { return now.Sub(t) > s.e.cfg.ResyncWindow })
	s.resyncs = append(s.resyncs, now)
	if len(s.resyncs) > s.e.cfg.MaxResyncs {
		return fmt.Errorf("%w: the subscriber fell behind %d times within %s", errdefs.ErrResourceExhausted, len(s.resyncs), s.e.cfg.ResyncWindow)
	}
	s.e.mu.Lock()
	for len(s.q) > 0 {
		<-s.q
	}
	snap, seq := s.e.snapshotLocked(&s.opts.Filter)
	s.overflow.Store(false)
	s.e.mu.Unlock()
	s.pending = s.snapshotEvents(ctx, snap, seq, true)
	return nil
}

// snapshotEvents turns a snapshot into [RESYNC] EXISTING... SYNCED, reading
// the requested fields fresh; a process gone meanwhile keeps what the
// producer recorded (its EXITED follows).
func (s *sub) snapshotEvents(ctx context.Context, snap []process.Process, seq uint64, resync bool) []Event {
	sortByPID(snap)
	if s.opts.Fields != 0 && len(snap) > 0 {
		pids := make([]int32, len(snap))
		for i := range snap {
			pids[i] = snap[i].PID
		}
		if full, err := s.e.cfg.Lister.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: pids}, Fields: s.opts.Fields}); err == nil {
			byKey := make(map[process.Key]process.Process, len(full))
			for _, f := range full {
				byKey[f.Key()] = f
			}
			for i := range snap {
				if f, ok := byKey[snap[i].Key()]; ok {
					snap[i] = f
				}
			}
		}
	}
	now := time.Now()
	evs := make([]Event, 0, len(snap)+2)
	if resync {
		evs = append(evs, Event{Seq: seq, Time: now, Type: EventResync})
	}
	for _, p := range snap {
		evs = append(evs, Event{Seq: seq, Time: now, Type: EventExisting, Process: p})
	}
	return append(evs, Event{Seq: seq, Time: now, Type: EventSynced})
}

// Start implements Subscription.
func (s *sub) Start() uint64 { return s.start }

// Close implements Subscription.
func (s *sub) Close() {
	if !s.closed {
		s.closed = true
		s.e.unsubscribe(s)
	}
}
