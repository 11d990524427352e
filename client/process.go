package client

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

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

var processFollow = followSpec[*pb.WatchProcessesRequest, pb.WatchProcessesResponse, *pb.ProcessEvent]{
	event: (*pb.WatchProcessesResponse).GetEvent,
	classify: classifier((*pb.ProcessEvent).GetType, (*pb.ProcessEvent).GetSequence, pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC,
		pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING, pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED),
	resume: func(req *pb.WatchProcessesRequest, seq uint64) *pb.WatchProcessesRequest {
		r := proto.CloneOf(req)
		r.ResumeAfterSequence, r.IncludeExisting = seq, seq == 0
		return r
	},
	resync: func(start uint64) *pb.ProcessEvent {
		return &pb.ProcessEvent{Sequence: start, Type: pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC}
	},
}

func (c *Client) processFollow() *followSpec[*pb.WatchProcessesRequest, pb.WatchProcessesResponse, *pb.ProcessEvent] {
	s := processFollow
	s.open = func(ctx context.Context, req *pb.WatchProcessesRequest) (grpc.ServerStreamingClient[pb.WatchProcessesResponse], error) {
		return c.procs.WatchProcesses(ctx, req)
	}
	return &s
}

// WatchProcesses opens one process event stream, which ends at the first
// disconnect (FollowProcesses reconnects). Request errors (bad filter) are
// returned here, not on the channel: the server confirms the subscription
// with response headers before any event.
func (c *Client) WatchProcesses(ctx context.Context, req *pb.WatchProcessesRequest) (*ProcessWatch, error) {
	if req == nil {
		req = &pb.WatchProcessesRequest{}
	}
	return watchOnce(ctx, c.processFollow(), req)
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
	return followStream(ctx, c, c.processFollow(), req, req.GetIncludeExisting() && req.GetResumeAfterSequence() == 0, opts)
}
