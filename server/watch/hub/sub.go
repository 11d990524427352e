package hub

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// StreamOptions are what the caller of every watch stream asks for,
// whatever the domain: where the stream starts and what ends it. The
// domains' watch options embed them.
type StreamOptions struct {
	// IncludeExisting starts the stream with a snapshot (Existing...,
	// Synced).
	IncludeExisting bool
	// ResumeAfter, when not 0, asks for the events after that sequence
	// number; when the hub no longer holds them all (or the number is of an
	// earlier run), the stream starts with Resync and a snapshot instead.
	// IncludeExisting is then ignored.
	ResumeAfter uint64
	// Stop, when closed, ends Next with ErrStopped (the server's drain).
	Stop <-chan struct{}
}

// Options selects what a subscription reports.
type Options[T any] struct {
	StreamOptions
	// Match selects the events (and snapshot items) to deliver; nil matches
	// all. It is called with the hub locked and must not block.
	Match func(*T) bool
	// Refresh, when set, rereads snapshot items outside the hub's lock
	// (fields the subscriber asked for); it keeps the order.
	Refresh func(ctx context.Context, items []T) []T
}

// Sub is one subscription, read by one goroutine (the stream's writer).
// The producer only does non-blocking sends on q; when q is full it sets
// overflow and stops queueing, and the reader replaces what it missed with
// Resync and a snapshot. Memory per subscriber is bounded by QueueSize.
type Sub[T any] struct {
	h        *Hub[T]
	opts     Options[T]
	q        chan *Event[T] // shared, read-only events
	wake     chan struct{}
	gone     chan struct{} // closed (with err set) when the hub ended it
	err      error
	overflow atomic.Bool // set under h.mu
	start    uint64

	// Owned by the reader.
	pending []Event[T]
	resyncs []time.Time
	closed  bool
}

// Watch subscribes, starting the producer if needed and waiting until its
// state is complete.
func (h *Hub[T]) Watch(ctx context.Context, opts Options[T]) (*Sub[T], error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, h.unavailable("closed")
	}
	r := h.startLocked()
	h.waiting++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.waiting--
		h.maybeIdleLocked()
		h.mu.Unlock()
	}()

	timer := time.NewTimer(h.cfg.ReadyTimeout)
	defer timer.Stop()
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for the %s: %w", errdefs.ErrCanceled, h.cfg.Name, ctx.Err())
	case <-timer.C:
		return nil, h.unavailable(fmt.Sprintf("not ready after %s", h.cfg.ReadyTimeout))
	}

	s := &Sub[T]{h: h, opts: opts, q: make(chan *Event[T], h.cfg.QueueSize), wake: make(chan struct{}, 1), gone: make(chan struct{})}
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		return nil, h.unavailable("closed")
	case r.err != nil:
		h.mu.Unlock()
		return nil, r.err
	case h.run != r:
		h.mu.Unlock()
		return nil, h.unavailable("restarted; retry")
	}
	h.subs[s] = struct{}{}
	s.start = h.seq
	resumed := false
	if opts.ResumeAfter != 0 {
		if evs, ok := h.ring.since(opts.ResumeAfter); ok {
			resumed = true
			for _, ev := range evs {
				if opts.Match == nil || opts.Match(&ev.Data) {
					s.pending = append(s.pending, *ev)
				}
			}
		}
	}
	var snap []T
	var snapSeq uint64
	take := opts.ResumeAfter != 0 && !resumed || opts.ResumeAfter == 0 && opts.IncludeExisting
	if take {
		snap, snapSeq = h.cfg.Snapshot(s.match), h.seq
	}
	h.mu.Unlock()
	if take {
		s.pending = append(s.pending, s.snapshotEvents(ctx, snap, snapSeq, opts.ResumeAfter != 0)...)
	}
	return s, nil
}

func (s *Sub[T]) match(d *T) bool { return s.opts.Match == nil || s.opts.Match(d) }

