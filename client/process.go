package client

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// ListProcesses lists the agent's processes; a nil request lists all with all fields.
func (c *Client) ListProcesses(ctx context.Context, req *pb.ListProcessesRequest) (*pb.ListProcessesResponse, error) {
	if req == nil {
		req = &pb.ListProcessesRequest{}
	}
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	resp, err := c.procs.ListProcesses(ctx, req)
	return resp, errdefs.FromGRPC(err)
}

// watchSequenceHeader carries the sequence number a WatchProcesses stream
// starts after (server.WatchSequenceHeader).
const watchSequenceHeader = "remotectl-watch-sequence"

// ProcessWatch is an open WatchProcesses stream.
type ProcessWatch struct {
	events chan *pb.ProcessEvent
	err    error
}

// Events delivers the stream's events in order. It is closed when the
// stream ends: on context cancel, on a server error, or on disconnect.
func (w *ProcessWatch) Events() <-chan *pb.ProcessEvent { return w.events }

// Err tells why the stream ended; read it after Events is closed. It is nil
// when the caller's context ended the stream.
func (w *ProcessWatch) Err() error { return w.err }

// WatchProcesses opens one process event stream, which ends at the first
// disconnect (FollowProcesses reconnects). Request errors (bad filter) are
// returned here, not on the channel: the server confirms the subscription
// with response headers before any event.
func (c *Client) WatchProcesses(ctx context.Context, req *pb.WatchProcessesRequest) (*ProcessWatch, error) {
	stream, _, err := c.openProcessWatch(ctx, req)
	if err != nil {
		return nil, err
	}
	w := &ProcessWatch{events: make(chan *pb.ProcessEvent, 64)}
	go func() {
		defer close(w.events)
		if err := pump(ctx, stream, (*pb.WatchProcessesResponse).GetEvent, w.events, func(*pb.ProcessEvent) {}); ctx.Err() == nil && !errors.Is(err, io.EOF) {
			w.err = err
		}
	}()
	return w, nil
}

func (c *Client) openProcessWatch(ctx context.Context, req *pb.WatchProcessesRequest) (grpc.ServerStreamingClient[pb.WatchProcessesResponse], uint64, error) {
	if req == nil {
		req = &pb.WatchProcessesRequest{}
	}
	stream, err := c.procs.WatchProcesses(ctx, req)
	if err != nil {
		return nil, 0, errdefs.FromGRPC(err)
	}
	md, err := accept(stream)
	if err != nil {
		return nil, 0, err
	}
	var start uint64
	if v := md.Get(watchSequenceHeader); len(v) == 1 {
		start, _ = strconv.ParseUint(v[0], 10, 64)
	}
	return stream, start, nil
}

// FollowOptions tunes FollowProcesses. The zero value is usable.
type FollowOptions struct {
	// MinBackoff and MaxBackoff bound the delay between reconnection
	// attempts, which doubles per failed attempt, with full jitter
	// (defaults 250 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// OnReconnect, when set, is called before each wait with the error that
	// ended the stream (or the last attempt) and the delay.
	OnReconnect func(err error, delay time.Duration)
}

// FollowProcesses is WatchProcesses that survives disconnects and agent
// restarts: when the stream ends with a retryable error (UNAVAILABLE,
// RESOURCE_EXHAUSTED) it reconnects with exponential backoff and jitter,
// asking the agent to resume after the last event delivered. The agent then
// resumes without a gap, or the caller receives RESYNC followed by a fresh
// snapshot (EXISTING..., SYNCED) and should replace its view. Other errors
// end the watch (Err). Errors of the first attempt are returned directly.
func (c *Client) FollowProcesses(ctx context.Context, req *pb.WatchProcessesRequest, opts FollowOptions) (*ProcessWatch, error) {
	if req == nil {
		req = &pb.WatchProcessesRequest{}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	stream, start, err := c.openProcessWatch(ctx, req)
	if err != nil {
		return nil, err
	}
	w := &ProcessWatch{events: make(chan *pb.ProcessEvent, 64)}
	f := follower{last: start, inSnapshot: req.GetIncludeExisting() && req.GetResumeAfterSequence() == 0}
	go func() {
		defer close(w.events)
		for {
			err := pump(ctx, stream, (*pb.WatchProcessesResponse).GetEvent, w.events, f.seen)
			if ctx.Err() != nil {
				return
			}
			if stream, err = c.reconnect(ctx, req, &f, opts, err, w.events); err != nil {
				if ctx.Err() == nil {
					w.err = err
				}
				return
			}
		}
	}()
	return w, nil
}

// follower tracks the position to resume from.
type follower struct {
	last       uint64 // after the last complete event (0: unknown)
	inSnapshot bool   // a snapshot is being received: resuming would cut it
}

func (f *follower) seen(ev *pb.ProcessEvent) {
	switch ev.GetType() {
	case pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC, pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING:
		f.inSnapshot = true
	case pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED, pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, pb.ProcessEventType_PROCESS_EVENT_TYPE_EXITED:
		f.inSnapshot = false
		f.last = ev.GetSequence()
	}
}

// reconnect waits and retries until a stream opens, the context ends (its
// error) or an error is not retryable.
func (c *Client) reconnect(ctx context.Context, req *pb.WatchProcessesRequest, f *follower, opts FollowOptions, cause error, out chan<- *pb.ProcessEvent) (grpc.ServerStreamingClient[pb.WatchProcessesResponse], error) {
	backoff := opts.MinBackoff
	for {
		if !retryable(cause) {
			return nil, cause
		}
		delay := time.Duration(rand.Int64N(int64(backoff)) + 1)
		if opts.OnReconnect != nil {
			opts.OnReconnect(cause, delay)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		backoff = min(2*backoff, opts.MaxBackoff)
		r := proto.CloneOf(req)
		resync := f.inSnapshot || f.last == 0
		if resync {
			// A cut snapshot cannot be resumed: start a fresh one, marked
			// as the agent marks its own.
			r.ResumeAfterSequence, r.IncludeExisting = 0, true
		} else {
			r.ResumeAfterSequence = f.last
		}
		stream, start, err := c.openProcessWatch(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			cause = err
			continue
		}
		if resync {
			select {
			case out <- &pb.ProcessEvent{Sequence: start, Type: pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC}:
				f.inSnapshot = true
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return stream, nil
	}
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, errdefs.ErrUnavailable) || errors.Is(err, errdefs.ErrResourceExhausted)
}
