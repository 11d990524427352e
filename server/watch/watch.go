// Package watch turns process activity into start/exit event streams. One
// Engine per host runs one producer (the netlink process connector on Linux
// when it is available, else polling) and fans its events out to any number
// of subscribers, each with its own filter and a bounded queue. The gRPC
// layer depends only on ProcessWatcher and Subscription.
package watch

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/watch/hub"
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
	// EventExec says a process (same PID and start time) now runs another
	// program; Event.Before names the one it ran.
	EventExec
)

var eventTypeNames = map[EventType]string{
	EventExisting: "EXISTING", EventSynced: "SYNCED", EventStarted: "STARTED",
	EventExited: "EXITED", EventResync: "RESYNC", EventExec: "EXEC",
}

func (t EventType) String() string {
	if n, ok := eventTypeNames[t]; ok {
		return n
	}
	return "UNKNOWN"
}

// EventTypes lists the event types.
func EventTypes() []EventType { return slices.Sorted(maps.Keys(eventTypeNames)) }

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
	// Before is the program the process ran before an EventExec.
	Before *Program
	// Exit is how the process ended (EventExited), when the OS reported it.
	Exit *ExitStatus
}

// Program is what a process runs: it changes at exec.
type Program struct {
	Name string
	Exe  string
	Args []string
}

// ExitStatus is how a process ended: an exit code, or the signal that
// killed it (Code is then -1).
type ExitStatus struct {
	Code   int32
	Signal int32
}

// ExitStatusOf decodes a wait(2) status word (the kernel's exit_code).
func ExitStatusOf(status uint32) *ExitStatus {
	if sig := status & 0x7f; sig != 0 {
		return &ExitStatus{Code: -1, Signal: int32(sig)}
	}
	return &ExitStatus{Code: int32(status >> 8 & 0xff)}
}

// ProgramOf returns what p runs.
func ProgramOf(p *process.Process) Program { return Program{Name: p.Name, Exe: p.Exe, Args: p.Args} }

// matches evaluates a subscriber's filter: against the current program, and
// for EXEC also against the one before (a watch on the old name learns that
// it is gone). A name or user the producer could not resolve cannot exclude
// an event: it is delivered, with the field listed as unavailable, rather
// than dropped silently.
func (ev *Event) matches(f *process.Filter) bool {
	if matchResolved(f, &ev.Process) {
		return true
	}
	if ev.Before != nil {
		old := ev.Process
		old.Name, old.Exe, old.Args = ev.Before.Name, ev.Before.Exe, ev.Before.Args
		return matchResolved(f, &old)
	}
	return false
}

func matchResolved(f *process.Filter, p *process.Process) bool {
	if p.Unavailable&(process.FieldName|process.FieldUser) == 0 {
		return f.Match(p)
	}
	g := *f
	if p.Unavailable.Has(process.FieldName) {
		g.NameGlob = ""
	}
	if p.Unavailable.Has(process.FieldUser) {
		g.User = ""
	}
	return g.Match(p)
}

// Options selects what a subscription reports.
type Options struct {
	Filter process.Filter
	Fields process.Field
	hub.StreamOptions
}

// Subscription is one open process watch (see hub.Subscription).
type Subscription = hub.Subscription[Event]

// ProcessWatcher opens process event subscriptions.
type ProcessWatcher interface {
	Watch(ctx context.Context, opts Options) (Subscription, error)
	// Mode names the producer ("poll", "netlink") for Heartbeat.
	Mode() string
}
