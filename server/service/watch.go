package service

import (
	"context"
	"maps"
	"slices"
	"time"

	evhub "github.com/remotectl/remotectl/server/watch/hub"
)

// EventType says what a watch Event reports.
type EventType int

const (
	EventChanged  EventType = iota + 1 // a service changed state
	EventExisting                      // initial state (IncludeExisting), or part of a resync snapshot
	EventSynced                        // the EventExisting events are complete
	// EventResync says events were lost for this subscriber (it fell
	// behind, or a resume reached too far back); a snapshot follows.
	EventResync
)

var eventTypeNames = map[EventType]string{EventChanged: "CHANGED", EventExisting: "EXISTING", EventSynced: "SYNCED", EventResync: "RESYNC"}

func (t EventType) String() string { return eventTypeNames[t] }

// EventTypes lists the event types.
func EventTypes() []EventType { return slices.Sorted(maps.Keys(eventTypeNames)) }

// Event is one service state change (or initial state).
type Event struct {
	Type EventType
	// Seq numbers changes per host (JSON-safe, per-run epochs: see package
	// hub); RESYNC, EXISTING and SYNCED carry the number of the last change
	// their snapshot includes.
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
	Filter Filter
	evhub.StreamOptions
}

// Subscription is one open service watch (see hub.Subscription).
type Subscription = evhub.Subscription[Event]

// Watcher streams service state changes. One backend subscription per host
// serves every subscriber, on the shared event hub (server/watch/hub);
// per-subscriber filters apply on fan-out.
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

// hub is the service domain's side of the shared event hub: the last
// known state of every service, and the diffing that turns observations
// into changes.
type hub struct {
	g *evhub.Hub[Event]
	// alias is the second name a glob may match (systemd: "ssh" for "ssh.service").
	alias func(name string) string
	// units is guarded by g's lock (touched only in Update and Snapshot).
	units map[string]unitState
}

// QueueLen bounds a subscriber's backlog of undelivered events; one that
// falls further behind is resynced (RESYNC and a snapshot).
const QueueLen = 256

// queueLen is QueueLen, lowered by tests that stall a subscriber.
var queueLen = QueueLen

// linger keeps the backend subscription open after the last subscriber
// leaves, so a client that reconnects at once resumes exactly.
var linger = evhub.DefaultLinger

func newHub(src source, alias func(string) string) *hub {
	h := &hub{alias: alias}
	h.g = evhub.New(evhub.Config[Event]{
		Name: "service watcher", QueueSize: queueLen, Linger: linger,
		Run: func(ctx context.Context, _ *evhub.Hub[Event]) error {
			src(ctx, h)
			return ctx.Err()
		},
		Snapshot: h.snapshot,
	})
	return h
}

// Watch subscribes. It starts the source for the first subscriber and waits
// for its first snapshot, so a backend that cannot be reached fails here.
func (h *hub) Watch(ctx context.Context, opts WatchOptions) (Subscription, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	f := opts.Filter
	s, err := h.g.Watch(ctx, evhub.Options[Event]{
		StreamOptions: opts.StreamOptions,
		Match: func(ev *Event) bool {
			if !f.MatchName(ev.Name, h.displayName(ev.Name, h.units[ev.Name])) {
				return false
			}
			if ev.Type == EventExisting {
				return f.MatchState(ev.NewState)
			}
			return f.MatchState(ev.OldState) || f.MatchState(ev.NewState)
		},
	})
	if err != nil {
		return nil, err
	}
	return evhub.Typed[Event, *Event]{Sub: s}, nil
}

// Stamp implements hub.Stamper.
func (ev *Event) Stamp(seq uint64, at time.Time, k evhub.Kind) {
	ev.Seq, ev.Time = seq, at
	ev.Type = evhub.TypeOf(k, ev.Type, EventSynced, EventResync)
}

// snapshot lists the known services that match, by name (hub locked).
func (h *hub) snapshot(match func(*Event) bool) []Event {
	var out []Event
	for _, name := range sortedNames(h.units) {
		u := h.units[name]
		ev := Event{Type: EventExisting, Name: name, OldState: u.state, NewState: u.state, NativeState: u.native, MainPID: u.pid}
		if match(&ev) {
			out = append(out, ev)
		}
	}
	return out
}

// Close ends every subscription and the source.
func (h *hub) Close() error {
	h.g.Close()
	return nil
}

// failed reports that the source could not take its first snapshot.
func (h *hub) failed(ctx context.Context, err error) { h.g.Fail(ctx, err) }

// replace installs a full snapshot. The first one of a run only records the
// states; later ones report every difference (changes missed while
// reconnecting, or between two polls) as CHANGED. A service missing from
// the snapshot is treated as stopped: systemd unloads stopped units.
func (h *hub) replace(ctx context.Context, snap map[string]unitState) {
	h.g.Update(ctx, func(tx *evhub.Tx[Event]) {
		if !tx.IsReady() {
			h.units = snap
			tx.Ready()
			return
		}
		now := time.Now()
		for _, name := range sortedNames(snap) {
			h.updateLocked(tx, now, name, snap[name])
		}
		for _, name := range sortedNames(h.units) {
			if _, ok := snap[name]; !ok {
				h.updateLocked(tx, now, name, unitState{state: StateStopped, native: "inactive/dead"})
				delete(h.units, name)
			}
		}
	})
}

// update applies one observed state; it reports a change only when the
// portable state differs from the remembered one.
func (h *hub) update(ctx context.Context, name string, u unitState) {
	h.g.Update(ctx, func(tx *evhub.Tx[Event]) {
		if tx.IsReady() {
			h.updateLocked(tx, time.Now(), name, u)
		}
	})
}

func (h *hub) updateLocked(tx *evhub.Tx[Event], now time.Time, name string, u unitState) {
	old, ok := h.units[name]
	if !ok {
		old = unitState{state: StateStopped}
	}
	h.units[name] = u
	if old.state == u.state {
		return
	}
	tx.Publish(Event{Type: EventChanged, Time: now, Name: name, OldState: old.state, NewState: u.state,
		NativeState: u.native, MainPID: u.pid})
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
