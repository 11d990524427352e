package watch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/server/process"
)

// Defaults of Config.
const (
	DefaultPollInterval = time.Second
	DefaultQueueSize    = 1024
	DefaultRingSize     = 16384
	DefaultMaxResyncs   = 5
	DefaultResyncWindow = time.Minute
)

// readyTimeout bounds how long Watch waits for the producer's first listing.
const readyTimeout = 10 * time.Second

// ErrStopped ends Next when Options.Stop is closed.
var ErrStopped = errors.New("watch stopped")

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
	// polls in a row (the engine then restarts its producer).
	MaxConsecutiveErrors int
}

func (c *Config) setDefaults() {
	if c.Interval <= 0 {
		c.Interval = DefaultPollInterval
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.RingSize <= 0 {
		c.RingSize = DefaultRingSize
	}
	if c.MaxResyncs <= 0 {
		c.MaxResyncs = DefaultMaxResyncs
	}
	if c.ResyncWindow <= 0 {
		c.ResyncWindow = DefaultResyncWindow
	}
	if c.MaxConsecutiveErrors <= 0 {
		c.MaxConsecutiveErrors = 10
	}
}

// producer feeds an Engine: reset with the processes present, then started
// and exited as they happen; lost when it may have missed events.
type producer interface {
	run(ctx context.Context, s sink) error
	mode() string
	close()
}

type sink interface {
	reset(procs []process.Process)
	started(p process.Process)
	exited(p process.Process)
	lost()
}

// Engine is the one process event producer of a host and its fan-out. It
// implements ProcessWatcher.
type Engine struct {
	cfg  Config
	prod producer

	mu    sync.Mutex
	seq   uint64
	ring  ring
	known map[process.Key]process.Process
	subs  map[*sub]struct{}
	ready chan struct{} // closed after the first reset
	// gen counts producer failures; subscriptions of an older generation end.
	gen    uint64
	genErr error
	closed bool

	cancel context.CancelFunc
	done   chan struct{}
}

var _ ProcessWatcher = (*Engine)(nil)

// NewEngine picks the producer (the netlink connector when it can be opened
// and cfg.PollOnly is false, else polling) and starts it; Close stops it.
func NewEngine(cfg Config) *Engine {
	cfg.setDefaults()
	var prod producer
	if !cfg.PollOnly {
		if c, err := newConnector(cfg.Lister); err == nil {
			prod = c
		}
	}
	if prod == nil {
		prod = &poller{lister: cfg.Lister, interval: cfg.Interval, maxErrs: cfg.MaxConsecutiveErrors}
	}
	return newEngine(cfg, prod)
}

func newEngine(cfg Config, prod producer) *Engine {
	cfg.setDefaults()
	// A restarted daemon starts above any number it handed out before (it
	// would have needed more than one event per nanosecond), so a client
	// resuming with an old number is resynced, never misled.
	base := uint64(time.Now().UnixNano())
	e := &Engine{
		cfg: cfg, prod: prod, seq: base, ring: newRing(cfg.RingSize, base+1),
		known: map[process.Key]process.Process{}, subs: map[*sub]struct{}{},
		ready: make(chan struct{}), done: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go e.loop(ctx)
	return e
}

// Mode implements ProcessWatcher.
func (e *Engine) Mode() string { return e.prod.mode() }

// Close stops the producer and ends every subscription.
func (e *Engine) Close() {
	e.cancel()
	<-e.done
}

// loop runs the producer, restarting it after a failure.
func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	defer e.prod.close()
	for {
		err := e.prod.run(ctx, e)
		if ctx.Err() != nil {
			e.mu.Lock()
			e.closed = true
			e.mu.Unlock()
			e.fail(fmt.Errorf("%w: process watch closed", errdefs.ErrUnavailable))
			return
		}
		e.fail(fmt.Errorf("%w: process watch producer failed: %w", errdefs.ErrUnavailable, err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// fail ends the current subscriptions with err.
func (e *Engine) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	e.genErr = err
	for s := range e.subs {
		delete(e.subs, s)
		close(s.gone)
	}
}

// reset implements sink: the processes present now, without events. After
// the first time, the gap since the last event is a loss.
func (e *Engine) reset(procs []process.Process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.known)
	for _, p := range procs {
		e.known[p.Key()] = p
	}
	select {
	case <-e.ready:
		e.lostLocked()
	default:
		close(e.ready)
	}
}

func (e *Engine) started(p process.Process) { e.publish(EventStarted, p) }
func (e *Engine) exited(p process.Process)  { e.publish(EventExited, p) }

// lost implements sink: every subscriber is resynced and no resume can reach
// across the gap.
func (e *Engine) lost() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lostLocked()
}

func (e *Engine) lostLocked() {
	e.seq++ // a number no client saw: resuming after anything older fails
	e.ring.reset(e.seq + 1)
	for s := range e.subs {
		s.markOverflow()
	}
}

// publish numbers the event, keeps it for resuming and queues it for each
// subscriber it matches. It never blocks on a subscriber.
func (e *Engine) publish(t EventType, p process.Process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	ev := &Event{Seq: e.seq, Time: time.Now(), Type: t, Process: p}
	e.ring.push(ev)
	if t == EventStarted {
		e.known[p.Key()] = p
	} else {
		delete(e.known, p.Key())
	}
	for s := range e.subs {
		if s.overflow.Load() || !s.opts.Filter.Match(&ev.Process) {
			continue
		}
		select {
		case s.q <- ev:
		default:
			s.markOverflow()
		}
	}
}

// Watch implements ProcessWatcher.
func (e *Engine) Watch(ctx context.Context, opts Options) (Subscription, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	if opts.Fields&^process.FieldsAll != 0 {
		return nil, fmt.Errorf("%w: unknown process fields %#x", errdefs.ErrInvalidArgument, uint32(opts.Fields&^process.FieldsAll))
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.done:
		return nil, fmt.Errorf("%w: process watch closed", errdefs.ErrUnavailable)
	case <-time.After(readyTimeout):
		// The producer keeps failing its first listing (see fail).
		e.mu.Lock()
		cause := e.genErr
		e.mu.Unlock()
		if cause == nil {
			cause = errors.New("no process listing yet")
		}
		return nil, fmt.Errorf("%w: process watch not ready after %s: %w", errdefs.ErrUnavailable, readyTimeout, cause)
	}
	s := &sub{e: e, opts: opts, q: make(chan *Event, e.cfg.QueueSize), wake: make(chan struct{}, 1), gone: make(chan struct{})}
	var snap []process.Process
	var snapSeq uint64
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: process watch closed", errdefs.ErrUnavailable)
	}
	e.subs[s] = struct{}{}
	s.start = e.seq
	resumed := false
	if opts.ResumeAfter != 0 {
		if evs, ok := e.ring.since(opts.ResumeAfter); ok {
			resumed = true
			for _, ev := range evs {
				if opts.Filter.Match(&ev.Process) {
					s.pending = append(s.pending, *ev)
				}
			}
		}
	}
	if opts.ResumeAfter != 0 && !resumed || opts.ResumeAfter == 0 && opts.IncludeExisting {
		snap, snapSeq = e.snapshotLocked(&opts.Filter)
	}
	e.mu.Unlock()
	if snap != nil {
		s.pending = append(s.pending, s.snapshotEvents(ctx, snap, snapSeq, opts.ResumeAfter != 0)...)
	}
	return s, nil
}

// snapshotLocked copies the known processes that match f.
func (e *Engine) snapshotLocked(f *process.Filter) ([]process.Process, uint64) {
	out := make([]process.Process, 0, 64)
	for _, p := range e.known {
		if f.Match(&p) {
			out = append(out, p)
		}
	}
	return out, e.seq
}

func (e *Engine) unsubscribe(s *sub) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.subs, s)
}

// Subscribers returns the number of open subscriptions.
func (e *Engine) Subscribers() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.subs)
}
