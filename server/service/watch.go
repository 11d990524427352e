package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// EventType says what a watch Event reports.
type EventType int

const (
	EventChanged  EventType = iota + 1 // a service changed state
	EventExisting                      // initial state (IncludeExisting)
	EventSynced                        // the EventExisting events are complete
)

var eventTypeNames = map[EventType]string{EventChanged: "CHANGED", EventExisting: "EXISTING", EventSynced: "SYNCED"}

func (t EventType) String() string { return eventTypeNames[t] }

// Event is one service state change (or initial state).
type Event struct {
	Type EventType
	// Seq numbers changes per host; EXISTING and SYNCED carry the number of
	// the last change their snapshot includes.
	Seq         uint64
	Time        time.Time
	Name        string
	OldState    State
	NewState    State
	NativeState string // platform wording of NewState
	MainPID     int32
}

// WatchOptions select what a subscription reports.
type WatchOptions struct {
	// Filter.NameGlob selects services by name; Filter.States selects
	// changes into or out of those states (EXISTING: services in them).
	Filter          Filter
	IncludeExisting bool
}

// QueueLen bounds a subscriber's backlog of undelivered events. A subscriber
// that falls further behind is cut off with ErrResourceExhausted rather than
// slowing the others or growing memory: it reconnects with IncludeExisting.
const QueueLen = 256

// Subscription is one open watch.
type Subscription interface {
	// Events delivers events in order; it is closed when the subscription
	// ends (context done, Close, or overflow).
	Events() <-chan Event
	// Err tells why Events was closed: nil for context end or Close,
	// ErrResourceExhausted for an overflow.
	Err() error
}

// Watcher streams service state changes. One backend subscription per host
// serves every subscriber; per-subscriber filters apply on fan-out.
type Watcher interface {
	Watch(ctx context.Context, opts WatchOptions) (Subscription, error)
	Close() error
}

// unitState is what the watcher remembers per service.
type unitState struct {
	state   State
	native  string
	pid     int32
	display string // display name a glob may match too; "" means hub.alias
}

// source feeds a hub: it calls h.replace with full snapshots (at start,
// after a reconnect, or per poll) and h.update with single changes, until
// ctx ends. Its first replace (or its failure via h.failed) makes the hub ready.
type source func(ctx context.Context, h *hub)

// hub is the shared producer and fan-out.
type hub struct {
	src source
	// alias is the second name a glob may match (systemd: "ssh" for "ssh.service").
	alias func(name string) string

	mu      sync.Mutex
	subs    map[*subscription]struct{}
	units   map[string]unitState
	seq     uint64
	ready   chan struct{} // closed after the first snapshot or failure
	err     error         // the source's startup failure
	stopSrc context.CancelFunc
	closed  bool
}

func newHub(src source, alias func(string) string) *hub {
	return &hub{src: src, alias: alias, subs: map[*subscription]struct{}{}}
}

type subscription struct {
	ch   chan Event
	opts WatchOptions
	err  error
	done bool
}

func (s *subscription) Events() <-chan Event { return s.ch }
func (s *subscription) Err() error           { return s.err }

// Watch subscribes. It starts the source for the first subscriber and waits
// for its first snapshot, so a backend that cannot be reached fails here.
func (h *hub) Watch(ctx context.Context, opts WatchOptions) (Subscription, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, fmt.Errorf("%w: the service watcher is closed", errdefs.ErrUnavailable)
	}
	if h.stopSrc == nil {
		sctx, cancel := context.WithCancel(context.Background())
		h.stopSrc, h.ready, h.err, h.units = cancel, make(chan struct{}), nil, nil
		go h.src(sctx, h)
	}
	ready := h.ready
	h.mu.Unlock()

	select {
	case <-ready:
	case <-ctx.Done():
		h.maybeStop()
		return nil, fmt.Errorf("%w: waiting for the service watcher: %w", errdefs.ErrCanceled, ctx.Err())
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, fmt.Errorf("%w: the service watcher is closed", errdefs.ErrUnavailable)
	case h.err != nil:
		err := h.err
		h.stopLocked()
		return nil, err
	}
	s := &subscription{opts: opts}
	var initial []Event
	if opts.IncludeExisting {
		now := time.Now()
		for _, name := range sortedNames(h.units) {
			u := h.units[name]
			if opts.Filter.MatchName(name, h.displayName(name, u)) && opts.Filter.MatchState(u.state) {
				initial = append(initial, Event{Type: EventExisting, Seq: h.seq, Time: now, Name: name,
					OldState: u.state, NewState: u.state, NativeState: u.native, MainPID: u.pid})
			}
		}
		initial = append(initial, Event{Type: EventSynced, Seq: h.seq, Time: now})
	}
	s.ch = make(chan Event, QueueLen+len(initial))
	for _, e := range initial {
		s.ch <- e
	}
	h.subs[s] = struct{}{}
	go func() {
		<-ctx.Done()
		h.unsubscribe(s)
	}()
	return s, nil
}

