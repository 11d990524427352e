// Package hub is the one event hub behind every watch stream (processes and
// services). A producer changes its state and publishes events under the
// hub's lock; the hub numbers them (JSON-safe, per-run epochs, see seq.go),
// keeps a ring of recent events for resuming, and fans them out to bounded
// per-subscriber queues without ever waiting on a subscriber. A subscriber
// that falls behind, a producer that lost events, or a resume that reaches
// further back than the ring gets RESYNC and a fresh snapshot: never a gap.
// The producer runs only while someone subscribes (plus Linger), so a hub
// nobody watches costs nothing.
package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/errdefs"
)

// Kind says what an Event is.
type Kind uint8

const (
	Live     Kind = iota + 1 // a change the producer published
	Existing                 // part of a snapshot
	Synced                   // end of a snapshot; no data
	Resync                   // events were lost; a snapshot follows; no data
)

// TypeOf maps the kinds without data to a domain's own event types for
// them, synced and resync; for the others the domain's type stands (cur).
func TypeOf[T any](k Kind, cur, synced, resync T) T {
	switch k {
	case Synced:
		return synced
	case Resync:
		return resync
	}
	return cur
}

// Event is one event of a stream. Live events are numbered +1 each per hub
// whatever the subscriber's filter; snapshot events (Resync, Existing,
// Synced) carry the number of the last event the snapshot reflects, so
// resuming after it is exact.
type Event[T any] struct {
	Seq  uint64
	Time time.Time
	Kind Kind
	Data T
}

// Defaults of Config.
const (
	DefaultQueueSize    = 1024
	DefaultRingSize     = 16384
	DefaultMaxResyncs   = 5
	DefaultResyncWindow = time.Minute
	DefaultLinger       = 10 * time.Second
	DefaultReadyTimeout = 10 * time.Second
)

// ErrStopped ends Next when Options.Stop is closed (the server's drain).
var ErrStopped = errdefs.ErrStopped

// Config defines a hub. Run and Snapshot are required.
type Config[T any] struct {
	// Name names the hub in errors ("process watch").
	Name string
	// Run is the producer. It starts with the first subscription and its
	// context ends Linger after the last one closes. It calls Update to
	// change state and publish, Ready once its state is complete, and Fail
	// (or returns an error) when it cannot go on: every subscription then
	// ends with ErrUnavailable and the next Watch starts a new run.
	Run func(ctx context.Context, h *Hub[T]) error
	// Snapshot returns the items of the producer's state that match, in
	// the order a snapshot lists them; it is called with the hub locked.
	Snapshot func(match func(*T) bool) []T
	// QueueSize bounds each subscriber's queue; a full queue resyncs it.
	QueueSize int
	// RingSize bounds the recent events kept for resuming.
	RingSize int
	// A subscriber resynced more than MaxResyncs times within ResyncWindow
	// is ended with ErrResourceExhausted.
	MaxResyncs   int
	ResyncWindow time.Duration
	// Linger keeps the producer running after the last subscription ends,
	// so a client that reconnects at once resumes exactly; < 0 stops at once.
	Linger time.Duration
	// ReadyTimeout bounds how long Watch waits for a starting producer.
	ReadyTimeout time.Duration
}

func (c *Config[T]) setDefaults() {
	if c.Name == "" {
		c.Name = "watch"
	}
	defaults.Fill(&c.QueueSize, DefaultQueueSize)
	defaults.Fill(&c.RingSize, DefaultRingSize)
	defaults.Fill(&c.MaxResyncs, DefaultMaxResyncs)
	defaults.Fill(&c.ResyncWindow, DefaultResyncWindow)
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
}

// Hub is one event source's numbering, ring and fan-out.
type Hub[T any] struct {
	cfg Config[T]

	mu    sync.Mutex
	epoch uint64
	seq   uint64 // the last number handed out
	ring  ring[T]
	subs  map[*Sub[T]]struct{}
	run   *run // nil while the producer is stopped
	// waiting counts Watch calls waiting for the producer to be ready.
	waiting int
	idle    *time.Timer
	closed  bool
}

// run is one life of the producer.
type run struct {
	ctx    context.Context
	cancel context.CancelFunc
	ready  chan struct{} // closed once ready or failed
	isRdy  bool
	err    error // why it failed before it was ready
	done   chan struct{}
}

// New returns a hub; its producer starts with the first Watch.
func New[T any](cfg Config[T]) *Hub[T] { return newAt(cfg, time.Now()) }

// newAt is New for a hub started at now.
func newAt[T any](cfg Config[T], now time.Time) *Hub[T] {
	cfg.setDefaults()
	h := &Hub[T]{cfg: cfg, subs: map[*Sub[T]]struct{}{}}
	h.epoch = epochAt(now, 0)
	h.seq = firstSeq(h.epoch)
	h.ring = newRing[T](cfg.RingSize, h.seq+1)
	return h
}

func (h *Hub[T]) unavailable(what string) error {
	return fmt.Errorf("%w: %s %s", errdefs.ErrUnavailable, h.cfg.Name, what)
}

