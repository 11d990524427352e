package service

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// MaxNameLen bounds a service name in bytes on every platform (Windows allows
// 256 characters, systemd 255 bytes).
const MaxNameLen = 256

// ValidateName applies the portable rules every backend shares before it
// applies its own: 1..MaxNameLen bytes of printable UTF-8, no '/' (no path
// tricks such as "../x"), and no leading '-' (never mistaken for an option).
// Violations wrap errdefs.ErrInvalidArgument.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: service name is empty", errdefs.ErrInvalidArgument)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: service name is %d bytes long, the limit is %d", errdefs.ErrInvalidArgument, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: service name %q is not valid UTF-8", errdefs.ErrInvalidArgument, name)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("%w: service name %q starts with '-'", errdefs.ErrInvalidArgument, name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("%w: service name %q contains '/'", errdefs.ErrInvalidArgument, name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: service name %q contains the unprintable character %U", errdefs.ErrInvalidArgument, name, r)
		}
	}
	return nil
}

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
