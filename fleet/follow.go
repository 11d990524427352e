package fleet

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/defaults"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// Event is one item of a merged stream: an event of one host, or a note
// about that host's stream. Events of one host keep their order.
type Event[E any] struct {
	Host string
	// Event is the host's event; zero in a note.
	Event E
	// Err, in a note, is why the host's stream broke. With Retrying the
	// stream reconnects by itself (backoff with jitter); without it the
	// host's stream has ended for good.
	Err      error
	Retrying bool
}

// Note reports whether e is a note rather than an event.
func (e Event[E]) Note() bool { return e.Err != nil }

// Merged is the merged stream of many hosts.
type Merged[E any] struct {
	events chan Event[E]
}

// Events delivers every host's events and notes. It is closed when every
// host's stream has ended (or the context has).
func (m *Merged[E]) Events() <-chan Event[E] { return m.events }

// FollowOptions tunes the merged streams. The zero value is usable.
type FollowOptions struct {
	// MinBackoff and MaxBackoff bound the delay between attempts to
	// (re)open a host's stream (defaults 250 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// Buffer is the merged channel's capacity (default 1024).
	Buffer int
}

func (o FollowOptions) withDefaults() FollowOptions {
	defaults.Fill(&o.MinBackoff, 250*time.Millisecond)
	defaults.Fill(&o.MaxBackoff, 30*time.Second)
	defaults.Fill(&o.Buffer, 1024)
	return o
}

// opener opens one host's stream with the client's follower options;
// reopened says the host was away, so events may have been missed. It
// returns the stream's events and why they ended.
type opener[E any] func(ctx context.Context, c *client.Client, reopened bool, fo client.FollowOptions) (<-chan E, func() error, error)

// follow runs one goroutine per host; each opens its stream until one
// opens, forwards it, and reopens while the failure is retryable.
func follow[E any](ctx context.Context, p *Pool, hosts []Host, o FollowOptions, resync func() E, open opener[E]) *Merged[E] {
	o = o.withDefaults()
	m := &Merged[E]{events: make(chan Event[E], o.Buffer)}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Go(func() {
			send := func(ev Event[E]) bool {
				select {
				case m.events <- ev:
					return true
				case <-ctx.Done():
					return false
				}
			}
			c, err := p.Get(ctx, h)
			if err != nil {
				send(Event[E]{Host: h.Name, Err: err})
				return
			}
			b := newBackoff(o.MinBackoff, o.MaxBackoff)
			reopened := false
			for {
				delivered, err := followHost(ctx, c, h, m.events, reopened, resync, open)
				if ctx.Err() != nil || err == nil {
					return
				}
				if !retryable(err) {
					send(Event[E]{Host: h.Name, Err: err})
					return
				}
				if !send(Event[E]{Host: h.Name, Err: err, Retrying: true}) {
					return
				}
				// A stream that delivered events before breaking starts
				// its backoff afresh.
				if delivered {
					b.reset()
				}
				t := time.NewTimer(b.next())
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				reopened = true
			}
		})
	}
	go func() { wg.Wait(); close(m.events) }()
	return m
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, client.ErrUnavailable) ||
		errors.Is(err, client.ErrResourceExhausted) || errors.Is(err, client.ErrDeadlineExceeded)
}

// followHost opens h's stream, reports the client's own reconnects as
// Retrying events, starts a reopened stream with resync() (when not nil:
// the agent's own RESYNC marking, since events may have been missed), and
// forwards it.
func followHost[E any](ctx context.Context, c *client.Client, h Host, out chan<- Event[E], reopened bool, resync func() E, open opener[E]) (bool, error) {
	events, errf, err := open(ctx, c, reopened, client.FollowOptions{OnReconnect: func(err error, _ time.Duration) {
		select {
		case out <- Event[E]{Host: h.Name, Err: err, Retrying: true}:
		case <-ctx.Done():
		}
	}})
	if err != nil {
		return false, err
	}
	if reopened && resync != nil {
		select {
		case out <- Event[E]{Host: h.Name, Event: resync()}:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return forward(ctx, h, events, errf, out)
}

// FollowProcesses merges the process event streams of hosts. Each host's
// stream is client.FollowProcesses (resume after the last event, else
// RESYNC and a fresh snapshot); a host that cannot be reached yet is
// retried with backoff, so hosts may join late.
func FollowProcesses(ctx context.Context, p *Pool, hosts []Host, req *pb.WatchProcessesRequest, o FollowOptions) *Merged[*pb.ProcessEvent] {
	resync := func() *pb.ProcessEvent {
		return &pb.ProcessEvent{Type: pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC}
	}
	return follow(ctx, p, hosts, o, resync, func(ctx context.Context, c *client.Client, reopened bool, fo client.FollowOptions) (<-chan *pb.ProcessEvent, func() error, error) {
		r := req
		if reopened && r != nil && !r.GetIncludeExisting() {
			// Events may have been missed while the host was away: ask
			// for a snapshot, marked as the agent marks its own.
			r = &pb.WatchProcessesRequest{Filter: req.GetFilter(), Fields: req.GetFields(), IncludeExisting: true}
		}
		w, err := c.FollowProcesses(ctx, r, fo)
		if err != nil {
			return nil, nil, err
		}
		return w.Events(), w.Err, nil
	})
}

// FollowServices merges the service event streams of hosts, each one
// client.FollowServices (resume after the last event, else RESYNC and a
// fresh snapshot), like FollowProcesses.
func FollowServices(ctx context.Context, p *Pool, hosts []Host, req *pb.WatchServicesRequest, o FollowOptions) *Merged[*pb.ServiceEvent] {
	resync := func() *pb.ServiceEvent {
		return &pb.ServiceEvent{Type: pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC}
	}
	return follow(ctx, p, hosts, o, resync, func(ctx context.Context, c *client.Client, reopened bool, fo client.FollowOptions) (<-chan *pb.ServiceEvent, func() error, error) {
		r := req
		if reopened && r != nil && !r.GetIncludeExisting() {
			// Changes may have been missed while the host was away: ask for
			// a snapshot, marked as the agent marks its own.
			r = &pb.WatchServicesRequest{NameGlob: req.GetNameGlob(), States: req.GetStates(), IncludeExisting: true}
		}
		w, err := c.FollowServices(ctx, r, fo)
		if err != nil {
			return nil, nil, err
		}
		return w.Events(), w.Err, nil
	})
}

// forward copies a host's events to out until in closes; it reports
// whether any event got through, and why the stream ended.
func forward[E any](ctx context.Context, h Host, in <-chan E, errf func() error, out chan<- Event[E]) (bool, error) {
	delivered := false
	for ev := range in {
		select {
		case out <- Event[E]{Host: h.Name, Event: ev}:
			delivered = true
		case <-ctx.Done():
			return delivered, ctx.Err()
		}
	}
	return delivered, errf()
}

// FollowLogs merges the log follows of hosts. Each host's follow is
// client.FollowLogs (it continues after its last entry across
// reconnects); a host that cannot be reached yet is retried with backoff.
// A reopened host starts afresh from req (its cursor is per host and
// per follow).
func FollowLogs(ctx context.Context, p *Pool, hosts []Host, req *pb.FollowLogsRequest, o FollowOptions) *Merged[*pb.LogEntry] {
	return follow(ctx, p, hosts, o, nil, func(ctx context.Context, c *client.Client, _ bool, fo client.FollowOptions) (<-chan *pb.LogEntry, func() error, error) {
		f, err := c.FollowLogs(ctx, req, fo)
		if err != nil {
			return nil, nil, err
		}
		return f.Entries(), f.Err, nil
	})
}
