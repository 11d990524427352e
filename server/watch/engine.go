package watch

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/watch/hub"
)

// DefaultPollInterval is the default of Config.Interval. The hub's
// settings (QueueSize, RingSize, MaxResyncs, ResyncWindow, Linger) default
// to the hub's defaults (hub.DefaultQueueSize, ...), defined there only.
const DefaultPollInterval = time.Second

// ErrStopped ends Next when Options.Stop is closed.
var ErrStopped = hub.ErrStopped

// Config tunes an Engine. Only Lister is required.
type Config struct {
	Lister process.Lister
	// Interval is the poll period when polling.
	Interval time.Duration
	// PollOnly skips the netlink connector (tests, benchmarks).
	PollOnly bool
	// QueueSize bounds each subscriber's queue; a subscriber whose queue is
	// full is resynced.
	QueueSize int
	// RingSize bounds the recent events kept for resuming.
	RingSize int
	// A subscriber resynced more than MaxResyncs times within ResyncWindow
	// is cut off with an errdefs.ErrResourceExhausted error.
	MaxResyncs   int
	ResyncWindow time.Duration
	// MaxConsecutiveErrors ends the subscriptions after that many failed
	// polls in a row (the next Watch starts the producer again).
	MaxConsecutiveErrors int
	// Linger keeps the producer running after the last subscription ends
	// (default hub.DefaultLinger; < 0 stops at once): with nobody watching
	// the engine reads nothing.
	Linger time.Duration
}

func (c *Config) setDefaults() {
	defaults.Fill(&c.Interval, DefaultPollInterval)
	if c.MaxConsecutiveErrors <= 0 {
		c.MaxConsecutiveErrors = 10
	}
}

// producer feeds an Engine: reset with the processes present, then started,
// exec'd and exited as they happen; reset again when it may have missed
// events (a reset after the first is a loss: every subscriber resyncs).
type producer interface {
	run(ctx context.Context, s sink) error
	close()
}

type sink interface {
	reset(procs []process.Process)
	started(p process.Process)
	// execed reports that p (same PID and start time) now runs another
	// program; before is what it ran.
	execed(before Program, p process.Process)
	exited(p process.Process, st *ExitStatus)
}

// Engine is the one process event producer of a host and its fan-out, on
// the shared event hub. It implements ProcessWatcher.
type Engine struct {
	cfg  Config
	mode string
	// newProducer opens the producer for one run of the hub.
	newProducer func() producer
	h           *hub.Hub[Event]

	// known is the producer's view, guarded by the hub's lock (touched only
	// inside Update and Snapshot).
	known map[process.Key]process.Process
}

var _ ProcessWatcher = (*Engine)(nil)

// NewEngine picks the producer (the netlink connector when it can be opened
// and cfg.PollOnly is false, else polling). It runs only while someone
// watches; Close stops it.
func NewEngine(cfg Config) *Engine {
	cfg.setDefaults()
	poll := func() producer {
		return &poller{lister: cfg.Lister, interval: cfg.Interval, maxErrs: cfg.MaxConsecutiveErrors}
	}
	if !cfg.PollOnly {
		if c, err := newConnector(cfg.Lister); err == nil {
			c.close() // a probe: each run opens its own
			return newEngine(cfg, "netlink", func() producer {
				if c, err := newConnector(cfg.Lister); err == nil {
					return c
				}
				return poll()
			})
		}
	}
	return newEngine(cfg, "poll", poll)
}

func newEngine(cfg Config, mode string, newProducer func() producer) *Engine {
	cfg.setDefaults()
	e := &Engine{cfg: cfg, mode: mode, newProducer: newProducer, known: map[process.Key]process.Process{}}
	e.h = hub.New(hub.Config[Event]{
		Name: "process watch", Run: e.run, Snapshot: e.snapshot,
		QueueSize: cfg.QueueSize, RingSize: cfg.RingSize, MaxResyncs: cfg.MaxResyncs,
		ResyncWindow: cfg.ResyncWindow, Linger: cfg.Linger,
	})
	return e
}

