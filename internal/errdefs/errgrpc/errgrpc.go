// Package errgrpc is the one table between the domain's sentinel errors
// (package errdefs, which has no dependencies) and gRPC status codes. Only the
// adapters (package server, server/httpapi) and the client import it, so the
// domain packages stay free of grpc and protobuf, as in containerd's
// errdefs/errgrpc split.
package errgrpc

import (
	"context"
	"errors"
	"strings"

	"github.com/remotectl/remotectl/internal/errdefs"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// table is the single mapping between sentinel errors and gRPC codes.
var table = []struct {
	err  error
	code codes.Code
}{
	{errdefs.ErrInvalidArgument, codes.InvalidArgument},
	{errdefs.ErrNotFound, codes.NotFound},
	{errdefs.ErrPermissionDenied, codes.PermissionDenied},
	{errdefs.ErrUnauthenticated, codes.Unauthenticated},
	{errdefs.ErrFailedPrecondition, codes.FailedPrecondition},
	{errdefs.ErrUnavailable, codes.Unavailable},
	{errdefs.ErrNotSupported, codes.Unimplemented},
	{errdefs.ErrDeadlineExceeded, codes.DeadlineExceeded},
	{errdefs.ErrResourceExhausted, codes.ResourceExhausted},
	{errdefs.ErrCanceled, codes.Canceled},
	{errdefs.ErrInternal, codes.Internal},
}

// ToGRPC converts a domain error into a gRPC status error. Errors that already
// carry a status are returned unchanged; unknown errors become codes.Unknown
// rather than leaking as INTERNAL so real bugs stay distinguishable.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, e := range table {
		if errors.Is(err, e.err) {
			return status.Error(e.code, err.Error())
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// FromGRPC converts a gRPC status error into an error that matches the
// corresponding sentinel with errors.Is while keeping the server's message.
// The returned error also still carries the status (status.FromError works).
func FromGRPC(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, e := range table {
		if e.code == st.Code() {
			return &statusError{sentinel: e.err, st: st}
		}
	}
	return err
}

type statusError struct {
	sentinel error
	st       *status.Status
}

func (e *statusError) Error() string {
	msg := e.st.Message()
	// Domain messages already start with the sentinel text ("not found: unit x").
	if strings.HasPrefix(msg, e.sentinel.Error()) {
		return msg
	}
	return e.sentinel.Error() + ": " + msg
}

func (e *statusError) Unwrap() error { return e.sentinel }

// GRPCStatus lets status.FromError and status.Code see through the wrapper.
func (e *statusError) GRPCStatus() *status.Status { return e.st }
