package service

import (
	"context"
	"fmt"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// StartTypeOptions tunes SetStartType.
type StartTypeOptions struct {
	// Now also starts (Automatic, AutomaticDelayed) or stops (Manual,
	// Disabled) the service, waiting as Start and Stop do.
	Now bool
	// Timeout bounds the wait of Now; zero means DefaultTimeout.
	Timeout time.Duration
}

// StartTypeResult is the outcome of SetStartType.
type StartTypeResult struct {
	// Service is read back after the change.
	Service                 Service
	PreviousStartType       StartType
	PreviousNativeStartType string
	PreviousState           State
	// Changed is false when nothing had to be done.
	Changed bool
}

// StartTypeSetter changes when the service manager starts a service by
// itself. It is separate from Manager so that decorators of Manager keep
// compiling; the systemd and SCM backends implement both.
type StartTypeSetter interface {
	SetStartType(ctx context.Context, name string, t StartType, opts StartTypeOptions) (StartTypeResult, error)
}

// ValidStartType rejects the zero value and unknown types.
func ValidStartType(t StartType) error {
	if t == StartTypeUnknown || startTypeNames[t] == "" {
		return fmt.Errorf("%w: start type %d: use automatic, automatic_delayed, manual or disabled", errdefs.ErrInvalidArgument, t)
	}
	return nil
}
