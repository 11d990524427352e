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
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
)

// watchSequenceHeader carries the sequence number a watch stream starts
// after (server.WatchSequenceHeader).
const watchSequenceHeader = "remotectl-watch-sequence"

// Default FollowOptions backoff: a single agent that comes back is
// reached within about a second, and a dead one costs one refused connect
// a second at most.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = time.Second
)

// FollowOptions tunes FollowProcesses and FollowServices. The zero value
// is usable.
type FollowOptions struct {
	// MinBackoff and MaxBackoff bound the delay between reconnection
	// attempts, which doubles per failed attempt, with full jitter
	// (defaults DefaultMinBackoff and DefaultMaxBackoff; a controller
	// following many agents may want a higher cap).
	MinBackoff, MaxBackoff time.Duration
	// OnReconnect, when set, is called before each wait with the error that
	// ended the stream (or the last attempt) and the delay.
	OnReconnect func(err error, delay time.Duration)
}

// position is where a follower stands in a stream, as the event kinds
// common to every watch tell it.
type position int

const (
	posLive     position = iota // a live event: resume after it
	posSnapshot                 // RESYNC or EXISTING: a snapshot is being received
	posSynced                   // SYNCED: the snapshot is complete, resume after it
)

// Stream is an open watch stream (ProcessWatch, ServiceWatch).
type Stream[E any] struct {
	events <-chan E
	err    *error
}

// Events delivers the stream's events in order. It is closed when the
// stream ends: on context cancel, on a server error, or (for a single
// stream, not a follower) on disconnect.
func (w *Stream[E]) Events() <-chan E { return w.events }

// Err tells why the stream ended; read it after Events is closed. It is nil
// when the caller's context ended the stream.
func (w *Stream[E]) Err() error { return *w.err }

// classifier tells the position of an event from its watch's type enum.
func classifier[Ev any, T comparable](typeOf func(Ev) T, seqOf func(Ev) uint64, resync, existing, synced T) func(Ev) (uint64, position) {
	return func(ev Ev) (uint64, position) {
		switch typeOf(ev) {
		case resync, existing:
			return seqOf(ev), posSnapshot
		case synced:
			return seqOf(ev), posSynced
		}
		return seqOf(ev), posLive
	}
}

// watchRequest is a watch request (WatchProcessesRequest,
// WatchServicesRequest). Both carry include_existing and
// resume_after_sequence, which the follower sets to resume.
type watchRequest interface {
	proto.Message
	GetIncludeExisting() bool
	GetResumeAfterSequence() uint64
}

// watchEvent is an event of a watch whose type enum is T.
type watchEvent[T comparable] interface {
	GetSequence() uint64
	GetType() T
}

// newWatchSpec adapts a watch RPC to the generic follower: the watches
// differ only in their messages and their event type enum.
func newWatchSpec[Req watchRequest, Resp any, Ev watchEvent[T], T comparable](
	open func(context.Context, Req, ...grpc.CallOption) (grpc.ServerStreamingClient[Resp], error),
	event func(*Resp) Ev, resync, existing, synced T, newResync func(start uint64) Ev) *followSpec[Req, Resp, Ev] {
	return &followSpec[Req, Resp, Ev]{
		open:     open,
		event:    event,
		classify: classifier(func(ev Ev) T { return ev.GetType() }, func(ev Ev) uint64 { return ev.GetSequence() }, resync, existing, synced),
		resume:   resumeAfter[Req],
		resync:   newResync,
	}
}

// resumeAfter returns a copy of req that resumes after seq, or (seq 0) that
// asks for a fresh snapshot.
func resumeAfter[Req watchRequest](req Req, seq uint64) Req {
	r := proto.Clone(req).(Req)
	m := r.ProtoReflect()
	fields := m.Descriptor().Fields()
	m.Set(fields.ByName("resume_after_sequence"), protoreflect.ValueOfUint64(seq))
	m.Set(fields.ByName("include_existing"), protoreflect.ValueOfBool(seq == 0))
	return r
}

// orEmpty is req, or an empty request of its type when req is nil (watch
// everything).
func orEmpty[Req watchRequest](req Req) Req {
	if req.ProtoReflect().IsValid() {
		return req
	}
	return req.ProtoReflect().Type().New().Interface().(Req)
}

// followSpec adapts one watch RPC to the generic follower.
type followSpec[Req, Resp, Ev any] struct {
	open func(ctx context.Context, req Req, opts ...grpc.CallOption) (grpc.ServerStreamingClient[Resp], error)
	// event extracts the event of a response.
	event func(*Resp) Ev
	// classify tells an event's sequence number and position.
	classify func(Ev) (uint64, position)
	// resume returns a copy of req that resumes after seq, or (seq 0) that
	// asks for a fresh snapshot.
	resume func(req Req, seq uint64) Req
	// resync is the RESYNC event the follower emits itself before a fresh
	// snapshot it asked for.
	resync func(start uint64) Ev
}

