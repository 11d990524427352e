package client

import (
	"context"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// ServiceWatch is an open WatchServices stream.
type ServiceWatch = Stream[*pb.ServiceEvent]

func (c *Client) serviceWatch() *followSpec[*pb.WatchServicesRequest, pb.WatchServicesResponse, *pb.ServiceEvent] {
	return newWatchSpec(c.svcs.WatchServices, (*pb.WatchServicesResponse).GetEvent, pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC,
		pb.ServiceEventType_SERVICE_EVENT_TYPE_EXISTING, pb.ServiceEventType_SERVICE_EVENT_TYPE_SYNCED,
		func(start uint64) *pb.ServiceEvent {
			return &pb.ServiceEvent{Sequence: start, Type: pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC}
		})
}

// WatchServices opens a service state-change stream, which ends at the
// first disconnect (FollowServices reconnects); a nil request watches every
// service. Request errors (bad glob, unreachable service manager) are
// returned here, not on the channel: the server confirms the subscription
// with response headers before any event.
func (c *Client) WatchServices(ctx context.Context, req *pb.WatchServicesRequest) (*ServiceWatch, error) {
	return watchOnce(ctx, c.serviceWatch(), req)
}

// FollowServices is WatchServices that survives disconnects and agent
// restarts, exactly as FollowProcesses: it resumes after the last event
// delivered, or delivers RESYNC and a fresh snapshot (EXISTING..., SYNCED).
func (c *Client) FollowServices(ctx context.Context, req *pb.WatchServicesRequest, opts FollowOptions) (*ServiceWatch, error) {
	return followStream(ctx, c, c.serviceWatch(), req, opts)
}
