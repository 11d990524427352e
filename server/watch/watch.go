// Package watch turns process listings into start/exit event streams. The
// gRPC layer depends only on ProcessWatcher, so the producer can change (the
// polling implementation here, an event-driven one later) without touching it.
package watch

import (
	"context"
	"time"

	"github.com/remotectl/remotectl/server/process"
)

// EventType says what happened to a process.
type EventType int

const (
	EventExisting EventType = iota + 1 // present when the watch opened
	EventSynced                        // end of the existing set; no process
	EventStarted
	EventExited
)

func (t EventType) String() string {
	switch t {
	case EventExisting:
		return "EXISTING"
	case EventSynced:
		return "SYNCED"
	case EventStarted:
		return "STARTED"
	case EventExited:
		return "EXITED"
	}
	return "UNKNOWN"
}

// Event is one process event. Seq starts at 1 and increases by one per event
// of a subscription.
type Event struct {
	Seq     uint64
	Time    time.Time
	Type    EventType
	Process process.Process // zero for EventSynced
}

// Options selects what a subscription reports.
type Options struct {
	Filter          process.Filter
	Fields          process.Field
	IncludeExisting bool
}

// Subscription delivers events until its context ends or the producer fails.
type Subscription interface {
	// Events is closed when the subscription ends.
	Events() <-chan Event
	// Err tells why the subscription ended; valid after Events is closed.
	// It is nil when the context ended it.
	Err() error
}

// ProcessWatcher opens process event subscriptions.
type ProcessWatcher interface {
	Watch(ctx context.Context, opts Options) (Subscription, error)
	// Mode names the producer ("poll", "netlink") for Heartbeat.
	Mode() string
}
