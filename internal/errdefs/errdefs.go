// Package errdefs defines the sentinel errors shared by the domain backends,
// the gRPC adapters and the client. Backends wrap one of these with context
// (fmt.Errorf("%w: ...")); package errgrpc maps them to gRPC status codes with
// one table (ToGRPC) and the client maps status codes back (FromGRPC), so
// errors.Is works on both sides of the wire. This package imports nothing but
// the standard library: the domain packages depend on it, not on gRPC.
package errdefs

import "errors"

var (
	// ErrInvalidArgument: the request is malformed (bad name, bad glob, out-of-range limit).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound: the named object (service, process) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPermissionDenied: the OS or the agent's policy refused the caller.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrUnauthenticated: the caller presented no usable identity.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrFailedPrecondition: the system is not in a state that allows the operation
	// (masked unit, dependent services running, ...).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrUnavailable: a backend (systemd, SCM) cannot be reached right now.
	ErrUnavailable = errors.New("unavailable")
	// ErrNotSupported: the operation has no backend on this platform.
	ErrNotSupported = errors.New("not supported")
	// ErrDeadlineExceeded: the operation did not reach its target within its timeout.
	ErrDeadlineExceeded = errors.New("deadline exceeded")
	// ErrResourceExhausted: a limit (rate, streams, queue) was hit.
	ErrResourceExhausted = errors.New("resource exhausted")
	// ErrCanceled: the caller went away.
	ErrCanceled = errors.New("canceled")
	// ErrInternal: a bug or an unexpected backend failure.
	ErrInternal = errors.New("internal error")

	// ErrStopped: a watch subscription ended because the agent is draining
	// (graceful stop); the adapter tells the client to reconnect.
	ErrStopped = errors.New("watch stopped")
)
