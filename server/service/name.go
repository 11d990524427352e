package service

import (
	"fmt"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/svcname"
)

// MaxNameLen bounds a service name in bytes (internal/svcname).
const MaxNameLen = svcname.MaxLen

// ValidateName applies the portable rules every backend shares before it
// applies its own (internal/svcname, where server/logs takes them from too
// without linking the service backends). Violations wrap
// errdefs.ErrInvalidArgument.
func ValidateName(name string) error { return svcname.Validate(name) }

// EffectiveTimeout turns a caller's ControlOptions.Timeout into the wait a
// backend uses: zero (or negative) means DefaultTimeout. A value above
// MaxTimeout is never clamped: Validate refuses it, and the backends call
// Validate first; EffectiveTimeout still bounds it so it is total.
func EffectiveTimeout(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return DefaultTimeout
	case d > MaxTimeout:
		return MaxTimeout
	}
	return d
}

// Validate rejects a negative Timeout and one above MaxTimeout with
// errdefs.ErrInvalidArgument. Longer waits are refused rather than clamped:
// a caller who asked for an hour and got ten minutes would read the timeout
// error against a wait it never asked for. This is the only place the rule
// is written; the gRPC and HTTP adapters call it.
func (o ControlOptions) Validate() error {
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("%w: timeout %v is negative", errdefs.ErrInvalidArgument, o.Timeout)
	case o.Timeout > MaxTimeout:
		return fmt.Errorf("%w: timeout %v exceeds the maximum %v", errdefs.ErrInvalidArgument, o.Timeout, MaxTimeout)
	}
	return nil
}
