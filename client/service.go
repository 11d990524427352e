package client

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// controlGrace is added to a state-change wait for the call deadline, so the
// server's own DEADLINE_EXCEEDED (which names the stuck state) arrives first.
const controlGrace = 10 * time.Second

// ListServices lists services; a nil request lists all.
func (c *Client) ListServices(ctx context.Context, req *pb.ListServicesRequest) (*pb.ListServicesResponse, error) {
	if req == nil {
		req = &pb.ListServicesRequest{}
	}
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	resp, err := c.svcs.ListServices(ctx, req)
	return resp, errgrpc.FromGRPC(err)
}

// GetService returns one service.
func (c *Client) GetService(ctx context.Context, name string) (*pb.Service, error) {
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	resp, err := c.svcs.GetService(ctx, &pb.GetServiceRequest{Name: name})
	return resp.GetService(), errgrpc.FromGRPC(err)
}

// ControlResult is the outcome of StartService, StopService or RestartService.
type ControlResult struct {
	Service       *pb.Service
	PreviousState pb.ServiceState
	Changed       bool
}

// controlResponse is what Start/Stop/RestartService answer.
type controlResponse interface {
	GetService() *pb.Service
	GetPreviousState() pb.ServiceState
	GetChanged() bool
}

// waitFor is the request's wait (nil: the agent's default) and the call's
// deadline.
func waitFor(timeout time.Duration) (*durationpb.Duration, time.Duration) {
	if timeout <= 0 {
		return nil, DefaultControlWait + controlGrace
	}
	return durationpb.New(timeout), timeout + controlGrace
}

// control runs one state change with the wait and deadline of waitFor.
func control[R controlResponse](ctx context.Context, c *Client, timeout time.Duration,
	call func(context.Context, *durationpb.Duration) (R, error)) (*ControlResult, error) {
	wait, deadline := waitFor(timeout)
	ctx, cancel := c.withTimeout(ctx, deadline)
	defer cancel()
	r, err := call(ctx, wait)
	if err != nil {
		return nil, errgrpc.FromGRPC(err)
	}
	return &ControlResult{Service: r.GetService(), PreviousState: r.GetPreviousState(), Changed: r.GetChanged()}, nil
}

// StartService starts a service and waits up to timeout (0 = the agent's
// default, DefaultControlWait; at most MaxControlWait) for it to run.
func (c *Client) StartService(ctx context.Context, name string, timeout time.Duration) (*ControlResult, error) {
	return control(ctx, c, timeout, func(ctx context.Context, d *durationpb.Duration) (*pb.StartServiceResponse, error) {
		return c.svcs.StartService(ctx, &pb.StartServiceRequest{Name: name, Timeout: d})
	})
}

// ControlOption tunes StopService and RestartService.
type ControlOption func(*controlOptions)

type controlOptions struct{ stopDependents bool }

// WithDependents stops the running services that depend on the target first
// (RestartService starts them again afterwards). Without it a Windows agent
// refuses to stop a service with running dependents (ErrFailedPrecondition
// naming them); systemd always stops the units that require the target.
func WithDependents() ControlOption { return func(o *controlOptions) { o.stopDependents = true } }

func applyControl(opts []ControlOption) controlOptions {
	var o controlOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// StopService stops a service and waits up to timeout for it to stop.
func (c *Client) StopService(ctx context.Context, name string, timeout time.Duration, opts ...ControlOption) (*ControlResult, error) {
	o := applyControl(opts)
	return control(ctx, c, timeout, func(ctx context.Context, d *durationpb.Duration) (*pb.StopServiceResponse, error) {
		return c.svcs.StopService(ctx, &pb.StopServiceRequest{Name: name, Timeout: d, StopDependents: o.stopDependents})
	})
}

// RestartService restarts a service and waits up to timeout for it to run.
func (c *Client) RestartService(ctx context.Context, name string, timeout time.Duration, opts ...ControlOption) (*ControlResult, error) {
	o := applyControl(opts)
	return control(ctx, c, timeout, func(ctx context.Context, d *durationpb.Duration) (*pb.RestartServiceResponse, error) {
		return c.svcs.RestartService(ctx, &pb.RestartServiceRequest{Name: name, Timeout: d, StopDependents: o.stopDependents})
	})
}
