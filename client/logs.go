package client

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// ReadLogs returns the last entries of a log source (oldest first) and the
// cursor a FollowLogs can continue from.
func (c *Client) ReadLogs(ctx context.Context, req *pb.ReadLogsRequest) (*pb.ReadLogsResponse, error) {
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	resp, err := pb.NewLogServiceClient(c.conn).ReadLogs(ctx, req)
	return resp, errgrpc.FromGRPC(err)
}

// LogFollow is an open FollowLogs.
type LogFollow struct {
	entries chan *pb.LogEntry
	err     error
	cursor  string
}

// Entries delivers the entries in order; it is closed when the follow ends
// (context cancel, or an error that is not retried).
func (f *LogFollow) Entries() <-chan *pb.LogEntry { return f.entries }

// Err tells why the follow ended; read it after Entries is closed. It is
// nil when the caller's context ended it.
func (f *LogFollow) Err() error { return f.err }

// Cursor is the cursor of the last entry delivered (read it after Entries
// is closed), to resume later with FollowLogsRequest.cursor.
func (f *LogFollow) Cursor() string { return f.cursor }

// FollowLogs follows a log source. Like FollowProcesses it survives
// disconnects and agent restarts: on a retryable error (UNAVAILABLE,
// RESOURCE_EXHAUSTED, a stream closed by the agent) it reconnects with
// backoff and jitter, asking to continue after the cursor of the last
// entry delivered, so no entry is lost or repeated while the data still
// exists on the host. Errors of the first attempt (refusals, bad
// patterns) are returned directly.
func (c *Client) FollowLogs(ctx context.Context, req *pb.FollowLogsRequest, opts FollowOptions) (*LogFollow, error) {
	stream, err := c.openLogFollow(ctx, req)
	if err != nil {
		return nil, err
	}
	f := &LogFollow{entries: make(chan *pb.LogEntry, 1024), cursor: req.GetCursor()}
	go func() {
		defer close(f.entries)
		for {
			err := f.pump(ctx, stream)
			if ctx.Err() != nil {
				return
			}
			if stream, err = c.reconnectLogs(ctx, req, f, opts, err); err != nil {
				if ctx.Err() == nil {
					f.err = err
				}
				return
			}
		}
	}()
	return f, nil
}

func (c *Client) openLogFollow(ctx context.Context, req *pb.FollowLogsRequest) (grpc.ServerStreamingClient[pb.FollowLogsResponse], error) {
	stream, err := pb.NewLogServiceClient(c.conn).FollowLogs(ctx, req)
	if err != nil {
		return nil, errgrpc.FromGRPC(err)
	}
	if _, err := accept(stream); err != nil {
		return nil, err
	}
	return stream, nil
}

// pump delivers entries one by one, remembering the last cursor; it
// ends like the watch streams' pump (ctx error, io.EOF or the mapped error).
func (f *LogFollow) pump(ctx context.Context, stream grpc.ServerStreamingClient[pb.FollowLogsResponse]) error {
	batches := make(chan *pb.FollowLogsResponse)
	done := make(chan error, 1)
	go func() {
		done <- pump(ctx, stream, func(r *pb.FollowLogsResponse) *pb.FollowLogsResponse { return r }, batches, func(*pb.FollowLogsResponse) {})
		close(batches)
	}()
	for b := range batches {
		for _, e := range b.GetEntries() {
			select {
			case f.entries <- e:
				if e.GetCursor() != "" {
					f.cursor = e.GetCursor()
				}
			case <-ctx.Done():
			}
		}
	}
	return <-done
}

// reconnectLogs waits and retries until a follow opens after the last
// cursor, the context ends, or an error is not retryable.
func (c *Client) reconnectLogs(ctx context.Context, req *pb.FollowLogsRequest, f *LogFollow, opts FollowOptions, cause error) (grpc.ServerStreamingClient[pb.FollowLogsResponse], error) {
	return retry(ctx, c, opts, cause, func() (grpc.ServerStreamingClient[pb.FollowLogsResponse], error) {
		r := proto.CloneOf(req)
		if f.cursor != "" {
			r.Cursor = f.cursor
		}
		return c.openLogFollow(ctx, r)
	})
}