func (h *hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endLocked(s, nil)
	if len(h.subs) == 0 {
		h.stopLocked()
	}
}

// maybeStop stops the source when nobody subscribes (a Watch gave up waiting).
func (h *hub) maybeStop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		h.stopLocked()
	}
}

func (h *hub) stopLocked() {
	if h.stopSrc != nil {
		h.stopSrc()
		h.stopSrc = nil
		if h.units == nil && h.err == nil { // release Watch calls still waiting
			h.err = fmt.Errorf("%w: the service watcher stopped", errdefs.ErrUnavailable)
			close(h.ready)
		}
	}
}

func (h *hub) endLocked(s *subscription, err error) {
	if s.done {
		return
	}
	s.done, s.err = true, err
	delete(h.subs, s)
	close(s.ch)
}

// Close ends every subscription and the source.
func (h *hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.endLocked(s, nil)
	}
	h.stopLocked()
	return nil
}

// failed reports that the source could not take its first snapshot.
func (h *hub) failed(ctx context.Context, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ctx.Err() == nil && h.units == nil && h.err == nil {
		h.err = err
		close(h.ready)
	}
}

// replace installs a full snapshot. The first one only records the states;
// later ones report every difference (changes missed while reconnecting, or
// between two polls) as CHANGED. A service missing from the snapshot is
// treated as stopped: systemd unloads stopped units.
func (h *hub) replace(ctx context.Context, snap map[string]unitState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	if h.units == nil {
		h.units = snap
		close(h.ready)
		return
	}
	now := time.Now()
	for _, name := range sortedNames(snap) {
		h.updateLocked(now, name, snap[name])
	}
	for _, name := range sortedNames(h.units) {
		if _, ok := snap[name]; !ok {
			h.updateLocked(now, name, unitState{state: StateStopped, native: "inactive/dead"})
			delete(h.units, name)
		}
	}
}

// update applies one observed state; it reports a change only when the
// portable state differs from the remembered one.
func (h *hub) update(ctx context.Context, name string, u unitState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ctx.Err() != nil || h.units == nil {
		return
	}
	h.updateLocked(time.Now(), name, u)
}

func (h *hub) updateLocked(now time.Time, name string, u unitState) {
	old, ok := h.units[name]
	if !ok {
		old = unitState{state: StateStopped}
	}
	h.units[name] = u
	if old.state == u.state {
		return
	}
	h.seq++
	ev := Event{Type: EventChanged, Seq: h.seq, Time: now, Name: name, OldState: old.state, NewState: u.state,
		NativeState: u.native, MainPID: u.pid}
	for s := range h.subs {
		f := s.opts.Filter
		if !f.MatchName(name, h.displayName(name, u)) || (!f.MatchState(old.state) && !f.MatchState(u.state)) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			h.endLocked(s, fmt.Errorf("%w: the subscriber fell %d events behind and was cut off; reconnect with include_existing",
				errdefs.ErrResourceExhausted, QueueLen))
		}
	}
}

func (h *hub) displayName(name string, u unitState) string {
	if u.display != "" {
		return u.display
	}
	return h.alias(name)
}

func sortedNames(m map[string]unitState) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
