package client

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
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

// watchRequest is a watch request (WatchProcessesRequest,
// WatchServicesRequest). Both carry include_existing and
// resume_after_sequence, which the follower sets to resume.
type watchRequest interface {
	proto.Message
	GetIncludeExisting() bool
	GetResumeAfterSequence() uint64
}

// watchEvent is a watch event (ProcessEvent, ServiceEvent): a sequence
// number and a type enum whose EXISTING, SYNCED and RESYNC values are the
// follower's protocol.
type watchEvent interface {
	proto.Message
	GetSequence() uint64
}

// newWatchSpec adapts a watch RPC to the generic follower. The watches
// differ only in their messages: as the follower reads and writes the
// request's resume fields by name, it finds the event's sequence and type
// fields and the type enum's EXISTING, SYNCED and RESYNC values (named
// <ENUM>_EXISTING ...) by name. A watch event without them is a programming
// error and panics here, at the first call (TestWatchClassify).
func newWatchSpec[Req watchRequest, Resp any, Ev watchEvent](
	open func(context.Context, Req, ...grpc.CallOption) (grpc.ServerStreamingClient[Resp], error),
	event func(*Resp) Ev) *followSpec[Req, Resp, Ev] {
	var zero Ev
	msg := zero.ProtoReflect().Descriptor()
	seqField, typeField := msg.Fields().ByName("sequence"), msg.Fields().ByName("type")
	if seqField == nil || typeField == nil || typeField.Enum() == nil {
		panic("client: " + string(msg.FullName()) + " is not a watch event (sequence and type enum)")
	}
	existing, synced, resync := enumValue(typeField, "_EXISTING"), enumValue(typeField, "_SYNCED"), enumValue(typeField, "_RESYNC")
	return &followSpec[Req, Resp, Ev]{
		open:  open,
		event: event,
		classify: func(ev Ev) (uint64, position) {
			switch ev.ProtoReflect().Get(typeField).Enum() {
			case resync, existing:
				return ev.GetSequence(), posSnapshot
			case synced:
				return ev.GetSequence(), posSynced
			}
			return ev.GetSequence(), posLive
		},
		resume: resumeAfter[Req],
		resync: func(start uint64) Ev {
			m := zero.ProtoReflect().Type().New()
			m.Set(seqField, protoreflect.ValueOfUint64(start))
			m.Set(typeField, protoreflect.ValueOfEnum(resync))
			return m.Interface().(Ev)
		},
	}
}

// enumValue is the value of f's enum whose name ends in suffix.
func enumValue(f protoreflect.FieldDescriptor, suffix string) protoreflect.EnumNumber {
	values := f.Enum().Values()
	for i := range values.Len() {
		if v := values.Get(i); strings.HasSuffix(string(v.Name()), suffix) {
			return v.Number()
		}
	}
	panic("client: " + string(f.Enum().FullName()) + " has no value *" + suffix)
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
