package server

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/watch"
)

// processAPI adapts the process domain to remotectl.v1.ProcessService.
type processAPI struct {
	pb.UnimplementedProcessServiceServer
	lister  process.Lister
	watcher watch.ProcessWatcher
	// draining is closed when the server starts shutting down.
	draining <-chan struct{}
	// mayReadArgv reports whether the caller holds processes.argv; without
	// it argv and the executable path are not read or sent.
	mayReadArgv func(context.Context) bool
	signaler    process.Signaler
}

// visible drops the fields the caller may not see.
func (a *processAPI) visible(ctx context.Context, f process.Field) process.Field {
	if a.mayReadArgv != nil && !a.mayReadArgv(ctx) {
		f &^= process.FieldArgs | process.FieldExe
	}
	return f
}

func (a *processAPI) ListProcesses(ctx context.Context, req *pb.ListProcessesRequest) (*pb.ListProcessesResponse, error) {
	fields, err := fieldsFromProto(req.GetFields())
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	fields = a.visible(ctx, fields)
	sortBy, err := sortFromProto(req.GetSort())
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	if err := process.ValidateLimit(int64(req.GetLimit())); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	filter := filterFromProto(req.GetFilter())
	if err := filter.Validate(); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	// The limit is applied here so total_matched can be reported.
	opts := process.ListOptions{Filter: filter, Fields: fields, Sort: sortBy}
	sampled := time.Now()
	procs, err := a.lister.List(ctx, opts)
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	resp := &pb.ListProcessesResponse{SampledAt: timestamppb.New(sampled), TotalMatched: uint32(len(procs))}
	if n := int(req.GetLimit()); n > 0 && n < len(procs) {
		procs = procs[:n]
	}
	resp.Processes = make([]*pb.Process, len(procs))
	for i := range procs {
		resp.Processes[i] = processToProto(&procs[i], fields)
	}
	return resp, nil
}

func (a *processAPI) WatchProcesses(req *pb.WatchProcessesRequest, stream grpc.ServerStreamingServer[pb.WatchProcessesResponse]) error {
	fields, err := fieldsFromProto(req.GetFields())
	if err != nil {
		return errgrpc.ToGRPC(err)
	}
	fields = a.visible(stream.Context(), fields)
	filter := filterFromProto(req.GetFilter())
	if err := filter.Validate(); err != nil {
		return errgrpc.ToGRPC(err)
	}
	sub, err := a.watcher.Watch(stream.Context(), watch.Options{Filter: filter, Fields: fields,
		StreamOptions: streamOptions(req, a.draining)})
	if err != nil {
		return errgrpc.ToGRPC(err)
	}
	return serveWatch(stream, sub, func(ev *watch.Event) error {
		return stream.Send(&pb.WatchProcessesResponse{Event: eventToProto(ev, fields)})
	})
}