// openWatch opens a stream and returns the sequence it starts after.
func openWatch[Req, Resp, Ev any](ctx context.Context, s *followSpec[Req, Resp, Ev], req Req) (grpc.ServerStreamingClient[Resp], uint64, error) {
	stream, err := s.open(ctx, req)
	if err != nil {
		return nil, 0, errgrpc.FromGRPC(err)
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

// follower tracks the position to resume from.
type follower struct {
	last       uint64 // after the last complete event (0: unknown)
	inSnapshot bool   // a snapshot is being received: resuming would cut it
}

func (f *follower) seen(seq uint64, p position) {
	switch p {
	case posSnapshot:
		f.inSnapshot = true
	default:
		f.inSnapshot = false
		f.last = seq
	}
}

// watchOnce opens one stream and forwards its events until it ends.
func watchOnce[Req watchRequest, Resp, Ev any](ctx context.Context, s *followSpec[Req, Resp, Ev], req Req) (*Stream[Ev], error) {
	stream, _, err := openWatch(ctx, s, orEmpty(req))
	if err != nil {
		return nil, err
	}
	out := make(chan Ev, 64)
	var werr error
	go func() {
		defer close(out)
		if err := pump(ctx, stream, s.event, out, func(Ev) {}); ctx.Err() == nil && !errors.Is(err, io.EOF) {
			werr = err
		}
	}()
	return &Stream[Ev]{events: out, err: &werr}, nil
}

// followStream is the generic follower behind FollowProcesses and
// FollowServices: it opens the stream (errors of this first attempt are
// returned) and keeps it open across disconnects and agent restarts,
// resuming after the last complete event. The channel is closed at the end,
// after the error (nil when ctx ended it) is set.
func followStream[Req watchRequest, Resp, Ev any](ctx context.Context, c *Client, s *followSpec[Req, Resp, Ev], req Req,
	opts FollowOptions) (*Stream[Ev], error) {
	req = orEmpty(req)
	stream, start, err := openWatch(ctx, s, req)
	if err != nil {
		return nil, err
	}
	out := make(chan Ev, 64)
	var werr error
	f := follower{last: start, inSnapshot: req.GetIncludeExisting() && req.GetResumeAfterSequence() == 0}
	go func() {
		defer close(out)
		for {
			err := pump(ctx, stream, s.event, out, func(ev Ev) { f.seen(s.classify(ev)) })
			if ctx.Err() != nil {
				return
			}
			if stream, err = reconnect(ctx, c, s, req, &f, opts, err, out); err != nil {
				if ctx.Err() == nil {
					werr = err
				}
				return
			}
		}
	}()
	return &Stream[Ev]{events: out, err: &werr}, nil
}

// reconnect waits and retries until a stream opens, the context ends (its
// error) or an error is not retryable.
func reconnect[Req, Resp, Ev any](ctx context.Context, c *Client, s *followSpec[Req, Resp, Ev], req Req, f *follower,
	opts FollowOptions, cause error, out chan<- Ev) (grpc.ServerStreamingClient[Resp], error) {
	return retry(ctx, c, opts, cause, func() (grpc.ServerStreamingClient[Resp], error) {
		resync := f.inSnapshot || f.last == 0
		var seq uint64
		if !resync {
			seq = f.last
		}
		stream, start, err := openWatch(ctx, s, s.resume(req, seq))
		if err != nil || !resync {
			return stream, err
		}
		// A cut snapshot cannot be resumed: a fresh one follows, marked
		// as the agent marks its own.
		select {
		case out <- s.resync(start):
			f.inSnapshot = true
			return stream, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
}

// retry is the one reconnection loop of every follower (processes,
// services, logs): it waits with exponential backoff and full jitter
// between attempts to open, until one succeeds, the context ends (its
// error) or an error is not retryable.
func retry[S any](ctx context.Context, c *Client, opts FollowOptions, cause error, open func() (S, error)) (S, error) {
	var zero S
	opts.setDefaults()
	backoff := opts.MinBackoff
	for {
		if !retryable(cause) {
			return zero, cause
		}
		delay := time.Duration(rand.Int64N(int64(backoff)) + 1)
		if opts.OnReconnect != nil {
			opts.OnReconnect(cause, delay)
		}
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-time.After(delay):
		}
		backoff = min(2*backoff, opts.MaxBackoff)
		// The connection has its own, longer reconnect backoff; the
		// follower paces the attempts instead.
		c.conn.ResetConnectBackoff()
		stream, err := open()
		if err == nil {
			return stream, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		cause = err
	}
}

func (o *FollowOptions) setDefaults() {
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, errdefs.ErrUnavailable) || errors.Is(err, errdefs.ErrResourceExhausted)
}