func (s *Sub[T]) markOverflow() {
	s.overflow.Store(true)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Next blocks for the next event. It fails with the context's error,
// ErrStopped, an ErrResourceExhausted error when the subscriber kept
// falling behind, or an ErrUnavailable error when the producer failed or
// the hub closed.
func (s *Sub[T]) Next(ctx context.Context) (Event[T], error) {
	for {
		if len(s.pending) > 0 {
			ev := s.pending[0]
			s.pending[0] = Event[T]{}
			s.pending = s.pending[1:]
			return ev, nil
		}
		if s.overflow.Load() {
			if err := s.resync(ctx); err != nil {
				return Event[T]{}, err
			}
			continue
		}
		select {
		case ev := <-s.q:
			return *ev, nil
		case <-s.wake:
		case <-ctx.Done():
			return Event[T]{}, ctx.Err()
		case <-s.opts.Stop:
			return Event[T]{}, ErrStopped
		case <-s.gone:
			return Event[T]{}, s.err
		}
	}
}

// resync drops the queue and takes a snapshot at the current sequence, so
// the events queued from now on follow it exactly.
func (s *Sub[T]) resync(ctx context.Context) error {
	now := time.Now()
	s.resyncs = slices.DeleteFunc(s.resyncs, func(t time.Time) bool { return now.Sub(t) > s.h.cfg.ResyncWindow })
	s.resyncs = append(s.resyncs, now)
	if len(s.resyncs) > s.h.cfg.MaxResyncs {
		return fmt.Errorf("%w: the subscriber fell behind %d times within %s", errdefs.ErrResourceExhausted, len(s.resyncs), s.h.cfg.ResyncWindow)
	}
	h := s.h
	h.mu.Lock()
	for len(s.q) > 0 {
		<-s.q
	}
	snap, seq := h.cfg.Snapshot(s.match), h.seq
	s.overflow.Store(false)
	h.mu.Unlock()
	s.pending = s.snapshotEvents(ctx, snap, seq, true)
	return nil
}

// snapshotEvents turns a snapshot into [Resync] Existing... Synced.
func (s *Sub[T]) snapshotEvents(ctx context.Context, snap []T, seq uint64, resync bool) []Event[T] {
	if s.opts.Refresh != nil && len(snap) > 0 {
		snap = s.opts.Refresh(ctx, snap)
	}
	now := time.Now()
	evs := make([]Event[T], 0, len(snap)+2)
	if resync {
		evs = append(evs, Event[T]{Seq: seq, Time: now, Kind: Resync})
	}
	for _, d := range snap {
		evs = append(evs, Event[T]{Seq: seq, Time: now, Kind: Existing, Data: d})
	}
	return append(evs, Event[T]{Seq: seq, Time: now, Kind: Synced})
}

// Start is the sequence number the subscription starts after: a client
// that resumes after it misses nothing, even before any event arrived.
func (s *Sub[T]) Start() uint64 { return s.start }

// Close unsubscribes; call it once the stream ends.
func (s *Sub[T]) Close() {
	if s.closed {
		return
	}
	s.closed = true
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
	h.maybeIdleLocked()
}

// Subscription is one open watch as its domain reads it (a Typed), by one
// goroutine: the stream's writer.
type Subscription[T any] interface {
	// Next blocks for the next event. It fails with the context's error,
	// ErrStopped, an ErrResourceExhausted error when the subscriber kept
	// falling behind, or an ErrUnavailable error when the producer failed or
	// the hub closed.
	Next(ctx context.Context) (T, error)
	// Start is the sequence number the subscription starts after: a client
	// that resumes after it misses nothing, even before any event arrived.
	Start() uint64
	// Close unsubscribes; call it once the stream ends.
	Close()
}

// Stamper is a domain event type the hub stamps with an event's number,
// time and kind when a Typed subscription hands it out.
type Stamper[T any] interface {
	*T
	Stamp(seq uint64, at time.Time, k Kind)
}

// Typed reads a subscription as the domain's own event type: each watch
// domain's Subscription is a Typed.
type Typed[T any, P Stamper[T]] struct{ *Sub[T] }

// Next returns the next event, stamped.
func (s Typed[T, P]) Next(ctx context.Context) (T, error) {
	ev, err := s.Sub.Next(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	d := ev.Data
	P(&d).Stamp(ev.Seq, ev.Time, ev.Kind)
	return d, nil
}
