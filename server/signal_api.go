package server

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
)

// signalBackends picks the process signaler and the service backend's
// start-type setter (from the undecorated Manager: decorators such as
// metrics wrap only the Manager interface).
func signalBackends(cfg Config) (process.Signaler, service.StartTypeSetter) {
	s := cfg.Signaler
	if s == nil {
		s = process.NewSignaler()
	}
	st, _ := cfg.Services.(service.StartTypeSetter)
	return s, st
}

func signalFromProto(s pb.ProcessSignal) (process.Signal, error) {
	if s == pb.ProcessSignal_PROCESS_SIGNAL_UNSPECIFIED {
		return process.SignalTerm, nil
	}
	if d, ok := signalPairs.fromProto[s]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("%w: unknown signal %d", errdefs.ErrInvalidArgument, s)
}

// signalIdentityFields are what SignalProcessResponse.process carries.
const signalIdentityFields = process.FieldName | process.FieldExe | process.FieldArgs | process.FieldUser

func (a *processAPI) SignalProcess(ctx context.Context, req *pb.SignalProcessRequest) (*pb.SignalProcessResponse, error) {
	sig, err := signalFromProto(req.GetSignal())
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	r := process.SignalRequest{Target: process.Key{PID: req.GetPid()}, Signal: sig, ExitCode: process.DefaultExitCode}
	if req.ExitCode != nil {
		r.ExitCode = req.GetExitCode()
	}
	if ts := req.GetStartTime(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return nil, errgrpc.ToGRPC(fmt.Errorf("%w: start_time: %w", errdefs.ErrInvalidArgument, err))
		}
		r.Target.StartTime = ts.AsTime()
	}
	if w := req.GetWait(); w != nil {
		if err := w.CheckValid(); err != nil {
			return nil, errgrpc.ToGRPC(fmt.Errorf("%w: wait: %w", errdefs.ErrInvalidArgument, err))
		}
		r.Wait = w.AsDuration()
	}
	if err := r.Validate(); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	// The identity as listed before the signal, for the answer (the guard
	// has checked the same identity; the signaler re-checks it race-free).
	var target *pb.Process
	if procs, err := a.lister.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: []int32{r.Target.PID}}, Fields: signalIdentityFields}); err == nil &&
		len(procs) == 1 && process.SameStart(procs[0].StartTime, r.Target.StartTime) {
		target = processToProto(&procs[0], signalIdentityFields)
	}
	exit, err := a.signaler.Signal(ctx, r)
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	resp := &pb.SignalProcessResponse{Process: target, Exited: exit.Exited, Waited: durationpb.New(exit.Waited.Round(time.Millisecond))}
	if exit.Known {
		if exit.SignalNumber != 0 {
			n := exit.SignalNumber
			resp.ExitSignalNumber, resp.ExitSignal = &n, signalPairs.toProto[exit.Signal]
		} else {
			c := exit.Code
			resp.ExitCode = &c
		}
	}
	return resp, nil
}

func (a *serviceAPI) SetServiceStartType(ctx context.Context, req *pb.SetServiceStartTypeRequest) (*pb.SetServiceStartTypeResponse, error) {
	if err := service.ValidateName(req.GetName()); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	t, ok := startTypePairs.fromProto[req.GetStartType()]
	if !ok {
		return nil, errgrpc.ToGRPC(fmt.Errorf("%w: start_type %v: use AUTOMATIC, AUTOMATIC_DELAYED, MANUAL or DISABLED", errdefs.ErrInvalidArgument, req.GetStartType()))
	}
	opts := service.StartTypeOptions{Now: req.GetNow()}
	if req.GetNow() {
		var err error
		if opts.Timeout, err = timeoutFromProto(req.GetTimeout()); err != nil {
			return nil, errgrpc.ToGRPC(err)
		}
	}
	if a.startTypes == nil {
		return nil, errgrpc.ToGRPC(fmt.Errorf("%w: the service backend of this host (%s) cannot change start types", errdefs.ErrNotSupported, a.mgr.Status(ctx).Kind))
	}
	r, err := a.startTypes.SetStartType(ctx, req.GetName(), t, opts)
	if err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	return &pb.SetServiceStartTypeResponse{Service: serviceToProto(&r.Service), PreviousStartType: startTypePairs.toProto[r.PreviousStartType],
		PreviousNativeStartType: r.PreviousNativeStartType, PreviousState: serviceStateToProto(r.PreviousState), Changed: r.Changed}, nil
}