// Mode implements ProcessWatcher.
func (e *Engine) Mode() string { return e.mode }

// Close stops the producer and ends every subscription.
func (e *Engine) Close() { e.h.Close() }

// Subscribers returns the number of open subscriptions.
func (e *Engine) Subscribers() int { return e.h.Subscribers() }

// Running reports whether the producer runs (it does only while watched).
func (e *Engine) Running() bool { return e.h.Running() }

func (e *Engine) run(ctx context.Context, h *hub.Hub[Event]) error {
	p := e.newProducer()
	defer p.close()
	return p.run(ctx, &runSink{e: e, ctx: ctx})
}

// runSink applies one run's reports to the hub.
type runSink struct {
	e   *Engine
	ctx context.Context
}

func (s *runSink) update(fn func(tx *hub.Tx[Event])) { s.e.h.Update(s.ctx, fn) }

// reset: the processes present now, without events. After the first time,
// the gap since the last event is a loss.
func (s *runSink) reset(procs []process.Process) {
	s.update(func(tx *hub.Tx[Event]) {
		clear(s.e.known)
		for _, p := range procs {
			s.e.known[p.Key()] = p
		}
		if tx.IsReady() {
			tx.Lost()
		}
		tx.Ready()
	})
}

func (s *runSink) started(p process.Process) {
	s.update(func(tx *hub.Tx[Event]) {
		s.e.known[p.Key()] = p
		tx.Publish(Event{Type: EventStarted, Process: p})
	})
}

func (s *runSink) execed(before Program, p process.Process) {
	s.update(func(tx *hub.Tx[Event]) {
		s.e.known[p.Key()] = p
		tx.Publish(Event{Type: EventExec, Process: p, Before: &before})
	})
}

func (s *runSink) exited(p process.Process, st *ExitStatus) {
	s.update(func(tx *hub.Tx[Event]) {
		delete(s.e.known, p.Key())
		tx.Publish(Event{Type: EventExited, Process: p, Exit: st})
	})
}

// snapshot lists the known processes that match, by PID.
func (e *Engine) snapshot(match func(*Event) bool) []Event {
	out := make([]Event, 0, 64)
	for _, p := range e.known {
		ev := Event{Type: EventExisting, Process: p}
		if match(&ev) {
			out = append(out, ev)
		}
	}
	slices.SortFunc(out, func(a, b Event) int { return int(a.Process.PID) - int(b.Process.PID) })
	return out
}

// Watch implements ProcessWatcher.
func (e *Engine) Watch(ctx context.Context, opts Options) (Subscription, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	if opts.Fields&^process.FieldsAll != 0 {
		return nil, fmt.Errorf("%w: unknown process fields %#x", errdefs.ErrInvalidArgument, uint32(opts.Fields&^process.FieldsAll))
	}
	f := opts.Filter
	hopts := hub.Options[Event]{StreamOptions: opts.StreamOptions, Match: func(ev *Event) bool { return ev.matches(&f) }}
	if opts.Fields != 0 {
		hopts.Refresh = func(ctx context.Context, evs []Event) []Event { return e.refresh(ctx, evs, opts.Fields) }
	}
	s, err := e.h.Watch(ctx, hopts)
	if err != nil {
		return nil, err
	}
	return hub.Typed[Event, *Event]{Sub: s}, nil
}

// refresh rereads the requested fields of snapshot processes; a process
// gone meanwhile keeps what the producer recorded (its EXITED follows).
func (e *Engine) refresh(ctx context.Context, evs []Event, fields process.Field) []Event {
	reread(ctx, e.cfg.Lister, fields, len(evs), func(i int) *process.Process { return &evs[i].Process })
	return evs
}

// Stamp implements hub.Stamper.
func (ev *Event) Stamp(seq uint64, at time.Time, k hub.Kind) {
	ev.Seq, ev.Time = seq, at
	ev.Type = hub.TypeOf(k, ev.Type, EventSynced, EventResync)
}
