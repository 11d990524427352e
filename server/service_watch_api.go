package server

import (
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/service"
)

// WatchServices streams service state changes, on the same hub and writer
// loop as WatchProcesses (resume, RESYNC, drain).
func (a *serviceAPI) WatchServices(req *pb.WatchServicesRequest, stream grpc.ServerStreamingServer[pb.WatchServicesResponse]) error {
	states, err := serviceStatesFromProto(req.GetStates())
	if err != nil {
		return errgrpc.ToGRPC(err)
	}
	f := service.Filter{NameGlob: req.GetNameGlob(), States: states}
	if err := f.Validate(); err != nil {
		return errgrpc.ToGRPC(err)
	}
	sub, err := a.watcher.Watch(stream.Context(), service.WatchOptions{Filter: f, StreamOptions: streamOptions(req, a.draining)})
	if err != nil {
		return errgrpc.ToGRPC(err)
	}
	return serveWatch(stream, sub, func(ev *service.Event) error {
		return stream.Send(&pb.WatchServicesResponse{Event: serviceEventToProto(ev)})
	})
}

func serviceEventToProto(e *service.Event) *pb.ServiceEvent {
	out := &pb.ServiceEvent{Sequence: e.Seq, Time: timestamppb.New(e.Time), Type: serviceEventTypePairs.toProto[e.Type]}
	if e.Type != service.EventSynced && e.Type != service.EventResync {
		out.Name, out.NativeState, out.MainPid = e.Name, e.NativeState, e.MainPID
		out.OldState, out.NewState = serviceStateToProto(e.OldState), serviceStateToProto(e.NewState)
	}
	return out
}
