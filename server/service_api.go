package server

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/service"
)

// serviceAPI adapts the service domain to remotectl.v1.ServiceManager.
type serviceAPI struct {
	pb.UnimplementedServiceManagerServer
	mgr      service.Manager
	watcher  service.Watcher
	draining <-chan struct{} // closed when the server stops gracefully
	// startTypes is the backend's StartTypeSetter; nil where it has none.
	startTypes service.StartTypeSetter
}

func (a *serviceAPI) ListServices(ctx context.Context, req *pb.ListServicesRequest) (*pb.ListServicesResponse, error) {
	states, err := serviceStatesFromProto(req.GetStates())
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	f := service.Filter{NameGlob: req.GetNameGlob(), States: states}
	if err := f.Validate(); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	svcs, err := a.mgr.List(ctx, f)
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	resp := &pb.ListServicesResponse{Manager: a.mgr.Status(ctx).Kind, Services: make([]*pb.Service, len(svcs))}
	for i := range svcs {
		resp.Services[i] = serviceToProto(&svcs[i])
	}
	return resp, nil
}

func (a *serviceAPI) GetService(ctx context.Context, req *pb.GetServiceRequest) (*pb.GetServiceResponse, error) {
	if err := service.ValidateName(req.GetName()); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	s, err := a.mgr.Get(ctx, req.GetName())
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	return &pb.GetServiceResponse{Service: serviceToProto(&s)}, nil
}

// controlRequest is what Start/Stop/RestartServiceRequest have in common.
type controlRequest interface {
	GetName() string
	GetTimeout() *durationpb.Duration
}

type controlFunc func(context.Context, string, service.ControlOptions) (service.Result, error)

// control is the shared path of Start/Stop/Restart: validate, act, convert.
func control(ctx context.Context, req controlRequest, op controlFunc) (*pb.Service, pb.ServiceState, bool, error) {
	if err := service.ValidateName(req.GetName()); err != nil {
		return nil, 0, false, errgrpc.ToGRPC(err)
	}
	timeout, err := timeoutFromProto(req.GetTimeout())
	if err != nil {
		return nil, 0, false, errgrpc.ToGRPC(err)
	}
	opts := service.ControlOptions{Timeout: timeout}
	// Stop and Restart carry stop_dependents; Start has nothing to stop.
	if r, ok := req.(interface{ GetStopDependents() bool }); ok {
		opts.StopDependents = r.GetStopDependents()
	}
	res, err := op(ctx, req.GetName(), opts)
	if err != nil {
		return nil, 0, false, errgrpc.ToGRPC(err)
	}
	return serviceToProto(&res.Service), serviceStateToProto(res.PreviousState), res.Changed, nil
}

func (a *serviceAPI) StartService(ctx context.Context, req *pb.StartServiceRequest) (*pb.StartServiceResponse, error) {
	svc, prev, changed, err := control(ctx, req, a.mgr.Start)
	if err != nil {
		return nil, err
	}
	return &pb.StartServiceResponse{Service: svc, PreviousState: prev, Changed: changed}, nil
}

func (a *serviceAPI) StopService(ctx context.Context, req *pb.StopServiceRequest) (*pb.StopServiceResponse, error) {
	svc, prev, changed, err := control(ctx, req, a.mgr.Stop)
	if err != nil {
		return nil, err
	}
	return &pb.StopServiceResponse{Service: svc, PreviousState: prev, Changed: changed}, nil
}

func (a *serviceAPI) RestartService(ctx context.Context, req *pb.RestartServiceRequest) (*pb.RestartServiceResponse, error) {
	svc, prev, changed, err := control(ctx, req, a.mgr.Restart)
	if err != nil {
		return nil, err
	}
	return &pb.RestartServiceResponse{Service: svc, PreviousState: prev, Changed: changed}, nil
}
