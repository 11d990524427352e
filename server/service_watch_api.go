package server

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/service"
)

// WatchServices streams service state changes. The handler is the stream's
// only writer; the watcher's bounded queue absorbs the gap to the producer.
func (a *serviceAPI) WatchServices(req *pb.WatchServicesRequest, stream grpc.ServerStreamingServer[pb.WatchServicesResponse]) error {
	states, err := serviceStatesFromProto(req.GetStates())
	if err != nil {
		return errdefs.ToGRPC(err)
	}
	f := service.Filter{NameGlob: req.GetNameGlob(), States: states}
	if err := f.Validate(); err != nil {
		return errdefs.ToGRPC(err)
	}
	ctx := stream.Context()
	sub, err := a.watcher.Watch(ctx, service.WatchOptions{Filter: f, IncludeExisting: req.GetIncludeExisting()})
	if err != nil {
		return errdefs.ToGRPC(err)
	}
	// Headers confirm the subscription, so clients report request errors
	// (and an unreachable service manager) before the first event.
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				if err := sub.Err(); err != nil {
					return errdefs.ToGRPC(err)
				}
				return errdefs.ToGRPC(ctx.Err())
			}
			if err := stream.Send(&pb.WatchServicesResponse{Event: serviceEventToProto(&ev)}); err != nil {
				return err
			}
		case <-a.draining:
			return status.Error(codes.Unavailable, "the agent is shutting down; reconnect")
		}
	}
}

var serviceEventTypes = map[service.EventType]pb.ServiceEventType{
	service.EventExisting: pb.ServiceEventType_SERVICE_EVENT_TYPE_EXISTING,
	service.EventSynced:   pb.ServiceEventType_SERVICE_EVENT_TYPE_SYNCED,
	service.EventChanged:  pb.ServiceEventType_SERVICE_EVENT_TYPE_CHANGED,
}

func serviceEventToProto(e *service.Event) *pb.ServiceEvent {
	out := &pb.ServiceEvent{Sequence: e.Seq, Time: timestamppb.New(e.Time), Type: serviceEventTypes[e.Type]}
	if e.Type != service.EventSynced {
		out.Name, out.NativeState, out.MainPid = e.Name, e.NativeState, e.MainPID
		out.OldState, out.NewState = serviceStateToProto(e.OldState), serviceStateToProto(e.NewState)
	}
	return out
}
