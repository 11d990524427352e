package service

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// scmErrors maps the SCM's error codes to the errdefs sentinels; the OS
// message stays in the error text.
var scmErrors = map[windows.Errno]error{
	windows.ERROR_SERVICE_DOES_NOT_EXIST:     errdefs.ErrNotFound,
	windows.ERROR_ACCESS_DENIED:              errdefs.ErrPermissionDenied,
	windows.ERROR_INVALID_NAME:               errdefs.ErrInvalidArgument,
	windows.ERROR_SERVICE_ALREADY_RUNNING:    errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_NOT_ACTIVE:         errdefs.ErrFailedPrecondition,
	windows.ERROR_DEPENDENT_SERVICES_RUNNING: errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_DISABLED:           errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_MARKED_FOR_DELETE:  errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_CANNOT_ACCEPT_CTRL: errdefs.ErrFailedPrecondition,
	windows.ERROR_INVALID_SERVICE_CONTROL:    errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_DEPENDENCY_FAIL:    errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_DEPENDENCY_DELETED: errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_LOGON_FAILED:       errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_NO_THREAD:          errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_START_HANG:         errdefs.ErrFailedPrecondition,
	windows.ERROR_CIRCULAR_DEPENDENCY:        errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_REQUEST_TIMEOUT:    errdefs.ErrDeadlineExceeded,
	windows.ERROR_SERVICE_DATABASE_LOCKED:    errdefs.ErrUnavailable,
	windows.ERROR_SHUTDOWN_IN_PROGRESS:       errdefs.ErrUnavailable,
	windows.RPC_S_SERVER_UNAVAILABLE:         errdefs.ErrUnavailable,
	windows.ERROR_DATABASE_DOES_NOT_EXIST:    errdefs.ErrUnavailable,
	windows.ERROR_SERVICE_NOT_FOUND:          errdefs.ErrNotFound,
	windows.ERROR_SERVICE_EXISTS:             errdefs.ErrFailedPrecondition,
	windows.ERROR_INVALID_PARAMETER:          errdefs.ErrInvalidArgument,
	windows.ERROR_INSUFFICIENT_BUFFER:        errdefs.ErrInternal,
	windows.ERROR_SERVICE_SPECIFIC_ERROR:     errdefs.ErrFailedPrecondition,
	windows.ERROR_PROCESS_ABORTED:            errdefs.ErrFailedPrecondition,
	windows.ERROR_EXCEPTION_IN_SERVICE:       errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_NEVER_STARTED:      errdefs.ErrFailedPrecondition,
	windows.ERROR_SERVICE_NOT_IN_EXE:         errdefs.ErrFailedPrecondition,
	windows.ERROR_DUPLICATE_SERVICE_NAME:     errdefs.ErrFailedPrecondition,
}

// scmErr wraps err from the SCM in its sentinel: "<sentinel>: <op> <name>:
// <OS message>". Unknown codes are internal errors.
func scmErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	what := op
	if name != "" {
		what += " " + name
	}
	var errno windows.Errno
	if errors.As(err, &errno) {
		if s, ok := scmErrors[errno]; ok {
			return fmt.Errorf("%w: %s: %w", s, what, err)
		}
	}
	return fmt.Errorf("%w: %s: %w", errdefs.ErrInternal, what, err)
}
