package client

import (
	"context"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
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
	return resp, errgrpc.FromGRPC(err)
}

// ProcessWatch is an open WatchProcesses stream.
type ProcessWatch = Stream[*pb.ProcessEvent]

// WatchProcesses opens one process event stream, which ends at the first
// disconnect (FollowProcesses reconnects). Request errors (bad filter) are
// returned here, not on the channel: the server confirms the subscription
// with response headers before any event.
func (c *Client) WatchProcesses(ctx context.Context, req *pb.WatchProcessesRequest) (*ProcessWatch, error) {
	return watchOnce(ctx, newWatchSpec(c.procs.WatchProcesses, (*pb.WatchProcessesResponse).GetEvent), req)
}

// FollowProcesses is WatchProcesses that survives disconnects and agent
// restarts: when the stream ends with a retryable error (UNAVAILABLE,
// RESOURCE_EXHAUSTED) it reconnects with exponential backoff and jitter,
// asking the agent to resume after the last event delivered. The agent then
// resumes without a gap, or the caller receives RESYNC followed by a fresh
// snapshot (EXISTING..., SYNCED) and should replace its view. Other errors
// end the watch (Err). Errors of the first attempt are returned directly.
func (c *Client) FollowProcesses(ctx context.Context, req *pb.WatchProcessesRequest, opts FollowOptions) (*ProcessWatch, error) {
	return followStream(ctx, c, newWatchSpec(c.procs.WatchProcesses, (*pb.WatchProcessesResponse).GetEvent), req, opts)
}