// startLocked starts the producer unless it runs.
func (h *Hub[T]) startLocked() *run {
	if h.idle != nil {
		h.idle.Stop()
		h.idle = nil
	}
	if h.run != nil {
		return h.run
	}
	// What happened while nobody watched was not observed: no resume may
	// reach across it.
	h.lostLocked()
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{ctx: ctx, cancel: cancel, ready: make(chan struct{}), done: make(chan struct{})}
	h.run = r
	go func() {
		defer close(r.done)
		err := h.cfg.Run(ctx, h)
		if err == nil {
			err = errors.New("producer ended")
		}
		h.Fail(ctx, err)
	}()
	return r
}

// stopLocked stops the producer; waiters for its readiness fail.
func (h *Hub[T]) stopLocked() {
	r := h.run
	if r == nil {
		return
	}
	h.run = nil
	r.cancel()
	if !r.isRdy {
		r.err, r.isRdy = h.unavailable("stopped"), true
		close(r.ready)
	}
}

// maybeIdleLocked stops the producer, now or after Linger, when nobody
// subscribes.
func (h *Hub[T]) maybeIdleLocked() {
	if len(h.subs) > 0 || h.waiting > 0 || h.run == nil || h.idle != nil {
		return
	}
	if h.cfg.Linger < 0 || !h.run.isRdy {
		h.stopLocked()
		return
	}
	r := h.run
	h.idle = time.AfterFunc(h.cfg.Linger, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.run == r && len(h.subs) == 0 {
			h.idle = nil
			h.stopLocked()
		}
	})
}

// Fail ends the producer's run (ctx is its context) with err: waiters for
// its readiness get err, subscribers an ErrUnavailable error.
func (h *Hub[T]) Fail(ctx context.Context, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.run
	if r == nil || r.ctx != ctx || ctx.Err() != nil {
		return
	}
	if !errors.Is(err, errdefs.ErrUnavailable) {
		err = fmt.Errorf("%w: %s producer failed: %w", errdefs.ErrUnavailable, h.cfg.Name, err)
	}
	if !r.isRdy {
		r.err, r.isRdy = err, true
		close(r.ready)
	}
	for s := range h.subs {
		delete(h.subs, s)
		s.err = err
		close(s.gone)
	}
	h.stopLocked()
}

// Update runs fn with the hub locked, unless ctx is not the current run's
// (a stopped producer's late calls are ignored). It reports whether fn ran.
func (h *Hub[T]) Update(ctx context.Context, fn func(tx *Tx[T])) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.run == nil || h.run.ctx != ctx || ctx.Err() != nil {
		return false
	}
	fn(&Tx[T]{h: h, now: time.Now()})
	return true
}

// Tx is what a producer may do inside Update.
type Tx[T any] struct {
	h   *Hub[T]
	now time.Time
}

// Ready marks the producer's state complete: waiting Watch calls proceed.
func (tx *Tx[T]) Ready() {
	if r := tx.h.run; !r.isRdy {
		r.isRdy = true
		close(r.ready)
	}
}

// IsReady reports whether Ready was called in this run.
func (tx *Tx[T]) IsReady() bool { return tx.h.run.isRdy }

// Publish numbers an event, keeps it for resuming and queues it for every
// subscriber whose filter matches. It never blocks.
func (tx *Tx[T]) Publish(data T) uint64 {
	h := tx.h
	ev := &Event[T]{Seq: h.nextSeqLocked(), Time: tx.now, Kind: Live, Data: data}
	h.ring.push(ev)
	for s := range h.subs {
		if s.overflow.Load() || s.opts.Match != nil && !s.opts.Match(&ev.Data) {
			continue
		}
		select {
		case s.q <- ev:
		default:
			s.markOverflow()
		}
	}
	return ev.Seq
}

// Lost says the producer may have missed events: every subscriber is
// resynced and no resume reaches back across the gap.
func (tx *Tx[T]) Lost() { tx.h.lostLocked() }

func (h *Hub[T]) lostLocked() {
	h.seq = h.nextSeqLocked() // a number no client saw
	h.ring.reset(h.seq + 1)
	for s := range h.subs {
		s.markOverflow()
	}
}

func (h *Hub[T]) nextSeqLocked() uint64 {
	if counterFull(h.seq + 1) {
		// Start a new epoch; resuming across it resyncs.
		h.epoch = epochAt(time.Now(), h.epoch)
		h.seq = firstSeq(h.epoch)
		h.ring.reset(h.seq + 1)
	}
	h.seq++
	return h.seq
}

// Close stops the producer and ends every subscription.
func (h *Hub[T]) Close() {
	h.mu.Lock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		s.err = h.unavailable("closed")
		close(s.gone)
	}
	r := h.run
	h.stopLocked()
	if h.idle != nil {
		h.idle.Stop()
	}
	h.mu.Unlock()
	if r != nil {
		<-r.done
	}
}

// Subscribers returns the number of open subscriptions.
func (h *Hub[T]) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Running reports whether the producer runs (for tests and metrics).
func (h *Hub[T]) Running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.run != nil
}
