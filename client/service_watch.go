package client

import (
	"context"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// ServiceWatch is an open WatchServices stream.
type ServiceWatch = Stream[*pb.ServiceEvent]

// WatchServices opens a service state-change stream, which ends at the
// first disconnect (FollowServices reconnects); a nil request watches every
// service. Request errors (bad glob, unreachable service manager) are
// returned here, not on the channel: the server confirms the subscription
// with response headers before any event.
func (c *Client) WatchServices(ctx context.Context, req *pb.WatchServicesRequest) (*ServiceWatch, error) {
	return watchOnce(ctx, newWatchSpec(c.svcs.WatchServices, (*pb.WatchServicesResponse).GetEvent), req)
}

// FollowServices is WatchServices that survives disconnects and agent
// restarts, exactly as FollowProcesses: it resumes after the last event
// delivered, or delivers RESYNC and a fresh snapshot (EXISTING..., SYNCED).
func (c *Client) FollowServices(ctx context.Context, req *pb.WatchServicesRequest, opts FollowOptions) (*ServiceWatch, error) {
	return followStream(ctx, c, newWatchSpec(c.svcs.WatchServices, (*pb.WatchServicesResponse).GetEvent), req, opts)
}
