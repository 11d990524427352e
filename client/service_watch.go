package client

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// ServiceWatch is an open WatchServices stream.
type ServiceWatch = Stream[*pb.ServiceEvent]

var serviceFollow = followSpec[*pb.WatchServicesRequest, pb.WatchServicesResponse, *pb.ServiceEvent]{
	event: (*pb.WatchServicesResponse).GetEvent,
	classify: classifier((*pb.ServiceEvent).GetType, (*pb.ServiceEvent).GetSequence, pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC,
		pb.ServiceEventType_SERVICE_EVENT_TYPE_EXISTING, pb.ServiceEventType_SERVICE_EVENT_TYPE_SYNCED),
	resume: func(req *pb.WatchServicesRequest, seq uint64) *pb.WatchServicesRequest {
		r := proto.CloneOf(req)
		r.ResumeAfterSequence, r.IncludeExisting = seq, seq == 0
		return r
	},
	resync: func(start uint64) *pb.ServiceEvent {
		return &pb.ServiceEvent{Sequence: start, Type: pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC}
	},
}

func (c *Client) serviceFollow() *followSpec[*pb.WatchServicesRequest, pb.WatchServicesResponse, *pb.ServiceEvent] {
	s := serviceFollow
	s.open = func(ctx context.Context, req *pb.WatchServicesRequest) (grpc.ServerStreamingClient[pb.WatchServicesResponse], error) {
		return c.svcs.WatchServices(ctx, req)
	}
	return &s
}

// WatchServices opens a service state-change stream, which ends at the
// first disconnect (FollowServices reconnects); a nil request watches every
// service. Request errors (bad glob, unreachable service manager) are
// returned here, not on the channel: the server confirms the subscription
// with response headers before any event.
func (c *Client) WatchServices(ctx context.Context, req *pb.WatchServicesRequest) (*ServiceWatch, error) {
	if req == nil {
		req = &pb.WatchServicesRequest{}
	}
	return watchOnce(ctx, c.serviceFollow(), req)
}

// FollowServices is WatchServices that survives disconnects and agent
// restarts, exactly as FollowProcesses: it resumes after the last event
// delivered, or delivers RESYNC and a fresh snapshot (EXISTING..., SYNCED).
func (c *Client) FollowServices(ctx context.Context, req *pb.WatchServicesRequest, opts FollowOptions) (*ServiceWatch, error) {
	if req == nil {
		req = &pb.WatchServicesRequest{}
	}
	return followStream(ctx, c, c.serviceFollow(), req, req.GetIncludeExisting() && req.GetResumeAfterSequence() == 0, opts)
}
