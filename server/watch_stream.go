package server

import (
	"context"
	"errors"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	"github.com/remotectl/remotectl/server/watch/hub"
)

// WatchSequenceHeader is the response header of WatchProcesses and
// WatchServices that carries the sequence number the stream starts after
// (see ProcessEvent.sequence).
const WatchSequenceHeader = "remotectl-watch-sequence"

// watchSub is what both watch domains' subscriptions offer.
type watchSub[E any] interface {
	Next(ctx context.Context) (E, error)
	Start() uint64
	Close()
}

// watchRequest is what both watch requests ask of the stream.
type watchRequest interface {
	GetIncludeExisting() bool
	GetResumeAfterSequence() uint64
}

// streamOptions reads where a watch request starts; the server's drain
// (stop) ends it.
func streamOptions(req watchRequest, stop <-chan struct{}) hub.StreamOptions {
	return hub.StreamOptions{IncludeExisting: req.GetIncludeExisting(), ResumeAfter: req.GetResumeAfterSequence(), Stop: stop}
}

// serveWatch is the one writer loop of every watch stream. Headers confirm
// the subscription, so clients report request errors synchronously before
// the first event, and carry the starting sequence, so a client can resume
// without loss even if it disconnects before the first event. The producer
// never waits on a client; it only queues (see package hub).
func serveWatch[E any](stream grpc.ServerStream, sub watchSub[E], send func(*E) error) error {
	defer sub.Close()
	if err := stream.SendHeader(metadata.Pairs(WatchSequenceHeader, strconv.FormatUint(sub.Start(), 10))); err != nil {
		return err
	}
	ctx := stream.Context()
	for {
		ev, err := sub.Next(ctx)
		switch {
		case errors.Is(err, hub.ErrStopped):
			// Streams never end by themselves, so the graceful stop ends them
			// with a reason the client can act on instead of cutting them.
			return status.Error(codes.Unavailable, "the agent is shutting down; reconnect")
		case err != nil:
			return errgrpc.ToGRPC(err)
		}
		if err := send(&ev); err != nil {
			return err
		}
	}
}
