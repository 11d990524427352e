// Package watch turns process activity into start/exit event streams. One
// Engine per host runs one producer (the netlink process connector on Linux
// when it is available, else polling) and fans its events out to any number
// of subscribers, each with its own filter and a bounded queue. The gRPC
// layer depends only on ProcessWatcher and Subscription.
package watch

import (
	"context"
	"time"

	"github.com/remotectl/remotectl/server/process"
)

// EventType says what happened to a process.
type EventType int

const (
	EventExisting EventType = iota + 1 // part of a snapshot
	EventSynced                        // end of a snapshot; no process
	EventStarted
	EventExited
	// EventResync says events were lost for this subscriber (it fell behind,
	// or the producer lost events); a snapshot (EXISTING..., SYNCED) follows.
	EventResync
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
	case EventResync:
		return "RESYNC"
	}
	return "UNKNOWN"
}

// Event is one process event. Seq is host-wide: it increases by one per
// STARTED/EXITED event the producer publishes, whatever the subscriber's
// filter, so a subscriber sees increasing but not contiguous numbers. The
// events of a snapshot (RESYNC, EXISTING, SYNCED) carry the sequence number
// of the last event the snapshot reflects; resuming after it is exact.
type Event struct {
	Seq     uint64
	Time    time.Time
	Type    EventType
	Process process.Process // zero for EventSynced and EventResync
}

// Options selects what a subscription reports.
type Options struct {
	Filter          process.Filter
	Fields          process.Field
	IncludeExisting bool
	// ResumeAfter, when not 0, asks for the events after that sequence
	// number; when the engine no longer holds them all, the subscription
	// starts with RESYNC and a snapshot instead. IncludeExisting is then
	// ignored.
	ResumeAfter uint64
	// Stop, when closed, ends Next with ErrStopped (the server's drain).
	Stop <-chan struct{}
}

// Subscription is read by one goroutine, the stream's writer.
type Subscription interface {
	// Next blocks for the next event. It fails with the context's error,
	// ErrStopped, an errdefs.ErrResourceExhausted error when the subscriber
	// kept falling behind, or an errdefs.ErrUnavailable error when the
	// producer failed.
	Next(ctx context.Context) (Event, error)
	// Start is the sequence number the subscription starts after: a client
	// that resumes after it misses nothing, even before any event arrived.
	Start() uint64
	// Close unsubscribes; call it once the stream ends.
	Close()
}

// ProcessWatcher opens process event subscriptions.
type ProcessWatcher interface {
	Watch(ctx context.Context, opts Options) (Subscription, error)
	// Mode names the producer ("poll", "netlink") for Heartbeat.
	Mode() string
}
