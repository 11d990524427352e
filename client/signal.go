package client

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// SignalOptions tunes SignalProcess. The zero value sends TERM and returns
// without waiting.
type SignalOptions struct {
	Signal pb.ProcessSignal
	// Wait is how long the agent waits for the process to exit (at most
	// MaxSignalWait; a longer wait is refused with ErrInvalidArgument).
	Wait time.Duration
	// ExitCode, when set, is the exit code of a process terminated on Windows.
	ExitCode *uint32
}

// SignalProcess signals the process identified by pid and start time (as
// ListProcesses returned them). A pid reused by another process is refused
// with ErrNotFound; a protected target with ErrPermissionDenied.
func (c *Client) SignalProcess(ctx context.Context, pid int32, start time.Time, o SignalOptions) (*pb.SignalProcessResponse, error) {
	req := &pb.SignalProcessRequest{Pid: pid, StartTime: timestamppb.New(start), Signal: o.Signal, ExitCode: o.ExitCode}
	if o.Wait > 0 {
		req.Wait = durationpb.New(o.Wait)
	}
	ctx, cancel := c.withTimeout(ctx, o.Wait+controlGrace)
	defer cancel()
	resp, err := c.procs.SignalProcess(ctx, req)
	return resp, errgrpc.FromGRPC(err)
}

// SetServiceStartType changes when the service manager starts a service; with
// now it also starts or stops it, waiting up to timeout (0 = server default).
func (c *Client) SetServiceStartType(ctx context.Context, name string, t pb.ServiceStartType, now bool, timeout time.Duration) (*pb.SetServiceStartTypeResponse, error) {
	req := &pb.SetServiceStartTypeRequest{Name: name, StartType: t, Now: now}
	call := time.Duration(0)
	if now {
		req.Timeout, call = waitFor(timeout)
	}
	ctx, cancel := c.withTimeout(ctx, call)
	defer cancel()
	resp, err := c.svcs.SetServiceStartType(ctx, req)
	return resp, errgrpc.FromGRPC(err)
}
